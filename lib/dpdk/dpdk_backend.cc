// dpdk::run: EAL, mempools, ports, lcore map, launch, the main lcore's signal/stats loop, and teardown.
#include "dpdk/dpdk_backend.h"

#include <rte_cycles.h>
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
#include <mutex>

#include "config/config.h"
#include "console/backend_view.h"
#include "console/control_server.h"
#include "console/metrics.h"
#include "core/report.h"
#include "core/runtime.h"
#include "dpdk/eal.h"
#include "dpdk/lcore_map.h"
#include "dpdk/lcore_loop.h"
#include "dpdk/port.h"
#include "dpdk/telemetry.h"

namespace stunbox::dpdk {
namespace {

// mbufs beyond the descriptor rings and lcore caches: announcements,
// replies in flight between rx and tx, driver slack.
constexpr unsigned kMempoolMargin = 1024;

// How often the main lcore reads every port's link (rte_eth_link_get_nowait:
// a register read on a NIC, one ioctl on net_tap). Off the data path.
constexpr auto kLinkCheckInterval = std::chrono::milliseconds(250);

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

void warn(const std::string& w) { std::fprintf(stderr, "stunbox: warning: %s\n", w.c_str()); }

// Everything run() sets up; destroyed in reverse on every exit path. Also
// the read-only view the console and metrics use (from their own threads).
class Backend final : public console::BackendView {
 public:
  Backend(const config::Config& cfg, const RunOptions& opts)
      : cfg_(cfg), opts_(opts) {
    generations_.push_back(std::make_unique<config::Config>(cfg));
    current_.store(generations_.back().get(), std::memory_order_release);
    // Points into the generation's own stun.software string.
    responders_.push_back(std::make_unique<stun::ResponderConfig>(generations_.back()->stun.responder()));
  }
  ~Backend() override { teardown(); }

  Status setup();
  Status serve();
  // After serve(): stops and closes the ports, then prints one line per
  // mempool with its in-use count against the baseline taken at creation.
  void report_pools();

  // console::BackendView
  std::string_view mode() const override { return "dpdk"; }
  size_t port_count() const override { return ports_.size(); }
  std::string port_name(size_t port) const override { return ports_.at(port).name; }
  console::PortStats port_stats(size_t port) const override;
  console::LinkState link(size_t port) const override;
  std::vector<console::MempoolView> mempools() const override;
  std::string port_info(size_t port) const override;
  std::vector<console::XStat> xstats(size_t port) const override;
  std::span<const console::QueueView> queues() const override { return queue_views_; }
  std::span<const console::WorkerInfo> workers() const override { return worker_infos_; }
  console::WorkerUsage usage(size_t worker) const override;
  const config::Config& config() const override { return *current_.load(std::memory_order_acquire); }
  std::string reload() override;
  std::vector<SourceSketchSnapshot> source_sketches() const override {
    std::vector<SourceSketchSnapshot> out;
    for (const auto& s : sources_) out.push_back(s->read());
    return out;
  }

 private:
  void teardown();
  void close_ports();
  Snapshot total() const;
  void print_summary() const;
  // Reads every port's link; report: print and count what changed (false: record the starting point).
  void watch_links(bool report);

