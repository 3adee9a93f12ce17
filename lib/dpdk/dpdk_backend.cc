// dpdk::run: EAL, mempools, ports, lcore map, launch, the main lcore's signal/stats loop, and teardown.
#include "dpdk/dpdk_backend.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

#include "core/report.h"
#include "core/runtime.h"
#include "dpdk/eal.h"
#include "dpdk/lcore_map.h"
#include "dpdk/lcore_loop.h"
#include "dpdk/port.h"

namespace stunbox::dpdk {
namespace {

// mbufs beyond the descriptor rings and lcore caches: announcements,
// replies in flight between rx and tx, driver slack.
constexpr unsigned kMempoolMargin = 1024;

void warn(const std::string& w) { std::fprintf(stderr, "stunbox: warning: %s\n", w.c_str()); }

// Everything run() sets up; destroyed in reverse on every exit path.
class Backend {
 public:
  explicit Backend(const config::Config& cfg) : cfg_(cfg), stun_(cfg.stun.responder()) {}
  ~Backend() { teardown(); }

  Status setup();
  Status serve();

 private:
  void teardown();
  Snapshot total() const;
  void print_summary() const;

  const config::Config& cfg_;
  const stun::ResponderConfig stun_;
  std::vector<unsigned> workers_;
  std::vector<uint16_t> port_ids_;
  std::vector<PortSetup> ports_;
  std::vector<bool> configured_;
  std::map<int, rte_mempool*> pools_;  // NUMA socket -> pool
  std::map<int, unsigned> pool_sizes_;
  std::vector<std::unique_ptr<QueueContext>> queues_;
  std::vector<LcoreWork> work_;
  std::atomic<bool> stop_{false};
  bool launched_ = false;
};

Status Backend::setup() {
  const config::DpdkSection& d = cfg_.dpdk;
  unsigned l;
  RTE_LCORE_FOREACH_WORKER(l) { workers_.push_back(l); }
  if (workers_.empty()) {
    return Error{"need at least one worker lcore besides the main lcore: give EAL -l 0-1 or more"};
  }

  // Ports and their queue counts.
  std::vector<uint16_t> max_queues;
  for (unsigned i = 0; i < d.ports.size(); ++i) {
    auto id = find_port(d.ports[i], i);
    if (!id) {
      const std::string why = log_line_about(eal_init_log(), device_name(d.ports[i].device));
      return Error{id.message() + (why.empty() ? "" : ": " + why)};
    }
    for (unsigned j = 0; j < i; ++j) {
      if (port_ids_[j] == *id) {
        return Error{"dpdk.ports[" + std::to_string(i) + "].device \"" + d.ports[i].device +
                     "\": same device as dpdk.ports[" + std::to_string(j) + "]"};
      }
    }
    port_ids_.push_back(*id);
    auto mq = max_queue_pairs(*id);
    if (!mq) return mq.error();
    max_queues.push_back(*mq);
  }
  auto plan = plan_lcores(d, workers_, max_queues, rte_get_main_lcore(),
                          [](unsigned lc) { return rte_lcore_is_enabled(lc) != 0; });
  if (!plan) return plan.error();

  // One mempool per NUMA socket in use.
  std::map<int, unsigned long> need;
  std::vector<int> port_socket;
  for (unsigned i = 0; i < d.ports.size(); ++i) {
    int socket = rte_eth_dev_socket_id(port_ids_[i]);
    if (socket < 0) socket = static_cast<int>(rte_socket_id());  // vdevs: no NUMA affinity
    port_socket.push_back(socket);
    need[socket] += static_cast<unsigned long>(plan->queues[i]) * (d.ports[i].rx_desc + d.ports[i].tx_desc);
  }
  for (auto& [socket, n] : need) {
    n += workers_.size() * (d.burst + d.mempool.cache) + kMempoolMargin;
    unsigned long size = 1;
    while (size - 1 < n) size <<= 1;  // 2^k - 1 is the mempool's most efficient size
    size -= 1;
    if (d.mempool.size != 0) {
      if (d.mempool.size < n) {
        return Error{"dpdk.mempool.size " + std::to_string(d.mempool.size) +
                     " is too small: need at least " + std::to_string(n)};
      }
      size = d.mempool.size;
    }
    const unsigned cache = std::min<unsigned>({d.mempool.cache, RTE_MEMPOOL_CACHE_MAX_SIZE,
                                               static_cast<unsigned>(size / 2)});
    const std::string name = "stunbox_pool_" + std::to_string(socket);
    if (d.mempool.data_room > 65535 || d.mempool.data_room < RTE_PKTMBUF_HEADROOM + 64) {
      return Error{"dpdk.mempool.data_room " + std::to_string(d.mempool.data_room) + ": out of range"};
    }
    rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), static_cast<unsigned>(size), cache, 0,
                                                static_cast<uint16_t>(d.mempool.data_room), socket);
    if (pool == nullptr) {
      return Error{"cannot create mempool of " + std::to_string(size) + " mbufs on socket " +
                   std::to_string(socket) + ": " + rte_strerror(rte_errno) +
                   " (give EAL more memory: -m, or reserve more hugepages)"};
    }
    pools_[socket] = pool;
    pool_sizes_[socket] = static_cast<unsigned>(size);
  }

