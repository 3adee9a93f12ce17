// The exception path's setup and teardown: a net_tap interface per port with `exception:`, its ring and buckets.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "dpdk/lcore_loop.h"
#include "dpdk/port.h"

struct rte_mempool;

namespace stunbox::dpdk {

// TAP descriptors and ring slots one exception path may hold mbufs in (the
// mempool is sized with them).
inline constexpr unsigned kExceptionRxDesc = 512;
inline constexpr unsigned kExceptionTxDesc = 512;
inline constexpr unsigned kExceptionRing = 1024;
inline constexpr unsigned kExceptionMbufs = kExceptionRxDesc + kExceptionTxDesc + kExceptionRing;

// One port's exception path, open: the TAP ethdev (started) and the ring.
struct ExceptionScope {
  ExceptionPath path;
  std::string vdev;   // "net_tap_sbx0"
  std::string iface;  // the kernel's name for it
  unsigned pps = 0;
  bool started = false;
};

// Creates (or attaches to a persistent TAP of that name) the port's kernel
// interface with the port's MAC and MTU, one RX/TX queue from `pool`, the
// ring, and the buckets; admits all multicast on the port (the kernel's
// link-local solicited-node groups, all-nodes). Warnings go to `warnings`.
// Errors name dpdk.ports[i].exception.iface.
Result<std::unique_ptr<ExceptionScope>> open_exception(const PortSetup& port, const config::PortSection& section,
                                                       rte_mempool* pool, std::vector<std::string>& warnings);

// After the lcores stopped: the ring's mbufs freed, the TAP stopped, closed
// and its vdev removed (a persistent TAP stays, with its addresses).
void close_exception(ExceptionScope& x);

// One line for the summary and `show port info`.
std::string describe(const ExceptionScope& x);

}  // namespace stunbox::dpdk
