// The DPDK backend: EAL, ports with RSS, one lcore per RX/TX queue pair, in-place replies. The only rte_* user.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace stunbox::dpdk {

// Initialises EAL with cfg.dpdk.eal + extra_eal (arguments after `--` on the
// command line), sets up every port, prints the summary and the ready line,
// serves until SIGINT/SIGTERM (already blocked by main), prints final
// counters, stops and closes the ports and returns. Every failure is one line.
Status run(const config::Config& cfg, const std::vector<std::string>& extra_eal);

}  // namespace stunbox::dpdk
