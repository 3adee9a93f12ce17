// systemd service notification (READY/STATUS/STOPPING/WATCHDOG) and the health monitor that decides when to ping.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "core/result.h"

namespace stunbox::console {

// The sd_notify(3) protocol, written by hand: one datagram of "KEY=VALUE\n"
// lines to the AF_UNIX socket named by $NOTIFY_SOCKET. It is a dozen lines,
// so we do not link libsystemd for it (one dependency less, and the daemon
// builds where libsystemd-dev is missing).
class Notifier {
 public:
  // Inactive (every call a no-op) when NOTIFY_SOCKET is unset or empty.
  // The watchdog is on when WATCHDOG_USEC is a positive number and
  // WATCHDOG_PID is unset or names this process (systemd.exec(5)).
  static Notifier from_environment();
  Notifier() = default;

  bool active() const { return !socket_path_.empty(); }
  // 0 when systemd asked for no watchdog.
  std::chrono::microseconds watchdog_usec() const { return watchdog_; }

  // Sends `state` as is ("READY=1\nSTATUS=serving"). No-op when inactive.
  Status send(std::string_view state) const;
  Status ready(std::string_view status) const { return send("READY=1\nSTATUS=" + std::string(status)); }
  Status stopping() const { return send("STOPPING=1\nSTATUS=stopping"); }
  Status reloading() const { return send("RELOADING=1"); }
  Status watchdog() const { return send("WATCHDOG=1"); }

 private:
  std::string socket_path_;  // '@' first = abstract namespace
  std::chrono::microseconds watchdog_{0};
};

// Progress of the data-path workers (socket workers or DPDK lcores), as the
// monitor samples it: how many there are and a counter each bumps on every
// loop or wakeup (also when idle). Called from the monitor thread only.
struct ProgressSource {
  std::function<size_t()> count;
  std::function<uint64_t(size_t)> progress;
};

// Watches every worker's progress counter on its own thread. A worker whose
// counter has not moved for `stall_after` is stalled; while any worker is
// stalled no WATCHDOG=1 is sent, so systemd restarts a wedged box
// (WatchdogSec) instead of trusting a process that only looks alive.
class HealthMonitor final : public backend::StallSource {
 public:
  // Default stall threshold: far above a socket worker's 100 ms wakeup and
  // a DPDK lcore's sub-microsecond loop, far below a typical WatchdogSec.
  static constexpr std::chrono::milliseconds kDefaultStallAfter{1000};

  HealthMonitor(ProgressSource source, Notifier notifier,
                std::chrono::milliseconds stall_after = kDefaultStallAfter);
  ~HealthMonitor() override;
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Starts the sampling thread (and watchdog pings at half of WATCHDOG_USEC).
  void start();
  // Stops and joins the thread; idempotent.
  void stop();

  // Thread-safe readers for the console and /metrics.
  size_t workers() const { return count_; }
  bool stalled(size_t worker) const override;
  bool all_healthy() const;
  uint64_t watchdog_pings() const { return pings_.load(std::memory_order_relaxed); }

 private:
  void loop();
  void sample(std::chrono::steady_clock::time_point now);

  ProgressSource source_;
  Notifier notifier_;
  std::chrono::milliseconds stall_after_;
  size_t count_ = 0;  // fixed at construction
  // monitor thread: wo; readers: ro
  std::unique_ptr<std::atomic<bool>[]> stalled_;
  // monitor thread only
  std::vector<uint64_t> last_progress_;
  std::vector<std::chrono::steady_clock::time_point> last_change_;
  std::atomic<uint64_t> pings_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace stunbox::console
