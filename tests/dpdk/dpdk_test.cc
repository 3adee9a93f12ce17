// In-process EAL tests of the DPDK backend: RSS programming (net_null), queue affinity, drops, TX full and leaks (net_ring).
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "dpdk/eal.h"
#include "dpdk/lcore_loop.h"
#include "dpdk/lcore_map.h"
#include "dpdk/port.h"
#include "test_frames.h"

namespace stunbox::dpdk {
namespace {

rte_mempool* g_pool = nullptr;
constexpr uint16_t kStunPort = 3478;

// Every EAL test checks that the pool's in-use count returns to where it was.
class EalTest : public ::testing::Test {
 protected:
  void SetUp() override { baseline_ = rte_mempool_in_use_count(g_pool); }
  void TearDown() override {
    EXPECT_EQ(rte_mempool_in_use_count(g_pool), baseline_) << "mbuf leak: in-use count not back to baseline";
  }
  int baseline_ = 0;
};

config::IpPrefix prefix(bool v6, std::initializer_list<uint8_t> bytes) {
  config::IpPrefix p;
  p.ip.v6 = v6;
  std::copy(bytes.begin(), bytes.end(), p.ip.bytes.begin());
  p.length = v6 ? 64 : 24;
  return p;
}

const std::array<uint8_t, 16> kServer4 = {198, 18, 0, 2};
const std::array<uint8_t, 16> kClient4 = {198, 18, 0, 1};
const std::array<uint8_t, 16> kServer6 = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
const std::array<uint8_t, 16> kClient6 = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

config::PortSection lab_port(const std::string& device) {
  config::PortSection s;
  s.device = device;
  s.rx_desc = 256;
  s.tx_desc = 256;
  s.addresses = {prefix(false, {198, 18, 0, 2}), prefix(true, {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2})};
  return s;
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

rte_mbuf* mbuf_of(const std::vector<uint8_t>& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  if (m == nullptr) return nullptr;
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(p, frame.data(), frame.size());
  return m;
}

std::vector<std::unique_ptr<QueueContext>> contexts(const PortSetup& p, const stun::ResponderConfig& stun,
                                                    uint16_t burst = 32) {
  std::vector<std::unique_ptr<QueueContext>> qs;
  for (uint16_t q = 0; q < p.queues; ++q) {
    auto c = std::make_unique<QueueContext>();
    c->port_id = p.port_id;
    c->queue_id = q;
    c->burst = burst;
    c->port = &p.identity;
    c->stun = &stun;
    c->poll = select_poll(p.rx_csum, p.tx_csum);
    qs.push_back(std::move(c));
  }
  return qs;
}

uint64_t get(const QueueContext& q, Counter c) { return q.counters.get(slot(c)); }
uint64_t get(const QueueContext& q, DropReason r) { return q.counters.get(slot(r)); }

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

// ---- EAL tests ----

TEST_F(EalTest, UnknownDeviceIsOneLine) {
  config::PortSection s;
  s.device = "net_nothere0,foo=1";
  EXPECT_EQ(find_port(s, 3).message(), "dpdk.ports[3].device \"net_nothere0,foo=1\": no such device (probe failed)");
}

TEST_F(EalTest, RssProgrammingOnNullPort) {
  config::PortSection s;
  s.device = "net_null0";
  auto id = find_port(s, 0);
  ASSERT_TRUE(id) << id.message();
  rte_eth_dev_info info{};
  ASSERT_EQ(rte_eth_dev_info_get(*id, &info), 0);
  ASSERT_NE(info.flow_type_rss_offloads, 0u);
  ASSERT_GT(info.reta_size, 0);

  config::RssSection rss;
  rss.types = {"ipv4", "ipv4-udp", "ipv6", "ipv6-udp", "esp", "gtpu"};
  const uint64_t requested = *rss_types_from_names(rss.types);
  ASSERT_NE(requested & ~info.flow_type_rss_offloads, 0u) << "test needs a type net_null lacks";
  constexpr uint16_t kQueues = 4;
  auto port = configure_port(*id, 0, s, rss, {kStunPort}, kQueues, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  EXPECT_TRUE(port->rss);
  EXPECT_EQ(port->rss_types, requested & info.flow_type_rss_offloads);
  EXPECT_EQ(port->rss_dropped, requested & ~info.flow_type_rss_offloads);
  bool reported = false;
  for (const auto& w : port->warnings) reported = reported || w.find("dropped: esp gtpu") != std::string::npos;
  EXPECT_TRUE(reported) << "masked types not reported";

  uint8_t key[64] = {};
  rte_eth_rss_conf conf{};
  conf.rss_key = key;
  conf.rss_key_len = sizeof key;
  ASSERT_EQ(rte_eth_dev_rss_hash_conf_get(*id, &conf), 0);
  EXPECT_EQ(conf.rss_hf, port->rss_types);
  const auto want_key = default_rss_key(info.hash_key_size != 0 ? info.hash_key_size : 40);
  EXPECT_EQ(std::vector<uint8_t>(key, key + want_key.size()), want_key);
  EXPECT_EQ(port->rss_key, want_key);

  std::vector<rte_eth_rss_reta_entry64> reta(info.reta_size / RTE_ETH_RETA_GROUP_SIZE);
  for (auto& g : reta) g.mask = ~uint64_t{0};
  ASSERT_EQ(rte_eth_dev_rss_reta_query(*id, reta.data(), info.reta_size), 0);
  std::vector<unsigned> per_queue(kQueues);
  for (size_t i = 0; i < info.reta_size; ++i) {
    const uint16_t q = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
    EXPECT_EQ(q, i % kQueues) << "RETA entry " << i;
    if (q < kQueues) ++per_queue[q];
  }
  for (unsigned n : per_queue) EXPECT_EQ(n, info.reta_size / kQueues);
  rte_eth_dev_stop(*id);
}

TEST_F(EalTest, RssConfiguredKeyAndWrongKeyLength) {
  config::PortSection s;
  s.device = "net_null0";
  auto id = find_port(s, 0);
  ASSERT_TRUE(id);
  rte_eth_dev_info info{};
  ASSERT_EQ(rte_eth_dev_info_get(*id, &info), 0);
  config::RssSection rss;
  const unsigned key_len = info.hash_key_size != 0 ? info.hash_key_size : 40;
  for (unsigned i = 0; i < key_len; ++i) rss.key.push_back(static_cast<uint8_t>(i * 7 + 1));
  auto port = configure_port(*id, 0, s, rss, {kStunPort}, 2, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  uint8_t key[64] = {};
  rte_eth_rss_conf conf{};
  conf.rss_key = key;
  conf.rss_key_len = sizeof key;
  ASSERT_EQ(rte_eth_dev_rss_hash_conf_get(*id, &conf), 0);
  EXPECT_EQ(std::vector<uint8_t>(key, key + rss.key.size()), rss.key);
  rte_eth_dev_stop(*id);

  rss.key.resize(7);
  auto bad = configure_port(*id, 0, s, rss, {kStunPort}, 2, g_pool);
  EXPECT_EQ(bad.message(), "dpdk.rss.key: 7 bytes, but device net_null0 needs " + std::to_string(key_len));
  // A type list the device cannot hash at all is a config error for a multi-queue port.
  rss.key.clear();
  rss.types = {"esp"};
  bad = configure_port(*id, 0, s, rss, {kStunPort}, 2, g_pool);
  EXPECT_NE(bad.message().find("none of the RSS hash types (esp) is supported"), std::string::npos) << bad.message();
  // One queue: no RSS at all, whatever the types.
  auto one = configure_port(*id, 0, s, rss, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(one) << one.message();
  EXPECT_FALSE(one->rss);
}

TEST_F(EalTest, RingPortWithoutRssWarnsAndLimitsQueues) {
  RingPort ring("lim", 2);
  ASSERT_TRUE(ring.ok);
  auto s = lab_port("net_ring_lim");
  auto id = find_port(s, 1);
  ASSERT_TRUE(id) << id.message();
  EXPECT_EQ(*id, ring.port_id);
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

// What a NIC with a 128-entry RETA and our key would do, replayed exactly on
// net_ring: each request goes to RX ring RETA[hash % 128]; its reply must
// leave on TX ring of the same index.
TEST_F(EalTest, QueueAffinityOnRingPort) {
  constexpr unsigned kQueues = 4;
  constexpr size_t kReta = 128;
  RingPort ring("aff", kQueues);
  ASSERT_TRUE(ring.ok);
  auto s = lab_port("net_ring_aff");
  auto port = configure_port(ring.port_id, 0, s, {}, {kStunPort}, kQueues, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  const stun::ResponderConfig stun_cfg;
  auto qs = contexts(*port, stun_cfg, 16);  // small burst: several polls per queue

  std::map<uint32_t, std::pair<test::Flow, unsigned>> sent;  // id -> flow, queue
  std::vector<unsigned> per_queue(kQueues);
  uint32_t id = 1;
  for (int v6 = 0; v6 < 2; ++v6) {
    for (uint16_t i = 0; i < 64; ++i, ++id) {
      test::Flow f;
      f.v6 = v6 != 0;
      f.src = v6 ? kClient6 : kClient4;
      f.dst = v6 ? kServer6 : kServer4;
      f.sport = static_cast<uint16_t>(20000 + i * 97);
      f.dport = kStunPort;
      const unsigned q = reta_queue(test::toeplitz(f, port->rss_key) % kReta, kQueues);
      rte_mbuf* m = mbuf_of(test::binding_request(port->identity.mac, f, id));
      ASSERT_NE(m, nullptr);
      ASSERT_EQ(rte_ring_enqueue(ring.rx[q], m), 0);
      sent[id] = {f, q};
      ++per_queue[q];
    }
  }
  for (unsigned q = 0; q < kQueues; ++q) ASSERT_GT(per_queue[q], 0u) << "flows did not reach queue " << q;

  for (unsigned q = 0; q < kQueues; ++q) {
    for (int polls = 0; polls < 100 && poll_queue(*qs[q]) != 0; ++polls) {
    }
  }
  for (unsigned q = 0; q < kQueues; ++q) {
    EXPECT_EQ(get(*qs[q], Counter::rx_packets), per_queue[q]);
    EXPECT_EQ(get(*qs[q], Counter::tx_packets), per_queue[q]);
    EXPECT_EQ(get(*qs[q], Counter::stun_requests), per_queue[q]);
    EXPECT_EQ(get(*qs[q], Counter::stun_success), per_queue[q]);
    unsigned replies = 0;
    void* obj = nullptr;
    while (rte_ring_dequeue(ring.tx[q], &obj) == 0) {
      rte_mbuf* m = static_cast<rte_mbuf*>(obj);
      const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
      const int64_t rid = test::reply_id(data, m->data_len);
      auto it = sent.find(static_cast<uint32_t>(rid));
      if (it == sent.end()) {
        ADD_FAILURE() << "reply with unknown transaction id on queue " << q;
      } else {
        EXPECT_EQ(it->second.second, q) << "reply to a request of queue " << it->second.second << " left on " << q;
        EXPECT_EQ(test::check_binding_success(data, m->data_len, port->identity.mac, it->second.first,
                                              it->first), "");
        sent.erase(it);
      }
      EXPECT_EQ(m->pkt_len, m->data_len);
      rte_pktmbuf_free(m);
      ++replies;
    }
    EXPECT_EQ(replies, per_queue[q]);
  }
  EXPECT_TRUE(sent.empty()) << sent.size() << " requests unanswered";
}

TEST_F(EalTest, DropsAreCountedAndFreed) {
  RingPort ring("drop", 1);
  ASSERT_TRUE(ring.ok);
  auto s = lab_port("net_ring_drop");
  auto port = configure_port(ring.port_id, 0, s, {}, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  const stun::ResponderConfig stun_cfg;
  auto qs = contexts(*port, stun_cfg);
  test::Flow f{false, kClient4, kServer4, 40000, kStunPort};

  // A valid request split over two segments.
  auto frame = test::binding_request(port->identity.mac, f, 1);
  rte_mbuf* head = mbuf_of(std::vector<uint8_t>(frame.begin(), frame.begin() + 30));
  rte_mbuf* tail = mbuf_of(std::vector<uint8_t>(frame.begin() + 30, frame.end()));
  ASSERT_TRUE(head && tail);
  ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
  ASSERT_EQ(rte_ring_enqueue(ring.rx[0], head), 0);
  // Truncated: shorter than an Ethernet header.
  ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(std::vector<uint8_t>(frame.begin(), frame.begin() + 10))), 0);
  // Not ours: another unicast MAC.
  auto other = test::binding_request({0x02, 0x99, 0x99, 0x99, 0x99, 0x99}, f, 2);
  ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(other)), 0);
  // Not a served UDP port.
  test::Flow g = f;
  g.dport = 9999;
  ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(test::binding_request(port->identity.mac, g, 3))), 0);
  // Truncated inside STUN: IP/UDP lengths no longer match the frame.
  auto cut = test::binding_request(port->identity.mac, f, 4);
  cut.resize(cut.size() - 6);
  ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(cut)), 0);
  // And one good request, which must still be answered.
  ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(test::binding_request(port->identity.mac, f, 5))), 0);

  EXPECT_EQ(poll_queue(*qs[0]), 6);
  const QueueContext& q = *qs[0];
  EXPECT_EQ(get(q, Counter::rx_packets), 6u);
  EXPECT_EQ(get(q, DropReason::mbuf_multi_segment), 1u);
  EXPECT_EQ(get(q, DropReason::eth_too_short), 1u);
  EXPECT_EQ(get(q, DropReason::eth_not_ours), 1u);
  EXPECT_EQ(get(q, DropReason::udp_port_not_served), 1u);
  EXPECT_EQ(get(q, DropReason::ipv4_malformed) + get(q, DropReason::udp_malformed), 1u);
  EXPECT_EQ(get(q, Counter::tx_packets), 1u);
  Snapshot snap;
  snap.add(q.counters);
  EXPECT_EQ(snap.total_drops(), 5u);
  void* obj = nullptr;
  ASSERT_EQ(rte_ring_dequeue(ring.tx[0], &obj), 0);
  rte_mbuf* m = static_cast<rte_mbuf*>(obj);
  EXPECT_EQ(test::check_binding_success(rte_pktmbuf_mtod(m, uint8_t*), m->data_len, port->identity.mac, f, 5), "");
  rte_pktmbuf_free(m);
  EXPECT_NE(rte_ring_dequeue(ring.tx[0], &obj), 0) << "a dropped frame was sent";
}

