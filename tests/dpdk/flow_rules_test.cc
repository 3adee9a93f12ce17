// The flow rules of steering: flow (lib/dpdk/flow_rules), built for every config shape without a device.
#include "dpdk/flow_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stunbox::dpdk {
namespace {

std::array<uint8_t, 4> v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }
std::array<uint8_t, 16> v6(const char* text) { return IpAddress::parse(text)->bytes; }

frame::PortIdentity identity(std::vector<std::array<uint8_t, 4>> a4, std::vector<const char*> a6,
                             std::vector<uint16_t> ports, int vlan = -1) {
  frame::PortIdentity id;
  for (const auto& a : a4) id.add_v4(a);
  for (const char* a : a6) id.add_v6(v6(a));
  for (uint16_t p : ports) id.stun_ports.set(p);
  id.vlan = vlan;
  return id;
}

std::vector<std::string> texts(const std::vector<FlowRule>& rules) {
  std::vector<std::string> out;
  for (const FlowRule& r : rules) out.push_back(to_string(r));
  return out;
}

TEST(FlowRules, OneQueueIPv4OnePortIsOneQueueRule) {
  auto rules = build_flow_rules(identity({v4(198, 18, 0, 2)}, {}, {3478}), 1);
  ASSERT_TRUE(rules) << rules.message();
  ASSERT_EQ(rules->size(), 1u);
  const FlowRule& r = rules->front();
  ASSERT_EQ(r.pattern.size(), 3u);
  EXPECT_EQ(r.pattern[0].type, FlowItemType::eth);  // every pattern starts with eth (net_tap needs it)
  EXPECT_EQ(r.pattern[1].type, FlowItemType::ipv4);
  EXPECT_EQ(r.pattern[1].dst[0], 198);
  EXPECT_EQ(r.pattern[1].dst[3], 2);
  EXPECT_EQ(r.pattern[2].type, FlowItemType::udp);
  EXPECT_EQ(r.pattern[2].dst_port, 3478);
  EXPECT_EQ(r.action, FlowActionType::queue);
  EXPECT_EQ(r.queues, std::vector<uint16_t>{0});
  EXPECT_EQ(to_string(r), "pattern eth / ipv4 dst is 198.18.0.2 / udp dst is 3478 / end actions queue index 0 / end");
}

TEST(FlowRules, EveryAddressTimesEveryPortIPv4First) {
  auto rules = build_flow_rules(
      identity({v4(198, 18, 0, 2), v4(198, 18, 0, 100)}, {"2001:2::2", "2001:2::100"}, {3479, 3478}), 1);
  ASSERT_TRUE(rules) << rules.message();
  EXPECT_EQ(texts(*rules),
            (std::vector<std::string>{
                "pattern eth / ipv4 dst is 198.18.0.2 / udp dst is 3478 / end actions queue index 0 / end",
                "pattern eth / ipv4 dst is 198.18.0.2 / udp dst is 3479 / end actions queue index 0 / end",
                "pattern eth / ipv4 dst is 198.18.0.100 / udp dst is 3478 / end actions queue index 0 / end",
                "pattern eth / ipv4 dst is 198.18.0.100 / udp dst is 3479 / end actions queue index 0 / end",
                "pattern eth / ipv6 dst is 2001:2::2 / udp dst is 3478 / end actions queue index 0 / end",
                "pattern eth / ipv6 dst is 2001:2::2 / udp dst is 3479 / end actions queue index 0 / end",
                "pattern eth / ipv6 dst is 2001:2::100 / udp dst is 3478 / end actions queue index 0 / end",
                "pattern eth / ipv6 dst is 2001:2::100 / udp dst is 3479 / end actions queue index 0 / end",
            }));
}

TEST(FlowRules, IPv6OnlyMatchesTheWholeAddress) {
  auto rules = build_flow_rules(identity({}, {"2001:2::abcd:3"}, {3478}), 1);
  ASSERT_TRUE(rules) << rules.message();
  ASSERT_EQ(rules->size(), 1u);
  const FlowItem& ip = rules->front().pattern[1];
  EXPECT_EQ(ip.type, FlowItemType::ipv6);
  EXPECT_EQ(ip.dst, v6("2001:2::abcd:3"));
}

TEST(FlowRules, SeveralQueuesSpreadByRssOverAllOfThem) {
  auto rules = build_flow_rules(identity({v4(198, 18, 0, 2)}, {"2001:2::2"}, {3478}), 4);
  ASSERT_TRUE(rules) << rules.message();
  ASSERT_EQ(rules->size(), 2u);
  for (const FlowRule& r : *rules) {
    EXPECT_EQ(r.action, FlowActionType::rss);
    EXPECT_EQ(r.queues, (std::vector<uint16_t>{0, 1, 2, 3}));
  }
  EXPECT_EQ(to_string(rules->front()),
            "pattern eth / ipv4 dst is 198.18.0.2 / udp dst is 3478 / end actions rss queues 0 1 2 3 end / end");
}

TEST(FlowRules, VlanPortMatchesItsVidAfterEth) {
  auto rules = build_flow_rules(identity({v4(198, 18, 0, 2)}, {"2001:2::2"}, {3478}, 100), 1);
  ASSERT_TRUE(rules) << rules.message();
  ASSERT_EQ(rules->size(), 2u);
  for (const FlowRule& r : *rules) {
    ASSERT_EQ(r.pattern.size(), 4u);
    EXPECT_EQ(r.pattern[0].type, FlowItemType::eth);
    EXPECT_EQ(r.pattern[1].type, FlowItemType::vlan);
    EXPECT_EQ(r.pattern[1].vlan_id, 100);
  }
  EXPECT_EQ(to_string((*rules)[1]),
            "pattern eth / vlan vid is 100 / ipv6 dst is 2001:2::2 / udp dst is 3478 / end actions queue index 0 / end");
}

TEST(FlowRules, Rfc5780PortsAreServedPortsToo) {
  // The backend sets the pair's ports in stun_ports (both primary and alternate); each gets its rules.
  auto rules = build_flow_rules(identity({v4(198, 18, 0, 4), v4(198, 18, 0, 5)}, {}, {3478, 3479}), 2);
  ASSERT_TRUE(rules) << rules.message();
  EXPECT_EQ(rules->size(), 4u);
}

TEST(FlowRules, NothingToSteerIsAnError) {
  EXPECT_EQ(build_flow_rules(identity({}, {}, {3478}), 1).message(), "no address to steer");
  EXPECT_EQ(build_flow_rules(identity({v4(198, 18, 0, 2)}, {}, {}), 1).message(), "no UDP port to steer");
  EXPECT_EQ(build_flow_rules(identity({v4(198, 18, 0, 2)}, {}, {3478}), 0).message(), "no queue to steer to");
}

TEST(FlowRules, ManyAddressesAndPortsAllCovered) {
  std::vector<std::array<uint8_t, 4>> a4;
  for (uint8_t i = 1; i <= frame::kMaxPortAddresses; ++i) a4.push_back(v4(198, 18, 0, i));
  auto rules = build_flow_rules(identity(a4, {}, {3478, 3479, 5349}), 8);
  ASSERT_TRUE(rules) << rules.message();
  EXPECT_EQ(rules->size(), frame::kMaxPortAddresses * 3);
}

}  // namespace
}  // namespace stunbox::dpdk
