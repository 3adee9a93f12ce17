// The console's command executor over a View: per-server baselines for clear, per-session throughput.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "console/grammar.h"
#include "console/health.h"
#include "console/view.h"
#include "core/counters.h"

namespace stunbox::console {

using Clock = std::chrono::steady_clock;

// What one client (connection, the --interactive terminal, or the periodic
// printer) last saw, for "since last show" rates.
struct Session {
  std::vector<PortStats> last_ports;
  std::vector<Clock::time_point> last_port_time;
  std::vector<WorkerUsage> last_usage;
};

struct Response {
  std::string text;
  enum class Status : uint8_t { ok, error, quit } status = Status::ok;
};

// Runs commands against the backend. Used from the control thread only (not
// thread-safe itself); everything it reads from the view is.
class Console {
 public:
  // `reload` runs the console's `reload` command (the daemon's reload);
  // `health` (may be null: the health commands then say so) answers
  // `show health`, `health` and `drain`.
  Console(const View& view, Reload reload, Health* health = nullptr);

  Response execute(std::string_view line, Session& session);
  Response execute(const Command& command, Session& session);

  // The stats period now in effect: the config's, until `set stats-period`;
  // a reload that changes stats.period takes over again.
  unsigned stats_period() const;
  // The periodic block: "stunbox: stats" header, every port's block, and the
  // counters with rates since the previous periodic block.
  std::string periodic_block(Session& session);

 private:
  std::string port_stats(size_t port, Session& session);
  std::string lcore_stats(Session& session);
  std::string queue_stats();
  std::string port_info(size_t port);
  void sync_config_period();

  const View& view_;
  Reload reload_;
  Health* health_;
  std::vector<PortStats> port_baseline_;  // clear port stats
  Snapshot stun_baseline_;                // clear stun stats
  unsigned period_ = 0;
  const config::Config* period_source_ = nullptr;  // the config generation period_ came from
  Snapshot periodic_prev_;
  Clock::time_point periodic_prev_time_{};
};

}  // namespace stunbox::console
