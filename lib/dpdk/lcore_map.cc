// Lcore planning: pure logic over the config and what EAL and the devices report.
#include "dpdk/lcore_map.h"

#include <algorithm>
#include <string>

namespace stunbox::dpdk {

Result<QueuePlan> plan_lcores(const config::DpdkSection& dpdk, const std::vector<unsigned>& workers,
                              const std::vector<uint16_t>& max_queues, unsigned main_lcore,
                              const std::function<bool(unsigned)>& lcore_enabled, const Topology& topology) {
  const size_t n_ports = dpdk.ports.size();
  if (workers.empty()) {
    return Error{"need at least one worker lcore besides the main lcore: give EAL -l 0-1 or more"};
  }
  QueuePlan plan;
  plan.queues.resize(n_ports);
  auto lcore_socket = [&](unsigned lc) { return topology.lcore_socket ? topology.lcore_socket(lc) : 0; };
  auto port_socket = [&](size_t p) { return p < topology.port_socket.size() ? topology.port_socket[p] : -1; };
  // auto: the workers that may serve port p (those on its socket; all of them when none is, or
  // when the port's socket is unknown), computed once per port.
  std::vector<std::vector<unsigned>> candidates(n_ports);
  if (dpdk.lcores_auto) {
    for (size_t p = 0; p < n_ports; ++p) {
      const int s = port_socket(p);
      if (s >= 0) {
        for (unsigned w : workers)
          if (lcore_socket(w) == s) candidates[p].push_back(w);
      }
      if (candidates[p].empty()) {
        candidates[p] = workers;
        if (s >= 0) {
          plan.warnings.push_back("dpdk.lcores auto: no worker lcore on NUMA socket " + std::to_string(s) +
                                  " of dpdk.ports[" + std::to_string(p) + "] (\"" + dpdk.ports[p].device +
                                  "\"): its queues are served from other sockets (give EAL lcores on socket " +
                                  std::to_string(s) + ")");
        }
      }
    }
  }

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
        q = std::min<unsigned>(static_cast<unsigned>(candidates[p].size()), max_queues[p]);
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
    // Round-robin per set of candidates, one cursor per set, so ports that share a socket share
    // its workers evenly (on one socket: exactly the round-robin over all workers).
    std::vector<std::pair<std::vector<unsigned>, size_t>> cursors;
    auto lcore_plan = [&plan](unsigned lc) -> LcorePlan& {
      for (LcorePlan& lp : plan.lcores)
        if (lp.lcore == lc) return lp;
      plan.lcores.push_back({lc, {}});
      return plan.lcores.back();
    };
    for (unsigned p = 0; p < n_ports; ++p) {
      size_t* next = nullptr;
      for (auto& [set, cursor] : cursors)
        if (set == candidates[p]) next = &cursor;
      if (next == nullptr) {
        cursors.emplace_back(candidates[p], 0);
        next = &cursors.back().second;
      }
      for (unsigned q = 0; q < plan.queues[p]; ++q) {
        lcore_plan(candidates[p][(*next)++ % candidates[p].size()]).queues.push_back({p, q});
      }
    }
    std::sort(plan.lcores.begin(), plan.lcores.end(),
              [&workers](const LcorePlan& a, const LcorePlan& b) {
                return std::find(workers.begin(), workers.end(), a.lcore) <
                       std::find(workers.begin(), workers.end(), b.lcore);
              });
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
      const int ps = port_socket(r.port), ls = lcore_socket(a.lcore);
      if (ps >= 0 && ls != ps) {
        plan.warnings.push_back("dpdk.lcores: lcore " + std::to_string(a.lcore) + " (NUMA socket " +
                                std::to_string(ls) + ") serves " + what + " on socket " + std::to_string(ps) +
                                ": every packet crosses the inter-socket link");
      }
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
