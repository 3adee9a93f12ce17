// The socket backend: SO_REUSEPORT worker threads with recvmmsg/sendmmsg, for machines without a DPDK NIC.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace stunbox::sock {

// What SIGHUP needs to re-read the configuration the way main first read it.
struct RunOptions {
  std::string config_path;             // "" = reload is not possible
  std::vector<std::string> overrides;  // --set PATH=VALUE strings, re-applied on reload
  bool interactive = false;            // run the console on stdin/stdout too (--interactive)
};

// Binds every listen address in every worker, prints the ready line, serves
// until SIGINT/SIGTERM (signals must already be blocked by main), prints the
// final counters and returns. SIGHUP (or the console's reload) re-reads
// opts.config_path and applies the stun options and stats.period live. The
// console (control.socket, --interactive, stats.period) runs on its own
// thread. Errors (bind failure, ...) are one line.
Status run(const config::Config& cfg, const RunOptions& opts = {});

}  // namespace stunbox::sock
