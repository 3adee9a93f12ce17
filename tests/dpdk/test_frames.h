// DPDK test flows: a client's request flow, its Binding request and ICMP frames (built with tests/support/packet.h), the reply checker and the RSS hash.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/address.h"
#include "packet.h"

namespace stunbox::dpdk::test {

using pkt::Bytes;

// A request flow: the client and the port's address it asks.
struct Flow {
  Endpoint src;  // the client
  Endpoint dst;  // the port
  bool v6() const { return src.ip.v6; }
};

inline constexpr pkt::Mac kClientMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

// Ethernet + IPv4/IPv6 + UDP + 20-byte STUN Binding request (RFC 8489,
// magic cookie) with transaction id "STUNtest" + `id`; checksums correct.
Bytes binding_request(const pkt::Mac& dst_mac, const Flow& f, uint32_t id);

// Ethernet + IPv4 or IPv6 (TTL / hop limit 255, as NDP requires) from the
// client to f.dst, for an ICMP, ICMPv6 or NDP message to follow
// (`.icmp(8, 0, body)`, `.ns(target, options)`). f's ports are not used.
pkt::Packet from_client(const pkt::Mac& dst_mac, const Flow& f);

// Checks that frame is the Binding success reply to the request for f/id
// sent to a port with `port_mac`: addresses and ports swapped, IP/UDP
// checksums valid, XOR-MAPPED-ADDRESS = f's source. Returns "" or what is wrong.
std::string check_binding_success(const uint8_t* frame, size_t len, const pkt::Mac& port_mac, const Flow& f, uint32_t id);

// Transaction id word of a reply (the `id` the request was built with), or -1.
int64_t reply_id(const uint8_t* frame, size_t len);

// The RSS hash a NIC computes over f's 4-tuple (Toeplitz, rte_softrss).
uint32_t toeplitz(const Flow& f, const std::vector<uint8_t>& key);

}  // namespace stunbox::dpdk::test