  const config::Config& cfg_;
  std::vector<unsigned> workers_;
  std::vector<uint16_t> port_ids_;
  std::vector<PortSetup> ports_;
  std::vector<bool> configured_;
  std::vector<bool> started_;  // rte_eth_dev_start succeeded: stop only these (ethdev logs a stop of a stopped port)
  std::map<int, rte_mempool*> pools_;  // NUMA socket -> pool
  std::map<int, unsigned> pool_sizes_;
  std::map<int, unsigned> pool_baseline_;  // in-use count right after creation (no queue holds any yet)
  std::unique_ptr<LinkWatch[]> links_;     // one per port in ports_
  std::vector<std::unique_ptr<QueueContext>> queues_;
  std::vector<LcoreWork> work_;
  std::vector<std::unique_ptr<SourceSketch>> sources_;  // one per lcore in work_; the lcore: wo, console: read()
  std::atomic<bool> stop_{false};
  bool launched_ = false;
  // The view's fixed tables (built at the end of setup) and lcore accounting.
  std::vector<console::QueueView> queue_views_;
  std::vector<console::WorkerInfo> worker_infos_;
  std::unique_ptr<LcoreUsage[]> usage_;
  double ns_per_cycle_ = 0;
  RunOptions opts_;
  std::mutex reload_mutex_;
  std::vector<std::unique_ptr<config::Config>> generations_;  // kept: readers may hold older ones
  // The lcores' STUN options, one per reload that applied them; kept until
  // exit because an lcore may still be in a burst with an older one.
  std::vector<std::unique_ptr<stun::ResponderConfig>> responders_;
  std::atomic<const config::Config*> current_{nullptr};
  // Abuse controls: one policy per generation (kept: an lcore may hold an
  // older one for a burst), the buckets shared by every lcore (sized once,
  // kept across reloads), one ARP/NDP and echo policer per lcore.
  std::vector<std::unique_ptr<limits::Policy>> policies_;
  std::unique_ptr<limits::Limiter> limiter_;
  std::vector<std::unique_ptr<limits::L3Policer>> l3_policers_;
};

console::PortStats Backend::port_stats(size_t port) const {
  rte_eth_stats st{};
  console::PortStats p;
  if (rte_eth_stats_get(ports_.at(port).port_id, &st) != 0) return p;
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

console::LinkState Backend::link(size_t port) const {
  // The watcher's view (at most kLinkCheckInterval old), so the gauge, the
  // change count and the printed lines always agree.
  const LinkWatch& w = links_[ports_.at(port).index];
  console::LinkState out;
  out.up = w.up.load(std::memory_order_relaxed);
  out.speed_mbps = w.speed_mbps.load(std::memory_order_relaxed);
  out.full_duplex = w.full_duplex.load(std::memory_order_relaxed);
  out.changes = w.changes.load(std::memory_order_relaxed);
  return out;
}

std::vector<console::MempoolView> Backend::mempools() const {
  std::vector<console::MempoolView> out;
  for (const auto& [socket, pool] : pools_) out.push_back({pool->name, pool->size, rte_mempool_in_use_count(pool)});
  return out;
}

void Backend::watch_links(bool report) {
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
    if (!report) continue;  // the starting point: neither a change nor news
    // Only up <-> down counts; a new speed while up (renegotiation) is printed, not counted.
    if (up != was_up) w.changes.store(w.changes.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (changed) {
      // The lcores keep polling through a link flap: frames simply stop and
      // start again, so nothing needs restarting here.
      std::printf("stunbox: port %u %s\n", p.index, link_text(l).c_str());
      std::fflush(stdout);
    }
  }
}

std::string Backend::port_info(size_t port) const {
  const PortSetup& p = ports_.at(port);
  const config::PortSection& section = cfg_.dpdk.ports.at(p.index);
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
  o += std::string("TX IPv4/UDP checksum: ") + (p.tx_csum ? "hardware" : "software") + "\n";
  o += std::string("TX fast free: ") + (p.fast_free ? "on" : "off") + "\n";
  o += "Multicast: " + (p.multicast.empty() ? std::string("-") : p.multicast) + "\n";
  o += "VLAN: " + (section.vlan ? std::to_string(*section.vlan) : std::string("untagged")) + "\n";
  std::string addrs;
  for (const config::IpPrefix& a : section.addresses) {
    if (!addrs.empty()) addrs += ' ';
    addrs += config::to_string(a);
  }
  o += "Addresses: " + (addrs.empty() ? std::string("-") : addrs) + "\n";
  o += "Link changes: " + std::to_string(links_[p.index].changes.load(std::memory_order_relaxed)) +
       " (up/down transitions since start)\n";
  return o;
}

std::vector<console::XStat> Backend::xstats(size_t port) const {
  const uint16_t id = ports_.at(port).port_id;
  std::vector<console::XStat> out;
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
    out.push_back(console::XStat{names[idx].name, values[static_cast<size_t>(i)].value});
  }
  return out;
}

console::WorkerUsage Backend::usage(size_t worker) const {
  const LcoreUsage& u = usage_[worker];
  return console::WorkerUsage{
      static_cast<uint64_t>(static_cast<double>(u.busy_cycles.load(std::memory_order_relaxed)) * ns_per_cycle_),
      static_cast<uint64_t>(static_cast<double>(u.total_cycles.load(std::memory_order_relaxed)) * ns_per_cycle_),
      u.loops.load(std::memory_order_relaxed)};
}

std::string Backend::reload() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  if (opts_.config_path.empty()) return "reload: no config file to re-read; nothing changed";
  auto next = config::load_file(opts_.config_path, opts_.overrides);
  if (!next) return "reload failed, running config kept: " + next.message();
  const config::Config& now = config();
  // Live: stats.period and the STUN options the lcores load once per burst
  // (fingerprint, classic, software). Everything else is fixed at setup
  // (stun.ports is in each port's identity, read per packet).
  std::string restart;
  auto note = [](std::string& list, const char* key) {
    if (!list.empty()) list += ", ";
    list += key;
  };
  if (now.mode != next->mode) note(restart, "mode");
  if (now.stun.ports != next->stun.ports) note(restart, "stun.ports");
  if (!(now.dpdk == next->dpdk)) note(restart, "dpdk");
  if (!(now.socket == next->socket)) note(restart, "socket");
  if (!(now.control == next->control)) note(restart, "control");
  config::StatsSection a = now.stats, b = next->stats;
  a.period = b.period = 0;
  if (!(a == b)) note(restart, "stats (other than period)");
  std::string changed;
  if (now.stun.fingerprint != next->stun.fingerprint) note(changed, "stun.fingerprint");
  if (now.stun.classic != next->stun.classic) note(changed, "stun.classic");
  if (now.stun.software != next->stun.software) note(changed, "stun.software");
  if (now.stats.period != next->stats.period) note(changed, "stats.period");
  if (now.limits.rate.table_size != next->limits.rate.table_size) note(restart, "limits.rate.table_size");
  {
    config::LimitsSection a2 = now.limits, b2 = next->limits;
    b2.rate.table_size = a2.rate.table_size;
    if (!(a2 == b2)) note(changed, "limits");
  }

