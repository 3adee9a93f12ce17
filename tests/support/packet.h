// The tests' and benches' one packet vocabulary: a chained frame builder (katran's PacketBuilder style), a STUN message builder, and reference oracles written from the RFCs, independent of lib/frame and lib/stun.
//
//   Bytes f = Packet()
//                 .eth(kOurMac, kPeerMac)
//                 .ipv4({.src = kPeer4, .dst = kOur4, .ttl = 1})
//                 .udp(40000, 3478)
//                 .stun(Stun().txid(kTxid).attr(0x0003, {0, 0, 0, 0}).fingerprint());
//
// Every length and checksum is computed when the bytes are asked for, from
// the layers as given; the fields that let a test lie (a checksum, a length,
// a version, a truncation, a patch) are explicit.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"

namespace stunbox::pkt {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using TxId = std::array<uint8_t, 12>;         // RFC 8489 transaction id
using ClassicTxId = std::array<uint8_t, 16>;  // RFC 3489 transaction id (no magic cookie)

// ---- addresses -------------------------------------------------------------

// "198.18.0.2" or "2001:2::2"; throws std::invalid_argument on anything else.
IpAddress ip(std::string_view text);
// "198.18.0.2:3478" or "[2001:2::2]:3478"; throws likewise.
Endpoint endpoint(std::string_view text);
// ff02::1:ffXX:XXXX for a (RFC 4291 s2.7.1) and its Ethernet group 33:33:xx:xx:xx:xx (RFC 2464 s7).
IpAddress solicited_node(const IpAddress& a);
Mac multicast_mac(const IpAddress& a);
// fe80::/64 with the modified EUI-64 interface id of mac (RFC 4291 s2.5.1, appendix A).
IpAddress eui64_link_local(const Mac& mac);

// ---- bytes -----------------------------------------------------------------

Bytes cat(std::initializer_list<Bytes> parts);
void put16(Bytes& b, uint16_t v);
void put32(Bytes& b, uint32_t v);
uint16_t get16(const uint8_t* p);
uint32_t get32(const uint8_t* p);
// Hex digits, spaces and separators ignored: "2112 a442".
Bytes from_hex(std::string_view hex);
// Compact lower-case hex ("2112a442"), and a dump in lines of 16 bytes for failure messages.
std::string to_hex(const uint8_t* p, size_t n);
inline std::string to_hex(const Bytes& b) { return to_hex(b.data(), b.size()); }
std::string hex_dump(const uint8_t* p, size_t n);

// ---- reference oracles: deliberately naive, sharing no code with lib/ ------

uint32_t ref_sum(const uint8_t* p, size_t n);                    // RFC 1071 sum of 16-bit words, unfolded
uint16_t ref_checksum(const Bytes& data, uint32_t initial = 0);  // ~fold(sum + initial)
uint16_t ref_fold(uint32_t sum);
// RFC 768 / RFC 8200 s8.1 pseudo-header sum for src -> dst.
uint32_t ref_pseudo(const IpAddress& src, const IpAddress& dst, uint8_t proto, size_t len);
uint32_t ref_crc32(const uint8_t* p, size_t n);  // bit-at-a-time CRC-32/ISO-HDLC

// Every IPv4 header checksum and UDP/ICMP/ICMPv6 checksum in the frame is
// valid and the lengths agree with the frame. Returns "" or what is wrong.
std::string check_checksums(const uint8_t* frame, size_t len);
// A software-checksum UDP reply as the TX-offload variant must leave it:
// IPv4 header checksum 0, UDP checksum = folded pseudo-header seed.
Bytes to_offload_form(const Bytes& reply);
// What the NIC puts on the wire for an offload-form frame (inverse of the above).
Bytes complete_offload(const Bytes& frame, size_t l2_len, size_t l3_len, bool ipv6);

// ---- STUN ------------------------------------------------------------------

inline constexpr uint16_t kBindingRequest = 0x0001;
inline constexpr uint16_t kBindingSuccess = 0x0101;
inline constexpr uint16_t kBindingError = 0x0111;
inline constexpr uint32_t kMagicCookie = 0x2112A442;

// A STUN message, attribute by attribute (RFC 8489 s5, s14; RFC 3489 s11).
// The header's length field always counts every attribute appended.
class Stun {
 public:
  // RFC 8489 header: type, magic cookie, transaction id 10 11 .. 1b.
  explicit Stun(uint16_t type = kBindingRequest);
  // A whole message to build on (header and attributes); its length field is set to what it holds.
  explicit Stun(const Bytes& whole);

