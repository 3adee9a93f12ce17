// Whether the box should get traffic (workers progress, links up, not drained): what /healthz, the console and `stunbox-cli health` say.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "backend/backend.h"
#include "console/view.h"

namespace stunbox::console {

// The health of a running daemon. Healthy = serving (past the ready line,
// not stopping), no worker stalled (the health monitor's rule: its progress
// counter moved within health.stall_ms), every port's link up, and not
// drained. A drained box keeps answering STUN; it only says it should not
// be sent new traffic, so a BGP health hook withdraws its routes first.
// Thread-safe: the daemon, the console thread and /metrics use it at once.
class Health {
 public:
  enum class Phase : uint8_t { starting, serving, stopping };

  struct Verdict {
    bool healthy = false;
    std::string reason;  // one line: "ok", "drained", "worker 1 (lcore 2) stalled", "port 0 link down", ...
  };

  // `stalls` may be null (then no worker counts as stalled); both outlive this object.
  Health(const View& view, const backend::StallSource* stalls, bool drained)
      : view_(view), stalls_(stalls), drained_(drained) {}

  void set_phase(Phase p) { phase_.store(p, std::memory_order_release); }
  Phase phase() const { return phase_.load(std::memory_order_acquire); }
  // Returns the previous state.
  bool set_drained(bool on) { return drained_.exchange(on, std::memory_order_acq_rel); }
  bool drained() const { return drained_.load(std::memory_order_acquire); }

  // Every failing check, in order of severity, joined by "; ".
  Verdict check() const;
  // `show health`: the verdict and one line per check.
  std::string details() const;

 private:
  const View& view_;
  const backend::StallSource* stalls_;
  std::atomic<bool> drained_;
  std::atomic<Phase> phase_{Phase::starting};
};

}  // namespace stunbox::console