  auto live = std::make_unique<config::Config>(now);
  live->stats.period = next->stats.period;
  live->stun.fingerprint = next->stun.fingerprint;
  live->stun.classic = next->stun.classic;
  live->stun.software = next->stun.software;
  const unsigned table_size = live->limits.rate.table_size;
  live->limits = next->limits;
  live->limits.rate.table_size = table_size;  // the buckets stay; resizing needs a restart
  generations_.push_back(std::move(live));
  const config::Config& gen = *generations_.back();
  responders_.push_back(std::make_unique<stun::ResponderConfig>(gen.stun.responder()));
  // Each lcore picks the new options up at its next burst; nothing is lost.
  policies_.push_back(std::make_unique<limits::Policy>(gen.limits));
  for (const auto& q : queues_) {
    q->stun.store(responders_.back().get(), std::memory_order_release);
    q->limits.store(policies_.back().get(), std::memory_order_release);
  }
  current_.store(&gen, std::memory_order_release);
  std::string msg = "reloaded " + opts_.config_path + ": stun options and stats.period applied";
  msg += changed.empty() ? " (no change)" : " (changed: " + changed + ")";
  if (!restart.empty()) msg += "; changed but NOT applied (need a restart): " + restart;
  return msg;
}

Status Backend::setup() {
  const config::DpdkSection& d = cfg_.dpdk;
  unsigned l;
  RTE_LCORE_FOREACH_WORKER(l) { workers_.push_back(l); }
  if (workers_.empty()) {
    return Error{"need at least one worker lcore besides the main lcore: give EAL -l 0-1 or more"};
  }
  // EAL, hugepages and the device need their privileges for the whole run.
  if (!cfg_.socket.user.empty()) warn("socket.user is ignored in dpdk mode (stunbox keeps its privileges)");

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
    auto port = configure_port(port_ids_[i], i, d.ports[i], d.rss, cfg_.stun.ports,
                               static_cast<uint16_t>(plan->queues[i]), pools_[port_socket[i]]);
    if (!port) return port.error();
    port->socket = port_socket[i];
    Status st = start_port(*port, d.link_wait_ms);
    started_.back() = port->started;
    for (const std::string& w : port->warnings) warn(w);
    port->warnings.clear();
    if (!st) return st;
    ports_.push_back(std::move(*port));
  }
  // The link watcher's starting point: what start_port saw (not a change).
  links_ = std::make_unique<LinkWatch[]>(ports_.size());
  watch_links(false);

