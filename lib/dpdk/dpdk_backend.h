// The DPDK backend: EAL, ports with RSS, one lcore per RX/TX queue pair, in-place replies. The only rte_* user.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace stunbox::dpdk {

// What reload and the console need beyond the config itself.
struct RunOptions {
  std::string config_path;             // "" = reload is not possible
  std::vector<std::string> overrides;  // --set PATH=VALUE strings, re-applied on reload
  bool interactive = false;            // run the console on stdin/stdout too (--interactive)
};

// Initialises EAL with cfg.dpdk.eal + extra_eal (arguments after `--` on the
// command line), sets up every port, prints the summary and the ready line,
// serves until SIGINT/SIGTERM (already blocked by main), prints final
// counters, stops and closes the ports and returns. Every failure is one line.
// The console (control.socket, --interactive, stats.period) runs on its own
// thread; SIGHUP and the console's reload re-read opts.config_path.
Status run(const config::Config& cfg, const std::vector<std::string>& extra_eal, const RunOptions& opts = {});

}  // namespace stunbox::dpdk
