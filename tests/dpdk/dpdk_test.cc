// In-process EAL tests of the DPDK backend: RSS programming (net_null), queue affinity, drops, TX full and leaks (net_ring).
#include <gtest/gtest.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "dpdk/eal.h"
#include "dpdk/lcore_loop.h"
#include "dpdk/lcore_map.h"
#include "dpdk/port.h"
#include "packet.h"
#include "rows.h"
#include "test_frames.h"

namespace stunbox::dpdk {
namespace {

rte_mempool* g_pool = nullptr;
constexpr uint16_t kStunPort = 3478;

config::IpPrefix prefix(bool v6, std::initializer_list<uint8_t> bytes) {
  config::IpPrefix p;
  p.ip.v6 = v6;
  std::copy(bytes.begin(), bytes.end(), p.ip.bytes.begin());
  p.length = v6 ? 64 : 24;
  return p;
}

const IpAddress kServer4 = pkt::ip("198.18.0.2");
const IpAddress kClient4 = pkt::ip("198.18.0.1");
const IpAddress kServer6 = pkt::ip("2001:2::2");
const IpAddress kClient6 = pkt::ip("2001:2::1");

config::PortSection lab_port(const std::string& device) {
  config::PortSection s;
  s.device = device;
  s.rx_desc = 256;
  s.tx_desc = 256;
  s.addresses = {prefix(false, {198, 18, 0, 2}), prefix(true, {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2})};
  return s;
}

// A request flow from the lab client to the lab port's address (IPv4 or IPv6).
test::Flow lab_flow(bool v6, uint16_t sport, uint16_t dport = kStunPort) {
  return v6 ? test::Flow{{kClient6, sport}, {kServer6, dport}} : test::Flow{{kClient4, sport}, {kServer4, dport}};
}

// A net_ring port with its own rings; stopped, closed and drained on destruction.
struct RingPort {
  std::string name;
  uint16_t port_id = 0;
  std::vector<rte_ring*> rx, tx;

  RingPort(const std::string& n, unsigned queues, unsigned tx_size = 1024) : name(n) {
    for (unsigned q = 0; q < queues; ++q) {
      rx.push_back(rte_ring_create((n + "_rx" + std::to_string(q)).c_str(), 1024, SOCKET_ID_ANY,
                                   RING_F_SP_ENQ | RING_F_SC_DEQ));
      tx.push_back(rte_ring_create((n + "_tx" + std::to_string(q)).c_str(), tx_size, SOCKET_ID_ANY,
                                   RING_F_SP_ENQ | RING_F_SC_DEQ));
    }
    // The ethdev is named "net_ring_" + n.
    const int id = rte_eth_from_rings(n.c_str(), rx.data(), queues, tx.data(), queues, SOCKET_ID_ANY);
    if (id >= 0) port_id = static_cast<uint16_t>(id);
    ok = id >= 0;
  }
  ~RingPort() {
    if (ok) {
      rte_eth_dev_stop(port_id);
      rte_eth_dev_close(port_id);
      // Closing leaves the vdev on the bus; removing it frees the name for the next run (--gtest_repeat).
      rte_eal_hotplug_remove("vdev", ("net_ring_" + name).c_str());
    }
    for (auto* r : rx) drain(r), rte_ring_free(r);
    for (auto* r : tx) drain(r), rte_ring_free(r);
  }
  static void drain(rte_ring* r) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }
  bool ok = false;
};

// Appends frame to the (empty) mbuf m; on failure frees m. Null in, null out.
rte_mbuf* with_frame(rte_mbuf* m, const std::vector<uint8_t>& frame) {
  if (m == nullptr) return nullptr;
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(p, frame.data(), frame.size());
  return m;
}

rte_mbuf* mbuf_of(const std::vector<uint8_t>& frame) { return with_frame(rte_pktmbuf_alloc(g_pool), frame); }

struct MbufFree {
  void operator()(rte_mbuf* m) const { rte_pktmbuf_free(m); }
};
using Mbuf = std::unique_ptr<rte_mbuf, MbufFree>;

// What a ring-port test varies; everything else is the lab port with defaults.
struct RingOptions {
  unsigned queues = 1;
  unsigned tx_size = 1024;                      // TX ring size: it holds one less
  uint16_t burst = 32;                          // QueueContext::burst
  const stun::ResponderConfig* stun = nullptr;  // nullptr = the fixture's defaults
};

// Every EAL test checks that the pool's in-use count returns to where it
// was, after the fixture's ring port (if any) is closed and its rings drained.
// Ring-port tests get the port, its queue contexts and send/poll/collect
// steps from here and state only their frames and expectations.
// Whatever assertion fails, a launched lcore stops before the work, stop flag
// and queue contexts it polls go away (waiting twice is harmless).
struct LcoreJoiner {
  std::atomic<bool>& stop;
  unsigned lcore;
  ~LcoreJoiner() {
    stop.store(true);
    rte_eal_wait_lcore(lcore);
  }
};

class EalTest : public ::testing::Test {
 protected:
  void SetUp() override { baseline_ = rte_mempool_in_use_count(g_pool); }
  void TearDown() override {
    qs_.clear();
    port_.reset();
    ring_.reset();  // stops and closes the port, frees what the test left on its rings
    EXPECT_EQ(rte_mempool_in_use_count(g_pool), baseline_) << "mbuf leak: in-use count not back to baseline";
  }

  // The net_null0 vdev main() creates (it has RSS and a RETA) and its info.
  // Fatal failures: call under ASSERT_NO_FATAL_FAILURE.
  void find_null_port() {
    null_section_.device = "net_null0";
    auto id = find_port(null_section_, 0);
    ASSERT_TRUE(id) << id.message();
    null_id_ = *id;
    ASSERT_EQ(rte_eth_dev_info_get(null_id_, &null_info_), 0);
  }

  // A net_ring port "net_ring_<name>" with its rings, not configured.
  void make_ring(const std::string& name, unsigned queues, unsigned tx_size = 1024) {
    ring_ = std::make_unique<RingPort>(name, queues, tx_size);
    ASSERT_TRUE(ring_->ok);
  }

  // make_ring, then configured as the lab port (index 0, no RSS section),
  // started, and one QueueContext per queue.
  void open_ring(const std::string& name, const RingOptions& o = {}) {
    ASSERT_NO_FATAL_FAILURE(make_ring(name, o.queues, o.tx_size));
    auto port = configure_port(ring_->port_id, 0, lab_port("net_ring_" + name), {}, {kStunPort},
                               static_cast<uint16_t>(o.queues), g_pool);
    ASSERT_TRUE(port) << port.message();
    port_.emplace(std::move(port).value());
    const Status started = start_port(*port_, 100);
    ASSERT_TRUE(started) << started.message();
    for (uint16_t q = 0; q < port_->queues; ++q) {
      auto c = std::make_unique<QueueContext>();
      c->port_id = port_->port_id;
      c->queue_id = q;
      c->burst = o.burst;
      c->port = &port_->identity;
      c->stun = o.stun != nullptr ? o.stun : &stun_;
      c->poll = select_poll(port_->rx_csum, port_->tx_csum);
      qs_.push_back(std::move(c));
    }
  }

  // Abuse controls on queue 0 as setup/reload install them, with a
  // 1024-entry limiter owned by the fixture.
  void use_limits(const limits::Policy& policy, limits::L3Policer* l3 = nullptr) {
    limiter_.emplace(1024);
    queue().limiter = &*limiter_;
    queue().l3 = l3;
    queue().limits.store(&policy, std::memory_order_release);
  }

  QueueContext& queue(unsigned q = 0) { return *qs_[q]; }
  uint64_t get(Counter c, unsigned q = 0) const { return qs_[q]->counters.get(slot(c)); }
  uint64_t get(DropReason r, unsigned q = 0) const { return qs_[q]->counters.get(slot(r)); }
  uint16_t poll(unsigned q = 0) { return poll_queue(*qs_[q]); }

  // A Binding request for flow f, addressed to the port's MAC.
  std::vector<uint8_t> request(const test::Flow& f, uint32_t id) const {
    return test::binding_request(port_->identity.mac, f, id);
  }
  // Puts a frame on RX ring q, as the wire would.
  ::testing::AssertionResult send(rte_mbuf* m, unsigned q = 0) {
    if (m == nullptr) return ::testing::AssertionFailure() << "no mbuf";
    if (rte_ring_enqueue(ring_->rx[q], m) != 0) {
      rte_pktmbuf_free(m);
      return ::testing::AssertionFailure() << "RX ring " << q << " full";
    }
    return ::testing::AssertionSuccess();
  }
  ::testing::AssertionResult send(const std::vector<uint8_t>& frame, unsigned q = 0) { return send(mbuf_of(frame), q); }
  ::testing::AssertionResult send_request(const test::Flow& f, uint32_t id, unsigned q = 0) {
    return send(request(f, id), q);
  }

  // The next frame sent on TX ring q, or null.
  Mbuf take_reply(unsigned q = 0) {
    void* obj = nullptr;
    if (rte_ring_dequeue(ring_->tx[q], &obj) != 0) return nullptr;
    return Mbuf(static_cast<rte_mbuf*>(obj));
  }
  // Frees everything sent on TX ring q; returns how many frames that was.
  size_t drain_tx(unsigned q = 0) {
    size_t n = 0;
    while (take_reply(q)) ++n;
    return n;
  }
  // test::check_binding_success on a reply mbuf, for this port.
  std::string check_reply(const rte_mbuf* m, const test::Flow& f, uint32_t id) const {
    return test::check_binding_success(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, port_->identity.mac, f, id);
  }