TEST_F(EalTest, TxRingFullFreesAndCountsUnsent) {
  RingPort ring("full", 1, 4);  // TX ring holds 3
  ASSERT_TRUE(ring.ok);
  auto s = lab_port("net_ring_full");
  auto port = configure_port(ring.port_id, 0, s, {}, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  const stun::ResponderConfig stun_cfg;
  auto qs = contexts(*port, stun_cfg);
  const unsigned cap = rte_ring_get_capacity(ring.tx[0]);
  ASSERT_EQ(cap, 3u);
  constexpr unsigned kRequests = 8;
  for (uint32_t i = 0; i < kRequests; ++i) {
    test::Flow f{false, kClient4, kServer4, static_cast<uint16_t>(30000 + i), kStunPort};
    ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(test::binding_request(port->identity.mac, f, i))), 0);
  }
  EXPECT_EQ(poll_queue(*qs[0]), kRequests);
  EXPECT_EQ(get(*qs[0], Counter::stun_success), kRequests);
  EXPECT_EQ(get(*qs[0], Counter::tx_packets), cap);
  EXPECT_EQ(get(*qs[0], DropReason::tx_ring_full), kRequests - cap);
  EXPECT_EQ(rte_ring_count(ring.tx[0]), cap);
  // Leak check in TearDown: the unsent replies were freed, the sent ones are drained by ~RingPort.
}

