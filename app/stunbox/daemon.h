// The daemon's lifecycle, once for both modes: services, privilege drop, ready line, signals, reload, final counters.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace stunbox::app {

struct DaemonOptions {
  std::string config_path;             // re-read by reload; "" = reload is not possible
  std::vector<std::string> overrides;  // --set PATH=VALUE strings, re-applied on reload
  bool interactive = false;            // run the console on stdin/stdout too (--interactive)
  std::vector<std::string> extra_eal;  // EAL arguments after `--` (dpdk mode)
};

// Runs the backend `cfg.mode` names until SIGINT/SIGTERM (signals must
// already be blocked by main) or until the backend asks to stop; prints
// the final counters and returns. Every failure is one line.
Status run_daemon(const config::Config& cfg, const DaemonOptions& opts);

}  // namespace stunbox::app
