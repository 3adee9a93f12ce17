// The golden rows of lib/frame: {name, input frame, expected reply frame or drop reason, options}, as data (rows.cc), and the port they are answered on.
//
// The table is replayed by tests/golden (frame::reflect on plain buffers,
// both checksum variants, every truncation, mutations) and by tests/dpdk
// (the same rows through poll_queue on net_ring, all four poll variants), so
// both read the rows and the port identity from here.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "frame/reflect.h"
#include "packet.h"

namespace stunbox::golden {

using pkt::Bytes;
using pkt::Mac;

// ---- the port and its peers ------------------------------------------------

inline const Mac kOurMac{0x02, 0, 0, 0, 0, 0x01};
inline const Mac kPeerMac{0x02, 0, 0, 0, 0, 0xAA};
inline const Mac kOtherMac{0x02, 0, 0, 0, 0, 0xBB};
inline const Mac kBroadcast{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
inline const Mac kAllNodesMac{0x33, 0x33, 0, 0, 0, 0x01};
inline const IpAddress kOur4 = pkt::ip("198.18.0.2");
inline const IpAddress kOur4b = pkt::ip("198.18.1.2");
inline const IpAddress kPeer4 = pkt::ip("198.18.0.1");
inline const IpAddress kOther4 = pkt::ip("198.18.0.77");
inline const IpAddress kOur6 = pkt::ip("2001:2::2");
inline const IpAddress kOur6b = pkt::ip("2001:2::abcd:3");
inline const IpAddress kPeer6 = pkt::ip("2001:2::1");
inline const IpAddress kPeerLl = pkt::ip("fe80::1");
inline const IpAddress kOther6 = pkt::ip("2001:2::99");
// The port's RFC 5780 pairs: primary (kPair4p, 3478), alternate (kPair4a, 3479); IPv6 likewise.
inline const IpAddress kPair4p = pkt::ip("198.18.0.4");
inline const IpAddress kPair4a = pkt::ip("198.18.0.5");
inline const IpAddress kPair6p = pkt::ip("2001:2::4");
inline const IpAddress kPair6a = pkt::ip("2001:2::5");
inline const IpAddress kAllNodes = pkt::ip("ff02::1");
inline const IpAddress kUnspec = pkt::ip("::");
// Every address the port owns, in the order it is given them.
inline const std::array<IpAddress, 4> kOwned4{kOur4, kOur4b, kPair4p, kPair4a};
inline const std::array<IpAddress, 4> kOwned6{kOur6, kOur6b, kPair6p, kPair6a};
// MLD (RFC 3810): the MLDv2 routers' group and a Hop-by-Hop header with Router Alert (MLD), then ICMPv6.
inline const IpAddress kMldRouters = pkt::ip("ff02::16");
inline const Mac kMldRoutersMac{0x33, 0x33, 0, 0, 0, 0x16};
inline const Bytes kHbhRouterAlert{58, 0, 5, 2, 0, 0, 1, 0};  // next ICMPv6; Router Alert 0 (MLD); PadN
inline constexpr uint8_t kTtl = 77;  // differs from every request's TTL, so the reply's comes from the port
inline constexpr uint16_t kVlan = 100;
inline constexpr uint16_t kPeerPort = 40000;

// The port every row is answered on: our MAC, TTL, the addresses above,
// UDP 3478 and 3479, the RFC 5780 pairs; on VLAN kVlan when `tagged`.
frame::PortIdentity port_identity(bool tagged);

// ---- rows -----------------------------------------------------------------

struct Reply {
  frame::ReplyKind kind;
  Bytes frame;  // with software checksums; the offload variant's form follows from it
};
using Expect = std::variant<Reply, DropReason>;

// Row::room marker: a buffer one byte shorter than the frame (the capacity contract).
inline constexpr size_t kBelowLength = static_cast<size_t>(-1);

struct Row {
  std::string name;
  Bytes in;
  Expect want;
  bool tagged = false;                // answered on the tagged port
  frame::RxHints hints{};             // what the NIC says it verified
  size_t room = 256;                  // capacity - length (kBelowLength: capacity = length - 1)
  bool truncatable = true;            // every shorter prefix must drop (false when the frame carries padding)
  stun::ResponderConfig cfg{};

  bool answered() const { return std::holds_alternative<Reply>(want); }
  const Reply* reply() const { return std::get_if<Reply>(&want); }
  const DropReason* drop() const { return std::get_if<DropReason>(&want); }
};

// Every row, in table order.
const std::vector<Row>& rows();

// The exception path's classification (frame::route of the verdict) of
// frames for the box: {name, input frame, route}, on the untagged port.
struct RouteRow {
  std::string name;
  Bytes in;
  frame::Route want;
};
const std::vector<RouteRow>& route_rows();

// The solicited-node group of every owned IPv6 address, each once, in
// address order, then that of the port's EUI-64 link-local address: what the
// box reports in MLD.
std::vector<IpAddress> our_groups();
// An MLDv2 report (RFC 3810 s5.2) of groups, each a record of record_type
// (2 MODE_IS_EXCLUDE answers a query, 4 CHANGE_TO_EXCLUDE is unsolicited),
// from our EUI-64 link-local address to ff02::16.
Reply mld_report(const std::vector<IpAddress>& groups, uint8_t record_type = 2, std::optional<pkt::Vlan> vlan = {});

// The Ethernet header's length of a frame: 18 with an 802.1Q tag (a tagged
// port's, or a priority tag on an untagged port, kept in the reply), else 14.
inline size_t l2_len_of(const Bytes& f) { return f.size() > 13 && f[12] == 0x81 && f[13] == 0x00 ? 18 : 14; }

// STUN replies are the only UDP replies: the ones whose checksums the TX-offload variant leaves to the NIC.
inline bool is_udp_reply(frame::ReplyKind k) {
  return k == frame::ReplyKind::stun_success || k == frame::ReplyKind::stun_error;
}
// The frame a variant must leave: the software form, or for a UDP reply in
// the TX-offload variant its offload form (pkt::to_offload_form).
Bytes expected_frame(const Reply& r, bool tx_offload);

}  // namespace stunbox::golden