  // Queue contexts and the work of each lcore.
  policies_.push_back(std::make_unique<limits::Policy>(cfg_.limits));
  limiter_ = std::make_unique<limits::Limiter>(cfg_.limits.rate.table_size);
  for (const LcorePlan& lp : plan->lcores) {
    LcoreWork w;
    w.lcore = lp.lcore;
    w.idle = d.idle;
    w.stop = &stop_;
    // One source-prefix sketch per lcore ("show top sources"): /32 and /64.
    auto sketch = std::make_unique<SourceSketch>();
    w.sources = sketch.get();
    auto l3 = std::make_unique<limits::L3Policer>();
    for (const config::QueueRef& ref : lp.queues) {
      const PortSetup& p = ports_[ref.port];
      auto q = std::make_unique<QueueContext>();
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
      q->poll = select_poll(p.rx_csum, p.tx_csum);
      w.queues.push_back(q.get());
      queues_.push_back(std::move(q));
    }
    if (!w.queues.empty()) {
      work_.push_back(std::move(w));
      sources_.push_back(std::move(sketch));
      l3_policers_.push_back(std::move(l3));
    }
  }

  for (const PortSetup& p : ports_) announce(p, pools_[p.socket]);

  // The console's view: fixed tables and one usage block per lcore.
  usage_ = std::make_unique<LcoreUsage[]>(work_.size());
  ns_per_cycle_ = 1e9 / static_cast<double>(rte_get_tsc_hz());
  for (size_t i = 0; i < work_.size(); ++i) {
    work_[i].usage = &usage_[i];
    console::WorkerInfo info;
    info.id = work_[i].lcore;
    for (const QueueContext* q : work_[i].queues) {
      if (!info.queues.empty()) info.queues += ' ';
      info.queues += std::to_string(q->port_index) + ":" + std::to_string(q->queue_id);
    }
    worker_infos_.push_back(std::move(info));
  }
  for (const auto& q : queues_) queue_views_.push_back(console::QueueView{q->port_index, q->queue_id, q->lcore, &q->counters});
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
  // /metrics, health monitor, systemd notify, telemetry and capture: up
  // before any lcore runs, so a bad stats.metrics_listen stops nothing.
  auto ops = console::Operations::start(*this);
  if (!ops) return ops.error();
  const TelemetryScope telemetry(*this, &(*ops)->health());
  const CaptureScope capture;
  if (!capture.status()) {
    std::printf("stunbox: warning: live capture (dpdk-dumpcap) unavailable: %s\n", capture.status().message().c_str());
  }