TEST_F(EalTest, WorkerLcoreServesUntilStopped) {
  const unsigned worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
  if (worker >= RTE_MAX_LCORE) GTEST_SKIP() << "EAL has no worker lcore";
  RingPort ring("lc", 2);
  ASSERT_TRUE(ring.ok);
  auto s = lab_port("net_ring_lc");
  auto port = configure_port(ring.port_id, 0, s, {}, {kStunPort}, 2, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  const stun::ResponderConfig stun_cfg;
  auto qs = contexts(*port, stun_cfg);
  std::atomic<bool> stop{false};
  LcoreWork work;
  work.lcore = worker;
  work.idle = config::Idle::adaptive;
  work.stop = &stop;
  SourceSketch sketch;  // the lcore records and publishes it itself
  work.sources = &sketch;
  for (auto& q : qs) {
    q->sources = &sketch;
    work.queues.push_back(q.get());
  }
  ASSERT_EQ(rte_eal_remote_launch(lcore_main, &work, worker), 0);

  constexpr unsigned kPerQueue = 20;
  for (unsigned q = 0; q < 2; ++q) {
    for (uint32_t i = 0; i < kPerQueue; ++i) {
      test::Flow f{q == 1, q == 1 ? kClient6 : kClient4, q == 1 ? kServer6 : kServer4,
                   static_cast<uint16_t>(1024 + i), kStunPort};
      rte_mbuf* m = mbuf_of(test::binding_request(port->identity.mac, f, i));
      ASSERT_NE(m, nullptr);
      // Single producer ring, consumer is the worker: safe across threads.
      while (rte_ring_enqueue(ring.rx[q], m) != 0) std::this_thread::yield();
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((rte_ring_count(ring.tx[0]) < kPerQueue || rte_ring_count(ring.tx[1]) < kPerQueue) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop.store(true);
  EXPECT_EQ(rte_eal_wait_lcore(worker), 0);
  EXPECT_EQ(rte_ring_count(ring.tx[0]), kPerQueue);
  EXPECT_EQ(rte_ring_count(ring.tx[1]), kPerQueue);
  EXPECT_EQ(get(*qs[0], Counter::stun_success), kPerQueue);
  EXPECT_EQ(get(*qs[1], Counter::stun_success), kPerQueue);
  // Published by the lcore every kPollsPerStopCheck polls and once more
  // when it stops, so both sources show.
  uint64_t total = 0;
  const auto top = merge_top_sources({sketch.read()}, 10, total);
  EXPECT_EQ(total, 2u * kPerQueue);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].count, kPerQueue);
  EXPECT_EQ(top[1].count, kPerQueue);
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
  RingPort ring("swap", 1);
  ASSERT_TRUE(ring.ok);
  auto s = lab_port("net_ring_swap");
  auto port = configure_port(ring.port_id, 0, s, {}, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  const stun::ResponderConfig with{stun::FingerprintPolicy::always, true, "swap-test"};
  const stun::ResponderConfig without{stun::FingerprintPolicy::never, true, ""};
  auto qs = contexts(*port, with);
  test::Flow f{false, kClient4, kServer4, 40000, kStunPort};
  constexpr uint16_t kFingerprint = 0x8028, kSoftware = 0x8022, kXorMapped = 0x0020;

  auto one_reply = [&](uint32_t id) {
    EXPECT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(test::binding_request(port->identity.mac, f, id))), 0);
    EXPECT_EQ(poll_queue(*qs[0]), 1);
    void* obj = nullptr;
    std::vector<uint16_t> attrs;
    if (rte_ring_dequeue(ring.tx[0], &obj) != 0) return attrs;
    rte_mbuf* m = static_cast<rte_mbuf*>(obj);
    attrs = reply_attributes(m);
    rte_pktmbuf_free(m);
    return attrs;
  };
  auto a = one_reply(1);
  EXPECT_TRUE(has(a, kXorMapped));
  EXPECT_TRUE(has(a, kFingerprint));
  EXPECT_TRUE(has(a, kSoftware));
  qs[0]->stun.store(&without, std::memory_order_release);
  a = one_reply(2);
  EXPECT_TRUE(has(a, kXorMapped));
  EXPECT_FALSE(has(a, kFingerprint));
  EXPECT_FALSE(has(a, kSoftware));
  qs[0]->stun.store(&with, std::memory_order_release);
  a = one_reply(3);
  EXPECT_TRUE(has(a, kFingerprint));
  EXPECT_EQ(get(*qs[0], Counter::stun_success), 3u);
}

// "show top sources" in dpdk mode: the lcore records each answered request's
// source (read back from the reply's destination) and publishes on demand.
TEST_F(EalTest, AnsweredRequestSourcesAreRecorded) {
  RingPort ring("src", 1);
  ASSERT_TRUE(ring.ok);
  auto s = lab_port("net_ring_src");
  auto port = configure_port(ring.port_id, 0, s, {}, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  const stun::ResponderConfig stun_cfg;
  auto qs = contexts(*port, stun_cfg);
  SourceSketch sketch;
  qs[0]->sources = &sketch;
  std::array<uint8_t, 16> other6 = kClient6;
  other6[7] = 9;  // another /64
  other6[15] = 77;
  for (uint32_t i = 0; i < 6; ++i) {
    test::Flow f{false, kClient4, kServer4, static_cast<uint16_t>(20000 + i), kStunPort};
    ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(test::binding_request(port->identity.mac, f, i))), 0);
  }
  for (uint32_t i = 0; i < 2; ++i) {
    test::Flow f{true, other6, kServer6, static_cast<uint16_t>(21000 + i), kStunPort};
    ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(test::binding_request(port->identity.mac, f, 100 + i))), 0);
  }
  // Dropped (port not served): not a source of answered requests.
  test::Flow g{false, kClient4, kServer4, 20000, 9999};
  ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(test::binding_request(port->identity.mac, g, 50))), 0);
  EXPECT_EQ(poll_queue(*qs[0]), 9);
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
std::vector<uint8_t> arp_request(const std::array<uint8_t, 16>& sender, const std::array<uint8_t, 16>& target) {
  std::vector<uint8_t> f(42, 0);
  std::fill(f.begin(), f.begin() + 6, 0xff);
  std::copy(test::kClientMac.begin(), test::kClientMac.end(), f.begin() + 6);
  f[12] = 0x08, f[13] = 0x06;                     // EtherType ARP
  f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0;  // Ethernet / IPv4
  f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1;     // lengths, op request
  std::copy(test::kClientMac.begin(), test::kClientMac.end(), f.begin() + 22);
  std::copy(sender.begin(), sender.begin() + 4, f.begin() + 28);
  std::copy(target.begin(), target.begin() + 4, f.begin() + 38);
  return f;
}

