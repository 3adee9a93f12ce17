// The flow rules of steering: flow, built from the port's identity alone (no device), so tests cover every shape.
#include "dpdk/flow_rules.h"

#include "core/address.h"

namespace stunbox::dpdk {
namespace {

std::string item_text(const FlowItem& i) {
  switch (i.type) {
    case FlowItemType::eth:
      return "eth";
    case FlowItemType::vlan:
      return "vlan vid is " + std::to_string(i.vlan_id);
    case FlowItemType::ipv4:
    case FlowItemType::ipv6: {
      const bool v6 = i.type == FlowItemType::ipv6;
      return std::string(v6 ? "ipv6" : "ipv4") + " dst is " + IpAddress{v6, i.dst}.to_string();
    }
    case FlowItemType::udp:
      return "udp dst is " + std::to_string(i.dst_port);
  }
  return "?";
}

}  // namespace

Result<std::vector<FlowRule>> build_flow_rules(const frame::PortIdentity& identity, uint16_t queues) {
  if (queues == 0) return Error{"no queue to steer to"};
  if (identity.n_v4 + identity.n_v6 == 0) return Error{"no address to steer"};
  if (identity.stun_ports.none()) return Error{"no UDP port to steer"};
  std::vector<uint16_t> all(queues);
  for (uint16_t q = 0; q < queues; ++q) all[q] = q;
  const FlowActionType action = queues > 1 ? FlowActionType::rss : FlowActionType::queue;

  std::vector<FlowRule> rules;
  auto add = [&](FlowItemType family, const uint8_t* addr, size_t addr_len) {
    for (size_t port = 0; port < identity.stun_ports.size(); ++port) {
      if (!identity.stun_ports.test(port)) continue;
      FlowRule r;
      r.pattern.push_back({.type = FlowItemType::eth});
      if (identity.vlan >= 0) r.pattern.push_back({.type = FlowItemType::vlan, .vlan_id = static_cast<uint16_t>(identity.vlan)});
      FlowItem ip{.type = family};
      std::copy(addr, addr + addr_len, ip.dst.begin());
      r.pattern.push_back(ip);
      r.pattern.push_back({.type = FlowItemType::udp, .dst_port = static_cast<uint16_t>(port)});
      r.action = action;
      r.queues = action == FlowActionType::rss ? all : std::vector<uint16_t>{0};
      rules.push_back(std::move(r));
    }
  };
  for (size_t i = 0; i < identity.n_v4; ++i) add(FlowItemType::ipv4, identity.v4[i].data(), 4);
  for (size_t i = 0; i < identity.n_v6; ++i) add(FlowItemType::ipv6, identity.v6[i].data(), 16);
  return rules;
}

std::string to_string(const FlowRule& rule) {
  std::string out = "pattern";
  for (const FlowItem& i : rule.pattern) {
    out += ' ';
    out += item_text(i);
    out += " /";
  }
  out += " end actions ";
  if (rule.action == FlowActionType::queue) {
    out += "queue index " + std::to_string(rule.queues.empty() ? 0 : rule.queues.front());
  } else {
    out += "rss queues";
    for (uint16_t q : rule.queues) {
      out += ' ';
      out += std::to_string(q);
    }
    out += " end";
  }
  return out + " / end";
}

}  // namespace stunbox::dpdk
