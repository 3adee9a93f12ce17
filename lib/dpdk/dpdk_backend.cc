// The DPDK backend: EAL, mempools, ports, lcore map, launch, the main lcore's link watch, and teardown.
#include "dpdk/dpdk_backend.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "config/config.h"
#include "dpdk/eal.h"
#include "dpdk/exception.h"
#include "dpdk/lcore_map.h"
#include "dpdk/lcore_loop.h"
#include "dpdk/port.h"
#include "dpdk/steering.h"
#include "dpdk/telemetry.h"

namespace stunbox::dpdk {
namespace {

// mbufs beyond the descriptor rings and lcore caches: announcements,
// replies in flight between rx and tx, driver slack.
constexpr unsigned kMempoolMargin = 1024;

// How often the main lcore reads every port's link (rte_eth_link_get_nowait:
// a register read on a NIC, one ioctl on net_tap). Off the data path.
constexpr auto kLinkCheckInterval = std::chrono::milliseconds(250);

// Per-lcore state in memory of the lcore's NUMA socket (rte_zmalloc_socket), so
// an lcore's counters, policers and queue contexts never cross the
// inter-socket link. Freed (destructor + rte_free) before EAL is cleaned up.
struct SocketDelete {
  template <typename T>
  void operator()(T* p) const {
    if (p == nullptr) return;
    p->~T();
    rte_free(p);
  }
};
template <typename T>
using SocketPtr = std::unique_ptr<T, SocketDelete>;

// A value-initialised T on `socket`; any socket when that one has no free
// memory (e.g. --no-huge, where all memory is socket 0's). Null if none at all.
template <typename T>
SocketPtr<T> make_on_socket(int socket) {
  const unsigned align = static_cast<unsigned>(std::max<size_t>(alignof(T), RTE_CACHE_LINE_SIZE));
  void* mem = rte_zmalloc_socket("stunbox_lcore", sizeof(T), align, socket);
  if (mem == nullptr) mem = rte_zmalloc("stunbox_lcore", sizeof(T), align);
  if (mem == nullptr) return nullptr;
  return SocketPtr<T>(new (mem) T());
}

// The link as the watcher last saw it, per port.
// main lcore (setup, watch_links): wo; console, metrics, telemetry: ro (relaxed).
struct LinkWatch {
  std::atomic<bool> up{false};
  std::atomic<uint32_t> speed_mbps{0};  // 0 = unknown
  std::atomic<bool> full_duplex{false};
  std::atomic<uint64_t> changes{0};  // up <-> down transitions since start
};

uint32_t known_speed(uint32_t speed) {
  return speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : speed;  // RTE_ETH_SPEED_NUM_NONE is 0 already
}

// "link down" / "link up 10000 Mbps full-duplex" / "link up, speed unknown, half-duplex".
std::string link_text(const rte_eth_link& l) {
  if (l.link_status != RTE_ETH_LINK_UP) return "link down";
  const uint32_t speed = known_speed(l.link_speed);
  const char* duplex = l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full-duplex" : "half-duplex";
  if (speed == 0) return std::string("link up, speed unknown, ") + duplex;
  return "link up " + std::to_string(speed) + " Mbps " + duplex;
}

// Everything setup builds; destroyed in reverse on every exit path (EAL
// last). Also the read-only view the console and metrics use (from their
// own threads).
class Backend final : public backend::Backend {
 public:
  Backend(const config::Config& cfg, std::vector<std::string> extra_eal)
      : cfg_(cfg), extra_eal_(std::move(extra_eal)) {
    config_.store(&cfg, std::memory_order_release);
  }
  ~Backend() override {
    teardown();
    if (eal_up_) rte_eal_cleanup();
  }

  // backend::Backend
  Status setup(backend::Reporter& report) override;
  std::string summary() const override;
  std::string ready_line() const override;
  std::string ready_status() const override;
  Status start(backend::Reporter& report, const backend::StallSource* stalls) override;
  bool tick(backend::Reporter& report) override;
  void apply(const config::Config& cfg) override;
  void stop() override;
  void finish(backend::Reporter& report) override;