size_t drain_tx(rte_ring* tx) {
  size_t n = 0;
  void* obj = nullptr;
  while (rte_ring_dequeue(tx, &obj) == 0) {
    rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    ++n;
  }
  return n;
}

// lib/limits on the DPDK path: checks run after the rewrite on the reply's
// destination (the request's source); denied replies are freed, not sent.
TEST_F(EalTest, AbuseControlsDropWithTheirReasons) {
  RingPort ring("abuse", 1);
  ASSERT_TRUE(ring.ok);
  auto s = lab_port("net_ring_abuse");
  auto port = configure_port(ring.port_id, 0, s, {}, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  const stun::ResponderConfig stun_cfg;
  auto qs = contexts(*port, stun_cfg);
  config::LimitsSection lc;  // default deny_source_ports
  lc.rate.pps = 1;
  lc.rate.burst = 2;
  config::IpPrefix denied;
  denied.ip.bytes = {198, 18, 0, 9};
  denied.length = 32;
  lc.deny = {denied};
  const limits::Policy policy(lc);
  limits::Limiter limiter(1024);
  qs[0]->limits.store(&policy);
  qs[0]->limiter = &limiter;
  std::array<uint8_t, 16> denied_src = kClient4;
  denied_src[3] = 9;
  std::vector<std::vector<uint8_t>> frames;
  frames.push_back(test::binding_request(port->identity.mac, {false, kClient4, kServer4, 53, kStunPort}, 1));
  frames.push_back(test::binding_request(port->identity.mac, {false, kClient4, kServer4, 123, kStunPort}, 2));
  frames.push_back(test::binding_request(port->identity.mac, {false, denied_src, kServer4, 40000, kStunPort}, 3));
  // Five from one source over five ports: burst 2 answered, 3 rate limited.
  for (uint32_t i = 0; i < 5; ++i)
    frames.push_back(test::binding_request(port->identity.mac,
                                           {false, kClient4, kServer4, static_cast<uint16_t>(41000 + i), kStunPort},
                                           10 + i));
  for (const auto& f : frames) ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(f)), 0);
  EXPECT_EQ(poll_queue(*qs[0]), frames.size());
  const QueueContext& q = *qs[0];
  EXPECT_EQ(get(q, DropReason::source_port_denied), 2u);
  EXPECT_EQ(get(q, DropReason::acl_denied), 1u);
  EXPECT_EQ(get(q, DropReason::rate_limited), 3u);
  EXPECT_EQ(get(q, Counter::stun_success), 2u);
  EXPECT_EQ(get(q, Counter::tx_packets), 2u);
  EXPECT_EQ(drain_tx(ring.tx[0]), 2u);
}