  for (LcoreWork& w : work_) {
    const int rc = rte_eal_remote_launch(lcore_main, &w, w.lcore);
    if (rc != 0) {
      stop_.store(true, std::memory_order_release);
      rte_eal_mp_wait_lcore();
      return Error{"cannot launch lcore " + std::to_string(w.lcore) + ": " + rte_strerror(-rc)};
    }
    launched_ = true;
  }
  // The console: control socket, --interactive terminal, periodic stats block; up before the ready line.
  console::ControlServer control(*this);
  if (Status st = control.start(console::ControlOptions{cfg_.control.socket, opts_.interactive}); !st) {
    std::printf("stunbox: warning: %s; running without a control socket\n", st.message().c_str());
    std::fflush(stdout);
    [[maybe_unused]] Status again = control.start(console::ControlOptions{"", opts_.interactive});
  }
  if (const console::MetricsServer* m = (*ops)->metrics()) std::printf("stunbox: metrics on %s\n", m->url().c_str());
  print_summary();
  control.greet();  // the interactive prompt, after the ready line
  auto count = [](size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
  (*ops)->ready("dpdk mode, " + count(ports_.size(), "port") + ", " + count(work_.size(), "lcore"));

  using Clock = std::chrono::steady_clock;
  const unsigned idle_ms = cfg_.dpdk.exit_after_idle_ms;
  uint64_t last_rx = total().get(Counter::rx_packets);
  auto last_rx_change = Clock::now();
  auto next_link_check = Clock::now() + kLinkCheckInterval;
  for (;;) {
    const Signal sig = wait_signal(100);
    if (sig == Signal::stop) break;
    if (sig == Signal::reload) {
      (*ops)->reloading();
      std::printf("stunbox: %s\n", reload().c_str());
      std::fflush(stdout);
      (*ops)->reloaded();
    }
    const auto now = Clock::now();
    if (now >= next_link_check) {
      watch_links(true);
      next_link_check = now + kLinkCheckInterval;
    }
    const Snapshot snap = total();
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

  (*ops)->stopping();  // STOPPING=1; /metrics and the health monitor stop reading
  control.stop();  // before the lcores stop and the ports close: it reads both
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

void Backend::close_ports() {
  for (size_t i = 0; i < configured_.size() && i < port_ids_.size(); ++i) {
    if (i < started_.size() && started_[i]) rte_eth_dev_stop(port_ids_[i]);
    rte_eth_dev_close(port_ids_[i]);
  }
  configured_.clear();
  started_.clear();
}

void Backend::report_pools() {
  if (launched_) return;  // lcores still running: nothing to compare
  // Where mbufs legitimately sit while serving: in RX descriptors (most
  // drivers fill every RX descriptor at queue setup or start), in TX
  // descriptors not yet cleaned, in lcore caches (counted as free by
  // rte_mempool_in_use_count). Only after the ports are stopped and closed
  // (queues released) must every mbuf be back, so the count is compared
  // with the one taken when the pool was created, before any queue held
  // one. The lcores have stopped (serve waited for them), so none is in a
  // burst. A difference is a leak, by stunbox or by the driver.
  close_ports();
  for (const auto& [socket, pool] : pools_) {
    const unsigned in_use = rte_mempool_in_use_count(pool);
    const unsigned baseline = pool_baseline_[socket];
    std::printf("stunbox: mempool %s: %u in use after stop (baseline %u)%s\n", pool->name, in_use, baseline,
                in_use == baseline ? "" : ": mbufs not returned");
  }
  std::fflush(stdout);
}

void Backend::teardown() {
  if (launched_) {
    stop_.store(true, std::memory_order_release);
    rte_eal_mp_wait_lcore();
    launched_ = false;
  }
  close_ports();
  for (auto& [socket, pool] : pools_) rte_mempool_free(pool);
  pools_.clear();
}

}  // namespace

Status run(const config::Config& cfg, const std::vector<std::string>& extra_eal, const RunOptions& opts) {
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
    Backend backend(cfg, opts);
    st = backend.setup();
    if (st) st = backend.serve();
    if (st) backend.report_pools();
  }  // ports stopped and closed, pools freed
  rte_eal_cleanup();
  return st;
}

}  // namespace stunbox::dpdk
