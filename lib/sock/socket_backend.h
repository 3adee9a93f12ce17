// The socket backend: SO_REUSEPORT worker threads with recvmmsg/sendmmsg, for machines without a DPDK NIC.
#pragma once

#include "config/config.h"
#include "core/result.h"

namespace stunbox::sock {

// Binds every listen address in every worker, prints the ready line, serves
// until SIGINT/SIGTERM (signals must already be blocked by main), prints the
// final counters and returns. Errors (bind failure, ...) are one line.
Status run(const config::Config& cfg);

}  // namespace stunbox::sock
