// Wire layouts of the L2-L4 headers the appliance parses and writes: packed structs with big-endian fields.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/be.h"

namespace stunbox::frame {

// One idiom for every header read: a typed pointer at `off`, or nullptr when
// the header does not fit in the first `len` bytes. The structs are packed and
// may_alias, so viewing packet bytes through them is alignment- and
// aliasing-safe with GCC/Clang.
template <typename H>
inline H* header_at(uint8_t* frame, size_t len, size_t off) noexcept {
  return (off <= len && len - off >= sizeof(H)) ? reinterpret_cast<H*>(frame + off) : nullptr;
}

// Field accessors that copy out of (or into) packed members, so no misaligned
// reference is ever formed.
inline uint16_t host(Be16 v) noexcept { return bswap16(v.raw); }
inline uint32_t host(Be32 v) noexcept { return bswap32(v.raw); }
inline Be16 be16(uint16_t v) noexcept { return Be16::from_host(v); }
inline Be32 be32(uint32_t v) noexcept { return Be32::from_host(v); }

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmp6 = 58;

struct [[gnu::packed, gnu::may_alias]] EthHdr {
  uint8_t dst[6];
  uint8_t src[6];
  Be16 type;
};
static_assert(sizeof(EthHdr) == 14);

// 802.1Q tag as it follows the two MAC addresses (the TPID 0x8100 sits in EthHdr::type).
struct [[gnu::packed, gnu::may_alias]] VlanTag {
  Be16 tci;   // PCP(3) DEI(1) VID(12)
  Be16 type;  // encapsulated EtherType
};
static_assert(sizeof(VlanTag) == 4);

// RFC 826, specialised to Ethernet/IPv4.
struct [[gnu::packed, gnu::may_alias]] ArpHdr {
  Be16 htype;
  Be16 ptype;
  uint8_t hlen;
  uint8_t plen;
  Be16 op;
  uint8_t sha[6];
  uint8_t spa[4];
  uint8_t tha[6];
  uint8_t tpa[4];
};
static_assert(sizeof(ArpHdr) == 28);
inline constexpr uint16_t kArpHtypeEthernet = 1;
inline constexpr uint16_t kArpOpRequest = 1;
inline constexpr uint16_t kArpOpReply = 2;

// RFC 791 fixed part; options (IHL > 5) follow.
struct [[gnu::packed, gnu::may_alias]] Ipv4Hdr {
  uint8_t ver_ihl;
  uint8_t tos;
  Be16 total_len;
  Be16 id;
  Be16 frag;  // flags(3) fragment offset(13)
  uint8_t ttl;
  uint8_t proto;
  Be16 csum;
  uint8_t src[4];
  uint8_t dst[4];
};
static_assert(sizeof(Ipv4Hdr) == 20);
inline constexpr uint16_t kIpv4FlagDf = 0x4000;
inline constexpr uint16_t kIpv4FlagMf = 0x2000;
inline constexpr uint16_t kIpv4OffsetMask = 0x1FFF;

// RFC 8200 s3.
struct [[gnu::packed, gnu::may_alias]] Ipv6Hdr {
  Be32 ver_tc_flow;
  Be16 payload_len;
  uint8_t next;
  uint8_t hop_limit;
  uint8_t src[16];
  uint8_t dst[16];
};
static_assert(sizeof(Ipv6Hdr) == 40);

// RFC 768.
struct [[gnu::packed, gnu::may_alias]] UdpHdr {
  Be16 sport;
  Be16 dport;
  Be16 len;
  Be16 csum;
};
static_assert(sizeof(UdpHdr) == 8);

// ICMP (RFC 792) and ICMPv6 (RFC 4443) share this layout for echo messages.
struct [[gnu::packed, gnu::may_alias]] IcmpEcho {
  uint8_t type;
  uint8_t code;
  Be16 csum;
  Be16 id;
  Be16 seq;
};
static_assert(sizeof(IcmpEcho) == 8);
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6EchoReply = 129;
inline constexpr uint8_t kIcmp6NeighborSolicit = 135;
inline constexpr uint8_t kIcmp6NeighborAdvert = 136;
inline constexpr uint8_t kIcmp6MldQuery = 130;     // RFC 2710 s3 / RFC 3810 s5.1
inline constexpr uint8_t kIcmp6MldV2Report = 143;  // RFC 3810 s5.2
inline constexpr uint8_t kProtoHopByHop = 0;       // RFC 8200 s4.3
inline constexpr uint8_t kHbhOptPad1 = 0, kHbhOptPadN = 1, kHbhOptRouterAlert = 5;  // RFC 2711
inline constexpr uint8_t kMldRecordModeIsExclude = 2, kMldRecordChangeToExclude = 4;  // RFC 3810 s5.2.12

// RFC 4861 s4.3 / s4.4: NS and NA share this layout (flags are reserved in NS).
struct [[gnu::packed, gnu::may_alias]] NdpHdr {
  uint8_t type;
  uint8_t code;
  Be16 csum;
  Be32 flags;  // NA: R(31) S(30) O(29)
  uint8_t target[16];
};
static_assert(sizeof(NdpHdr) == 24);
inline constexpr uint32_t kNaFlagRouter = 0x80000000u;
inline constexpr uint32_t kNaFlagSolicited = 0x40000000u;
inline constexpr uint32_t kNaFlagOverride = 0x20000000u;

// RFC 4861 s4.6: option header; length in units of 8 bytes.
struct [[gnu::packed, gnu::may_alias]] NdpOpt {
  uint8_t type;
  uint8_t len;
};
static_assert(sizeof(NdpOpt) == 2);
inline constexpr uint8_t kNdpOptSourceLinkAddr = 1;
inline constexpr uint8_t kNdpOptTargetLinkAddr = 2;

// Target link-layer address option for Ethernet (RFC 4861 s4.6.1).
struct [[gnu::packed, gnu::may_alias]] NdpOptLinkAddr {
  uint8_t type;
  uint8_t len;  // 1 (8 bytes)
  uint8_t mac[6];
};
static_assert(sizeof(NdpOptLinkAddr) == 8);

}  // namespace stunbox::frame
