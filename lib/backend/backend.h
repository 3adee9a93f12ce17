// The interface a data path implements (socket workers, DPDK lcores); app/stunbox runs the daemon's lifecycle around it.
#pragma once

#include <string>

#include "backend/reporter.h"
#include "backend/view.h"
#include "config/config.h"
#include "core/result.h"

namespace stunbox::backend {

// Whether a worker has stopped making progress (the health monitor's
// verdict), for backends that publish it themselves (DPDK telemetry).
class StallSource {
 public:
  virtual ~StallSource() = default;
  virtual bool stalled(size_t worker) const = 0;
};

// The lifecycle, in the order app/stunbox calls it (from its main thread):
//   setup -> [services start: /metrics, control socket, privilege drop]
//   -> start -> ready line -> { tick | apply }* -> stop -> final counters -> finish
// The view (backend::View) is valid from the end of setup until destruction.
class Backend : public View {
 public:
  // Everything that can fail before anything serves: sockets bound, or
  // EAL, mempools and ports set up. Warnings go to `report`; the error is one line.
  virtual Status setup(Reporter& report) = 0;
  // The lines that describe what setup built, printed before the ready line.
  virtual std::string summary() const = 0;
  // The text after "stunbox: ready: ", and systemd's STATUS= at READY=1.
  virtual std::string ready_line() const = 0;
  virtual std::string ready_status() const { return ready_line(); }
  // The workers start serving. `stalls` (may be null) outlives the backend.
  virtual Status start(Reporter& report, const StallSource* stalls) = 0;
  // Main-thread housekeeping, about every 100 ms while serving (link
  // watch). Returns true when the backend asks the daemon to stop (it said why).
  virtual bool tick(Reporter&) { return false; }
  // The live settings of a reload: `cfg` is the running config with the
  // live keys of the new file (config::plan_reload); workers pick them up
  // at their next batch. `cfg` outlives the backend.
  virtual void apply(const config::Config& cfg) = 0;
  // The workers stop; their counters are final when this returns.
  virtual void stop() = 0;
  // After the final counters: per-queue lines, resources released and checked.
  virtual void finish(Reporter&) {}
};

}  // namespace stunbox::backend
