// The daemon's lifecycle around a backend (grout's main, testpmd's forwarding engines): one copy for both modes.
#include "daemon.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

#include "backend/backend.h"
#include "config/reload.h"
#include "console/control_server.h"
#include "console/health.h"
#include "console/metrics.h"
#include "core/privileges.h"
#include "core/report.h"
#include "core/runtime.h"
#include "sock/socket_backend.h"
#ifdef STUNBOX_HAVE_DPDK
#include "dpdk/dpdk_backend.h"
#endif

namespace stunbox::app {
namespace {

// The one place that prints what the daemon says: news on stdout, warnings
// on stderr, each flushed at once (scripts wait on lines such as "stunbox: ready").
class StdReporter final : public backend::Reporter {
 public:
  void info(std::string_view line) override { write(stdout, "stunbox: ", line, "\n"); }
  void warn(std::string_view line) override { write(stderr, "stunbox: warning: ", line, "\n"); }
  void text(std::string_view block) override { write(stdout, "", block, ""); }

 private:
  static void write(FILE* f, std::string_view a, std::string_view b, std::string_view c) {
    std::string s;
    s.reserve(a.size() + b.size() + c.size());
    s.append(a).append(b).append(c);
    std::fwrite(s.data(), 1, s.size(), f);
    std::fflush(f);
  }
};

// "/run/stunbox/stunbox.sock" -> "/run/stunbox"; "x.sock" -> "."; "" -> "".
std::string parent_directory(const std::string& path) {
  if (path.empty()) return {};
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

class Daemon {
 public:
  Daemon(const config::Config& cfg, DaemonOptions opts) : opts_(std::move(opts)) {
    generations_.push_back(std::make_unique<config::Config>(cfg));
  }

  Status run();

  // Re-reads the file (same path, same --set overrides), applies the live
  // keys and publishes what is then in effect; restart-only changes are
  // named and not applied. One line. The console's thread and main call it.
  std::string reload();

 private:
  const config::Config& first() const { return *generations_.front(); }
  Status make_backend();
  // socket.user: resolved and checked before anything is bound, so a switch
  // that cannot work fails at once; no_new_privs before the first thread
  // exists, so every thread carries it.
  Status prepare_privileges();
  // Everything is bound (listen sockets, /metrics, control socket): drop root
  // before any worker serves. Threads already running (console, metrics,
  // health monitor) switch too: glibc applies set*id to all threads.
  Status drop_privileges(bool control_up, bool control_dir_existed);

  DaemonOptions opts_;
  StdReporter report_;
  std::optional<Identity> identity_;
  std::mutex reload_mu_;
  // Every generation is kept until exit: workers, the console and telemetry
  // may hold an older one. Declared before the backend, which outlives none of them.
  std::vector<std::unique_ptr<config::Config>> generations_;
  std::unique_ptr<backend::Backend> backend_;
};

Status Daemon::make_backend() {
  const config::Config& cfg = first();
  if (cfg.mode == config::Mode::socket) {
    backend_ = sock::make_backend(cfg);
    return Status::ok();
  }
#ifdef STUNBOX_HAVE_DPDK
  backend_ = dpdk::make_backend(cfg, opts_.extra_eal);
  return Status::ok();
#else
  return Error{cfg.source + ": mode is dpdk but this stunbox was built without DPDK support"};
#endif
}

Status Daemon::prepare_privileges() {
  const config::SocketSection& sc = first().socket;
  if (sc.user.empty()) return Status::ok();
  if (first().mode == config::Mode::dpdk) {
    // EAL, hugepages and the device need their privileges for the whole run.
    report_.warn("socket.user is ignored in dpdk mode (stunbox keeps its privileges)");
    return Status::ok();
  }
  auto id = resolve_identity(sc.user, sc.group);
  if (!id) return Error{"socket.user: " + id.message()};
  if (Status st = check_can_switch(*id); !st) return Error{"socket.user: " + st.message()};
  if (Status st = forbid_new_privileges(); !st) return Error{"socket.user: " + st.message()};
  identity_ = std::move(*id);
  return Status::ok();
}

Status Daemon::drop_privileges(bool control_up, bool control_dir_existed) {
  if (!identity_) return Status::ok();
  const std::string& path = first().control.socket;
  const std::string dir = parent_directory(path);
  if (control_up && !path.empty()) {
    // So the socket can still be removed at exit: hand it over, and its
    // directory too when this start created it (never a directory that was there).
    if (::lchown(path.c_str(), identity_->uid, identity_->gid) != 0) {
      report_.warn("cannot hand the control socket " + path + " to user " + identity_->user + ": " +
                   std::strerror(errno));
    }
    if (!control_dir_existed && !dir.empty() && ::lchown(dir.c_str(), identity_->uid, identity_->gid) != 0) {
      report_.warn("cannot hand " + dir + " to user " + identity_->user + ": " + std::strerror(errno));
    }
  }
  if (Status st = stunbox::drop_privileges(*identity_); !st) return Error{"socket.user: " + st.message()};
  report_.info("running as user " + identity_->user + ", group " + identity_->group + " (uid " +
               std::to_string(identity_->uid) + ", gid " + std::to_string(identity_->gid) + ")");
  if (control_up && !path.empty() && ::access(dir.c_str(), W_OK | X_OK) != 0) {
    report_.info("note: user " + identity_->user + " cannot write " + dir + ": the control socket " +
                 "stays there after exit (harmless: the next start replaces it)");
  }
  return Status::ok();
}

std::string Daemon::reload() {
  std::lock_guard<std::mutex> lock(reload_mu_);
  if (opts_.config_path.empty()) return "reload: no config file to re-read; nothing changed";
  auto next = config::load_file(opts_.config_path, opts_.overrides);
  if (!next) return "reload failed, running config kept: " + next.message();
  config::ReloadPlan plan = config::plan_reload(backend_->config(), *next);
  generations_.push_back(std::make_unique<config::Config>(std::move(plan.effective)));
  backend_->apply(*generations_.back());
  std::string msg = "reloaded " + opts_.config_path + ": stun options and stats.period applied";
  msg += plan.applied.empty() ? " (no change)" : " (changed: " + join(plan.applied) + ")";
  if (!plan.restart.empty()) msg += "; changed but NOT applied (need a restart): " + join(plan.restart);
  return msg;
}

Status Daemon::run() {
  if (Status st = make_backend(); !st) return st;
  if (Status st = prepare_privileges(); !st) return st;
  if (Status st = backend_->setup(report_); !st) return st;

  // /metrics, the health monitor and systemd notify: a bad
  // stats.metrics_listen fails here, before any worker runs.
  auto ops = console::Operations::start(*backend_);
  if (!ops) return ops.error();

  // The console: control socket, --interactive terminal, periodic stats
  // block; up before the privilege drop (it binds) and the ready line.
  const std::string& control_path = first().control.socket;
  const std::string control_dir = parent_directory(control_path);
  const bool control_dir_existed = !control_dir.empty() && path_exists(control_dir);
  console::Health& health = (*ops)->verdict();
  console::ControlServer control(*backend_, [this] { return reload(); }, report_, &health);
  bool control_up = true;
  if (Status st = control.start(console::ControlOptions{control_path, opts_.interactive}); !st) {
    report_.warn(st.message() + "; running without a control socket");
    [[maybe_unused]] Status again = control.start(console::ControlOptions{"", opts_.interactive});
    control_up = false;
  }
  if (Status st = drop_privileges(control_up, control_dir_existed); !st) return st;

  if (Status st = backend_->start(report_, &(*ops)->health()); !st) return st;
  report_.text(backend_->summary());
  if (const console::MetricsServer* m = (*ops)->metrics()) report_.info("metrics on " + m->url());
  report_.info("ready: " + backend_->ready_line());
  control.greet();  // the interactive prompt, after the ready line
  (*ops)->ready(backend_->ready_status());

  // Drain changes (console, start_drained, the stop below) are said once each, for the logs.
  bool drained = health.drained();
  if (drained) report_.info("drained (health.start_drained): answering, but reporting unhealthy until `drain off`");
  std::optional<std::chrono::steady_clock::time_point> stop_at;  // drain-on-stop: when to stop
  for (;;) {
    const Signal sig = wait_signal(100);
    if (sig == Signal::stop) {
      // health.drain_on_stop_s (or --drain-on-stop): withdraw first, serve on, stop later; a second signal stops now.
      const unsigned drain_s = backend_->config().health.drain_on_stop_s;
      if (stop_at || drain_s == 0) break;
      health.set_drained(true);
      drained = true;
      stop_at = std::chrono::steady_clock::now() + std::chrono::seconds(drain_s);
      report_.info("stop requested: drained, serving " + std::to_string(drain_s) +
                   " s more before stopping (health.drain_on_stop_s; signal again to stop now)");
    }
    if (sig == Signal::reload) {
      (*ops)->reloading();
      report_.info(reload());
      (*ops)->reloaded();
    }
    if (const bool now_drained = health.drained(); now_drained != drained) {
      drained = now_drained;
      report_.info(drained ? "drain on: reporting unhealthy; still answering" : "drain off");
    }
    if (stop_at && std::chrono::steady_clock::now() >= *stop_at) {
      report_.info("drain period over: stopping");
      break;
    }
    if (backend_->tick(report_)) break;
  }

  (*ops)->stopping();  // STOPPING=1; /metrics and the health monitor stop reading the workers
  control.stop();      // before the workers: it reads their counters
  backend_->stop();
  report_.text("stunbox: final counters\n" + format_stats(backend_->totals(), nullptr, 0));
  backend_->finish(report_);
  return Status::ok();
}

}  // namespace

Status run_daemon(const config::Config& cfg, const DaemonOptions& opts) {
  Daemon daemon(cfg, opts);
  return daemon.run();
}

}  // namespace stunbox::app