  // Configure and start every port.
  for (unsigned i = 0; i < d.ports.size(); ++i) {
    const unsigned frame_room = d.ports[i].mtu + 14 + 4 + 4;  // Ethernet + 802.1Q + FCS
    if (d.mempool.data_room - RTE_PKTMBUF_HEADROOM < frame_room) {
      return Error{"dpdk.mempool.data_room " + std::to_string(d.mempool.data_room) + " is too small for " +
                   "dpdk.ports[" + std::to_string(i) + "].mtu " + std::to_string(d.ports[i].mtu) +
                   ": need at least " + std::to_string(frame_room + RTE_PKTMBUF_HEADROOM)};
    }
    configured_.push_back(true);
    auto port = configure_port(port_ids_[i], i, d.ports[i], d.rss, cfg_.stun.ports,
                               static_cast<uint16_t>(plan->queues[i]), pools_[port_socket[i]]);
    if (!port) return port.error();
    port->socket = port_socket[i];
    Status st = start_port(*port, d.link_wait_ms);
    for (const std::string& w : port->warnings) warn(w);
    port->warnings.clear();
    if (!st) return st;
    ports_.push_back(std::move(*port));
  }

  // Queue contexts and the work of each lcore.
  for (const LcorePlan& lp : plan->lcores) {
    LcoreWork w;
    w.lcore = lp.lcore;
    w.idle = d.idle;
    w.stop = &stop_;
    for (const config::QueueRef& ref : lp.queues) {
      const PortSetup& p = ports_[ref.port];
      auto q = std::make_unique<QueueContext>();
      q->port_id = p.port_id;
      q->queue_id = static_cast<uint16_t>(ref.queue);
      q->port_index = ref.port;
      q->lcore = lp.lcore;
      q->burst = static_cast<uint16_t>(d.burst);
      q->port = &p.identity;
      q->stun = &stun_;
      q->poll = select_poll(p.rx_csum, p.tx_csum);
      w.queues.push_back(q.get());
      queues_.push_back(std::move(q));
    }
    if (!w.queues.empty()) work_.push_back(std::move(w));
  }

  for (const PortSetup& p : ports_) announce(p, pools_[p.socket]);
  return Status::ok();
}

Snapshot Backend::total() const {
  Snapshot s;
  for (const auto& q : queues_) s.add(q->counters);
  return s;
}

void Backend::print_summary() const {
  std::printf("stunbox: dpdk mode, main lcore %u\n", rte_get_main_lcore());
  for (const PortSetup& p : ports_) std::printf("%s\n", describe(p).c_str());
  for (const LcoreWork& w : work_) {
    std::string line = "  lcore " + std::to_string(w.lcore) + ":";
    for (const QueueContext* q : w.queues) {
      line += ' ';
      line += std::to_string(q->port_index);
      line += ':';
      line += std::to_string(q->queue_id);
    }
    std::printf("%s\n", line.c_str());
  }
  for (const auto& [socket, size] : pool_sizes_) {
    std::printf("  mempool socket %d: %u mbufs of %u bytes\n", socket, size, cfg_.dpdk.mempool.data_room);
  }
  std::printf("  idle %s, burst %u\n", cfg_.dpdk.idle == config::Idle::poll ? "poll" : "adaptive",
              cfg_.dpdk.burst);
  std::printf("stunbox: ready: dpdk mode, %zu port%s, %zu lcore%s, %zu queue%s\n", ports_.size(),
              ports_.size() == 1 ? "" : "s", work_.size(), work_.size() == 1 ? "" : "s", queues_.size(),
              queues_.size() == 1 ? "" : "s");
  std::fflush(stdout);
}

