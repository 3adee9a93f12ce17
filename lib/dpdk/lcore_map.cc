// Lcore planning: pure logic over the config and what EAL and the devices report.
#include "dpdk/lcore_map.h"

#include <algorithm>
#include <string>

namespace stunbox::dpdk {

Result<QueuePlan> plan_lcores(const config::DpdkSection& dpdk, const std::vector<unsigned>& workers,
                              const std::vector<uint16_t>& max_queues, unsigned main_lcore,
                              const std::function<bool(unsigned)>& lcore_enabled) {
  const size_t n_ports = dpdk.ports.size();
  if (workers.empty()) {
    return Error{"need at least one worker lcore besides the main lcore: give EAL -l 0-1 or more"};
  }
  QueuePlan plan;
  plan.queues.resize(n_ports);

  if (!dpdk.lcores_auto) {
    for (const config::LcoreAssignment& a : dpdk.lcores) {
      const std::string where = "dpdk.lcores: lcore " + std::to_string(a.lcore);
      if (a.lcore == main_lcore) {
        return Error{where + " is the main lcore (it waits for signals and prints stats): give it no queues"};
      }
      if (!lcore_enabled(a.lcore) || std::find(workers.begin(), workers.end(), a.lcore) == workers.end()) {
        return Error{where + " is not enabled in EAL (-l/--lcores)"};
      }
      for (const config::QueueRef& r : a.queues) {
        if (r.port >= n_ports) {
          return Error{where + ": port " + std::to_string(r.port) + " does not exist (" + std::to_string(n_ports) +
                       " port(s) configured)"};
        }
      }
    }
  }

  for (size_t p = 0; p < n_ports; ++p) {
    const std::string where = "dpdk.ports[" + std::to_string(p) + "]";
    unsigned q = dpdk.ports[p].queues;
    if (q == 0) {
      if (dpdk.lcores_auto) {
        q = std::min<unsigned>(static_cast<unsigned>(workers.size()), max_queues[p]);
      } else {
        for (const config::LcoreAssignment& a : dpdk.lcores) {
          for (const config::QueueRef& r : a.queues) {
            if (r.port == p) q = std::max(q, r.queue + 1);
          }
        }
        if (q == 0) return Error{"dpdk.lcores: port " + std::to_string(p) + " is served by no lcore"};
      }
    }
    if (q > max_queues[p]) {
      return Error{where + ".queues " + std::to_string(q) + ": device \"" + dpdk.ports[p].device +
                   "\" supports at most " + std::to_string(max_queues[p]) + " queue pairs"};
    }
    if (q == 0) return Error{where + ": device \"" + dpdk.ports[p].device + "\" offers no queues"};
    plan.queues[p] = q;
  }

  if (dpdk.lcores_auto) {
    plan.lcores.resize(std::min<size_t>(workers.size(), [&] {
      size_t total = 0;
      for (unsigned q : plan.queues) total += q;
      return total;
    }()));
    for (size_t i = 0; i < plan.lcores.size(); ++i) plan.lcores[i].lcore = workers[i];
    size_t next = 0;
    for (unsigned p = 0; p < n_ports; ++p) {
      for (unsigned q = 0; q < plan.queues[p]; ++q) {
        plan.lcores[next % plan.lcores.size()].queues.push_back({p, q});
        ++next;
      }
    }
    return plan;
  }

  std::vector<std::vector<int>> owner(n_ports);
  for (size_t p = 0; p < n_ports; ++p) owner[p].assign(plan.queues[p], -1);
  for (const config::LcoreAssignment& a : dpdk.lcores) {
    LcorePlan* lp = nullptr;
    for (LcorePlan& existing : plan.lcores) {
      if (existing.lcore == a.lcore) lp = &existing;
    }
    if (lp == nullptr) {
      plan.lcores.push_back({a.lcore, {}});
      lp = &plan.lcores.back();
    }
    for (const config::QueueRef& r : a.queues) {
      const std::string what = "port " + std::to_string(r.port) + " queue " + std::to_string(r.queue);
      if (r.queue >= plan.queues[r.port]) {
        return Error{"dpdk.lcores: lcore " + std::to_string(a.lcore) + ": " + what + " does not exist (port " +
                     std::to_string(r.port) + " has " + std::to_string(plan.queues[r.port]) + " queues)"};
      }
      int& o = owner[r.port][r.queue];
      if (o >= 0) {
        return Error{"dpdk.lcores: " + what + " is assigned twice (lcores " + std::to_string(o) + " and " +
                     std::to_string(a.lcore) + ")"};
      }
      o = static_cast<int>(a.lcore);
      lp->queues.push_back(r);
    }
  }
  for (size_t p = 0; p < n_ports; ++p) {
    for (size_t q = 0; q < owner[p].size(); ++q) {
      if (owner[p][q] < 0) {
        return Error{"dpdk.lcores: port " + std::to_string(p) + " queue " + std::to_string(q) +
                     " is served by no lcore"};
      }
    }
  }
  std::erase_if(plan.lcores, [](const LcorePlan& lp) { return lp.queues.empty(); });
  return plan;
}

}  // namespace stunbox::dpdk
