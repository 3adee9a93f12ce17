#include "cpu_usage.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace stunbox::load {

namespace {

bool read_schedstat(int pid, uint64_t* ns) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return false;
  uint64_t sum = 0;
  bool any = false, ok = true;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name + "/schedstat");
    uint64_t run = 0;
    if (!(f >> run)) {
      // A thread that exits between readdir and open is not an error.
      if (access((dir + "/" + e->d_name).c_str(), F_OK) == 0) ok = false;
      continue;
    }
    sum += run;
    any = true;
  }
  closedir(d);
  if (!any || !ok) return false;
  *ns = sum;
  return true;
}

bool read_stat(int pid, uint64_t* ns) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return false;
  // The command name (field 2) may hold spaces; fields resume after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(line.substr(close + 1));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && (in >> field); ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  if (!in) return false;
  const long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) return false;
  *ns = (utime + stime) * (1000000000ull / static_cast<uint64_t>(hz));
  return true;
}

}  // namespace

Result<CpuSample> process_cpu(int pid, const char* prefer) {
  CpuSample s;
  if ((prefer == nullptr || std::strcmp(prefer, "schedstat") == 0) && read_schedstat(pid, &s.ns)) {
    s.source = "schedstat";
    return s;
  }
  if ((prefer == nullptr || std::strcmp(prefer, "stat") == 0) && read_stat(pid, &s.ns)) {
    s.source = "stat";
    return s;
  }
  return Error{"--server-pid: cannot read the CPU time of process " + std::to_string(pid)};
}

}  // namespace stunbox::load