  // backend::View
  std::string_view mode() const override { return "dpdk"; }
  size_t port_count() const override { return ports_.size(); }
  std::string port_name(size_t port) const override { return ports_.at(port).name; }
  backend::PortStats port_stats(size_t port) const override;
  backend::LinkState link(size_t port) const override;
  std::vector<backend::MempoolView> mempools() const override;
  std::string port_info(size_t port) const override;
  std::vector<backend::XStat> xstats(size_t port) const override;
  std::vector<backend::XStat> metric_xstats(size_t port) const override;
  std::span<const backend::QueueView> queues() const override { return queue_views_; }
  std::span<const backend::WorkerInfo> workers() const override { return worker_infos_; }
  backend::WorkerUsage usage(size_t worker) const override;
  const config::Config& config() const override { return *config_.load(std::memory_order_acquire); }
  std::vector<SourceSketchSnapshot> source_sketches() const override { return read_all(sources_); }

 private:
  Status init();   // EAL, with a missing device named by its key
  Status build(backend::Reporter& report);  // mempools, ports, queues, lcore work
  void teardown();
  void close_ports();
  Snapshot total() const;
  // Reads every port's link; report: say and count what changed (null: record the starting point).
  void watch_links(backend::Reporter* report);
  // A port's link came up while serving: its announcements (gratuitous ARP,
  // unsolicited NA, MLDv2 report) go to the control ring of the lcore that
  // owns its TX queue 0, which sends them between two polls. The main lcore
  // never touches a TX queue a worker owns.
  void announce_after_link_up(const PortSetup& p, backend::Reporter& report);

