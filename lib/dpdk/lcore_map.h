// Which worker lcore serves which (port, queue): auto round-robin or the configured map, validated. No rte_* here.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace stunbox::dpdk {

struct LcorePlan {
  unsigned lcore = 0;
  std::vector<config::QueueRef> queues;  // (port index, queue) pairs it polls
};

struct QueuePlan {
  std::vector<unsigned> queues;    // per port: queue pairs to configure
  std::vector<LcorePlan> lcores;   // worker lcores with at least one queue
  std::vector<std::string> warnings;  // NUMA: queues served across sockets, each naming its key
};

// The machine as planning sees it: the NUMA socket of each port (-1 =
// unknown, e.g. a vdev: any socket will do) and of each lcore.
struct Topology {
  std::vector<int> port_socket;              // per port, in cfg order
  std::function<int(unsigned)> lcore_socket;  // lcore id -> socket; null = everything on socket 0
};

// workers: EAL worker lcores (main excluded); max_queues: per port, what the
// device offers. Queue counts: configured, else with `lcores: auto`
// min(workers on the port's socket, device max), else (explicit map) highest
// mapped queue + 1. auto assigns every (port, queue) pair round-robin, port
// by port, to the workers on the port's NUMA socket (so an lcore may serve
// the same queue index on several ports); a port whose socket has no worker
// gets all workers and a warning. An explicit map must name enabled non-main
// lcores and cover every queue exactly once; an lcore serving a port on
// another socket is warned about. A packet that crosses the inter-socket link
// costs 20-40% of throughput (docs/deployment.md, NUMA).
Result<QueuePlan> plan_lcores(const config::DpdkSection& dpdk, const std::vector<unsigned>& workers,
                              const std::vector<uint16_t>& max_queues, unsigned main_lcore,
                              const std::function<bool(unsigned)>& lcore_enabled, const Topology& topology = {});

}  // namespace stunbox::dpdk