TEST_F(EalTest, L3RepliesArePolicedPerLcore) {
  RingPort ring("l3p", 1);
  ASSERT_TRUE(ring.ok);
  auto s = lab_port("net_ring_l3p");
  auto port = configure_port(ring.port_id, 0, s, {}, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  const stun::ResponderConfig stun_cfg;
  auto qs = contexts(*port, stun_cfg);
  config::LimitsSection lc;
  lc.l3_pps = 30;  // burst: a tenth of a second's worth = 3
  const limits::Policy policy(lc);
  limits::Limiter limiter(1024);
  limits::LocalBucket l3;
  qs[0]->limits.store(&policy);
  qs[0]->limiter = &limiter;
  qs[0]->l3_bucket = &l3;
  constexpr unsigned kArps = 10;
  for (unsigned i = 0; i < kArps; ++i) ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(arp_request(kClient4, kServer4))), 0);
  // STUN is not an L3 reply: not policed by l3_pps.
  ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(test::binding_request(
                                             port->identity.mac, {false, kClient4, kServer4, 40000, kStunPort}, 1))),
            0);
  EXPECT_EQ(poll_queue(*qs[0]), kArps + 1);
  const QueueContext& q = *qs[0];
  // One burst, one clock read: exactly the burst passes.
  EXPECT_EQ(get(q, Counter::arp_replies), 3u);
  EXPECT_EQ(get(q, DropReason::l3_policed), kArps - 3);
  EXPECT_EQ(get(q, Counter::stun_success), 1u);
  EXPECT_EQ(drain_tx(ring.tx[0]), 4u);
}

