// Which worker lcore serves which (port, queue): auto round-robin or the configured map, validated. No rte_* here.
#pragma once

#include <cstdint>
#include <functional>
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
};

// workers: EAL worker lcores (main excluded); max_queues: per port, what the
// device offers. Queue counts: configured, else with `lcores: auto`
// min(workers, device max), else (explicit map) highest mapped queue + 1.
// auto assigns every (port, queue) pair round-robin, port by port, to the
// workers (so an lcore may serve the same queue index on several ports).
// An explicit map must name enabled non-main lcores and cover every queue
// exactly once.
Result<QueuePlan> plan_lcores(const config::DpdkSection& dpdk, const std::vector<unsigned>& workers,
                              const std::vector<uint16_t>& max_queues, unsigned main_lcore,
                              const std::function<bool(unsigned)>& lcore_enabled);

}  // namespace stunbox::dpdk
