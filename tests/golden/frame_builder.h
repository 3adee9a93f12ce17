// Test-only frame crafting and checking: builds Ethernet/VLAN/IPv4/IPv6/UDP/ICMP/NDP/ARP/STUN bytes independently of lib/frame.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace stunbox::golden {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using Ip4 = std::array<uint8_t, 4>;
using Ip6 = std::array<uint8_t, 16>;

// Deliberately naive (byte pairs, 32-bit accumulator): an oracle that shares
// no code with lib/frame/checksum.cc.
uint16_t ref_checksum(const Bytes& data, uint32_t initial = 0);
uint32_t ref_sum(const uint8_t* p, size_t n);
uint32_t ref_pseudo4(const Ip4& src, const Ip4& dst, uint8_t proto, size_t len);
uint32_t ref_pseudo6(const Ip6& src, const Ip6& dst, uint8_t next, size_t len);
uint32_t ref_crc32(const uint8_t* p, size_t n);

Ip6 ip6(const std::string& text);
Bytes cat(std::initializer_list<Bytes> parts);
void put16(Bytes& b, uint16_t v);
void put32(Bytes& b, uint32_t v);

// Ethernet with an optional 802.1Q tag (vlan < 0: none).
Bytes eth(const Mac& dst, const Mac& src, uint16_t type, const Bytes& payload, int vlan = -1);

struct Ip4Opts {
  uint8_t tos = 0;
  uint16_t id = 0x1234;
  uint16_t frag = 0;  // flags + offset
  uint8_t ttl = 64;
  Bytes options;      // multiple of 4
  int total_len = -1; // override the total length field
  bool bad_csum = false;
  uint8_t version = 4;
};
Bytes ipv4(const Ip4& src, const Ip4& dst, uint8_t proto, const Bytes& payload, const Ip4Opts& o = {});

struct Ip6Opts {
  uint8_t hop = 64;
  int payload_len = -1;
  uint8_t version = 6;
};
Bytes ipv6(const Ip6& src, const Ip6& dst, uint8_t next, const Bytes& payload, const Ip6Opts& o = {});

// UDP with a correct checksum unless csum_override >= 0.
Bytes udp4(const Ip4& src, const Ip4& dst, uint16_t sport, uint16_t dport, const Bytes& payload,
           int csum_override = -1, int len_override = -1);
Bytes udp6(const Ip6& src, const Ip6& dst, uint16_t sport, uint16_t dport, const Bytes& payload,
           int csum_override = -1);

Bytes icmp4(uint8_t type, uint8_t code, const Bytes& body, bool bad_csum = false);
Bytes icmp6(const Ip6& src, const Ip6& dst, uint8_t type, uint8_t code, const Bytes& body, bool bad_csum = false);

Bytes arp(uint16_t op, const Mac& sha, const Ip4& spa, const Mac& tha, const Ip4& tpa);

// NDP bodies (after type/code/checksum).
Bytes ns_body(const Ip6& target, const Bytes& options = {});
Bytes na_body(uint32_t flags, const Ip6& target, const Mac& tlla);
Bytes lla_option(uint8_t type, const Mac& mac);
Ip6 solicited_node(const Ip6& a);
Mac multicast_mac(const Ip6& a);

// STUN: an RFC 5389/8489 Binding request (with optional FINGERPRINT) and the
// RFC 3489 classic form (16-byte transaction id, no cookie).
// `attrs` are whole attributes (see stun_attr) placed before FINGERPRINT.
Bytes stun_request(const std::array<uint8_t, 12>& txid, bool fingerprint, const Bytes& attrs = {});
Bytes stun_classic_request(const std::array<uint8_t, 16>& txid, const Bytes& attrs = {});
// One attribute: type, length, value, zero padding to 4 bytes.
Bytes stun_attr(uint16_t type, const Bytes& value);
// The responses RFC 8489 s14.2 / s14.7 and RFC 3489 s11.2.1 prescribe.
Bytes stun_success(const std::array<uint8_t, 12>& txid, bool v6, const uint8_t* addr, uint16_t port, bool fingerprint);
Bytes stun_classic_success(const std::array<uint8_t, 16>& txid, const Ip4& addr, uint16_t port);
// 420 Unknown Attribute listing `unknown` (RFC 8489 s14.8-9), and its RFC 3489
// s11.2.9-10 form (phrase padded with spaces inside the length, an odd list
// repeats its last type, never FINGERPRINT).
Bytes stun_error_420(const std::array<uint8_t, 12>& txid, const std::vector<uint16_t>& unknown, bool fingerprint);
Bytes stun_classic_error_420(const std::array<uint8_t, 16>& txid, const std::vector<uint16_t>& unknown);

// Independent check of a reply frame: every IPv4 header checksum and
// UDP/ICMP/ICMPv6 checksum in it is valid. Returns "" or a description.
std::string check_checksums(const uint8_t* frame, size_t len);

// Turns a software-checksum UDP reply into what the offload variant must
// produce: IPv4 header checksum 0, UDP checksum = folded pseudo-header seed.
Bytes to_offload_form(const Bytes& reply);
// Simulates the NIC completing an offload-form frame (inverse of the above).
Bytes complete_offload(const Bytes& frame, size_t l2_len, size_t l3_len, bool ipv6);

std::string hex(const uint8_t* p, size_t n);

}  // namespace stunbox::golden