Status Backend::serve() {
  for (LcoreWork& w : work_) {
    const int rc = rte_eal_remote_launch(lcore_main, &w, w.lcore);
    if (rc != 0) {
      stop_.store(true, std::memory_order_release);
      rte_eal_mp_wait_lcore();
      return Error{"cannot launch lcore " + std::to_string(w.lcore) + ": " + rte_strerror(-rc)};
    }
    launched_ = true;
  }
  print_summary();

  using Clock = std::chrono::steady_clock;
  const unsigned period = cfg_.stats.period;
  const unsigned idle_ms = cfg_.dpdk.exit_after_idle_ms;
  Snapshot prev_stats = total();
  auto last_stats = Clock::now();
  uint64_t last_rx = prev_stats.get(Counter::rx_packets);
  auto last_rx_change = Clock::now();
  for (;;) {
    const Signal sig = wait_signal(100);
    if (sig == Signal::stop) break;
    if (sig == Signal::reload) {
      std::fprintf(stderr, "stunbox: reload: not supported in dpdk mode yet\n");
    }
    const auto now = Clock::now();
    const Snapshot snap = total();
    if (period != 0 && now - last_stats >= std::chrono::seconds(period)) {
      const double secs = std::chrono::duration<double>(now - last_stats).count();
      std::printf("%s", format_stats(snap, &prev_stats, secs).c_str());
      std::fflush(stdout);
      prev_stats = snap;
      last_stats = now;
    }
    if (idle_ms != 0) {
      const uint64_t rx = snap.get(Counter::rx_packets);
      if (rx != last_rx) {
        last_rx = rx;
        last_rx_change = now;
      } else if (now - last_rx_change >= std::chrono::milliseconds(idle_ms)) {
        std::printf("stunbox: no packets for %u ms (dpdk.exit_after_idle_ms): stopping\n", idle_ms);
        break;
      }
    }
  }

  stop_.store(true, std::memory_order_release);
  rte_eal_mp_wait_lcore();
  launched_ = false;
  std::printf("stunbox: final counters\n%s", format_stats(total(), nullptr, 0).c_str());
  for (const auto& q : queues_) {
    Snapshot s;
    s.add(q->counters);
    std::printf("  port %u queue %u lcore %u: rx %llu tx %llu drops %llu\n", q->port_index, q->queue_id, q->lcore,
                static_cast<unsigned long long>(s.get(Counter::rx_packets)),
                static_cast<unsigned long long>(s.get(Counter::tx_packets)),
                static_cast<unsigned long long>(s.total_drops()));
  }
  std::fflush(stdout);
  return Status::ok();
}

void Backend::teardown() {
  if (launched_) {
    stop_.store(true, std::memory_order_release);
    rte_eal_mp_wait_lcore();
    launched_ = false;
  }
  for (size_t i = 0; i < configured_.size() && i < port_ids_.size(); ++i) {
    rte_eth_dev_stop(port_ids_[i]);
    rte_eth_dev_close(port_ids_[i]);
  }
  configured_.clear();
  for (auto& [socket, pool] : pools_) rte_mempool_free(pool);
  pools_.clear();
}

}  // namespace

Status run(const config::Config& cfg, const std::vector<std::string>& extra_eal) {
  if (cfg.dpdk.ports.empty()) return Error{"dpdk.ports: dpdk mode needs at least one port"};
  Status st = init_eal(eal_arguments(cfg.dpdk, extra_eal));
  if (!st) {
    // A vdev EAL could not even parse is a missing device too.
    for (size_t i = 0; i < cfg.dpdk.ports.size(); ++i) {
      const std::string name = device_name(cfg.dpdk.ports[i].device);
      const std::string why = log_line_about(eal_init_log(), "'" + name + "'");
      if (!why.empty()) {
        return Error{"dpdk.ports[" + std::to_string(i) + "].device \"" + cfg.dpdk.ports[i].device +
                     "\": no such device (probe failed): " + why};
      }
    }
    return st;
  }
  {
    Backend backend(cfg);
    st = backend.setup();
    if (st) st = backend.serve();
  }  // ports stopped and closed, pools freed
  rte_eal_cleanup();
  return st;
}

}  // namespace stunbox::dpdk