  int baseline_ = 0;
  config::PortSection null_section_;
  uint16_t null_id_ = 0;
  rte_eth_dev_info null_info_{};
  std::unique_ptr<RingPort> ring_;
  std::optional<PortSetup> port_;
  const stun::ResponderConfig stun_;
  std::optional<limits::Limiter> limiter_;
  std::vector<std::unique_ptr<QueueContext>> qs_;
};

// The hash types and key (zero-padded to 64 bytes) a port reports as programmed.
::testing::AssertionResult read_rss(uint16_t port_id, uint64_t& types, std::vector<uint8_t>& key) {
  key.assign(64, 0);
  rte_eth_rss_conf conf{};
  conf.rss_key = key.data();
  conf.rss_key_len = static_cast<uint8_t>(key.size());
  const int rc = rte_eth_dev_rss_hash_conf_get(port_id, &conf);
  if (rc != 0) return ::testing::AssertionFailure() << "rte_eth_dev_rss_hash_conf_get: " << rc;
  types = conf.rss_hf;
  return ::testing::AssertionSuccess();
}

// ---- planning and arguments: no EAL state involved ----

TEST(LcorePlan, AutoSpreadsPortsAndQueuesRoundRobin) {
  config::DpdkSection d;
  d.ports.resize(2);
  auto all = [](unsigned) { return true; };
  // Two single-queue-capable ports, two workers: one port each.
  auto p = plan_lcores(d, {1, 2}, {1, 1}, 0, all);
  ASSERT_TRUE(p) << p.message();
  ASSERT_EQ(p->lcores.size(), 2u);
  EXPECT_EQ(p->lcores[0].lcore, 1u);
  EXPECT_EQ(p->lcores[0].queues[0].port, 0u);
  EXPECT_EQ(p->lcores[1].lcore, 2u);
  EXPECT_EQ(p->lcores[1].queues[0].port, 1u);
  // Multi-queue devices: queues = workers, the same queue index on both ports per lcore.
  p = plan_lcores(d, {1, 2}, {8, 8}, 0, all);
  ASSERT_TRUE(p) << p.message();
  EXPECT_EQ(p->queues, (std::vector<unsigned>{2, 2}));
  ASSERT_EQ(p->lcores[0].queues.size(), 2u);
  EXPECT_EQ(p->lcores[0].queues[0].queue, 0u);
  EXPECT_EQ(p->lcores[0].queues[1].port, 1u);
  EXPECT_EQ(p->lcores[0].queues[1].queue, 0u);
  EXPECT_EQ(p->lcores[1].queues[0].queue, 1u);
}

// A described two-socket box: lcores 1-2 on socket 0, 3-4 on socket 1; port 0
// on socket 1, port 1 on socket 0, port 2 a vdev (socket unknown).
TEST(LcorePlan, AutoKeepsQueuesOnTheirPortsSocket) {
  config::DpdkSection d;
  d.ports.resize(3);
  for (auto& p : d.ports) p.device = "dev";
  Topology topo;
  topo.port_socket = {1, 0, -1};
  topo.lcore_socket = [](unsigned lc) { return lc <= 2 ? 0 : 1; };
  auto all = [](unsigned) { return true; };
  auto p = plan_lcores(d, {1, 2, 3, 4}, {8, 8, 8}, 0, all, topo);
  ASSERT_TRUE(p) << p.message();
  EXPECT_EQ(p->queues, (std::vector<unsigned>{2, 2, 4})) << "auto: one queue per worker of the port's socket";
  std::map<unsigned, std::vector<std::pair<unsigned, unsigned>>> by_lcore;
  for (const LcorePlan& lp : p->lcores)
    for (const config::QueueRef& r : lp.queues) by_lcore[lp.lcore].push_back({r.port, r.queue});
  for (const auto& [lc, qs] : by_lcore) {
    for (const auto& [port, queue] : qs) {
      if (port == 0) {
        EXPECT_GE(lc, 3u) << "port 0 (socket 1) queue " << queue << " on lcore " << lc;
      }
      if (port == 1) {
        EXPECT_LE(lc, 2u) << "port 1 (socket 0) queue " << queue << " on lcore " << lc;
      }
    }
  }
  EXPECT_TRUE(p->warnings.empty());

  // No worker on port 0's socket: served from socket 0, and said so by key.
  auto one_socket = plan_lcores(d, {1, 2}, {8, 8, 8}, 0, all, topo);
  ASSERT_TRUE(one_socket) << one_socket.message();
  ASSERT_EQ(one_socket->warnings.size(), 1u);
  EXPECT_EQ(one_socket->warnings[0].rfind("dpdk.lcores auto: no worker lcore on NUMA socket 1 of dpdk.ports[0]", 0), 0u)
      << one_socket->warnings[0];
}

TEST(LcorePlan, ExplicitMapAcrossSocketsIsWarnedAboutByKey) {
  config::DpdkSection d;
  d.ports.resize(1);
  d.ports[0].device = "dev";
  d.ports[0].queues = 2;
  d.lcores_auto = false;
  d.lcores = {{1, {{0, 0}}}, {3, {{0, 1}}}};
  Topology topo;
  topo.port_socket = {0};
  topo.lcore_socket = [](unsigned lc) { return lc <= 2 ? 0 : 1; };
  auto p = plan_lcores(d, {1, 2, 3, 4}, {8}, 0, [](unsigned) { return true; }, topo);
  ASSERT_TRUE(p) << p.message();
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_EQ(p->warnings[0],
            "dpdk.lcores: lcore 3 (NUMA socket 1) serves port 0 queue 1 on socket 0: every packet crosses the "
            "inter-socket link");
}

TEST(LcorePlan, ErrorsAreOneLine) {
  config::DpdkSection d;
  d.ports.resize(1);
  auto all = [](unsigned) { return true; };
  EXPECT_EQ(plan_lcores(d, {}, {4}, 0, all).message(),
            "need at least one worker lcore besides the main lcore: give EAL -l 0-1 or more");
  d.ports[0].queues = 9;
  d.ports[0].device = "net_null0";
  EXPECT_EQ(plan_lcores(d, {1}, {8}, 0, all).message(),
            "dpdk.ports[0].queues 9: device \"net_null0\" supports at most 8 queue pairs");
  d.ports[0].queues = 0;
  d.lcores_auto = false;
  d.lcores = {{5, {{0, 0}}}};
  EXPECT_EQ(plan_lcores(d, {1}, {8}, 0, [](unsigned l) { return l < 2; }).message(),
            "dpdk.lcores: lcore 5 is not enabled in EAL (-l/--lcores)");
  d.lcores = {{1, {{0, 1}}}};
  EXPECT_EQ(plan_lcores(d, {1}, {8}, 0, all).message(), "dpdk.lcores: port 0 queue 0 is served by no lcore");
  d.lcores = {{1, {{0, 0}}}, {2, {{0, 0}}}};
  EXPECT_NE(plan_lcores(d, {1, 2}, {8}, 0, all).message().find("assigned twice"), std::string::npos);
  d.lcores = {{1, {{0, 0}, {0, 1}}}, {2, {{0, 2}}}};
  auto ok = plan_lcores(d, {1, 2}, {8}, 0, all);
  ASSERT_TRUE(ok) << ok.message();
  EXPECT_EQ(ok->queues[0], 3u);
}

// dpdk.ports[i].tx_checksum against the drivers' TX path selection in DPDK 22.11 (docs/deployment.md table).
TEST(TxChecksum, AutoIsSoftwareWhereAnOffloadCostsTheVectorPath) {
  using config::TxChecksum;
  struct Row {
    const char* driver;
    bool offered, vector_offload, hw, fast_free;
  };
  const Row rows[] = {
      {"net_i40e", true, true, false, true},      // i40e_set_tx_function_flag: offloads within fast free only
      {"net_ixgbe", true, true, false, false},    // ixgbe_set_tx_function: txq->offloads == 0
      {"net_ixgbe_vf", true, true, false, false},
      {"net_ice", true, true, true, true},        // AVX2/AVX-512 TX takes the checksum offload
      {"net_ice", true, false, false, true},      // SSE TX does not
      {"mlx5_pci", true, false, true, true},      // unaffected
      {"net_tap", true, false, true, true},
      {"net_ring", false, false, false, true},    // nothing offered
  };
  for (const Row& r : rows) {
    const TxChecksumChoice c = choose_tx_checksum(TxChecksum::automatic, r.driver, r.offered, r.vector_offload);
    EXPECT_EQ(c.hw, r.hw) << r.driver << " vector_offload " << r.vector_offload << ": " << c.why;
    EXPECT_EQ(c.fast_free, r.fast_free) << r.driver;
    EXPECT_TRUE(c.error.empty()) << r.driver;
    EXPECT_EQ(c.why.rfind("auto: ", 0), 0u) << c.why;
  }
}

TEST(TxChecksum, ExplicitChoicesAndHardwareThatIsNotThere) {
  using config::TxChecksum;
  auto sw = choose_tx_checksum(TxChecksum::sw, "mlx5_pci", true, true);
  EXPECT_FALSE(sw.hw);
  auto hw = choose_tx_checksum(TxChecksum::hw, "net_i40e", true, true);
  EXPECT_TRUE(hw.hw);
  EXPECT_NE(hw.why.find("vector TX"), std::string::npos) << hw.why;
  auto missing = choose_tx_checksum(TxChecksum::hw, "net_ring", false, true);
  EXPECT_FALSE(missing.hw);
  EXPECT_EQ(missing.error, "hw: device driver net_ring offers no IPv4/UDP TX checksum offload (use auto or sw)");
}

// stats.port_xstats drops: the device's drop counters by driver, ethdev's own for every driver.
TEST(Xstats, DropAllowListPerDriver) {
  EXPECT_TRUE(is_drop_xstat("mlx5_pci", "rx_discards_phy"));
  EXPECT_TRUE(is_drop_xstat("mlx5_pci", "rx_out_of_buffer"));
  EXPECT_TRUE(is_drop_xstat("net_i40e", "rx_dropped_packets"));
  EXPECT_TRUE(is_drop_xstat("net_ice", "rx_dropped_packets"));
  EXPECT_TRUE(is_drop_xstat("net_ixgbe", "rx_total_missed_packets"));
  for (const char* d : {"net_null", "net_tap", "mlx5_pci", "net_i40e"}) {
    EXPECT_TRUE(is_drop_xstat(d, "rx_missed_errors")) << d;
    EXPECT_TRUE(is_drop_xstat(d, "rx_mbuf_allocation_errors")) << d;
    EXPECT_FALSE(is_drop_xstat(d, "rx_good_packets")) << d;
    EXPECT_FALSE(is_drop_xstat(d, "rx_q0_packets")) << d;
  }
  EXPECT_FALSE(is_drop_xstat("net_tap", "rx_discards_phy")) << "another driver's name";
  EXPECT_FALSE(is_drop_xstat("mlx5_pci", "rx_vport_unicast_packets"));
}

TEST(EalArgs, VdevsAddedPciAllowListedOnce) {
  config::DpdkSection d;
  d.eal = {"--no-huge", "-m", "256"};
  config::PortSection a, b, c;
  a.device = "net_af_packet0,iface=sbx-dp0,qpairs=2";
  b.device = "0000:3b:00.0";
  c.device = "net_null0";
  d.ports = {a, b, c};
  auto args = eal_arguments(d, {"--vdev", "net_null0"});
  const std::vector<std::string> want = {"--no-huge", "-m", "256", "--vdev", "net_null0", "--vdev",
                                         "net_af_packet0,iface=sbx-dp0,qpairs=2", "-a", "0000:3b:00.0"};
  EXPECT_EQ(args, want);
  d.eal.push_back("-a");
  d.eal.push_back("0000:5e:00.0");
  args = eal_arguments(d, {});
  EXPECT_EQ(std::count(args.begin(), args.end(), "-a"), 1);
  EXPECT_EQ(device_name("3b:00.0"), "0000:3b:00.0");
  EXPECT_EQ(device_name("net_pcap0,rx_pcap=a.pcap"), "net_pcap0");
  EXPECT_FALSE(is_pci_address("net_null0"));
}

TEST(EalArgs, LastMeaningfulLineSkipsTrailers) {
  EXPECT_EQ(last_meaningful_line("EAL: Detected CPU lcores: 2\nEAL: Cannot get hugepage information.\n\n"
                                 "EAL: Error - exiting with code: 1\n"),
            "EAL: Cannot get hugepage information.");
}

TEST(Rss, NamesRoundTripAndUnknownIsAnError) {
  auto bits = rss_types_from_names({"ipv4", "ipv4-udp", "ipv6", "ipv6-udp"});
  ASSERT_TRUE(bits);
  EXPECT_EQ(*bits, RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_NONFRAG_IPV6_UDP);
  EXPECT_EQ(rss_types_to_string(*bits), "ipv4 ipv4-udp ipv6 ipv6-udp");
  EXPECT_EQ(rss_types_from_names({"ipv4", "bogus"}).message(), "dpdk.rss.types: unknown hash type \"bogus\"");
}

// i40e offers neither `ipv4` nor `ipv6`: the request maps to its -other and
// -frag types (same addresses hashed) instead of silently vanishing, which
// would leave every ICMP, ICMPv6 and NDP message on queue 0.
TEST(Rss, PlainIpTypesMapToTheDevicesOwnWhereMissing) {
  const uint64_t defaults = *rss_types_from_names({"ipv4", "ipv4-udp", "ipv6", "ipv6-udp"});
  // The types DPDK 22.11's i40e reports (I40E_RSS_OFFLOAD_ALL).
  constexpr uint64_t kI40e = RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP |
                             RTE_ETH_RSS_NONFRAG_IPV4_SCTP | RTE_ETH_RSS_NONFRAG_IPV4_OTHER | RTE_ETH_RSS_FRAG_IPV6 |
                             RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_NONFRAG_IPV6_UDP |
                             RTE_ETH_RSS_NONFRAG_IPV6_SCTP | RTE_ETH_RSS_NONFRAG_IPV6_OTHER | RTE_ETH_RSS_L2_PAYLOAD;
  RssTypeChoice c = choose_rss_types(defaults, kI40e);
  std::printf("i40e, default types: %s; mapped: %s\n", rss_types_to_string(c.types).c_str(), c.mapped.c_str());
  EXPECT_EQ(rss_types_to_string(c.types), "ipv4-frag ipv4-udp ipv4-other ipv6-frag ipv6-udp ipv6-other");
  EXPECT_EQ(c.mapped, "ipv4 -> ipv4-frag ipv4-other, ipv6 -> ipv6-frag ipv6-other");
  EXPECT_EQ(c.dropped, 0u);

  // A device with the plain types (ixgbe, ice, mlx5) gets exactly what was asked.
  constexpr uint64_t kPlain = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_IPV6 |
                              RTE_ETH_RSS_NONFRAG_IPV6_UDP | RTE_ETH_RSS_NONFRAG_IPV6_OTHER;
  c = choose_rss_types(defaults, kPlain);
  EXPECT_EQ(c.types, defaults);
  EXPECT_EQ(c.mapped, "");
  EXPECT_EQ(c.dropped, 0u);

  // Only what the device has of the substitutes; nothing to map to = dropped, as any other type.
  c = choose_rss_types(defaults | RTE_ETH_RSS_ESP, RTE_ETH_RSS_NONFRAG_IPV6_OTHER | RTE_ETH_RSS_NONFRAG_IPV4_UDP);
  EXPECT_EQ(rss_types_to_string(c.types), "ipv4-udp ipv6-other");
  EXPECT_EQ(c.mapped, "ipv6 -> ipv6-other");
  EXPECT_EQ(rss_types_to_string(c.dropped), "ipv4 ipv6-udp esp");
  // Not requested: not mapped.
  c = choose_rss_types(RTE_ETH_RSS_NONFRAG_IPV4_UDP, kI40e);
  EXPECT_EQ(c.types, RTE_ETH_RSS_NONFRAG_IPV4_UDP);
  EXPECT_EQ(c.mapped, "");
}

// ---- EAL tests ----

TEST_F(EalTest, UnknownDeviceIsOneLine) {
  config::PortSection s;
  s.device = "net_nothere0,foo=1";
  EXPECT_EQ(find_port(s, 3).message(), "dpdk.ports[3].device \"net_nothere0,foo=1\": no such device (probe failed)");
}

TEST_F(EalTest, RssProgrammingOnNullPort) {
  ASSERT_NO_FATAL_FAILURE(find_null_port());
  const rte_eth_dev_info& info = null_info_;
  ASSERT_NE(info.flow_type_rss_offloads, 0u);
  ASSERT_GT(info.reta_size, 0);

  config::RssSection rss;
  rss.types = {"ipv4", "ipv4-udp", "ipv6", "ipv6-udp", "esp", "gtpu"};
  const uint64_t requested = *rss_types_from_names(rss.types);
  ASSERT_NE(requested & ~info.flow_type_rss_offloads, 0u) << "test needs a type net_null lacks";
  constexpr uint16_t kQueues = 4;
  auto port = configure_port(null_id_, 0, null_section_, rss, {kStunPort}, kQueues, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  EXPECT_TRUE(port->rss);
  EXPECT_EQ(port->rss_types, requested & info.flow_type_rss_offloads);
  EXPECT_EQ(port->rss_dropped, requested & ~info.flow_type_rss_offloads);
  bool reported = false;
  for (const auto& w : port->warnings) reported = reported || w.find("dropped: esp gtpu") != std::string::npos;
  EXPECT_TRUE(reported) << "masked types not reported";

  uint64_t types = 0;
  std::vector<uint8_t> key;
  ASSERT_TRUE(read_rss(null_id_, types, key));
  EXPECT_EQ(types, port->rss_types);
  // dpdk.rss.key auto: a random key of the device's size, and what was programmed is what the port reports.
  EXPECT_TRUE(port->rss_key_random);
  ASSERT_EQ(port->rss_key.size(), info.hash_key_size != 0 ? info.hash_key_size : 40u);
  EXPECT_EQ(std::vector<uint8_t>(key.begin(), key.begin() + port->rss_key.size()), port->rss_key);

  std::vector<rte_eth_rss_reta_entry64> reta(info.reta_size / RTE_ETH_RETA_GROUP_SIZE);
  for (auto& g : reta) g.mask = ~uint64_t{0};
  ASSERT_EQ(rte_eth_dev_rss_reta_query(null_id_, reta.data(), info.reta_size), 0);
  std::vector<unsigned> per_queue(kQueues);
  for (size_t i = 0; i < info.reta_size; ++i) {
    const uint16_t q = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
    EXPECT_EQ(q, i % kQueues) << "RETA entry " << i;
    if (q < kQueues) ++per_queue[q];
  }
  for (unsigned n : per_queue) EXPECT_EQ(n, info.reta_size / kQueues);
  rte_eth_dev_stop(null_id_);
}

// The key DPDK examples and stunbox before issue #11 used: 0x6d5a repeated.
std::vector<uint8_t> periodic_rss_key(size_t length) {
  std::vector<uint8_t> key(length);
  for (size_t i = 0; i < length; ++i) key[i] = i % 2 == 0 ? 0x6d : 0x5a;
  return key;
}

// Under a key with a 16-bit period the Toeplitz hash depends only on the XOR
// of the tuple's 16-bit words: a spoofed flood varying source address and
// port together (the XOR kept constant) lands on one queue. The random key
// of dpdk.rss.key auto, read back from the device as programmed, spreads the
// same tuples (rte_softrss, RETA as start_port programs it).
TEST_F(EalTest, RandomRssKeySpreadsTuplesCraftedForAPeriodicKey) {
  ASSERT_NO_FATAL_FAILURE(find_null_port());
  constexpr uint16_t kQueues = 4;
  const size_t reta_size = null_info_.reta_size;
  ASSERT_GT(reta_size, 0u);
  auto port = configure_port(null_id_, 0, null_section_, {}, {kStunPort}, kQueues, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  ASSERT_TRUE(port->rss && port->rss_key_random);
  uint64_t types = 0;
  std::vector<uint8_t> programmed;
  ASSERT_TRUE(read_rss(null_id_, types, programmed));
  programmed.resize(port->rss_key.size());
  EXPECT_EQ(programmed, port->rss_key);
  const std::vector<uint8_t> periodic = periodic_rss_key(programmed.size());
  EXPECT_NE(programmed, periodic);
  // The start-up summary shows the key and where it came from (show port info prints the same).
  std::string hex;
  for (uint8_t byte : programmed) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", byte);
    hex += two;
  }
  EXPECT_NE(describe(*port).find("rss key " + hex + " (" + std::to_string(programmed.size()) +
                                 " bytes, random, new at every start)"),
            std::string::npos)
      << describe(*port);

  // Source address low word w, source port 0x4000 ^ w: the XOR of the words is the same for every tuple.
  std::vector<test::Flow> flood;
  for (unsigned i = 1; i <= 64; ++i) {
    const auto w = static_cast<uint16_t>(i * 0x9e37);
    test::Flow f = lab_flow(false, static_cast<uint16_t>(0x4000 ^ w));
    f.src.ip = IpAddress::v4({198, 18, static_cast<uint8_t>(w >> 8), static_cast<uint8_t>(w)});
    flood.push_back(f);
  }
  auto spread = [&](const std::vector<uint8_t>& key) {
    std::vector<unsigned> per_queue(kQueues);
    for (const test::Flow& f : flood) ++per_queue[reta_queue(test::toeplitz(f, key) % reta_size, kQueues)];
    std::string text;
    for (unsigned n : per_queue) {
      text += ' ';
      text += std::to_string(n);
    }
    std::printf("per queue:%s\n", text.c_str());
    return per_queue;
  };
  const auto under_periodic = spread(periodic);
  EXPECT_EQ(*std::max_element(under_periodic.begin(), under_periodic.end()), flood.size())
      << "the crafted tuples should all land on one queue under the periodic key";
  const auto under_random = spread(programmed);
  EXPECT_GE(std::count_if(under_random.begin(), under_random.end(), [](unsigned n) { return n > 0; }), 2);
  // Fails only for a key whose hash bits that pick the queue ignore both words (~2^-32).
  EXPECT_LE(*std::max_element(under_random.begin(), under_random.end()), flood.size() * 3 / 4);
  rte_eth_dev_stop(null_id_);

  // A new start, a new key.
  auto again = configure_port(null_id_, 0, null_section_, {}, {kStunPort}, kQueues, g_pool);
  ASSERT_TRUE(again) << again.message();
  EXPECT_NE(again->rss_key, port->rss_key);
}

TEST_F(EalTest, RssConfiguredKeyAndWrongKeyLength) {
  ASSERT_NO_FATAL_FAILURE(find_null_port());
  config::RssSection rss;
  const unsigned key_len = null_info_.hash_key_size != 0 ? null_info_.hash_key_size : 40;
  for (unsigned i = 0; i < key_len; ++i) rss.key.push_back(static_cast<uint8_t>(i * 7 + 1));
  auto port = configure_port(null_id_, 0, null_section_, rss, {kStunPort}, 2, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  uint64_t types = 0;
  std::vector<uint8_t> key;
  ASSERT_TRUE(read_rss(null_id_, types, key));
  EXPECT_EQ(std::vector<uint8_t>(key.begin(), key.begin() + rss.key.size()), rss.key);
  EXPECT_EQ(port->rss_key, rss.key);
  EXPECT_FALSE(port->rss_key_random);
  rte_eth_dev_stop(null_id_);

  rss.key.resize(7);
  auto bad = configure_port(null_id_, 0, null_section_, rss, {kStunPort}, 2, g_pool);
  EXPECT_EQ(bad.message(), "dpdk.rss.key: 7 bytes, but device net_null0 needs " + std::to_string(key_len) +
                               " (or use auto: a random key of its size)");
  // A type list the device cannot hash at all is a config error for a multi-queue port.
  rss.key.clear();
  rss.types = {"esp"};
  bad = configure_port(null_id_, 0, null_section_, rss, {kStunPort}, 2, g_pool);
  EXPECT_NE(bad.message().find("none of the RSS hash types (esp) is supported"), std::string::npos) << bad.message();
  // One queue: no RSS at all, whatever the types.
  auto one = configure_port(null_id_, 0, null_section_, rss, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(one) << one.message();
  EXPECT_FALSE(one->rss);
}

TEST_F(EalTest, RingPortWithoutRssWarnsAndLimitsQueues) {
  ASSERT_NO_FATAL_FAILURE(make_ring("lim", 2));
  auto s = lab_port("net_ring_lim");
  auto id = find_port(s, 1);
  ASSERT_TRUE(id) << id.message();
  EXPECT_EQ(*id, ring_->port_id);
  auto too_many = configure_port(*id, 1, s, {}, {kStunPort}, 3, g_pool);
  EXPECT_EQ(too_many.message(), "dpdk.ports[1].queues 3: device net_ring_lim supports at most 2");
  auto port = configure_port(*id, 1, s, {}, {kStunPort}, 2, g_pool);
  ASSERT_TRUE(port) << port.message();
  EXPECT_FALSE(port->rss);
  ASSERT_FALSE(port->warnings.empty());
  EXPECT_NE(port->warnings[0].find("has no RSS"), std::string::npos);
  EXPECT_EQ(port->identity.n_v4, 1u);
  EXPECT_EQ(port->identity.n_v6, 1u);
  EXPECT_TRUE(port->identity.stun_ports.test(kStunPort));
}

// i40e's vector RX needs a power-of-two ring: any other rx_desc is warned about by its key.
TEST_F(EalTest, RxDescNotAPowerOfTwoIsWarnedAboutByKey) {
  ASSERT_NO_FATAL_FAILURE(make_ring("desc", 1));
  auto s = lab_port("net_ring_desc");
  s.rx_desc = 1000;
  auto port = configure_port(ring_->port_id, 0, s, {}, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_EQ(port->rx_desc, 1000u) << "net_ring keeps any count";
  const auto warned = std::find_if(port->warnings.begin(), port->warnings.end(), [](const std::string& w) {
    return w.rfind("dpdk.ports[0].rx_desc 1000: not a power of two", 0) == 0;
  });
  EXPECT_NE(warned, port->warnings.end());
  s.rx_desc = 1024;
  ring_.reset();
  ASSERT_NO_FATAL_FAILURE(make_ring("desc2", 1));
  s.device = "net_ring_desc2";
  auto pow2 = configure_port(ring_->port_id, 0, s, {}, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(pow2) << pow2.message();
  for (const std::string& w : pow2->warnings) EXPECT_EQ(w.find("power of two"), std::string::npos) << w;
}

// What a NIC with a 128-entry RETA and our key would do, replayed exactly on
// net_ring: each request goes to RX ring RETA[hash % 128]; its reply must
// leave on TX ring of the same index.
TEST_F(EalTest, QueueAffinityOnRingPort) {
  constexpr unsigned kQueues = 4;
  constexpr size_t kReta = 128;
  ASSERT_NO_FATAL_FAILURE(open_ring("aff", {.queues = kQueues, .burst = 16}));  // small burst: several polls per queue

  std::map<uint32_t, std::pair<test::Flow, unsigned>> sent;  // id -> flow, queue
  std::vector<unsigned> per_queue(kQueues);
  uint32_t id = 1;
  for (int v6 = 0; v6 < 2; ++v6) {
    for (uint16_t i = 0; i < 64; ++i, ++id) {
      const test::Flow f = lab_flow(v6 != 0, static_cast<uint16_t>(20000 + i * 97));
      const unsigned q = reta_queue(test::toeplitz(f, port_->rss_key) % kReta, kQueues);
      ASSERT_TRUE(send_request(f, id, q));
      sent[id] = {f, q};
      ++per_queue[q];
    }
  }
  for (unsigned q = 0; q < kQueues; ++q) ASSERT_GT(per_queue[q], 0u) << "flows did not reach queue " << q;

  for (unsigned q = 0; q < kQueues; ++q) {
    for (int polls = 0; polls < 100 && poll(q) != 0; ++polls) {
    }
  }
  for (unsigned q = 0; q < kQueues; ++q) {
    EXPECT_EQ(get(Counter::rx_packets, q), per_queue[q]);
    EXPECT_EQ(get(Counter::tx_packets, q), per_queue[q]);
    EXPECT_EQ(get(Counter::stun_requests, q), per_queue[q]);
    EXPECT_EQ(get(Counter::stun_success, q), per_queue[q]);
    unsigned replies = 0;
    while (Mbuf m = take_reply(q)) {
      const int64_t rid = test::reply_id(rte_pktmbuf_mtod(m.get(), const uint8_t*), m->data_len);
      auto it = sent.find(static_cast<uint32_t>(rid));
      if (it == sent.end()) {
        ADD_FAILURE() << "reply with unknown transaction id on queue " << q;
      } else {
        EXPECT_EQ(it->second.second, q) << "reply to a request of queue " << it->second.second << " left on " << q;
        EXPECT_EQ(check_reply(m.get(), it->second.first, it->first), "");
        sent.erase(it);
      }
      EXPECT_EQ(m->pkt_len, m->data_len);
      ++replies;
    }
    EXPECT_EQ(replies, per_queue[q]);
  }
  EXPECT_TRUE(sent.empty()) << sent.size() << " requests unanswered";
}

TEST_F(EalTest, DropsAreCountedAndFreed) {
  ASSERT_NO_FATAL_FAILURE(open_ring("drop"));
  const test::Flow f = lab_flow(false, 40000);

  // A valid request split over two segments.
  auto frame = request(f, 1);
  rte_mbuf* head = mbuf_of(std::vector<uint8_t>(frame.begin(), frame.begin() + 30));
  rte_mbuf* tail = mbuf_of(std::vector<uint8_t>(frame.begin() + 30, frame.end()));
  ASSERT_TRUE(head && tail);
  ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
  ASSERT_TRUE(send(head));
  // Truncated: shorter than an Ethernet header.
  ASSERT_TRUE(send(std::vector<uint8_t>(frame.begin(), frame.begin() + 10)));
  // Not ours: another unicast MAC.
  ASSERT_TRUE(send(test::binding_request({0x02, 0x99, 0x99, 0x99, 0x99, 0x99}, f, 2)));
  // Not a served UDP port.
  ASSERT_TRUE(send_request(lab_flow(false, 40000, 9999), 3));
  // Truncated inside STUN: IP/UDP lengths no longer match the frame.
  auto cut = request(f, 4);
  cut.resize(cut.size() - 6);
  ASSERT_TRUE(send(cut));
  // And one good request, which must still be answered.
  ASSERT_TRUE(send_request(f, 5));

  EXPECT_EQ(poll(), 6);
  EXPECT_EQ(get(Counter::rx_packets), 6u);
  EXPECT_EQ(get(DropReason::mbuf_multi_segment), 1u);
  EXPECT_EQ(get(DropReason::eth_too_short), 1u);
  EXPECT_EQ(get(DropReason::eth_not_ours), 1u);
  EXPECT_EQ(get(DropReason::udp_port_not_served), 1u);
  EXPECT_EQ(get(DropReason::ipv4_malformed) + get(DropReason::udp_malformed), 1u);
  EXPECT_EQ(get(Counter::tx_packets), 1u);
  Snapshot snap;
  snap.add(queue().counters);
  EXPECT_EQ(snap.total_drops(), 5u);
  Mbuf reply = take_reply();
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(check_reply(reply.get(), f, 5), "");
  EXPECT_EQ(take_reply(), nullptr) << "a dropped frame was sent";
}

// The external buffers' free callback: counts the releases, then frees the memory.
void release_external(void* addr, void* opaque) {
  ++*static_cast<int*>(opaque);
  rte_free(addr);
}

// An mbuf holding `frame` in an external buffer (rte_malloc'd, released
// through release_external), as mlx5 with multi-packet RX queues hands out
// every frame above mprq_max_memcpy_len: one stride of its own buffer attached.
rte_mbuf* external_mbuf_of(const std::vector<uint8_t>& frame, int* releases) {
  constexpr uint16_t kBufLen = 2048;
  void* buf = rte_malloc("ext_buf", kBufLen, RTE_CACHE_LINE_SIZE);
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  uint16_t len = kBufLen;
  rte_mbuf_ext_shared_info* shinfo =
      buf != nullptr ? rte_pktmbuf_ext_shinfo_init_helper(buf, &len, release_external, releases) : nullptr;
  if (m == nullptr || shinfo == nullptr) {
    rte_free(buf);
    rte_pktmbuf_free(m);
    return nullptr;
  }
  rte_pktmbuf_attach_extbuf(m, buf, rte_malloc_virt2iova(buf), len, shinfo);
  rte_pktmbuf_reset_headroom(m);
  return with_frame(m, frame);
}

// A reply is the request's mbuf rewritten: it must keep the flags that say
// what its buffer is (RTE_MBUF_F_EXTERNAL, RTE_MBUF_F_INDIRECT) and lose the
// RX ones. Without them the free below would release neither the external
// buffer (its callback never runs) nor the clone's direct mbuf (a leak).
TEST_F(EalTest, ExternalAndIndirectBuffersSurviveTheReply) {
  ASSERT_NO_FATAL_FAILURE(open_ring("extbuf"));
  constexpr uint64_t kRxFlags = RTE_MBUF_F_RX_RSS_HASH | RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  int releases = 0;
  constexpr uint32_t kExternal = 4;
  for (uint32_t i = 0; i < kExternal; ++i) {
    rte_mbuf* m = external_mbuf_of(request(lab_flow(i % 2 != 0, static_cast<uint16_t>(40000 + i)), i), &releases);
    ASSERT_NE(m, nullptr);
    m->ol_flags |= kRxFlags;
    ASSERT_TRUE(send(m));
  }
  // Dropped (port not served): released by the drop path.
  ASSERT_TRUE(send(external_mbuf_of(request(lab_flow(false, 40000, 9999), 99), &releases)));
  // An indirect mbuf whose direct one is referenced by nothing else.
  rte_mbuf* direct = mbuf_of(request(lab_flow(false, 41000), 50));
  ASSERT_NE(direct, nullptr);
  rte_mbuf* clone = rte_pktmbuf_clone(direct, g_pool);
  rte_pktmbuf_free(direct);
  ASSERT_NE(clone, nullptr);
  clone->ol_flags |= kRxFlags;
  ASSERT_TRUE(send(clone));

  EXPECT_EQ(poll(), kExternal + 2);
  EXPECT_EQ(get(Counter::stun_success), kExternal + 1);
  EXPECT_EQ(get(DropReason::udp_port_not_served), 1u);
  EXPECT_EQ(releases, 1) << "the dropped request's buffer, released once";
  for (uint32_t i = 0; i < kExternal; ++i) {
    Mbuf m = take_reply();
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->ol_flags, RTE_MBUF_F_EXTERNAL) << "reply " << i;
    EXPECT_EQ(check_reply(m.get(), lab_flow(i % 2 != 0, static_cast<uint16_t>(40000 + i)), i), "");
  }
  Mbuf m = take_reply();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->ol_flags, RTE_MBUF_F_INDIRECT);
  EXPECT_EQ(check_reply(m.get(), lab_flow(false, 41000), 50), "");
  m.reset();
  EXPECT_EQ(releases, static_cast<int>(kExternal) + 1) << "every external buffer released exactly once";
  // TearDown: the pool is back at its baseline (the clone's direct mbuf included).
}

// i40e and ixgbe report "IP and L4 checksum good" for every frame without an
// error bit, ICMP, ICMPv6 and NDP included, which they never check. The
// hints count only where the mbuf's packet_type says the NIC parsed that
// header; here both are forged (net_ring passes mbufs through untouched).
TEST_F(EalTest, ChecksumFlagsCountOnlyWhereThePacketTypeSaysTheNicLooked) {
  ASSERT_NO_FATAL_FAILURE(open_ring("hints"));
  queue().poll = select_poll(true, false);  // the RX-hints variant (net_ring has no RX offloads to select it)
  constexpr uint32_t kIpv4 = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4;
  constexpr uint32_t kIpv6 = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6;
  constexpr size_t kIcmpSum = 14 + 20 + 2, kIcmp6Sum = 14 + 40 + 2, kIpSum = 14 + 10, kUdp4Sum = 14 + 20 + 6;
  // The frame in an mbuf flagged "IP and L4 checksum good", of packet type `ptype`.
  auto flagged = [](const std::vector<uint8_t>& f, uint32_t ptype) {
    rte_mbuf* m = mbuf_of(f);
    if (m != nullptr) {
      m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
      m->packet_type = ptype;
    }
    return m;
  };
  // The same with one byte of a checksum flipped.
  auto lying = [&flagged](std::vector<uint8_t> f, size_t checksum_at, uint32_t ptype) {
    f[checksum_at] ^= 0x5a;
    return flagged(f, ptype);
  };
  const pkt::Bytes echo_body = {0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
  const pkt::Bytes slla = pkt::lla_option(1, test::kClientMac);  // source link-layer address option
  const auto& mac = port_->identity.mac;
  const test::Flow f4 = lab_flow(false, 40000), f6 = lab_flow(true, 40000);

  // Never trusted: ICMP and ICMPv6 (i40e types both L4_ICMP).
  ASSERT_TRUE(send(lying(test::from_client(mac, f4).icmp(8, 0, echo_body), kIcmpSum, kIpv4 | RTE_PTYPE_L4_ICMP)));
  ASSERT_TRUE(send(lying(test::from_client(mac, f6).icmp(128, 0, echo_body), kIcmp6Sum, kIpv6 | RTE_PTYPE_L4_ICMP)));
  ASSERT_TRUE(send(lying(test::from_client(mac, f6).ns(kServer6, slla), kIcmp6Sum, kIpv6 | RTE_PTYPE_L4_ICMP)));
  // Not trusted without the packet type: unknown (0), or L3 only.
  ASSERT_TRUE(send(lying(request(f4, 1), kUdp4Sum, 0)));
  ASSERT_TRUE(send(lying(request(f4, 2), kUdp4Sum, kIpv4)));
  ASSERT_TRUE(send(lying(request(f4, 3), kIpSum, RTE_PTYPE_L2_ETHER)));
  // Trusted where the NIC did check (what the flags are for): answered.
  ASSERT_TRUE(send(lying(request(f4, 4), kUdp4Sum, kIpv4 | RTE_PTYPE_L4_UDP)));
  ASSERT_TRUE(send(lying(request(f4, 5), kIpSum, kIpv4 | RTE_PTYPE_L4_UDP)));
  // The same ICMP messages intact are answered, flags or not.
  ASSERT_TRUE(send(flagged(test::from_client(mac, f4).icmp(8, 0, echo_body), kIpv4 | RTE_PTYPE_L4_ICMP)));
  ASSERT_TRUE(send(flagged(test::from_client(mac, f6).ns(kServer6, slla), kIpv6 | RTE_PTYPE_L4_ICMP)));

  EXPECT_EQ(poll(), 10);
  EXPECT_EQ(get(DropReason::icmp_bad_checksum), 1u);
  EXPECT_EQ(get(DropReason::icmp6_bad_checksum), 2u);
  EXPECT_EQ(get(DropReason::udp_bad_checksum), 2u);
  EXPECT_EQ(get(DropReason::ipv4_bad_checksum), 1u);
  EXPECT_EQ(get(Counter::stun_success), 2u);
  EXPECT_EQ(get(Counter::icmp_echo_replies), 1u);
  EXPECT_EQ(get(Counter::ndp_adverts), 1u);
  EXPECT_EQ(get(Counter::icmp6_echo_replies), 0u);
  EXPECT_EQ(drain_tx(), 4u);
}

TEST_F(EalTest, TxRingFullFreesAndCountsUnsent) {
  ASSERT_NO_FATAL_FAILURE(open_ring("full", {.tx_size = 4}));  // TX ring holds 3
  const unsigned cap = rte_ring_get_capacity(ring_->tx[0]);
  ASSERT_EQ(cap, 3u);
  constexpr unsigned kRequests = 8;
  for (uint32_t i = 0; i < kRequests; ++i) ASSERT_TRUE(send_request(lab_flow(false, static_cast<uint16_t>(30000 + i)), i));
  EXPECT_EQ(poll(), kRequests);
  EXPECT_EQ(get(Counter::stun_success), kRequests);
  EXPECT_EQ(get(Counter::tx_packets), cap);
  EXPECT_EQ(get(DropReason::tx_ring_full), kRequests - cap);
  EXPECT_EQ(rte_ring_count(ring_->tx[0]), cap);
  // Leak check in TearDown: the unsent replies were freed, the sent ones are drained by ~RingPort.
}

TEST_F(EalTest, WorkerLcoreServesUntilStopped) {
  const unsigned worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
  if (worker >= RTE_MAX_LCORE) GTEST_SKIP() << "EAL has no worker lcore";
  ASSERT_NO_FATAL_FAILURE(open_ring("lc", {.queues = 2}));
  std::atomic<bool> stop{false};
  LcoreWork work;
  work.lcore = worker;
  work.idle = config::Idle::adaptive;
  work.stop = &stop;
  SourceSketch sketch;  // the lcore records and publishes it itself
  work.sources = &sketch;
  for (auto& q : qs_) {
    q->sources = &sketch;
    work.queues.push_back(q.get());
  }
  ASSERT_EQ(rte_eal_remote_launch(lcore_main, &work, worker), 0);
  const LcoreJoiner joiner{stop, worker};

  constexpr unsigned kPerQueue = 20;
  for (unsigned q = 0; q < 2; ++q) {
    for (uint32_t i = 0; i < kPerQueue; ++i) {
      rte_mbuf* m = mbuf_of(request(lab_flow(q == 1, static_cast<uint16_t>(1024 + i)), i));
      ASSERT_NE(m, nullptr);
      // Single producer ring, consumer is the worker: safe across threads.
      while (rte_ring_enqueue(ring_->rx[q], m) != 0) std::this_thread::yield();
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((rte_ring_count(ring_->tx[0]) < kPerQueue || rte_ring_count(ring_->tx[1]) < kPerQueue) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop.store(true);
  EXPECT_EQ(rte_eal_wait_lcore(worker), 0);
  EXPECT_EQ(rte_ring_count(ring_->tx[0]), kPerQueue);
  EXPECT_EQ(rte_ring_count(ring_->tx[1]), kPerQueue);
  EXPECT_EQ(get(Counter::stun_success, 0), kPerQueue);
  EXPECT_EQ(get(Counter::stun_success, 1), kPerQueue);
  // Published by the lcore every kPollsPerStopCheck polls and once more
  // when it stops, so both sources show.
  uint64_t total = 0;
  const auto top = merge_top_sources({sketch.read()}, 10, total);
  EXPECT_EQ(total, 2u * kPerQueue);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].count, kPerQueue);
  EXPECT_EQ(top[1].count, kPerQueue);
}

// After a link-up the main lcore never sends on a TX queue: it puts the
// announcements on the owning lcore's control ring, and that lcore sends them
// on its own queue between two polls (counted there as announcements).
TEST_F(EalTest, AnnouncementsGoThroughTheOwningLcoresControlRing) {
  const unsigned worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
  if (worker >= RTE_MAX_LCORE) GTEST_SKIP() << "EAL has no worker lcore";
  ASSERT_NO_FATAL_FAILURE(open_ring("ann", {.queues = 2}));
  rte_ring* control = rte_ring_create("test_ctl", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  ASSERT_NE(control, nullptr);
  struct RingFree {
    rte_ring* r;
    ~RingFree() { rte_ring_free(r); }
  } ring_free{control};
  std::atomic<bool> stop{false};
  LcoreWork work;
  work.lcore = worker;
  work.idle = config::Idle::adaptive;
  work.stop = &stop;
  work.control = control;
  work.queues = {qs_[1].get(), qs_[0].get()};  // the frames go out on the first queue of the port it owns
  ASSERT_EQ(rte_eal_remote_launch(lcore_main, &work, worker), 0);
  const LcoreJoiner joiner{stop, worker};

  std::vector<rte_mbuf*> frames = announcement_frames(*port_, g_pool);
  ASSERT_EQ(frames.size(), 3u) << "gratuitous ARP, unsolicited NA, MLDv2 report";
  ASSERT_EQ(rte_ring_sp_enqueue_burst(control, reinterpret_cast<void**>(frames.data()), 3, nullptr), 3u);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (rte_ring_count(ring_->tx[1]) < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop.store(true);
  EXPECT_EQ(rte_eal_wait_lcore(worker), 0);
  EXPECT_EQ(rte_ring_count(control), 0u);
  EXPECT_EQ(rte_ring_count(ring_->tx[0]), 0u);
  EXPECT_EQ(get(Counter::announcements, 1), 3u);
  std::vector<uint16_t> types;
  while (Mbuf m = take_reply(1)) {
    const uint8_t* f = rte_pktmbuf_mtod(m.get(), const uint8_t*);
    types.push_back(static_cast<uint16_t>(f[12] << 8 | f[13]));
    if (types.size() == 3) {
      EXPECT_EQ(f[14 + 6], 0) << "the MLD report carries a Hop-by-Hop header";
    }
  }
  EXPECT_EQ(types, (std::vector<uint16_t>{0x0806, 0x86DD, 0x86DD}));
}

// The attribute types of the STUN message in a UDP reply frame (untagged
// Ethernet), in order; empty when the frame is not IPv4/IPv6 + UDP.
std::vector<uint16_t> reply_attributes(const rte_mbuf* m) {
  const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
  const size_t len = m->data_len;
  if (len < 14) return {};
  const uint16_t ethertype = static_cast<uint16_t>(f[12] << 8 | f[13]);
  size_t stun_at = ethertype == 0x0800 ? 14 + static_cast<size_t>(f[14] & 0x0F) * 4 + 8 : 14 + 40 + 8;
  std::vector<uint16_t> out;
  if (len < stun_at + 20) return out;
  const size_t body = static_cast<size_t>(f[stun_at + 2] << 8 | f[stun_at + 3]);
  size_t at = stun_at + 20;
  const size_t end = std::min(len, stun_at + 20 + body);
  while (at + 4 <= end) {
    out.push_back(static_cast<uint16_t>(f[at] << 8 | f[at + 1]));
    const size_t alen = static_cast<size_t>(f[at + 2] << 8 | f[at + 3]);
    at += 4 + ((alen + 3) & ~size_t{3});
  }
  return out;
}

bool has(const std::vector<uint16_t>& v, uint16_t t) { return std::find(v.begin(), v.end(), t) != v.end(); }

// Reload's contract with the data path: a new ResponderConfig stored into
// QueueContext::stun is used from the next burst on.
TEST_F(EalTest, StunOptionsSwapTakesEffectAtTheNextBurst) {
  const stun::ResponderConfig with{stun::FingerprintPolicy::always, true, "swap-test"};
  const stun::ResponderConfig without{stun::FingerprintPolicy::never, true, ""};
  ASSERT_NO_FATAL_FAILURE(open_ring("swap", {.stun = &with}));
  const test::Flow f = lab_flow(false, 40000);
  constexpr uint16_t kFingerprint = 0x8028, kSoftware = 0x8022, kXorMapped = 0x0020;

  auto one_reply = [&](uint32_t id) {
    EXPECT_TRUE(send_request(f, id));
    EXPECT_EQ(poll(), 1);
    const Mbuf m = take_reply();
    return m ? reply_attributes(m.get()) : std::vector<uint16_t>{};
  };
  auto a = one_reply(1);
  EXPECT_TRUE(has(a, kXorMapped));
  EXPECT_TRUE(has(a, kFingerprint));
  EXPECT_TRUE(has(a, kSoftware));
  queue().stun.store(&without, std::memory_order_release);
  a = one_reply(2);
  EXPECT_TRUE(has(a, kXorMapped));
  EXPECT_FALSE(has(a, kFingerprint));
  EXPECT_FALSE(has(a, kSoftware));
  queue().stun.store(&with, std::memory_order_release);
  a = one_reply(3);
  EXPECT_TRUE(has(a, kFingerprint));
  EXPECT_EQ(get(Counter::stun_success), 3u);
}

// "show top sources" in dpdk mode: the lcore records each answered request's
// source (read back from the reply's destination) and publishes on demand.
TEST_F(EalTest, AnsweredRequestSourcesAreRecorded) {
  ASSERT_NO_FATAL_FAILURE(open_ring("src"));
  SourceSketch sketch;
  queue().sources = &sketch;
  IpAddress other6 = kClient6;
  other6.bytes[7] = 9;  // another /64
  other6.bytes[15] = 77;
  for (uint32_t i = 0; i < 6; ++i) ASSERT_TRUE(send_request(lab_flow(false, static_cast<uint16_t>(20000 + i)), i));
  for (uint32_t i = 0; i < 2; ++i) {
    test::Flow f = lab_flow(true, static_cast<uint16_t>(21000 + i));
    f.src.ip = other6;
    ASSERT_TRUE(send_request(f, 100 + i));
  }
  // Dropped (port not served): not a source of answered requests.
  ASSERT_TRUE(send_request(lab_flow(false, 20000, 9999), 50));
  EXPECT_EQ(poll(), 9);
  uint64_t total = 0;
  EXPECT_TRUE(merge_top_sources({sketch.read()}, 10, total).empty()) << "visible before publish";
  sketch.publish();
  const auto top = merge_top_sources({sketch.read()}, 10, total);
  EXPECT_EQ(total, 8u);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].prefix, sketch.prefix_of(kClient4.data(), false));
  EXPECT_EQ(top[0].count, 6u);
  EXPECT_EQ(top[1].prefix, sketch.prefix_of(other6.data(), true));
  EXPECT_EQ(top[1].prefix.len, 64);
  EXPECT_EQ(top[1].count, 2u);
}

// Broadcast ARP request "who has target? tell sender" from kClientMac.
pkt::Bytes arp_request(const IpAddress& sender, const IpAddress& target) {
  return pkt::Packet().eth(golden::kBroadcast, test::kClientMac).arp(1, test::kClientMac, sender, {}, target);
}

// lib/limits on the DPDK path: checks run after the rewrite on the reply's
// destination (the request's source); denied replies are freed, not sent.
TEST_F(EalTest, AbuseControlsDropWithTheirReasons) {
  ASSERT_NO_FATAL_FAILURE(open_ring("abuse"));
  config::LimitsSection lc;  // default deny_source_ports
  lc.rate.pps = 1;
  lc.rate.burst = 2;
  config::IpPrefix denied;
  denied.ip.bytes = {198, 18, 0, 9};
  denied.length = 32;
  lc.deny = {denied};
  const limits::Policy policy(lc);
  use_limits(policy);
  test::Flow from_denied = lab_flow(false, 40000);
  from_denied.src.ip.bytes[3] = 9;
  std::vector<std::vector<uint8_t>> frames;
  frames.push_back(request(lab_flow(false, 53), 1));
  frames.push_back(request(lab_flow(false, 123), 2));
  frames.push_back(request(from_denied, 3));
  // Five from one source over five ports: burst 2 answered, 3 rate limited.
  for (uint32_t i = 0; i < 5; ++i) frames.push_back(request(lab_flow(false, static_cast<uint16_t>(41000 + i)), 10 + i));
  for (const auto& f : frames) ASSERT_TRUE(send(f));
  EXPECT_EQ(poll(), frames.size());
  EXPECT_EQ(get(DropReason::source_port_denied), 2u);
  EXPECT_EQ(get(DropReason::acl_denied), 1u);
  EXPECT_EQ(get(DropReason::rate_limited), 3u);
  EXPECT_EQ(get(Counter::stun_success), 2u);
  EXPECT_EQ(get(Counter::tx_packets), 2u);
  EXPECT_EQ(drain_tx(), 2u);
}

// The loop rewrites a whole burst, then runs the abuse controls (the rate
// table prefetched in between). Within the burst the checks still run in
// packet order: five sources, each over its bucket mid-burst, interleaved with
// ARP requests and frames that are dropped, under a global cap that runs out
// mid-burst too, answer exactly what one Limiter checked frame by frame does,
// in the same order on the TX ring. Both frame paths.
TEST_F(EalTest, RateLimitsInABurstKeepPacketOrder) {
  ASSERT_NO_FATAL_FAILURE(open_ring("rateorder", RingOptions{.burst = 64}));
  config::LimitsSection lc;  // default deny_source_ports (no client port below is on it)
  lc.rate.pps = 1;
  lc.rate.burst = 3;
  lc.global_pps = 100;  // global burst: a tenth of a second's worth = 10
  const limits::Policy policy(lc);
  struct Sent {
    enum { stun, arp, junk } what;
    test::Flow flow;
    uint32_t id;
  };
  std::vector<Sent> burst;
  for (uint32_t i = 0; i < 40; ++i) {
    const unsigned source = (i * 7 + i / 5) % 5;
    test::Flow f = lab_flow(source == 4, static_cast<uint16_t>(41000 + i));
    if (source != 4) f.src.ip.bytes[3] = static_cast<uint8_t>(20 + source);
    burst.push_back({Sent::stun, f, 100 + i});
    if (i % 8 == 3) burst.push_back({Sent::arp, f, 0});
    if (i % 11 == 5) burst.push_back({Sent::junk, lab_flow(false, 42000, kStunPort + 1), 200 + i});
  }
  ASSERT_LE(burst.size(), 64u);
  for (const FramePath path : {FramePath::fast, FramePath::general_only}) {
    SCOPED_TRACE(path == FramePath::fast ? "fast path" : "general path only");
    queue().poll = select_poll(port_->rx_csum, port_->tx_csum, path);
    use_limits(policy);  // a fresh table and global bucket
    // The reference: the same checks, one request at a time, in packet order.
    limits::Limiter reference(1024);
    std::vector<bool> answered;
    uint64_t rate_limited = 0, global_limited = 0;
    for (const Sent& x : burst) {
      if (x.what != Sent::stun) continue;
      const auto& a = x.flow.src.ip;
      const auto r = reference.check(policy, {a.bytes.data(), x.flow.src.port, a.v6}, 1);
      answered.push_back(!r);
      rate_limited += r == DropReason::rate_limited;
      global_limited += r == DropReason::global_limited;
    }
    ASSERT_GT(rate_limited, 0u);
    ASSERT_GT(global_limited, 0u);
    const uint64_t rate_before = get(DropReason::rate_limited), global_before = get(DropReason::global_limited);
    for (const Sent& x : burst) {
      ASSERT_TRUE(send(x.what == Sent::arp ? arp_request(kClient4, kServer4) : request(x.flow, x.id)));
    }
    EXPECT_EQ(poll(), burst.size());
    EXPECT_EQ(get(DropReason::rate_limited) - rate_before, rate_limited);
    EXPECT_EQ(get(DropReason::global_limited) - global_before, global_limited);
    size_t k = 0;
    for (const Sent& x : burst) {
      if (x.what == Sent::junk) continue;
      if (x.what == Sent::stun && !answered[k++]) continue;
      Mbuf m = take_reply();
      ASSERT_TRUE(m) << "missing reply";
      const uint8_t* d = rte_pktmbuf_mtod(m.get(), const uint8_t*);
      if (x.what == Sent::arp) {
        EXPECT_EQ(d[12] << 8 | d[13], 0x0806) << "expected the ARP reply";
      } else {
        EXPECT_EQ(check_reply(m.get(), x.flow, x.id), "") << "request " << x.id;
      }
    }
    EXPECT_EQ(drain_tx(), 0u) << "more replies than expected";
  }
}

TEST_F(EalTest, L3RepliesArePolicedPerLcore) {
  ASSERT_NO_FATAL_FAILURE(open_ring("l3p"));
  config::LimitsSection lc;
  lc.nd_pps = 30;  // burst: a tenth of a second's worth = 3
  const limits::Policy policy(lc);
  limits::L3Policer l3;
  use_limits(policy, &l3);
  constexpr unsigned kArps = 10;
  for (unsigned i = 0; i < kArps; ++i) ASSERT_TRUE(send(arp_request(kClient4, kServer4)));
  // STUN is not an L3 reply: not policed by nd_pps or l3_pps.
  ASSERT_TRUE(send_request(lab_flow(false, 40000), 1));
  EXPECT_EQ(poll(), kArps + 1);
  // One burst, one clock read: exactly the burst passes.
  EXPECT_EQ(get(Counter::arp_replies), 3u);
  EXPECT_EQ(get(DropReason::nd_policed), kArps - 3);
  EXPECT_EQ(get(DropReason::l3_policed), 0u);
  EXPECT_EQ(get(Counter::stun_success), 1u);
  EXPECT_EQ(drain_tx(), 4u);
}

// An echo flood over limits.l3_pps spends only the echo budget: the ARP
// replies and neighbour advertisements behind it on the same lcore are sent.
TEST_F(EalTest, EchoFloodNeverSpendsTheNeighbourBudget) {
  ASSERT_NO_FATAL_FAILURE(open_ring("ndp"));
  config::LimitsSection lc;
  lc.l3_pps = 30;  // echo burst 3
  lc.nd_pps = 40;  // neighbour burst 4
  const limits::Policy policy(lc);
  limits::L3Policer l3;
  use_limits(policy, &l3);
  const auto& mac = port_->identity.mac;
  const pkt::Bytes echo_body = {0x12, 0x34, 0, 1};
  constexpr unsigned kEchoes = 20;
  for (unsigned i = 0; i < kEchoes; ++i) {
    ASSERT_TRUE(send(test::from_client(mac, lab_flow(i % 2 != 0, 0)).icmp(i % 2 != 0 ? 128 : 8, 0, echo_body)));
  }
  // Behind the flood: 2 ARP requests and 2 neighbour solicitations (the
  // neighbour burst), then one more of each over it.
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(send(arp_request(kClient4, kServer4)));
    ASSERT_TRUE(send(test::from_client(mac, lab_flow(true, 0)).ns(kServer6)));
  }
  EXPECT_EQ(poll(), kEchoes + 6);
  EXPECT_EQ(get(Counter::icmp_echo_replies) + get(Counter::icmp6_echo_replies), 3u);
  EXPECT_EQ(get(DropReason::l3_policed), kEchoes - 3);
  EXPECT_EQ(get(Counter::arp_replies), 2u);
  EXPECT_EQ(get(Counter::ndp_adverts), 2u);
  EXPECT_EQ(get(DropReason::nd_policed), 2u);
  EXPECT_EQ(drain_tx(), 7u);
}

// Reload swaps QueueContext::limits; the lcore uses the new policy from its next burst.
TEST_F(EalTest, LimitsPolicySwapTakesEffectAtTheNextBurst) {
  ASSERT_NO_FATAL_FAILURE(open_ring("limswap"));
  config::LimitsSection open_cfg;
  open_cfg.deny_source_ports.clear();
  const limits::Policy open_policy(open_cfg);
  const limits::Policy default_policy(config::LimitsSection{});
  use_limits(open_policy);
  const test::Flow from_dns = lab_flow(false, 53);
  ASSERT_TRUE(send_request(from_dns, 1));
  EXPECT_EQ(poll(), 1);
  EXPECT_EQ(get(Counter::stun_success), 1u);
  queue().limits.store(&default_policy, std::memory_order_release);
  ASSERT_TRUE(send_request(from_dns, 2));
  EXPECT_EQ(poll(), 1);
  EXPECT_EQ(get(Counter::stun_success), 1u);
  EXPECT_EQ(get(DropReason::source_port_denied), 1u);
  EXPECT_EQ(drain_tx(), 1u);
}

// ---- the golden rows through poll_queue --------------------------------
//
// Every row of tests/golden (rows.cc) through the real poll_queue on
// net_ring, in each of the four select_poll variants, on the golden port
// identity: the TX ring carries the golden reply (in the TX-offload variant
// its offload form, with the mbuf's l2_len/l3_len and TX flags such that
// the NIC's completion is the software reply), a drop is counted under the
// row's reason and sent nowhere, and TearDown finds the mempool at its
// baseline. net_ring reports no offloads, so each variant is forced with
// select_poll and the RX flags are forged.

// ol_flags and packet_type that make lcore_loop's rx_hints() say exactly `h`.
void forge_rx_hints(rte_mbuf* m, frame::RxHints h) {
  auto state = [](frame::CsumState s, uint64_t good, uint64_t bad) {
    return s == frame::CsumState::good ? good : s == frame::CsumState::bad ? bad : 0;  // 0: UNKNOWN
  };
  m->ol_flags = state(h.ip, RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD) |
                state(h.udp, RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_BAD);
  m->packet_type = RTE_PTYPE_L2_ETHER;
  if (h.ip != frame::CsumState::unknown) m->packet_type |= RTE_PTYPE_L3_IPV4;
  if (h.udp != frame::CsumState::unknown) m->packet_type |= RTE_PTYPE_L4_UDP;
}

// An mbuf holding `frame` with exactly `room` bytes of tailroom (the row's
// capacity - length), or null when it does not fit the mbuf.
rte_mbuf* mbuf_with_room(const pkt::Bytes& frame, size_t room) {
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  if (m == nullptr) return nullptr;
  if (frame.size() + room > m->buf_len) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  m->data_off = static_cast<uint16_t>(m->buf_len - frame.size() - room);
  std::copy(frame.begin(), frame.end(), rte_pktmbuf_mtod(m, uint8_t*));
  m->data_len = static_cast<uint16_t>(frame.size());
  m->pkt_len = static_cast<uint32_t>(frame.size());
  return m;
}

struct PollVariant {
  bool rx_hints;
  bool tx_offload;
  FramePath path = FramePath::fast;  // general_only: the same rows through the general path alone
};
void PrintTo(const PollVariant& v, std::ostream* os) {
  *os << "select_poll(" << v.rx_hints << ", " << v.tx_offload << ", "
      << (v.path == FramePath::fast ? "fast" : "general_only") << ")";
}

class GoldenReplay : public EalTest, public ::testing::WithParamInterface<PollVariant> {};

// The counter a reply of each kind adds to (lcore_loop's kReplyCounter).
Counter reply_counter(frame::ReplyKind k) {
  switch (k) {
    case frame::ReplyKind::stun_success: return Counter::stun_success;
    case frame::ReplyKind::stun_error: return Counter::stun_error;
    case frame::ReplyKind::arp_reply: return Counter::arp_replies;
    case frame::ReplyKind::ndp_advert: return Counter::ndp_adverts;
    case frame::ReplyKind::icmp_echo_reply: return Counter::icmp_echo_replies;
    case frame::ReplyKind::icmp6_echo_reply: return Counter::icmp6_echo_replies;
    case frame::ReplyKind::mld_report: return Counter::mld_reports;
  }
  ADD_FAILURE() << "no counter for reply kind " << static_cast<int>(k);
  return Counter::tx_packets;
}

TEST_P(GoldenReplay, EveryRowAsReflectAnswersIt) {
  const PollVariant variant = GetParam();
  const std::string ring = std::string(variant.rx_hints ? (variant.tx_offload ? "g11" : "g10") : (variant.tx_offload ? "g01" : "g00")) +
                           (variant.path == FramePath::fast ? "f" : "g");
  ASSERT_NO_FATAL_FAILURE(open_ring(ring.c_str()));
  queue().poll = select_poll(variant.rx_hints, variant.tx_offload, variant.path);
  const frame::PortIdentity ports[2] = {golden::port_identity(false), golden::port_identity(true)};
  size_t replayed = 0, answered = 0;
  for (const golden::Row& row : golden::rows()) {
    SCOPED_TRACE(row.name);
    // Hints exist only where the variant reads them; an mbuf's tailroom is never negative.
    const bool hinted = row.hints.ip != frame::CsumState::unknown || row.hints.udp != frame::CsumState::unknown;
    if ((hinted && !variant.rx_hints) || row.room == golden::kBelowLength) continue;
    ++replayed;
    queue().port = &ports[row.tagged ? 1 : 0];
    queue().stun.store(&row.cfg, std::memory_order_release);
    rte_mbuf* m = mbuf_with_room(row.in, row.room);
    ASSERT_NE(m, nullptr);
    forge_rx_hints(m, row.hints);

    const auto before = [&](auto c) { return get(c); };
    const uint64_t tx0 = before(Counter::tx_packets), rx0 = before(Counter::rx_packets);
    const uint64_t drop0 = row.drop() != nullptr ? before(*row.drop()) : 0;
    const uint64_t kind0 = row.reply() != nullptr ? before(reply_counter(row.reply()->kind)) : 0;
    ASSERT_TRUE(send(m));
    ASSERT_EQ(poll(), 1);
    EXPECT_EQ(get(Counter::rx_packets), rx0 + 1);
    Mbuf out = take_reply();
    if (const DropReason* reason = row.drop()) {
      EXPECT_EQ(out, nullptr) << "expected drop " << name(*reason) << ", a frame was sent";
      EXPECT_EQ(get(*reason), drop0 + 1) << "not counted as " << name(*reason);
      EXPECT_EQ(get(Counter::tx_packets), tx0);
      continue;
    }
    ++answered;
    const golden::Reply& want = *row.reply();
    ASSERT_NE(out, nullptr) << "expected a reply, dropped";
    EXPECT_EQ(get(reply_counter(want.kind)), kind0 + 1);
    EXPECT_EQ(get(Counter::tx_packets), tx0 + 1);
    const uint8_t* data = rte_pktmbuf_mtod(out.get(), const uint8_t*);
    const pkt::Bytes got(data, data + out->data_len);
    const pkt::Bytes expected = golden::expected_frame(want, variant.tx_offload);
    EXPECT_EQ(got, expected) << "got:\n" << pkt::hex_dump(got.data(), got.size()) << "\nwant:\n"
                             << pkt::hex_dump(expected.data(), expected.size());
    EXPECT_EQ(out->pkt_len, out->data_len);
    EXPECT_EQ(out->nb_segs, 1);
    const bool udp = golden::is_udp_reply(want.kind);
    if (variant.tx_offload && udp) {
      const size_t l2 = golden::l2_len_of(want.frame);
      const bool v6 = want.frame[l2 - 2] == 0x86;
      EXPECT_EQ(out->l2_len, l2);
      EXPECT_EQ(out->l3_len, v6 ? 40u : 20u);
      EXPECT_EQ(out->ol_flags, v6 ? (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM)
                                  : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM));
      // What the NIC puts on the wire, from the mbuf's own offload fields, is the software reply.
      EXPECT_EQ(pkt::complete_offload(got, out->l2_len, out->l3_len, v6), want.frame);
    } else {
      EXPECT_EQ(out->ol_flags, 0u) << "RX flags leaked into TX, or TX flags on a software-checksum reply";
    }
  }
  std::printf("golden rows through poll_queue (rx hints %d, tx offload %d, %s): %zu replayed, %zu answered\n",
              variant.rx_hints, variant.tx_offload, variant.path == FramePath::fast ? "fast path" : "general path only",
              replayed, answered);
  EXPECT_GT(answered, 50u);
  EXPECT_GE(replayed, golden::rows().size() - (variant.rx_hints ? 1 : 13));
}

INSTANTIATE_TEST_SUITE_P(Variants, GoldenReplay,
                         ::testing::Values(PollVariant{false, false}, PollVariant{false, true}, PollVariant{true, false},
                                           PollVariant{true, true},
                                           PollVariant{false, false, FramePath::general_only},
                                           PollVariant{false, true, FramePath::general_only},
                                           PollVariant{true, false, FramePath::general_only},
                                           PollVariant{true, true, FramePath::general_only}),
                         [](const ::testing::TestParamInfo<PollVariant>& p) {
                           return std::string(p.param.rx_hints ? "RxHints" : "NoRxHints") +
                                  (p.param.tx_offload ? "TxOffload" : "TxSoftware") +
                                  (p.param.path == FramePath::fast ? "" : "GeneralOnly");
                         });

}  // namespace
}  // namespace stunbox::dpdk

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "stunbox-dpdk-test-" + std::to_string(getpid());
  const std::vector<std::string> args = {"--no-huge", "-m", "128", "--no-pci", "--no-shconf", "--file-prefix", prefix,
                                         "--log-level=*:warning", "--vdev", "net_null0"};
  stunbox::Status st = stunbox::dpdk::init_eal(args);
  if (!st) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  stunbox::dpdk::g_pool = rte_pktmbuf_pool_create("test_pool", 8191, 32, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (stunbox::dpdk::g_pool == nullptr) {
    std::fprintf(stderr, "cannot create the test mempool\n");
    rte_eal_cleanup();
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  rte_mempool_free(stunbox::dpdk::g_pool);
  // EAL leaves its runtime directory (/tmp/dpdk/PREFIX as non-root) behind; it is ours alone.
  const std::filesystem::path runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  if (runtime_dir.filename() == prefix) {
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);
  }
  return rc;
}