  Stun& txid(const TxId& id);
  Stun& txid(const uint8_t* id12);
  // RFC 3489 header: a 16-byte transaction id where the cookie was (a0 a1 .. af by default).
  Stun& classic();
  Stun& classic(const ClassicTxId& id);
  // Any attribute: type, length, value, zero padding to 4 bytes.
  Stun& attr(uint16_t type, const Bytes& value);
  Stun& attr(uint16_t type, std::string_view value);
  // MAPPED-ADDRESS-style value (family, port, address), and its XOR form
  // (RFC 8489 s14.2: port ^ cookie >> 16, address ^ cookie [|| txid]).
  Stun& address(uint16_t type, const Endpoint& e);
  Stun& xor_address(uint16_t type, const Endpoint& e);
  Stun& mapped(const Endpoint& e) { return address(0x0001, e); }
  Stun& xor_mapped(const Endpoint& e) { return xor_address(0x0020, e); }
  // ERROR-CODE (RFC 8489 s14.8): class, number, reason phrase as given
  // (RFC 3489 s11.2.9 wants it padded with spaces to a multiple of 4: pass it so).
  Stun& error_code(unsigned code, std::string_view reason);
  // UNKNOWN-ATTRIBUTES (RFC 8489 s14.9), the list as given.
  Stun& unknown_attributes(const std::vector<uint16_t>& types);
  // FINGERPRINT over the message so far (RFC 8489 s14.7); attributes after it make it wrong.
  Stun& fingerprint();

  Bytes bytes() const { return b_; }
  operator Bytes() const { return b_; }  // NOLINT: a message is its bytes

 private:
  void grow(size_t n);
  Bytes b_;
};

// ---- frames ----------------------------------------------------------------

// An 802.1Q tag (PCP and VID; DEI 0).
struct Vlan {
  uint16_t id = 0;
  uint8_t pcp = 0;
};

// IPv4 header fields (RFC 791). proto < 0: from the layer above (UDP 17, ICMP 1).
struct Ip4 {
  IpAddress src;
  IpAddress dst;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t id = 0x1234;
  uint16_t frag = 0;   // flags + fragment offset
  Bytes options;       // a multiple of 4
  int proto = -1;
  int total_len = -1;  // override the total length field
  bool bad_csum = false;
  uint8_t version = 4;
};

// IPv6 header fields (RFC 8200). next < 0: from the layer above (UDP 17, ICMPv6 58).
struct Ip6 {
  IpAddress src;
  IpAddress dst;
  uint8_t hop = 64;
  int next = -1;
  int payload_len = -1;  // override the payload length field
  uint8_t version = 6;
  // A Hop-by-Hop Options header (RFC 8200 s4.3) as given, its own next-header
  // byte first; non-empty makes the IPv6 next header 0 (unless `next` says).
  Bytes hop_by_hop;
};

// UDP overrides (RFC 768): a checksum field (0 = none) and a length field.
struct UdpOpts {
  int csum = -1;
  int len = -1;
};

class Packet {
 public:
  // Ethernet II (+ 802.1Q); the EtherType follows the next layer, or ethertype().
  Packet& eth(const Mac& dst, const Mac& src, std::optional<Vlan> vlan = std::nullopt);
  Packet& ethertype(uint16_t type);
  Packet& ipv4(const Ip4& h);
  Packet& ipv6(const Ip6& h);
  Packet& udp(uint16_t sport, uint16_t dport, UdpOpts o = {});
  // ICMP (over IPv4) or ICMPv6 (over IPv6): type, code, checksum, body.
  Packet& icmp(uint8_t type, uint8_t code, const Bytes& body);
  // NDP (RFC 4861 s4.3-4.4): a neighbour solicitation and advertisement.
  Packet& ns(const IpAddress& target, const Bytes& options = {});
  Packet& na(uint32_t flags, const IpAddress& target, const Mac& tlla);
  // ARP for IPv4 over Ethernet (RFC 826).
  Packet& arp(uint16_t op, const Mac& sha, const IpAddress& spa, const Mac& tha, const IpAddress& tpa);
  // The innermost payload: the UDP datagram's, the ICMP body, or the raw
  // bytes after the last header given (IP payload with Ip4::proto, Ethernet payload).
  Packet& payload(const Bytes& b);
  Packet& stun(const Stun& s) { return payload(s.bytes()); }
  // The ICMP/ICMPv6 checksum flipped (one byte XOR 0x01) after it is computed.
  Packet& bad_checksum();
  // Bytes after the frame (Ethernet padding, a trailer): counted by no header.
  Packet& pad(const Bytes& trailer);
  // Overwrite bytes at an offset, after everything is computed.
  Packet& patch(size_t offset, const Bytes& b);
  // Keep only the first n bytes.
  Packet& truncate(size_t n);

  Bytes bytes() const;
  operator Bytes() const { return bytes(); }  // NOLINT: a packet is its bytes

 private:
  enum class L3 : uint8_t { none, v4, v6, arp };
  enum class L4 : uint8_t { none, udp, icmp };
  Bytes l4() const;

  bool has_eth_ = false;
  Mac dst_{}, src_{};
  std::optional<Vlan> vlan_;
  int ethertype_ = -1;
  L3 l3_ = L3::none;
  Ip4 ip4_;
  Ip6 ip6_;
  Bytes arp_;
  L4 l4_ = L4::none;
  uint16_t sport_ = 0, dport_ = 0;
  UdpOpts udp_;
  uint8_t icmp_type_ = 0, icmp_code_ = 0;
  bool bad_l4_csum_ = false;
  Bytes payload_;
  Bytes pad_;
  std::vector<std::pair<size_t, Bytes>> patches_;
  std::optional<size_t> truncate_;
};

// NDP link-layer address option (RFC 4861 s4.6.1): 1 source, 2 target.
Bytes lla_option(uint8_t type, const Mac& mac);

}  // namespace stunbox::pkt