  const config::Config& cfg_;  // as set up; the live keys are config()'s
  // rte_eth_stats_get and rte_eth_xstats_get are not thread-safe: i40e and mlx5 keep the last
  // hardware reading inside to extend 32/48-bit registers, so two readers at once (console,
  // /metrics, telemetry, the periodic stats on the main thread) can corrupt the totals. Every
  // stunbox read of them takes this lock; DPDK's own /ethdev/* telemetry commands do not.
  mutable std::mutex ethdev_stats_mu_;
  std::vector<std::string> extra_eal_;
  bool eal_up_ = false;
  // main: wo (setup, apply); readers: ro. Every generation outlives the backend (the daemon keeps them).
  std::atomic<const config::Config*> config_{nullptr};
  std::vector<unsigned> workers_;
  std::vector<uint16_t> port_ids_;
  std::vector<PortSetup> ports_;
  std::vector<bool> configured_;
  std::vector<bool> started_;  // rte_eth_dev_start succeeded: stop only these (ethdev logs a stop of a stopped port)
  std::map<int, rte_mempool*> pools_;  // NUMA socket -> pool
  std::map<int, unsigned> pool_sizes_;
  std::map<int, unsigned> pool_baseline_;  // in-use count right after creation (no queue holds any yet)
  std::unique_ptr<LinkWatch[]> links_;     // one per port in ports_
  std::vector<SocketPtr<QueueContext>> queues_;  // on their lcore's socket
  // One per port in ports_ (nullptr = no exception path); closed after the lcores stop.
  std::vector<std::unique_ptr<ExceptionScope>> exceptions_;
  std::vector<LcoreWork> work_;
  std::vector<rte_ring*> control_rings_;  // one per lcore in work_: main enqueues, the lcore sends (announcements)
  std::vector<std::unique_ptr<SourceSketch>> sources_;  // one per lcore in work_; the lcore: wo, console: read()
  std::atomic<bool> stop_{false};
  bool launched_ = false;
  // The view's fixed tables (built at the end of setup) and lcore accounting.
  std::vector<backend::QueueView> queue_views_;
  std::vector<backend::WorkerInfo> worker_infos_;
  std::vector<SocketPtr<LcoreUsage>> usage_;  // one per lcore in work_, on its socket
  double ns_per_cycle_ = 0;
  // While serving: /stunbox/* telemetry and rte_pdump.
  std::unique_ptr<TelemetryScope> telemetry_;
  std::unique_ptr<CaptureScope> capture_;
  // tick(): when to read the links next; the exit_after_idle_ms watch.
  std::chrono::steady_clock::time_point next_link_check_{};
  uint64_t last_rx_ = 0;
  std::chrono::steady_clock::time_point last_rx_change_{};
  // The lcores' STUN options, one per apply that set them; kept until
  // exit because an lcore may still be in a burst with an older one.
  std::vector<std::unique_ptr<stun::ResponderConfig>> responders_;
  std::atomic<const config::Config*> current_{nullptr};
  // Abuse controls: one policy per generation (kept: an lcore may hold an
  // older one for a burst), the buckets shared by every lcore (sized once,
  // kept across reloads), one ARP/NDP and echo policer per lcore.
  std::vector<std::unique_ptr<limits::Policy>> policies_;
  std::unique_ptr<limits::Limiter> limiter_;
  std::vector<SocketPtr<limits::L3Policer>> l3_policers_;     // one per lcore, on its socket
  std::vector<SocketPtr<limits::GlobalCredit>> credits_;  // one per lcore: its claimed global_pps tokens
  std::vector<SocketPtr<uint64_t>> tscs_;  // one per lcore: the TSC of its last poll (the limiter's clock)
};

backend::PortStats Backend::port_stats(size_t port) const {
  rte_eth_stats st{};
  backend::PortStats p;
  {
    std::lock_guard<std::mutex> lock(ethdev_stats_mu_);
    if (rte_eth_stats_get(ports_.at(port).port_id, &st) != 0) return p;
  }
  p.rx_packets = st.ipackets;
  p.rx_missed = st.imissed;
  p.rx_bytes = st.ibytes;
  p.rx_errors = st.ierrors;
  p.rx_nombuf = st.rx_nombuf;
  p.tx_packets = st.opackets;
  p.tx_errors = st.oerrors;
  p.tx_bytes = st.obytes;
  return p;
}

backend::LinkState Backend::link(size_t port) const {
  // The watcher's view (at most kLinkCheckInterval old), so the gauge, the
  // change count and the printed lines always agree.
  const LinkWatch& w = links_[ports_.at(port).index];
  backend::LinkState out;
  out.up = w.up.load(std::memory_order_relaxed);
  out.speed_mbps = w.speed_mbps.load(std::memory_order_relaxed);
  out.full_duplex = w.full_duplex.load(std::memory_order_relaxed);
  out.changes = w.changes.load(std::memory_order_relaxed);
  return out;
}

std::vector<backend::MempoolView> Backend::mempools() const {
  std::vector<backend::MempoolView> out;
  for (const auto& [socket, pool] : pools_) out.push_back({pool->name, pool->size, rte_mempool_in_use_count(pool)});
  return out;
}

void Backend::watch_links(backend::Reporter* report) {
  for (const PortSetup& p : ports_) {
    rte_eth_link l{};
    if (rte_eth_link_get_nowait(p.port_id, &l) != 0) continue;
    LinkWatch& w = links_[p.index];
    const bool up = l.link_status == RTE_ETH_LINK_UP;
    const uint32_t speed = up ? known_speed(l.link_speed) : 0;
    const bool full = up && l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
    const bool was_up = w.up.load(std::memory_order_relaxed);
    const bool changed = up != was_up || speed != w.speed_mbps.load(std::memory_order_relaxed) ||
                         full != w.full_duplex.load(std::memory_order_relaxed);
    w.up.store(up, std::memory_order_relaxed);
    w.speed_mbps.store(speed, std::memory_order_relaxed);
    w.full_duplex.store(full, std::memory_order_relaxed);
    if (report == nullptr) continue;  // the starting point: neither a change nor news
    // Only up <-> down counts; a new speed while up (renegotiation) is printed, not counted.
    if (up != was_up) w.changes.store(w.changes.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (changed) {
      // The lcores keep polling through a link flap: frames simply stop and
      // start again, so nothing needs restarting here.
      report->info("port " + std::to_string(p.index) + " " + link_text(l));
    }
    if (up && !was_up) announce_after_link_up(p, *report);
  }
}

void Backend::announce_after_link_up(const PortSetup& p, backend::Reporter& report) {
  if (!launched_) return;  // at start, build() sent them itself before any lcore ran
  for (size_t w = 0; w < work_.size(); ++w) {
    const bool owner = std::any_of(work_[w].queues.begin(), work_[w].queues.end(), [&p](const QueueContext* q) {
      return q->port_index == p.index && q->queue_id == 0;
    });
    if (!owner) continue;
    std::vector<rte_mbuf*> frames = announcement_frames(p, pools_[p.socket]);
    const unsigned queued = frames.empty() ? 0
                                           : rte_ring_sp_enqueue_burst(control_rings_[w], reinterpret_cast<void**>(frames.data()),
                                                                       static_cast<unsigned>(frames.size()), nullptr);
    for (size_t i = queued; i < frames.size(); ++i) rte_pktmbuf_free(frames[i]);
    if (queued < frames.size()) {
      report.warn("port " + std::to_string(p.index) + ": " + std::to_string(frames.size() - queued) +
                  " announcement(s) after link-up dropped: lcore " + std::to_string(work_[w].lcore) +
                  "'s control ring is full");
    }
    return;
  }
}

std::string Backend::port_info(size_t port) const {
  const PortSetup& p = ports_.at(port);
  const config::PortSection& section = config().dpdk.ports.at(p.index);
  static constexpr char kHex[] = "0123456789abcdef";
  auto hex = [](const uint8_t* b, size_t n, const char* sep) {
    std::string o;
    for (size_t i = 0; i < n; ++i) {
      if (i != 0) o += sep;
      o += kHex[b[i] >> 4];
      o += kHex[b[i] & 15];
    }
    return o;
  };
  std::string o;
  o += "Device: " + p.device + "\n";
  o += "Driver: " + p.driver + "\n";
  o += "Port id: " + std::to_string(p.port_id) + ", NUMA socket " + std::to_string(p.socket) + "\n";
  char fw[128] = {};
  const int fw_rc = rte_eth_dev_fw_version_get(p.port_id, fw, sizeof fw);
  o += "Firmware: " + std::string(fw_rc == 0 ? fw : fw_rc > 0 ? "(longer than 128 bytes)" : "- (not reported by the driver)") +
       "\n";
  o += "MAC address: " + hex(p.identity.mac.data(), 6, ":") + "\n";
  o += "MTU: " + std::to_string(section.mtu) + "\n";
  o += "Queues: " + std::to_string(p.queues) + " RX/TX pairs, " + std::to_string(p.rx_desc) + " RX and " +
       std::to_string(p.tx_desc) + " TX descriptors\n";
  if (p.rss) {
    o += "RSS hash types: " + rss_types_to_string(p.rss_types) + "\n";
    if (!p.rss_mapped.empty()) o += "RSS types mapped to the device's: " + p.rss_mapped + "\n";
    if (p.rss_dropped != 0) o += "RSS types not supported by the device: " + rss_types_to_string(p.rss_dropped) + "\n";
    o += "RSS key: " + hex(p.rss_key.data(), p.rss_key.size(), "") +
         (p.rss_key_random ? " (random, chosen at start: dpdk.rss.key auto)" : " (dpdk.rss.key)") + "\n";
    o += "RETA size: " + std::to_string(p.reta_size) + "\n";
  } else {
    o += "RSS: off (" + std::string(p.queues > 1 ? "not supported by the device" : "single queue") + ")\n";
  }
  o += std::string("RX checksum: ") + (p.rx_csum ? "hardware" : "software") + "\n";
  o += std::string("TX IPv4/UDP checksum: ") + (p.tx_csum ? "hardware" : "software") + " (" + p.tx_csum_why + ")\n";
  o += std::string("TX fast free: ") + (p.fast_free ? "on" : "off") + "\n";
  o += "Multicast: " + (p.multicast.empty() ? std::string("-") : p.multicast) + "\n";
  o += "VLAN: " + (section.vlan ? std::to_string(*section.vlan) : std::string("untagged")) + "\n";
  std::string addrs;
  for (const config::IpPrefix& a : section.addresses) {
    if (!addrs.empty()) addrs += ' ';
    addrs += config::to_string(a);
  }
  o += "Addresses: " + (addrs.empty() ? std::string("-") : addrs) + "\n";
  const ExceptionScope* x = p.index < exceptions_.size() ? exceptions_[p.index].get() : nullptr;
  o += "Steering: " + std::string(config::to_string(section.steering)) +
       (p.steering_text.empty() ? std::string(" (stunbox takes every frame)") : " (" + p.steering_text + ")") + "\n";
  for (const std::string& r : p.flow_rules) o += "Flow rule: " + r + "\n";
  o += "Exception path: " + (x == nullptr ? std::string("none (frames for the kernel are dropped)") : describe(*x)) + "\n";
  for (const config::Rfc5780Section& r : config().stun.rfc5780) {
    if (!p.identity.rfc5780[r.primary.ip.v6 ? 1 : 0]) continue;
    o += "RFC 5780 pair: primary " + config::to_string(r.primary) + ", alternate " + config::to_string(r.alternate) +
         "\n";
  }
  o += "Link changes: " + std::to_string(links_[p.index].changes.load(std::memory_order_relaxed)) +
       " (up/down transitions since start)\n";
  return o;
}

std::vector<backend::XStat> Backend::metric_xstats(size_t port) const {
  std::vector<backend::XStat> all = xstats(port);
  if (config().stats.port_xstats == config::PortXstats::all) return all;
  const std::string& driver = ports_.at(port).driver;
  std::erase_if(all, [&driver](const backend::XStat& x) { return !is_drop_xstat(driver, x.name); });
  return all;
}

std::vector<backend::XStat> Backend::xstats(size_t port) const {
  const uint16_t id = ports_.at(port).port_id;
  std::vector<backend::XStat> out;
  std::lock_guard<std::mutex> lock(ethdev_stats_mu_);
  const int n = rte_eth_xstats_get_names(id, nullptr, 0);
  if (n <= 0) return out;
  std::vector<rte_eth_xstat_name> names(static_cast<size_t>(n));
  std::vector<rte_eth_xstat> values(static_cast<size_t>(n));
  const int nn = rte_eth_xstats_get_names(id, names.data(), static_cast<unsigned>(n));
  const int nv = rte_eth_xstats_get(id, values.data(), static_cast<unsigned>(n));
  if (nn <= 0 || nv <= 0) return out;
  for (int i = 0; i < std::min(nn, nv); ++i) {
    const uint64_t idx = values[static_cast<size_t>(i)].id;
    if (idx >= static_cast<uint64_t>(nn)) continue;
    out.push_back(backend::XStat{names[idx].name, values[static_cast<size_t>(i)].value});
  }
  return out;
}

backend::WorkerUsage Backend::usage(size_t worker) const {
  const LcoreUsage& u = *usage_[worker];
  return backend::WorkerUsage{
      static_cast<uint64_t>(static_cast<double>(u.busy_cycles.load(std::memory_order_relaxed)) * ns_per_cycle_),
      static_cast<uint64_t>(static_cast<double>(u.total_cycles.load(std::memory_order_relaxed)) * ns_per_cycle_),
      u.loops.load(std::memory_order_relaxed)};
}

Status Backend::init() {
  const config::DpdkSection& d = cfg_.dpdk;
  if (d.ports.empty()) return Error{"dpdk.ports: dpdk mode needs at least one port"};
  Status st = init_eal(eal_arguments(d, extra_eal_));
  if (!st) {
    // A vdev EAL could not even parse is a missing device too.
    for (size_t i = 0; i < d.ports.size(); ++i) {
      const std::string name = device_name(d.ports[i].device);
      const std::string why = log_line_about(eal_init_log(), "'" + name + "'");
      if (!why.empty()) {
        return Error{"dpdk.ports[" + std::to_string(i) + "].device \"" + d.ports[i].device +
                     "\": no such device (probe failed): " + why};
      }
    }
    return st;
  }
  eal_up_ = true;
  return Status::ok();
}

Status Backend::setup(backend::Reporter& report) {
  if (Status st = init(); !st) return st;
  return build(report);
}

Status Backend::build(backend::Reporter& report) {
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
  Topology topology;
  for (uint16_t id : port_ids_) topology.port_socket.push_back(rte_eth_dev_socket_id(id));  // -1: vdev, any
  topology.lcore_socket = [](unsigned lc) { return static_cast<int>(rte_lcore_to_socket_id(lc)); };
  auto plan = plan_lcores(d, workers_, max_queues, rte_get_main_lcore(),
                          [](unsigned lc) { return rte_lcore_is_enabled(lc) != 0; }, topology);
  if (!plan) return plan.error();
  for (const std::string& w : plan->warnings) report.warn(w);

  // One mempool per NUMA socket in use.
  std::map<int, unsigned long> need;
  std::vector<int> port_socket;
  for (unsigned i = 0; i < d.ports.size(); ++i) {
    int socket = rte_eth_dev_socket_id(port_ids_[i]);
    if (socket < 0) socket = static_cast<int>(rte_socket_id());  // vdevs: no NUMA affinity
    port_socket.push_back(socket);
    need[socket] += static_cast<unsigned long>(plan->queues[i]) * (d.ports[i].rx_desc + d.ports[i].tx_desc);
    if (!d.ports[i].exception.iface.empty()) need[socket] += kExceptionMbufs;  // TAP descriptors and ring
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
    pool_baseline_[socket] = rte_mempool_in_use_count(pool);
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
    started_.push_back(false);
    if (d.ports[i].steering == config::Steering::xdp) {
      std::string note;
      if (Status st = clear_stale_program(d.ports[i], i, note); !st) return st;
      if (!note.empty()) report.warn(note);
    }
    auto port = configure_port(port_ids_[i], i, d.ports[i], d.rss, cfg_.stun.ports,
                               static_cast<uint16_t>(plan->queues[i]), pools_[port_socket[i]]);
    if (!port) return port.error();
    port->socket = port_socket[i];
    if (d.ports[i].steering == config::Steering::xdp) {
      // The program is on the interface since the RX queue setup: give it the ports and addresses.
      if (Status st = steer_xdp(*port, d.ports[i]); !st) return st;
    }
    // RFC 5780: a pair whose IPs this port owns (config checked both are
    // its addresses) is answered here, on both of its ports.
    for (const config::Rfc5780Section& r : cfg_.stun.rfc5780) {
      const bool v6 = r.primary.ip.v6;
      const auto& owned = d.ports[i].addresses;
      if (std::none_of(owned.begin(), owned.end(), [&r](const config::IpPrefix& a) { return a.ip == r.primary.ip; }))
        continue;
      port->identity.rfc5780[v6 ? 1 : 0] = r.responder();
      port->identity.stun_ports.set(r.primary.port);
      port->identity.stun_ports.set(r.alternate.port);
    }
    Status st = start_port(*port, d.link_wait_ms);
    started_.back() = port->started;
    if (st && d.ports[i].steering == config::Steering::flow) st = install_flow_rules(*port);  // after start
    for (const std::string& w : port->warnings) report.warn(w);
    port->warnings.clear();
    if (!st) return st;
    ports_.push_back(std::move(*port));
    exceptions_.emplace_back();
    if (!d.ports[i].exception.iface.empty()) {
      std::vector<std::string> warnings;
      auto x = open_exception(ports_.back(), d.ports[i], pools_[port_socket[i]], warnings);
      for (const std::string& w : warnings) report.warn(w);
      if (!x) return x.error();
      exceptions_.back() = std::move(*x);
    }
  }
  // The link watcher's starting point: what start_port saw (not a change).
  links_ = std::make_unique<LinkWatch[]>(ports_.size());
  watch_links(nullptr);

  // Queue contexts and the work of each lcore.
  responders_.push_back(std::make_unique<stun::ResponderConfig>(cfg_.stun.responder()));
  policies_.push_back(std::make_unique<limits::Policy>(cfg_.limits));
  limits::set_tsc_hz(rte_get_tsc_hz());  // the limiter's clock: EAL's TSC frequency, no calibration of its own
  limiter_ = std::make_unique<limits::Limiter>(cfg_.limits.rate.table_size);
  for (const LcorePlan& lp : plan->lcores) {
    LcoreWork w;
    w.lcore = lp.lcore;
    w.idle = d.idle;
    w.stop = &stop_;
    // One source-prefix sketch per lcore ("show top sources"): /32 and /64.
    auto sketch = std::make_unique<SourceSketch>(16, 32, 64, config::log2_of(cfg_.stats.top_sources_sample));
    w.sources = sketch.get();
    const int lcore_socket = static_cast<int>(rte_lcore_to_socket_id(lp.lcore));
    auto l3 = make_on_socket<limits::L3Policer>(lcore_socket);
    auto credit = make_on_socket<limits::GlobalCredit>(lcore_socket);
    auto tsc = make_on_socket<uint64_t>(lcore_socket);
    if (!l3 || !credit || !tsc)
      return Error{"cannot allocate lcore " + std::to_string(lp.lcore) + "'s state (give EAL more memory)"};
    w.tsc = tsc.get();
    for (const config::QueueRef& ref : lp.queues) {
      const PortSetup& p = ports_[ref.port];
      auto q = make_on_socket<QueueContext>(lcore_socket);
      if (!q) return Error{"cannot allocate lcore " + std::to_string(lp.lcore) + "'s queue state (give EAL more memory)"};
      q->port_id = p.port_id;
      q->queue_id = static_cast<uint16_t>(ref.queue);
      q->port_index = ref.port;
      q->lcore = lp.lcore;
      q->burst = static_cast<uint16_t>(d.burst);
      q->port = &p.identity;
      q->stun.store(responders_.back().get(), std::memory_order_relaxed);  // before launch
      q->sources = w.sources;
      q->limits.store(policies_.back().get(), std::memory_order_relaxed);  // before launch
      q->limiter = limiter_.get();
      q->l3 = l3.get();
      q->global_credit = credit.get();
      q->lcore_tsc = w.tsc;
      q->poll = select_poll(p.rx_csum, p.tx_csum);
      if (ExceptionScope* x = exceptions_[ref.port].get()) {
        q->exception = &x->path;
        q->exception_owner = ref.queue == 0;  // its TX queue 0 carries the kernel's frames
      }
      w.queues.push_back(q.get());
      queues_.push_back(std::move(q));
    }
    if (!w.queues.empty()) {
      const std::string ring_name = "stunbox_ctl_" + std::to_string(lp.lcore);
      rte_ring* ring = rte_ring_create(ring_name.c_str(), 64, lcore_socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (ring == nullptr) ring = rte_ring_create(ring_name.c_str(), 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (ring == nullptr) return Error{"cannot create lcore " + std::to_string(lp.lcore) + "'s control ring"};
      control_rings_.push_back(ring);
      w.control = ring;
      work_.push_back(std::move(w));
      sources_.push_back(std::move(sketch));
      l3_policers_.push_back(std::move(l3));
      credits_.push_back(std::move(credit));
      tscs_.push_back(std::move(tsc));
    }
  }

  for (const PortSetup& p : ports_) announce(p, pools_[p.socket]);  // none on a port shared by steering

  // The console's view: fixed tables and one usage block per lcore.
  for (const LcoreWork& w : work_) {
    usage_.push_back(make_on_socket<LcoreUsage>(static_cast<int>(rte_lcore_to_socket_id(w.lcore))));
    if (!usage_.back()) return Error{"cannot allocate lcore " + std::to_string(w.lcore) + "'s usage counters"};
  }
  ns_per_cycle_ = 1e9 / static_cast<double>(rte_get_tsc_hz());
  for (size_t i = 0; i < work_.size(); ++i) {
    work_[i].usage = usage_[i].get();
    backend::WorkerInfo info;
    info.id = work_[i].lcore;
    for (const QueueContext* q : work_[i].queues) {
      if (!info.queues.empty()) info.queues += ' ';
      info.queues += std::to_string(q->port_index) + ":" + std::to_string(q->queue_id);
    }
    worker_infos_.push_back(std::move(info));
  }
  for (const auto& q : queues_) queue_views_.push_back(backend::QueueView{q->port_index, q->queue_id, q->lcore, &q->counters});
  return Status::ok();
}

Snapshot Backend::total() const {
  Snapshot s;
  for (const auto& q : queues_) s.add(q->counters);
  return s;
}

std::string Backend::summary() const {
  std::string o = "stunbox: dpdk mode, main lcore " + std::to_string(rte_get_main_lcore()) + "\n";
  for (const PortSetup& p : ports_) {
    o += describe(p) + "\n";
    if (const ExceptionScope* x = p.index < exceptions_.size() ? exceptions_[p.index].get() : nullptr) o += "    " + describe(*x) + "\n";
  }
  for (const LcoreWork& w : work_) {
    o += "  lcore ";
    o += std::to_string(w.lcore);
    o += ':';
    for (const QueueContext* q : w.queues) {
      o += ' ';
      o += std::to_string(q->port_index);
      o += ':';
      o += std::to_string(q->queue_id);
    }
    o += '\n';
  }
  for (const auto& [socket, size] : pool_sizes_) {
    o += "  mempool socket " + std::to_string(socket) + ": " + std::to_string(size) + " mbufs of " +
         std::to_string(cfg_.dpdk.mempool.data_room) + " bytes\n";
  }
  o += std::string("  idle ") + (cfg_.dpdk.idle == config::Idle::poll ? "poll" : "adaptive") + ", burst " +
       std::to_string(cfg_.dpdk.burst) + "\n";
  return o;
}

std::string count(size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

std::string Backend::ready_line() const {
  return ready_status() + ", " + count(queues_.size(), "queue");
}

std::string Backend::ready_status() const {
  return "dpdk mode, " + count(ports_.size(), "port") + ", " + count(work_.size(), "lcore");
}

Status Backend::start(backend::Reporter& report, const backend::StallSource* stalls) {
  // Telemetry and capture: up before any lcore runs.
  telemetry_ = std::make_unique<TelemetryScope>(*this, stalls);
  capture_ = std::make_unique<CaptureScope>();
  if (!capture_->status()) report.warn("live capture (dpdk-dumpcap) unavailable: " + capture_->status().message());
  for (LcoreWork& w : work_) {
    const int rc = rte_eal_remote_launch(lcore_main, &w, w.lcore);
    if (rc != 0) {
      stop();
      return Error{"cannot launch lcore " + std::to_string(w.lcore) + ": " + rte_strerror(-rc)};
    }
    launched_ = true;
  }
  const auto now = std::chrono::steady_clock::now();
  next_link_check_ = now + kLinkCheckInterval;
  last_rx_ = total().get(Counter::rx_packets);
  last_rx_change_ = now;
  return Status::ok();
}

bool Backend::tick(backend::Reporter& report) {
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_link_check_) {
    watch_links(&report);
    next_link_check_ = now + kLinkCheckInterval;
  }
  const unsigned idle_ms = cfg_.dpdk.exit_after_idle_ms;
  if (idle_ms == 0) return false;
  const uint64_t rx = total().get(Counter::rx_packets);
  if (rx != last_rx_) {
    last_rx_ = rx;
    last_rx_change_ = now;
    return false;
  }
  if (now - last_rx_change_ < std::chrono::milliseconds(idle_ms)) return false;
  report.info("no packets for " + std::to_string(idle_ms) + " ms (dpdk.exit_after_idle_ms): stopping");
  return true;
}

void Backend::apply(const config::Config& cfg) {
  responders_.push_back(std::make_unique<stun::ResponderConfig>(cfg.stun.responder()));
  policies_.push_back(std::make_unique<limits::Policy>(cfg.limits));
  // Each lcore picks the new options up at its next burst; nothing is lost.
  for (const auto& q : queues_) {
    q->stun.store(responders_.back().get(), std::memory_order_release);
    q->limits.store(policies_.back().get(), std::memory_order_release);
  }
  config_.store(&cfg, std::memory_order_release);
}

void Backend::stop() {
  if (launched_) {
    stop_.store(true, std::memory_order_release);
    rte_eal_mp_wait_lcore();
    launched_ = false;
  }
  // Frames still on a control ring (a link-up just before stop) go back to their pool.
  for (rte_ring* r : control_rings_) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }
  // No telemetry answer from here on reads lcores that are gone.
  telemetry_.reset();
  capture_.reset();
}

void Backend::finish(backend::Reporter& report) {
  std::string lines;
  for (const auto& q : queues_) {
    Snapshot s;
    s.add(q->counters);
    lines += "  port " + std::to_string(q->port_index) + " queue " + std::to_string(q->queue_id) + " lcore " +
             std::to_string(q->lcore) + ": rx " + std::to_string(s.get(Counter::rx_packets)) + " tx " +
             std::to_string(s.get(Counter::tx_packets)) + " drops " + std::to_string(s.total_drops()) + "\n";
  }
  report.text(lines);
  if (launched_) return;  // lcores still running: nothing to compare
  // Where mbufs legitimately sit while serving: in RX descriptors (most
  // drivers fill every RX descriptor at queue setup or start), in TX
  // descriptors not yet cleaned, in lcore caches (counted as free by
  // rte_mempool_in_use_count). Only after the ports are stopped and closed
  // (queues released) must every mbuf be back, so the count is compared
  // with the one taken when the pool was created, before any queue held
  // one. The lcores have stopped, so none is in a burst. A difference is a
  // leak, by stunbox or by the driver.
  close_ports();
  for (const auto& [socket, pool] : pools_) {
    const unsigned in_use = rte_mempool_in_use_count(pool);
    const unsigned baseline = pool_baseline_[socket];
    report.info(std::string("mempool ") + pool->name + ": " + std::to_string(in_use) + " in use after stop (baseline " +
                std::to_string(baseline) + ")" + (in_use == baseline ? "" : ": mbufs not returned"));
  }
}

void Backend::close_ports() {
  // The exception TAPs first: their mbufs (ring, descriptors) go back before the leak check.
  for (auto& x : exceptions_)
    if (x) close_exception(*x);
  exceptions_.clear();
  for (size_t i = 0; i < configured_.size() && i < port_ids_.size(); ++i) {
    if (i < cfg_.dpdk.ports.size() && cfg_.dpdk.ports[i].steering == config::Steering::flow)
      flush_flow_rules(port_ids_[i]);  // before stop: the kernel gets the port's traffic back
    if (i < started_.size() && started_[i]) rte_eth_dev_stop(port_ids_[i]);
    rte_eth_dev_close(port_ids_[i]);
  }
  configured_.clear();
  started_.clear();
}

void Backend::teardown() {
  stop();
  close_ports();
  for (rte_ring* r : control_rings_) rte_ring_free(r);  // emptied by stop()
  control_rings_.clear();
  for (LcoreWork& w : work_) w.control = nullptr;
  // rte_malloc'd per-lcore state goes before EAL does (the destructor cleans EAL up next).
  queue_views_.clear();
  for (LcoreWork& w : work_) w.usage = nullptr;
  queues_.clear();
  usage_.clear();
  l3_policers_.clear();
  credits_.clear();
  for (LcoreWork& w : work_) w.tsc = nullptr;
  tscs_.clear();
  for (auto& [socket, pool] : pools_) rte_mempool_free(pool);
  pools_.clear();
}

}  // namespace

std::unique_ptr<backend::Backend> make_backend(const config::Config& cfg, std::vector<std::string> extra_eal) {
  return std::make_unique<Backend>(cfg, std::move(extra_eal));
}

}  // namespace stunbox::dpdk
