// The flow rules of steering: flow (mlx5 bifurcated): what they match and where they send it, as plain data.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "frame/reflect.h"

namespace stunbox::dpdk {

// One pattern item. Every pattern starts with `eth` (no spec: any MAC; the
// kernel's netdev shares the MAC) and ends with `udp`.
enum class FlowItemType : uint8_t { eth, vlan, ipv4, ipv6, udp };
struct FlowItem {
  FlowItemType type = FlowItemType::eth;
  uint16_t vlan_id = 0;          // vlan: the VID, matched under mask 0x0fff
  std::array<uint8_t, 16> dst{};  // ipv4 (first 4 bytes), ipv6: the destination, matched exactly
  uint16_t dst_port = 0;          // udp: the destination port, matched exactly (host order)
  bool operator==(const FlowItem&) const = default;
};

// One queue: QUEUE; several: RSS over them (in isolation mlx5 has no RETA or
// RSS update calls, so the spread lives in the rule).
enum class FlowActionType : uint8_t { queue, rss };
struct FlowRule {
  std::vector<FlowItem> pattern;
  FlowActionType action = FlowActionType::queue;
  std::vector<uint16_t> queues;  // queue: one entry; rss: every queue of the port, in order
  bool operator==(const FlowRule&) const = default;
};

// The rules that send UDP to each served port at each owned address (the
// identity's stun_ports, RFC 5780 ports included) to the port's `queues`:
// one rule per (address, port), IPv4 before IPv6, in address then port order.
// Error when there is nothing to steer (no address, no port) or no queue.
Result<std::vector<FlowRule>> build_flow_rules(const frame::PortIdentity& identity, uint16_t queues);

// testpmd's syntax, so an operator can compare it with `flow list` or replay it:
// "pattern eth / vlan vid is 100 / ipv4 dst is 198.18.0.2 / udp dst is 3478 / end actions queue index 0 / end".
std::string to_string(const FlowRule& rule);

}  // namespace stunbox::dpdk
