// DPDK telemetry commands (/stunbox/stats, /stunbox/drops, /stunbox/lcores, /stunbox/config) and rte_pdump for live capture.
#pragma once

#include "backend/backend.h"
#include "core/result.h"

namespace stunbox::dpdk {

// While alive, the /stunbox/... telemetry commands answer from `view` (and
// `health` (the health monitor) for stall flags, may be null); afterwards they answer with an
// error. The commands are registered with rte_telemetry_register_cmd once
// per process (DPDK has no unregister). Construct after rte_eal_init.
class TelemetryScope {
 public:
  TelemetryScope(const backend::View& view, const backend::StallSource* health);
  ~TelemetryScope();
  TelemetryScope(const TelemetryScope&) = delete;
  TelemetryScope& operator=(const TelemetryScope&) = delete;
  // Whether registration succeeded (false: telemetry is disabled in EAL or out of memory).
  bool registered() const { return registered_; }

 private:
  bool registered_ = false;
};

// rte_pdump_init while alive, so `dpdk-dumpcap` (a secondary process) can
// capture the ports' traffic. Needs EAL's multi-process channel: with
// --no-shconf or --in-memory it fails and status() says why.
class CaptureScope {
 public:
  CaptureScope();
  ~CaptureScope();
  CaptureScope(const CaptureScope&) = delete;
  CaptureScope& operator=(const CaptureScope&) = delete;
  const Status& status() const { return status_; }

 private:
  Status status_;
  bool initialised_ = false;
};

}  // namespace stunbox::dpdk
