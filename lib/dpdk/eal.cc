// EAL start-up with its log captured, so that a failure is one clear line.
#include "dpdk/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <unistd.h>

#include "dpdk/port.h"
#include "dpdk/steering.h"

namespace stunbox::dpdk {
namespace {

bool has_arg(const std::vector<std::string>& args, std::initializer_list<const char*> names) {
  for (const std::string& a : args) {
    for (const char* n : names) {
      const std::string s = n;
      // "-a X", "-aX", "--allow X", "--allow=X"
      if (a == s || (a.rfind(s, 0) == 0 && (s.size() == 2 || a[s.size()] == '='))) return true;
    }
  }
  return false;
}

bool vdev_named(const std::vector<std::string>& args, const std::string& name) {
  for (const std::string& a : args) {
    const std::string v = a.rfind("--vdev=", 0) == 0 ? a.substr(7) : a;
    if (device_name(v) == name) return true;
  }
  return false;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::vector<std::string> eal_arguments(const config::DpdkSection& dpdk, const std::vector<std::string>& extra_eal) {
  std::vector<std::string> args = dpdk.eal;
  args.insert(args.end(), extra_eal.begin(), extra_eal.end());
  const bool user_pci_list = has_arg(args, {"-a", "--allow", "-b", "--block", "--no-pci"});
  std::vector<std::string> added;
  for (const config::PortSection& p : dpdk.ports) {
    if (is_pci_address(p.device)) {
      if (!user_pci_list) {
        added.push_back("-a");
        added.push_back(p.device);
      }
    } else if (!vdev_named(args, device_name(p.device)) && !vdev_named(added, device_name(p.device))) {
      added.push_back("--vdev");
      added.push_back(steered_device_spec(p));  // steering xdp: net_af_xdp loads stunbox's XDP program
    }
  }
  // Added before the user's arguments would end up after a `--` EAL treats
  // as its own end; append instead.
  args.insert(args.end(), added.begin(), added.end());
  return args;
}

std::string last_meaningful_line(const std::string& log) {
  std::istringstream in(log);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    // Generic trailers that follow the line with the actual reason.
    if (line.find("Error - exiting") != std::string::npos) continue;
    if (line.find("Invalid 'command line' arguments") != std::string::npos) continue;
    if (line.find("Detected ") != std::string::npos) continue;  // informational
    last = line;
  }
  return last;
}

namespace {

// The whole EAL log of the last init_eal (for explaining a missing port).
std::string g_init_log;

// Redirects a file descriptor into a temporary file until finish(): EAL
// prints some failures (getopt, FATAL alerts, usage) straight to stdio.
class FdCapture {
 public:
  explicit FdCapture(int fd) : fd_(fd) {
    std::fflush(stdout);
    std::fflush(stderr);
    tmp_ = std::tmpfile();
    if (tmp_ == nullptr) return;
    saved_ = dup(fd_);
    if (saved_ < 0 || dup2(fileno(tmp_), fd_) < 0) {
      if (saved_ >= 0) close(saved_);
      saved_ = -1;
    }
  }
  ~FdCapture() { finish(); }
  std::string finish() {
    std::string text;
    if (saved_ >= 0) {
      std::fflush(stdout);
      std::fflush(stderr);
      dup2(saved_, fd_);
      close(saved_);
      saved_ = -1;
      std::rewind(tmp_);
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, tmp_)) > 0) text.append(buf, n);
    }
    if (tmp_ != nullptr) std::fclose(tmp_);
    tmp_ = nullptr;
    return text;
  }

 private:
  int fd_;
  int saved_ = -1;
  FILE* tmp_ = nullptr;
};

// getopt's own complaint about a bad EAL argument, if any.
std::string getopt_error(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("unrecognized option") != std::string::npos || line.find("invalid option") != std::string::npos ||
        line.find("requires an argument") != std::string::npos) {
      return line;
    }
  }
  return "";
}

}  // namespace

const std::string& eal_init_log() { return g_init_log; }

std::string log_line_about(const std::string& log, const std::string& name) {
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (!name.empty() && line.find(name) != std::string::npos) return line;
  }
  return "";
}

Status init_eal(const std::vector<std::string>& args) {
  std::vector<std::string> all;
  all.reserve(args.size() + 1);
  all.push_back("stunbox");
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);

  char* log_buf = nullptr;
  size_t log_len = 0;
  FILE* log = open_memstream(&log_buf, &log_len);
  if (log != nullptr) rte_openlog_stream(log);
  int rc;
  std::string err_text;
  {
    FdCapture out(STDOUT_FILENO);  // EAL's usage text on bad arguments
    FdCapture err(STDERR_FILENO);
    rc = rte_eal_init(static_cast<int>(argv.size() - 1), argv.data());
    err_text = err.finish();
  }
  const int err = rte_errno;
  rte_openlog_stream(stderr);
  std::string text;
  if (log != nullptr) {
    std::fclose(log);
    if (log_buf != nullptr) text.assign(log_buf, log_len);
    std::free(log_buf);
  }
  g_init_log = text + err_text;
  if (rc >= 0) return Status::ok();

  std::string msg = std::string("EAL init failed: ") + rte_strerror(err);
  std::string detail = getopt_error(err_text);
  if (detail.empty()) detail = last_meaningful_line(text);
  if (detail.empty()) detail = last_meaningful_line(err_text);
  if (!detail.empty()) msg += ": " + detail;
  const std::string l = lower(g_init_log);
  if (l.find("cannot get hugepage information") != std::string::npos ||
      l.find("no available hugepages") != std::string::npos) {
    msg += " (no hugepages reserved: reserve some (scripts/hugepages.sh) or add --no-huge to dpdk.eal)";
  }
  return Error{msg};
}

}  // namespace stunbox::dpdk
