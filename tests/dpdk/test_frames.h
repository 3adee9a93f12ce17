// Test helpers: build STUN Binding request and ICMP/ICMPv6 frames (IPv4/IPv6, correct checksums) and check Binding success replies.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace stunbox::dpdk::test {

struct Flow {
  bool v6 = false;
  std::array<uint8_t, 16> src{};  // IPv4 in the first 4 bytes
  std::array<uint8_t, 16> dst{};
  uint16_t sport = 0;
  uint16_t dport = 0;
};

inline constexpr std::array<uint8_t, 6> kClientMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

// Ethernet + IPv4/IPv6 + UDP + 20-byte STUN Binding request (RFC 8489,
// magic cookie) with transaction id derived from `id`; checksums correct.
std::vector<uint8_t> binding_request(const std::array<uint8_t, 6>& dst_mac, const Flow& f, uint32_t id);

// Ethernet + IPv4/ICMP or IPv6/ICMPv6 (hop limit 255, as NDP requires) from
// the client to f.dst: an ICMP message of `type`, code 0, `body` after its
// checksum; checksums correct. f's ports are not used.
std::vector<uint8_t> icmp_message(const std::array<uint8_t, 6>& dst_mac, const Flow& f, uint8_t type,
                                  const std::vector<uint8_t>& body);

// Checks that frame is the Binding success reply to the request for f/id
// sent to a port with `port_mac`: addresses and ports swapped, IP/UDP
// checksums valid, XOR-MAPPED-ADDRESS = f's source. Returns "" or what is wrong.
std::string check_binding_success(const uint8_t* frame, size_t len, const std::array<uint8_t, 6>& port_mac,
                                  const Flow& f, uint32_t id);

// Transaction id word of a reply (the `id` the request was built with), or -1.
int64_t reply_id(const uint8_t* frame, size_t len);

// The RSS hash a NIC computes over f's 4-tuple (Toeplitz, rte_softrss).
uint32_t toeplitz(const Flow& f, const std::vector<uint8_t>& key);

}  // namespace stunbox::dpdk::test