// Reload swaps QueueContext::limits; the lcore uses the new policy from its next burst.
TEST_F(EalTest, LimitsPolicySwapTakesEffectAtTheNextBurst) {
  RingPort ring("limswap", 1);
  ASSERT_TRUE(ring.ok);
  auto s = lab_port("net_ring_limswap");
  auto port = configure_port(ring.port_id, 0, s, {}, {kStunPort}, 1, g_pool);
  ASSERT_TRUE(port) << port.message();
  ASSERT_TRUE(start_port(*port, 100));
  const stun::ResponderConfig stun_cfg;
  auto qs = contexts(*port, stun_cfg);
  config::LimitsSection open_cfg;
  open_cfg.deny_source_ports.clear();
  const limits::Policy open_policy(open_cfg);
  const limits::Policy default_policy(config::LimitsSection{});
  limits::Limiter limiter(1024);
  qs[0]->limiter = &limiter;
  qs[0]->limits.store(&open_policy, std::memory_order_release);
  const test::Flow from_dns{false, kClient4, kServer4, 53, kStunPort};
  ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(test::binding_request(port->identity.mac, from_dns, 1))), 0);
  EXPECT_EQ(poll_queue(*qs[0]), 1);
  EXPECT_EQ(get(*qs[0], Counter::stun_success), 1u);
  qs[0]->limits.store(&default_policy, std::memory_order_release);
  ASSERT_EQ(rte_ring_enqueue(ring.rx[0], mbuf_of(test::binding_request(port->identity.mac, from_dns, 2))), 0);
  EXPECT_EQ(poll_queue(*qs[0]), 1);
  EXPECT_EQ(get(*qs[0], Counter::stun_success), 1u);
  EXPECT_EQ(get(*qs[0], DropReason::source_port_denied), 1u);
  EXPECT_EQ(drain_tx(ring.tx[0]), 1u);
}

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
