// The golden rows as data: each row names its input frame, its expected reply or drop reason, and its options (and the exception path's route rows, each frame with its route); the recipes at the top are frames built with tests/support/packet.h.
#include "rows.h"

#include <algorithm>

namespace stunbox::golden {
namespace {

using frame::CsumState;
using frame::ReplyKind;
using pkt::ClassicTxId;
using pkt::Ip4;
using pkt::Ip6;
using pkt::Packet;
using pkt::Stun;
using pkt::TxId;
using pkt::Vlan;

constexpr ReplyKind kSuccess = ReplyKind::stun_success;
constexpr ReplyKind kError = ReplyKind::stun_error;
const Vlan kTag{kVlan, 1};  // PCP 1: must be kept in the reply
const Vlan kPriorityTag{0, 1};  // 802.1Q priority tag: VID 0 (DCB/PFC fabrics)
const TxId kTxid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
const ClassicTxId kClassicTxid{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
const Endpoint kClient4{kPeer4, kPeerPort};
const Endpoint kClient6{kPeer6, kPeerPort};
const Bytes kEchoBody{0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g', '!', 0x00, 0xFF};  // id, seq, odd-length data
const Bytes kNoChange{0, 0, 0, 0};

// ---- STUN recipes ----------------------------------------------------------

Stun req() { return Stun().txid(kTxid); }  // an RFC 8489 Binding request
Stun req_fp() { return req().fingerprint(); }
Stun classic_req() { return Stun().classic(kClassicTxid); }
Stun change(uint8_t flags) { return req().attr(0x0003, Bytes{0, 0, 0, flags}); }  // CHANGE-REQUEST
Stun classic_change(uint8_t flags) { return classic_req().attr(0x0003, Bytes{0, 0, 0, flags}); }
// The responses RFC 8489 s14.2 / s14.7 and RFC 3489 s11.2.1 prescribe.
Stun ok(const Endpoint& client, const TxId& txid = kTxid) { return Stun(pkt::kBindingSuccess).txid(txid).xor_mapped(client); }
Stun classic_ok(const Endpoint& client) { return Stun(pkt::kBindingSuccess).classic(kClassicTxid).mapped(client); }
// 420 Unknown Attribute (RFC 8489 s14.8-9), and its RFC 3489 s11.2.9-10 form
// (phrase padded with spaces inside the length, an odd list repeats its last type).
Stun error_420(uint16_t unknown) {
  return Stun(pkt::kBindingError).txid(kTxid).error_code(420, "Unknown Attribute").unknown_attributes({unknown});
}
Stun classic_error_420(uint16_t unknown) {
  return Stun(pkt::kBindingError)
      .classic(kClassicTxid)
      .error_code(420, "Unknown Attribute   ")
      .unknown_attributes({unknown, unknown});
}

// ---- frame recipes ---------------------------------------------------------

// What a UDP request row varies; the rest is the peer asking our first
// address on 3478. The reply recipe reads the same fields, swapped.
struct Udp4 {
  IpAddress src = kPeer4;
  IpAddress dst = kOur4;
  uint16_t sport = kPeerPort;
  uint16_t dport = 3478;
  Ip4 ip{};  // header fields; src and dst come from above
  std::optional<Vlan> vlan{};
  Mac dmac = kOurMac;
  pkt::UdpOpts udp{};
  Bytes pad{};
};

Bytes request4(const Stun& m, Udp4 f = {}) {
  f.ip.src = f.src;
  f.ip.dst = f.dst;
  return Packet().eth(f.dmac, kPeerMac, f.vlan).ipv4(f.ip).udp(f.sport, f.dport, f.udp).stun(m).pad(f.pad);
}
Bytes request4(const Bytes& payload, Udp4 f = {}) {
  f.ip.src = f.src;
  f.ip.dst = f.dst;
  return Packet().eth(f.dmac, kPeerMac, f.vlan).ipv4(f.ip).udp(f.sport, f.dport, f.udp).payload(payload);
}
// DF, id 0: an RFC 6864 atomic datagram, with the port's TTL.
Ip4 reply_ip4(const IpAddress& src, const IpAddress& dst) {
  return {.src = src, .dst = dst, .ttl = kTtl, .id = 0, .frag = 0x4000};
}
Reply reply4(ReplyKind kind, const Stun& m, const Udp4& f = {}) {
  return {kind, Packet().eth(kPeerMac, kOurMac, f.vlan).ipv4(reply_ip4(f.dst, f.src)).udp(f.dport, f.sport).stun(m)};
}

struct Udp6 {
  IpAddress src = kPeer6;
  IpAddress dst = kOur6;
  uint16_t sport = kPeerPort;
  uint16_t dport = 3478;
  Ip6 ip{};
  std::optional<Vlan> vlan{};
  Mac dmac = kOurMac;
  pkt::UdpOpts udp{};
  Bytes pad{};
};

Bytes request6(const Stun& m, Udp6 f = {}) {
  f.ip.src = f.src;
  f.ip.dst = f.dst;
  return Packet().eth(f.dmac, kPeerMac, f.vlan).ipv6(f.ip).udp(f.sport, f.dport, f.udp).stun(m).pad(f.pad);
}
Reply reply6(ReplyKind kind, const Stun& m, const Udp6& f = {}) {
  return {kind, Packet()
                    .eth(kPeerMac, kOurMac, f.vlan)
                    .ipv6({.src = f.dst, .dst = f.src, .hop = kTtl})
                    .udp(f.dport, f.sport)
                    .stun(m)};
}

// Frames to us from the peer (to `dmac`), and from us to the peer.
Packet to_us(const Mac& dmac = kOurMac, std::optional<Vlan> vlan = {}) { return Packet().eth(dmac, kPeerMac, vlan); }
Packet to_peer(std::optional<Vlan> vlan = {}) { return Packet().eth(kPeerMac, kOurMac, vlan); }

Bytes arp_request(const IpAddress& spa, const IpAddress& tpa, const Mac& dmac = kBroadcast, std::optional<Vlan> vlan = {}) {
  return to_us(dmac, vlan).arp(1, kPeerMac, spa, Mac{}, tpa);
}
Reply arp_reply(const IpAddress& spa, const IpAddress& tpa, std::optional<Vlan> vlan = {}) {
  return {ReplyKind::arp_reply, to_peer(vlan).arp(2, kOurMac, spa, kPeerMac, tpa)};
}

Bytes echo4(const Bytes& icmp_body, uint8_t type = 8, uint8_t code = 0, Ip4 ip = {.src = kPeer4, .dst = kOur4}) {
  return to_us().ipv4(ip).icmp(type, code, icmp_body);
}
Reply echo4_reply(const Bytes& body) {
  return {ReplyKind::icmp_echo_reply, to_peer().ipv4(reply_ip4(kOur4, kPeer4)).icmp(0, 0, body)};
}
Reply echo6_reply(const IpAddress& from, const IpAddress& to, std::optional<Vlan> vlan = {}) {
  return {ReplyKind::icmp6_echo_reply, to_peer(vlan).ipv6({.src = from, .dst = to, .hop = kTtl}).icmp(129, 0, kEchoBody)};
}
// A neighbour advertisement for `target` from us (hop limit 255, RFC 4861 s7.1.2).
Reply na_reply(const IpAddress& to, const Mac& to_mac, uint32_t flags, const IpAddress& target = kOur6,
               std::optional<Vlan> vlan = {}) {
  return {ReplyKind::ndp_advert,
          Packet().eth(to_mac, kOurMac, vlan).ipv6({.src = target, .dst = to, .hop = 255}).na(flags, target, kOurMac)};
}
// ICMPv6 to us: hop limit 255 unless said (NDP requires it).
Packet icmp6_to(const IpAddress& src, const IpAddress& dst, uint8_t hop = 255, const Mac& dmac = kOurMac,
                std::optional<Vlan> vlan = {}) {
  return to_us(dmac, vlan).ipv6({.src = src, .dst = dst, .hop = hop});
}

const IpAddress kSn = pkt::solicited_node(kOur6);
const Mac kSnMac = pkt::multicast_mac(kSn);
const Bytes kSlla = pkt::lla_option(1, kPeerMac);

// ---- MLD (RFC 3810) recipes ---------------------------------------------------

const IpAddress kOtherSn = pkt::ip("ff02::1:ff99:9999");

// What an MLD query row varies: MLDv2 from the router's link-local address,
// hop limit 1, Hop-by-Hop with Router Alert (MLD) before ICMPv6.
struct MldQuery {
  bool v2 = true;
  IpAddress src = kPeerLl;
  uint8_t hop = 1;
  Bytes hbh = kHbhRouterAlert;
  uint8_t type = 130;
  std::optional<Vlan> vlan{};
};

// A query to dst about group (:: = general).
Bytes mld_query(const IpAddress& dst, const Mac& dmac, const IpAddress& group, const MldQuery& q = {}) {
  Bytes body{0x03, 0xE8, 0, 0};  // maximum response delay 1000 ms, reserved
  body.insert(body.end(), group.bytes.begin(), group.bytes.end());
  if (q.v2) body.insert(body.end(), {0x02, 125, 0, 0});  // QRV 2, QQIC 125 s, no sources
  return to_us(dmac, q.vlan).ipv6({.src = q.src, .dst = dst, .hop = q.hop, .hop_by_hop = q.hbh}).icmp(q.type, 0, body);
}

// RFC 5780 attributes: RESPONSE-ORIGIN / OTHER-ADDRESS, SOURCE- / CHANGED-ADDRESS.
Endpoint at(const IpAddress& ip, uint16_t port) { return {ip, port}; }

std::vector<Row> make_rows() {
  return {
      // --- STUN over IPv4
      {.name = "v4 RFC 8489 request", .in = request4(req()), .want = reply4(kSuccess, ok(kClient4))},
      {.name = "v4 request with FINGERPRINT mirrors it",
       .in = request4(req_fp()),
       .want = reply4(kSuccess, ok(kClient4).fingerprint())},
      {.name = "v4 FINGERPRINT policy always",
       .in = request4(req()),
       .want = reply4(kSuccess, ok(kClient4).fingerprint()),
       .cfg = {.fingerprint = stun::FingerprintPolicy::always}},
      // NOP NOP NOP EOL, Router Alert
      {.name = "v4 with IP options: reply has none",
       .in = request4(req_fp(), {.ip = {.options = {0x01, 0x01, 0x01, 0x00, 0x94, 0x04, 0x00, 0x00}}}),
       .want = reply4(kSuccess, ok(kClient4).fingerprint())},
      {.name = "v4 with 40 bytes of options",  // IHL 15
       .in = request4(req(), {.ip = {.options = Bytes(40, 0x01)}}),
       .want = reply4(kSuccess, ok(kClient4))},
      {.name = "v4 classic RFC 3489 request", .in = request4(classic_req()), .want = reply4(kSuccess, classic_ok(kClient4))},
      {.name = "v4 classic disabled",
       .in = request4(classic_req()),
       .want = DropReason::stun_classic_disabled,
       .cfg = {.classic = false}},
      // CHANGE-REQUEST (RFC 5780 s7.2): all flags clear asks for nothing and is
      // a plain Binding request (stuntman's stunclient: RFC 5389 header, no
      // FINGERPRINT; Debian's `stun`: classic header); a requested change gets
      // 420 listing 0x0003 while no RFC 5780 address pair is configured.
      {.name = "v4 CHANGE-REQUEST 0 (stuntman's binding test)", .in = request4(change(0)), .want = reply4(kSuccess, ok(kClient4))},
      {.name = "v4 CHANGE-REQUEST 0 with FINGERPRINT",
       .in = request4(change(0).fingerprint()),
       .want = reply4(kSuccess, ok(kClient4).fingerprint())},
      {.name = "v4 CHANGE-REQUEST with only unused bits set",
       .in = request4(req().attr(0x0003, Bytes{0xFF, 0xFF, 0xFF, 0xF9})),
       .want = reply4(kSuccess, ok(kClient4))},
      {.name = "v4 classic CHANGE-REQUEST 0 (Debian's stun)",
       .in = request4(classic_change(0)),
       .want = reply4(kSuccess, classic_ok(kClient4))},
      {.name = "v4 CHANGE-REQUEST 2 -> 420", .in = request4(change(2)), .want = reply4(kError, error_420(0x0003))},
      {.name = "v4 CHANGE-REQUEST 2 with FINGERPRINT -> 420",
       .in = request4(change(2).fingerprint()),
       .want = reply4(kError, error_420(0x0003).fingerprint())},
      {.name = "v4 classic CHANGE-REQUEST 2 -> 420",
       .in = request4(classic_change(2)),
       .want = reply4(kError, classic_error_420(0x0003))},
      {.name = "v4 CHANGE-REQUEST 4 -> 420", .in = request4(change(4)), .want = reply4(kError, error_420(0x0003))},
      {.name = "v4 CHANGE-REQUEST 4 with FINGERPRINT -> 420",
       .in = request4(change(4).fingerprint()),
       .want = reply4(kError, error_420(0x0003).fingerprint())},
      {.name = "v4 classic CHANGE-REQUEST 4 -> 420",
       .in = request4(classic_change(4)),
       .want = reply4(kError, classic_error_420(0x0003))},
      {.name = "v4 CHANGE-REQUEST 6 -> 420", .in = request4(change(6)), .want = reply4(kError, error_420(0x0003))},
      {.name = "v4 CHANGE-REQUEST 6 with FINGERPRINT -> 420",
       .in = request4(change(6).fingerprint()),
       .want = reply4(kError, error_420(0x0003).fingerprint())},
      {.name = "v4 classic CHANGE-REQUEST 6 -> 420",
       .in = request4(classic_change(6)),
       .want = reply4(kError, classic_error_420(0x0003))},
      {.name = "v4 CHANGE-REQUEST of 8 bytes -> 420",
       .in = request4(req().attr(0x0003, Bytes(8, 0))),
       .want = reply4(kError, error_420(0x0003))},
      {.name = "v4 UDP checksum 0 = none: allowed",
       .in = request4(req(), {.udp = {.csum = 0}}),
       .want = reply4(kSuccess, ok(kClient4))},
      {.name = "v4 Ethernet padding trimmed",
       .in = request4(req(), {.pad = Bytes(12, 0)}),
       .want = reply4(kSuccess, ok(kClient4)),
       .truncatable = false},
      {.name = "v4 second served port",
       .in = request4(req(), {.dport = 3479}),
       .want = reply4(kSuccess, ok(kClient4), {.dport = 3479})},
      {.name = "v4 second owned address answers from it",
       .in = request4(req(), {.dst = kOur4b}),
       .want = reply4(kSuccess, ok(kClient4), {.dst = kOur4b})},
      {.name = "v4 source port 1",
       .in = request4(req(), {.sport = 1}),
       .want = reply4(kSuccess, ok(at(kPeer4, 1)), {.sport = 1})},
      {.name = "v4 TOS and TTL 1 in request",
       .in = request4(req(), {.ip = {.ttl = 1, .tos = 0xB8}}),
       .want = reply4(kSuccess, ok(kClient4))},
      {.name = "v4 on tagged port keeps the tag",
       .in = request4(req_fp(), {.vlan = kTag}),
       .want = reply4(kSuccess, ok(kClient4).fingerprint(), {.vlan = kTag}),
       .tagged = true},
      {.name = "tagged frame on untagged port", .in = request4(req(), {.vlan = kTag}), .want = DropReason::vlan_mismatch},
      {.name = "wrong VID on tagged port",
       .in = request4(req(), {.vlan = Vlan{kVlan + 1, 1}}),
       .want = DropReason::vlan_mismatch,
       .tagged = true},
      {.name = "untagged frame on tagged port", .in = request4(req()), .want = DropReason::vlan_mismatch, .tagged = true},
      {.name = "ARP untagged on tagged port",
       .in = arp_request(kPeer4, kOur4),
       .want = DropReason::vlan_mismatch,
       .tagged = true},
      // Priority-tagged frames (802.1Q VID 0, PCP 1): untagged traffic; the reply keeps the tag.
      {.name = "v4 priority-tagged (VID 0) on untagged port, reply keeps the tag",
       .in = request4(req(), {.vlan = kPriorityTag}),
       .want = reply4(kSuccess, ok(kClient4), {.vlan = kPriorityTag})},
      {.name = "v6 priority-tagged (VID 0) on untagged port, reply keeps the tag",
       .in = request6(req(), {.vlan = kPriorityTag}),
       .want = reply6(kSuccess, ok(kClient6), {.vlan = kPriorityTag})},
      {.name = "ARP priority-tagged (VID 0) on untagged port",
       .in = arp_request(kPeer4, kOur4, kBroadcast, kPriorityTag),
       .want = arp_reply(kOur4, kPeer4, kPriorityTag)},
      {.name = "priority-tagged (VID 0) on tagged port",
       .in = request4(req(), {.vlan = kPriorityTag}),
       .want = DropReason::vlan_mismatch,
       .tagged = true},
      // hints
      {.name = "v4 hints.ip good trusts the NIC",
       .in = request4(req(), {.ip = {.bad_csum = true}}),
       .want = reply4(kSuccess, ok(kClient4)),
       .hints = {.ip = CsumState::good}},
      {.name = "v4 bad header checksum", .in = request4(req(), {.ip = {.bad_csum = true}}), .want = DropReason::ipv4_bad_checksum},
      {.name = "v4 hints.ip bad", .in = request4(req()), .want = DropReason::ipv4_bad_checksum, .hints = {.ip = CsumState::bad}},
      {.name = "v4 bad UDP checksum", .in = request4(req(), {.udp = {.csum = 0x1234}}), .want = DropReason::udp_bad_checksum},
      {.name = "v4 hints.udp good trusts the NIC",
       .in = request4(req(), {.udp = {.csum = 0x1234}}),
       .want = reply4(kSuccess, ok(kClient4)),
       .hints = {.udp = CsumState::good}},
      {.name = "v4 hints.udp bad", .in = request4(req()), .want = DropReason::udp_bad_checksum, .hints = {.udp = CsumState::bad}},
      // STUN-level drops pass through
      {.name = "v4 STUN response is never answered", .in = request4(ok(at(kPeer4, 1))), .want = DropReason::stun_response},
      {.name = "v4 STUN payload too short", .in = request4(Bytes{0, 1, 0, 0}), .want = DropReason::stun_too_short},
      {.name = "v4 empty UDP payload", .in = request4(Bytes{}), .want = DropReason::stun_too_short},
      {.name = "v4 no room for the response", .in = request4(req()), .want = DropReason::stun_no_room, .room = 0},

      // RFC 5780: the reply leaves from the endpoint CHANGE-REQUEST picks (source IP and
      // port rewritten, checksums over the new values) and names it and the diagonal one.
      {.name = "rfc5780 v4 change IP and port: PP answered from AA",
       .in = request4(change(6), {.dst = kPair4p}),
       .want = reply4(kSuccess, ok(kClient4).address(0x802B, at(kPair4a, 3479)).address(0x802C, at(kPair4a, 3479)),
                      {.dst = kPair4a, .dport = 3479})},
      {.name = "rfc5780 v4 plain request with FINGERPRINT to PA: OTHER-ADDRESS is AP",
       .in = request4(req_fp(), {.dst = kPair4p, .dport = 3479}),
       .want = reply4(kSuccess,
                      ok(kClient4).address(0x802B, at(kPair4p, 3479)).address(0x802C, at(kPair4a, 3478)).fingerprint(),
                      {.dst = kPair4p, .dport = 3479})},
      // RESPONSE-PORT 8080: the reply goes to the client's port 8080.
      {.name = "rfc5780 v4 RESPONSE-PORT 8080: sent there, XOR-MAPPED-ADDRESS names the source port",
       .in = request4(req().attr(0x0027, Bytes{0x1F, 0x90, 0, 0}), {.dst = kPair4p}),
       .want = reply4(kSuccess, ok(kClient4).address(0x802B, at(kPair4p, 3478)).address(0x802C, at(kPair4a, 3479)),
                      {.dst = kPair4p, .sport = 8080})},
      {.name = "rfc5780 v4 classic change port: AP answered from AA with SOURCE- and CHANGED-ADDRESS",
       .in = request4(classic_change(2), {.dst = kPair4a, .dport = 3478}),
       .want = reply4(kSuccess, classic_ok(kClient4).address(0x0004, at(kPair4a, 3479)).address(0x0005, at(kPair4p, 3479)),
                      {.dst = kPair4a, .dport = 3479})},
      {.name = "rfc5780 v4 PADDING with RESPONSE-PORT -> 400 to the sender",
       .in = request4(req().attr(0x0027, Bytes{0x1F, 0x90, 0, 0}).attr(0x0026, Bytes(8, 0)), {.dst = kPair4p}),
       .want = reply4(kError, Stun(pkt::kBindingError).txid(kTxid).error_code(400, "Bad Request"), {.dst = kPair4p})},
      {.name = "rfc5780 v6 change IP: AA answered from PA",
       .in = request6(change(4).fingerprint(), {.dst = kPair6a, .dport = 3479}),
       .want = reply6(kSuccess,
                      ok(kClient6).address(0x802B, at(kPair6p, 3479)).address(0x802C, at(kPair6p, 3478)).fingerprint(),
                      {.dst = kPair6p, .dport = 3479})},
      // Not an endpoint of a pair (kOur4:3479 is served but is no RFC 5780 endpoint): 420 as before.
      {.name = "rfc5780 change request to a plain address -> 420",
       .in = request4(change(4), {.dport = 3479}),
       .want = reply4(kError, error_420(0x0003), {.dport = 3479})},

      // --- STUN over IPv6
      {.name = "v6 RFC 8489 request", .in = request6(req()), .want = reply6(kSuccess, ok(kClient6))},
      {.name = "v6 request with FINGERPRINT", .in = request6(req_fp()), .want = reply6(kSuccess, ok(kClient6).fingerprint())},
      {.name = "v6 CHANGE-REQUEST 0", .in = request6(change(0)), .want = reply6(kSuccess, ok(kClient6))},
      {.name = "v6 CHANGE-REQUEST 0 with FINGERPRINT",
       .in = request6(change(0).fingerprint()),
       .want = reply6(kSuccess, ok(kClient6).fingerprint())},
      {.name = "v6 CHANGE-REQUEST 6 with FINGERPRINT -> 420",
       .in = request6(change(6).fingerprint()),
       .want = reply6(kError, error_420(0x0003).fingerprint())},
      {.name = "v6 link-local client, second address and port",
       .in = request6(req(), {.src = kPeerLl, .dst = kOur6b, .dport = 3479}),
       .want = reply6(kSuccess, ok(at(kPeerLl, kPeerPort)), {.src = kPeerLl, .dst = kOur6b, .dport = 3479})},
      {.name = "v6 on tagged port",
       .in = request6(req_fp(), {.vlan = kTag}),
       .want = reply6(kSuccess, ok(kClient6).fingerprint(), {.vlan = kTag}),
       .tagged = true},
      {.name = "v6 trailing bytes trimmed",
       .in = request6(req(), {.pad = Bytes(5, 0xEE)}),
       .want = reply6(kSuccess, ok(kClient6)),
       .truncatable = false},
      {.name = "v6 UDP checksum 0", .in = request6(req(), {.udp = {.csum = 0}}), .want = DropReason::udp_zero_checksum_v6},
      {.name = "v6 UDP checksum 0 even with hints good",
       .in = request6(req(), {.udp = {.csum = 0}}),
       .want = DropReason::udp_zero_checksum_v6,
       .hints = {.udp = CsumState::good}},
      {.name = "v6 bad UDP checksum", .in = request6(req(), {.udp = {.csum = 0xBEEF}}), .want = DropReason::udp_bad_checksum},
      {.name = "v6 hints.udp good",
       .in = request6(req(), {.udp = {.csum = 0xBEEF}}),
       .want = reply6(kSuccess, ok(kClient6)),
       .hints = {.udp = CsumState::good}},
      {.name = "v6 hints.udp bad", .in = request6(req()), .want = DropReason::udp_bad_checksum, .hints = {.udp = CsumState::bad}},
      {.name = "v6 no room for the response", .in = request6(req()), .want = DropReason::stun_no_room, .room = 0},

      // A reply whose UDP checksum computes to 0 must carry 0xFFFF (RFC 768;
      // RFC 8200 s8.1 for IPv6). These transaction ids produce one (found by
      // search; golden_test checks the expected replies carry 0xFFFF).
      {.name = "v4 reply checksum computing to 0 is sent as 0xFFFF",
       .in = request4(Stun().txid({1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 161, 105})),
       .want = reply4(kSuccess, ok(kClient4, {1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 161, 105}))},
      {.name = "v6 reply checksum computing to 0 is sent as 0xFFFF",
       .in = request6(Stun().txid({1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 221, 24})),
       .want = reply6(kSuccess, ok(kClient6, {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 221, 24}))},

      // --- Ethernet
      {.name = "runt frame", .in = Bytes(13, 0), .want = DropReason::eth_too_short},
      {.name = "empty frame", .in = Bytes{}, .want = DropReason::eth_too_short},
      {.name = "unicast MAC of another host", .in = request4(req(), {.dmac = kOtherMac}), .want = DropReason::eth_not_ours},
      {.name = "IPv4 to broadcast MAC", .in = request4(req(), {.dmac = kBroadcast}), .want = DropReason::eth_not_ours},
      {.name = "IPv4 to multicast MAC",
       .in = request4(req(), {.dmac = Mac{0x01, 0x00, 0x5e, 0, 0, 1}}),
       .want = DropReason::eth_not_ours},
      {.name = "v6 unicast address under a multicast MAC", .in = request6(req(), {.dmac = kSnMac}), .want = DropReason::eth_not_ours},
      {.name = "ARP to a multicast MAC",
       .in = arp_request(kPeer4, kOur4, Mac{0x01, 0, 0x5e, 0, 0, 1}),
       .want = DropReason::eth_not_ours},
      {.name = "LLDP", .in = to_us().ethertype(0x88CC).payload(Bytes(46, 0)), .want = DropReason::eth_unsupported_type},
      {.name = "QinQ outer tag", .in = to_us().ethertype(0x88A8).payload(Bytes(46, 0)), .want = DropReason::eth_unsupported_type},
      {.name = "unknown type inside the tag",
       .in = to_us(kOurMac, kTag).ethertype(0x88B5).payload(Bytes(46, 0)),
       .want = DropReason::eth_unsupported_type,
       .tagged = true},
      {.name = "tag header cut",
       .in = to_us().ethertype(0x8100).payload(Bytes{0x00}),
       .want = DropReason::eth_too_short,
       .tagged = true},

      // --- IPv4 header
      {.name = "IP version 5", .in = request4(req(), {.ip = {.version = 5}}), .want = DropReason::ipv4_malformed},
      // IHL 4 (checksum no longer matters: malformed first)
      {.name = "IHL 4", .in = to_us().ipv4({.src = kPeer4, .dst = kOur4}).udp(kPeerPort, 3478).stun(req()).patch(14, {0x44}),
       .want = DropReason::ipv4_malformed},
      {.name = "total length past the frame",
       .in = request4(req(), {.ip = {.total_len = 20 + 8 + 20 + 1}}),
       .want = DropReason::ipv4_malformed},
      {.name = "total length below IHL", .in = request4(req(), {.ip = {.total_len = 19}}), .want = DropReason::ipv4_malformed},
      // IHL says 60, the frame ends at 40 bytes of IP header
      {.name = "options cut by the frame",
       .in = to_us().ipv4({.src = kPeer4, .dst = kOur4, .options = Bytes(40, 1), .proto = 17}).truncate(14 + 40),
       .want = DropReason::ipv4_malformed},
      {.name = "first fragment (MF)", .in = request4(req(), {.ip = {.frag = 0x2000}}), .want = DropReason::ipv4_fragment},
      {.name = "later fragment (offset)", .in = request4(req(), {.ip = {.frag = 0x0003}}), .want = DropReason::ipv4_fragment},
      {.name = "DF alone is not a fragment",
       .in = request4(req(), {.ip = {.frag = 0x4000}}),
       .want = reply4(kSuccess, ok(kClient4))},
      {.name = "v4 destination not ours", .in = request4(req(), {.dst = kOther4}), .want = DropReason::ipv4_not_ours},
      {.name = "v4 destination limited broadcast",
       .in = request4(req(), {.dst = pkt::ip("255.255.255.255")}),
       .want = DropReason::ipv4_not_ours},
      {.name = "v4 source 0.0.0.0", .in = request4(req(), {.src = pkt::ip("0.0.0.0")}), .want = DropReason::ipv4_bad_source},
      {.name = "v4 source 0.1.2.3", .in = request4(req(), {.src = pkt::ip("0.1.2.3")}), .want = DropReason::ipv4_bad_source},
      {.name = "v4 source 127.0.0.1", .in = request4(req(), {.src = pkt::ip("127.0.0.1")}), .want = DropReason::ipv4_bad_source},
      {.name = "v4 source 224.0.0.1", .in = request4(req(), {.src = pkt::ip("224.0.0.1")}), .want = DropReason::ipv4_bad_source},
      {.name = "v4 source 239.255.255.250",
       .in = request4(req(), {.src = pkt::ip("239.255.255.250")}),
       .want = DropReason::ipv4_bad_source},
      {.name = "v4 source 240.0.0.1", .in = request4(req(), {.src = pkt::ip("240.0.0.1")}), .want = DropReason::ipv4_bad_source},
      {.name = "v4 source 255.255.255.255",
       .in = request4(req(), {.src = pkt::ip("255.255.255.255")}),
       .want = DropReason::ipv4_bad_source},
      {.name = "v4 source own address", .in = request4(req(), {.src = kOur4}), .want = DropReason::ipv4_bad_source},
      {.name = "v4 source own second address", .in = request4(req(), {.src = kOur4b}), .want = DropReason::ipv4_bad_source},
      {.name = "v4 TCP",
       .in = to_us().ipv4({.src = kPeer4, .dst = kOur4, .proto = 6}).payload(Bytes(20, 0)),
       .want = DropReason::ipv4_unsupported_proto},

      // --- UDP
      {.name = "v4 UDP header cut by total length",
       .in = to_us().ipv4({.src = kPeer4, .dst = kOur4, .proto = 17}).payload(Bytes{0x9c, 0x40, 0x0d, 0x96}),
       .want = DropReason::udp_malformed},
      {.name = "v4 UDP length 7", .in = request4(req(), {.udp = {.len = 7}}), .want = DropReason::udp_malformed},
      {.name = "v4 UDP length past the IP payload",
       .in = request4(req(), {.udp = {.len = 8 + 20 + 1}}),
       .want = DropReason::udp_malformed},
      {.name = "v4 source port 0", .in = request4(req(), {.sport = 0}), .want = DropReason::udp_source_port_zero},
      {.name = "v4 port not served", .in = request4(req(), {.dport = 3480}), .want = DropReason::udp_port_not_served},
      {.name = "v6 source port 0", .in = request6(req(), {.sport = 0}), .want = DropReason::udp_source_port_zero},
      {.name = "v6 port not served", .in = request6(req(), {.dport = 53}), .want = DropReason::udp_port_not_served},
      {.name = "v6 UDP header cut by payload length",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6, .next = 17}).payload(Bytes{0x9c, 0x40, 0x0d, 0x96}),
       .want = DropReason::udp_malformed},
      // UDP length 29 > payload 28 (malformed before checksum)
      {.name = "v6 UDP length past the IPv6 payload",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6}).udp(kPeerPort, 3478).stun(req()).patch(14 + 40 + 5, {29}),
       .want = DropReason::udp_malformed},

      // --- IPv6 header
      {.name = "IPv6 version 4", .in = request6(req(), {.ip = {.version = 4}}), .want = DropReason::ipv6_malformed},
      {.name = "IPv6 payload length past the frame",
       .in = request6(req(), {.ip = {.payload_len = 8 + 20 + 1}}),
       .want = DropReason::ipv6_malformed},
      {.name = "IPv6 header cut",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6}).udp(kPeerPort, 3478).stun(req()).truncate(14 + 39),
       .want = DropReason::ipv6_malformed},
      {.name = "IPv6 extension header 0",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6, .next = 0}).payload(Bytes(16, 0)),
       .want = DropReason::ipv6_extension_header},
      {.name = "IPv6 extension header 43",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6, .next = 43}).payload(Bytes(16, 0)),
       .want = DropReason::ipv6_extension_header},
      {.name = "IPv6 extension header 44",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6, .next = 44}).payload(Bytes(16, 0)),
       .want = DropReason::ipv6_extension_header},
      {.name = "IPv6 extension header 60",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6, .next = 60}).payload(Bytes(16, 0)),
       .want = DropReason::ipv6_extension_header},
      {.name = "IPv6 TCP",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6, .next = 6}).payload(Bytes(20, 0)),
       .want = DropReason::ipv6_unsupported_proto},
      {.name = "IPv6 no next header",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6, .next = 59}),
       .want = DropReason::ipv6_unsupported_proto},
      {.name = "v6 destination not ours", .in = request6(req(), {.dst = kOther6}), .want = DropReason::ipv6_not_ours},
      {.name = "v6 UDP to our solicited-node group",
       .in = request6(req(), {.dst = kSn, .dmac = kSnMac}),
       .want = DropReason::ipv6_not_ours},
      {.name = "v6 UDP to all-nodes", .in = request6(req(), {.dst = kAllNodes, .dmac = kAllNodesMac}), .want = DropReason::ipv6_not_ours},
      {.name = "v6 source ff02::1", .in = request6(req(), {.src = kAllNodes}), .want = DropReason::ipv6_bad_source},
      {.name = "v6 source ::1", .in = request6(req(), {.src = pkt::ip("::1")}), .want = DropReason::ipv6_bad_source},
      {.name = "v6 source ::", .in = request6(req(), {.src = kUnspec}), .want = DropReason::ipv6_bad_source},
      {.name = "v6 source own", .in = request6(req(), {.src = kOur6}), .want = DropReason::ipv6_bad_source},
      {.name = "v6 source own second", .in = request6(req(), {.src = kOur6b}), .want = DropReason::ipv6_bad_source},

      // --- ARP
      {.name = "ARP request broadcast", .in = arp_request(kPeer4, kOur4), .want = arp_reply(kOur4, kPeer4)},
      {.name = "ARP request unicast (refresh)", .in = arp_request(kPeer4, kOur4b, kOurMac), .want = arp_reply(kOur4b, kPeer4)},
      {.name = "ARP probe from 0.0.0.0 (RFC 5227)",
       .in = arp_request(pkt::ip("0.0.0.0"), kOur4),
       .want = arp_reply(kOur4, pkt::ip("0.0.0.0"))},
      {.name = "ARP padded to 60 bytes: reply is 42",
       .in = to_us(kBroadcast).arp(1, kPeerMac, kPeer4, Mac{}, kOur4).pad(Bytes(18, 0)),
       .want = arp_reply(kOur4, kPeer4),
       .truncatable = false},
      {.name = "ARP on tagged port",
       .in = arp_request(kPeer4, kOur4, kBroadcast, kTag),
       .want = arp_reply(kOur4, kPeer4, kTag),
       .tagged = true},
      {.name = "ARP for another host", .in = arp_request(kPeer4, kOther4), .want = DropReason::arp_not_ours},
      {.name = "ARP reply", .in = to_us().arp(2, kPeerMac, kPeer4, Mac{}, kOur4), .want = DropReason::arp_not_request},
      {.name = "gratuitous ARP request", .in = arp_request(kOur4, kOur4), .want = DropReason::arp_not_request},
      {.name = "RARP-style op 3", .in = to_us(kBroadcast).arp(3, kPeerMac, kPeer4, Mac{}, kOur4), .want = DropReason::arp_not_request},
      {.name = "ARP htype 6",  // IEEE 802
       .in = to_us(kBroadcast).arp(1, kPeerMac, kPeer4, Mac{}, kOur4).patch(15, {6}),
       .want = DropReason::arp_malformed},
      {.name = "ARP hlen 8",
       .in = to_us(kBroadcast).arp(1, kPeerMac, kPeer4, Mac{}, kOur4).patch(18, {8}),
       .want = DropReason::arp_malformed},
      {.name = "ARP ptype IPv6",
       .in = to_us(kBroadcast).arp(1, kPeerMac, kPeer4, Mac{}, kOur4).patch(16, {0x86, 0xDD}),
       .want = DropReason::arp_malformed},

      // --- ICMP
      {.name = "ICMP echo", .in = echo4(kEchoBody), .want = echo4_reply(kEchoBody)},
      {.name = "ICMP echo with IP options: reply has none",
       .in = echo4(kEchoBody, 8, 0, {.src = kPeer4, .dst = kOur4, .options = {0x01, 0x01, 0x01, 0x01}}),
       .want = echo4_reply(kEchoBody)},
      {.name = "ICMP echo without data", .in = echo4(Bytes{0, 1, 0, 2}), .want = echo4_reply(Bytes{0, 1, 0, 2})},
      {.name = "ICMP echo all zero (id 0, seq 0, no data)", .in = echo4(Bytes(4, 0)), .want = echo4_reply(Bytes(4, 0))},
      {.name = "ICMP echo from broadcast",
       .in = echo4(kEchoBody, 8, 0, {.src = pkt::ip("255.255.255.255"), .dst = kOur4}),
       .want = DropReason::ipv4_bad_source},
      {.name = "ICMP echo to broadcast MAC",
       .in = to_us(kBroadcast).ipv4({.src = kPeer4, .dst = kOur4}).icmp(8, 0, kEchoBody),
       .want = DropReason::eth_not_ours},
      {.name = "ICMP bad checksum",
       .in = to_us().ipv4({.src = kPeer4, .dst = kOur4}).icmp(8, 0, kEchoBody).bad_checksum(),
       .want = DropReason::icmp_bad_checksum},
      // No hint covers ICMP (i40e and ixgbe call it "L4 good" unchecked): verified in software whatever they say.
      {.name = "ICMP bad checksum with every hint good",
       .in = to_us().ipv4({.src = kPeer4, .dst = kOur4}).icmp(8, 0, kEchoBody).bad_checksum(),
       .want = DropReason::icmp_bad_checksum,
       .hints = {CsumState::good, CsumState::good}},
      {.name = "ICMP echo with hints.udp bad is still answered",
       .in = echo4(kEchoBody),
       .want = echo4_reply(kEchoBody),
       .hints = {.udp = CsumState::bad}},
      {.name = "ICMP 4 bytes",
       .in = to_us().ipv4({.src = kPeer4, .dst = kOur4, .proto = 1}).payload(Bytes{8, 0, 0xF7, 0xFF}),
       .want = DropReason::icmp_malformed},
      {.name = "ICMP echo reply", .in = echo4(kEchoBody, 0), .want = DropReason::icmp_not_echo_request},
      {.name = "ICMP echo code 1", .in = echo4(kEchoBody, 8, 1), .want = DropReason::icmp_not_echo_request},
      {.name = "ICMP timestamp", .in = echo4(Bytes(16, 0), 13), .want = DropReason::icmp_not_echo_request},

      // --- ICMPv6 echo
      {.name = "ICMPv6 echo", .in = icmp6_to(kPeer6, kOur6, 64).icmp(128, 0, kEchoBody), .want = echo6_reply(kOur6, kPeer6)},
      {.name = "ICMPv6 echo on tagged port",
       .in = icmp6_to(kPeerLl, kOur6b, 64, kOurMac, kTag).icmp(128, 0, kEchoBody),
       .want = echo6_reply(kOur6b, kPeerLl, kTag),
       .tagged = true},
      {.name = "ICMPv6 bad checksum",
       .in = icmp6_to(kPeer6, kOur6, 64).icmp(128, 0, kEchoBody).bad_checksum(),
       .want = DropReason::icmp6_bad_checksum},
      {.name = "ICMPv6 bad checksum with hints.udp good",
       .in = icmp6_to(kPeer6, kOur6, 64).icmp(128, 0, kEchoBody).bad_checksum(),
       .want = DropReason::icmp6_bad_checksum,
       .hints = {.udp = CsumState::good}},
      {.name = "ICMPv6 echo with hints.udp bad is still answered",
       .in = icmp6_to(kPeer6, kOur6, 64).icmp(128, 0, kEchoBody),
       .want = echo6_reply(kOur6, kPeer6),
       .hints = {.udp = CsumState::bad}},
      {.name = "ICMPv6 2 bytes",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6, .next = 58}).payload(Bytes{128, 0}),
       .want = DropReason::icmp6_malformed},
      {.name = "ICMPv6 echo without id/seq", .in = icmp6_to(kPeer6, kOur6).icmp(128, 0, Bytes{}), .want = DropReason::icmp6_malformed},
      {.name = "ICMPv6 router advertisement",
       .in = icmp6_to(kPeer6, kOur6).icmp(134, 0, Bytes(12, 0)),
       .want = DropReason::icmp6_unsupported_type},
      {.name = "ICMPv6 neighbor advertisement",
       .in = icmp6_to(kPeer6, kOur6).na(0x60000000, kPeer6, kPeerMac),
       .want = DropReason::icmp6_unsupported_type},
      {.name = "ICMPv6 echo from ::", .in = icmp6_to(kUnspec, kOur6).icmp(128, 0, kEchoBody), .want = DropReason::ipv6_bad_source},
      {.name = "ICMPv6 echo to solicited-node group",
       .in = icmp6_to(kPeer6, kSn, 64, kSnMac).icmp(128, 0, kEchoBody),
       .want = DropReason::ipv6_not_ours},

      // --- NDP
      {.name = "NS to solicited-node group",
       .in = icmp6_to(kPeer6, kSn, 255, kSnMac).ns(kOur6, kSlla),
       .want = na_reply(kPeer6, kPeerMac, 0x60000000)},
      {.name = "NS unicast without options (reply grows)",
       .in = icmp6_to(kPeer6, kOur6).ns(kOur6),
       .want = na_reply(kPeer6, kPeerMac, 0x60000000)},
      {.name = "NS from link-local for second address",
       .in = icmp6_to(kPeerLl, pkt::solicited_node(kOur6b), 255, pkt::multicast_mac(pkt::solicited_node(kOur6b))).ns(kOur6b, kSlla),
       .want = na_reply(kPeerLl, kPeerMac, 0x60000000, kOur6b)},
      {.name = "DAD NS from :: -> NA to all-nodes, S=0",
       .in = icmp6_to(kUnspec, kSn, 255, kSnMac).ns(kOur6),
       .want = na_reply(kAllNodes, kAllNodesMac, 0x20000000)},
      {.name = "NS on tagged port",
       .in = icmp6_to(kPeer6, kSn, 255, kSnMac, kTag).ns(kOur6, kSlla),
       .want = na_reply(kPeer6, kPeerMac, 0x60000000, kOur6, kTag),
       .tagged = true},
      {.name = "NS without room to grow", .in = icmp6_to(kPeer6, kOur6).ns(kOur6), .want = DropReason::mbuf_no_tailroom, .room = 7},
      {.name = "NS hop limit 64", .in = icmp6_to(kPeer6, kSn, 64, kSnMac).ns(kOur6, kSlla), .want = DropReason::ndp_invalid},
      {.name = "NS code 1",
       .in = icmp6_to(kPeer6, kSn, 255, kSnMac).icmp(135, 1, pkt::cat({Bytes(4, 0), Bytes(kOur6.bytes.begin(), kOur6.bytes.end()), kSlla})),
       .want = DropReason::ndp_invalid},
      {.name = "NS for a multicast target", .in = icmp6_to(kPeer6, kOur6).ns(kSn), .want = DropReason::ndp_invalid},
      {.name = "NS shorter than 24 bytes", .in = icmp6_to(kPeer6, kOur6).icmp(135, 0, Bytes(16, 0)), .want = DropReason::ndp_invalid},
      {.name = "NS option of length 0",
       .in = icmp6_to(kPeer6, kOur6).ns(kOur6, Bytes{1, 0, 0, 0, 0, 0, 0, 0}),
       .want = DropReason::ndp_invalid},
      {.name = "NS option past the end",
       .in = icmp6_to(kPeer6, kOur6).ns(kOur6, Bytes{1, 2, 0, 0, 0, 0, 0, 0}),
       .want = DropReason::ndp_invalid},
      {.name = "NS option header cut", .in = icmp6_to(kPeer6, kOur6).ns(kOur6, Bytes{1}), .want = DropReason::ndp_invalid},
      {.name = "DAD NS with source link-layer option",
       .in = icmp6_to(kUnspec, kSn, 255, kSnMac).ns(kOur6, kSlla),
       .want = DropReason::ndp_invalid},
      {.name = "DAD NS to a unicast address", .in = icmp6_to(kUnspec, kOur6).ns(kOur6), .want = DropReason::ndp_invalid},
      {.name = "NS for another host", .in = icmp6_to(kPeer6, kOur6).ns(kOther6, kSlla), .want = DropReason::ndp_not_ours},
      {.name = "NS to the group of another host",
       .in = icmp6_to(kPeer6, pkt::solicited_node(kOther6), 255, pkt::multicast_mac(pkt::solicited_node(kOther6))).ns(kOther6, kSlla),
       .want = DropReason::ipv6_not_ours},
      {.name = "NS to our group under a wrong multicast MAC",
       .in = icmp6_to(kPeer6, kSn, 255, kAllNodesMac).ns(kOur6, kSlla),
       .want = DropReason::eth_not_ours},
      {.name = "NS bad checksum",
       .in = icmp6_to(kPeer6, kSn, 255, kSnMac).ns(kOur6, kSlla).bad_checksum(),
       .want = DropReason::icmp6_bad_checksum},
      {.name = "NS bad checksum with every hint good",
       .in = icmp6_to(kPeer6, kSn, 255, kSnMac).ns(kOur6, kSlla).bad_checksum(),
       .want = DropReason::icmp6_bad_checksum,
       .hints = {CsumState::good, CsumState::good}},

      // --- MLD (RFC 3810): queries answered with MLDv2 reports of our
      // solicited-node groups; Hop-by-Hop accepted only for MLD.
      {.name = "MLDv2 general query: report of every solicited-node group",
       .in = mld_query(kAllNodes, kAllNodesMac, kUnspec),
       .want = mld_report(our_groups())},
      {.name = "MLDv1 general query: answered with an MLDv2 report",
       .in = mld_query(kAllNodes, kAllNodesMac, kUnspec, {.v2 = false}),
       .want = mld_report(our_groups())},
      {.name = "MLD group-specific query for our group: that group only",
       .in = mld_query(kSn, kSnMac, kSn),
       .want = mld_report({kSn})},
      {.name = "MLD query on tagged port keeps the tag",
       .in = mld_query(kAllNodes, kAllNodesMac, kUnspec, {.vlan = kTag}),
       .want = mld_report(our_groups(), 2, kTag),
       .tagged = true},
      {.name = "MLD query for another group",
       .in = mld_query(kOtherSn, pkt::multicast_mac(kOtherSn), kOtherSn),
       .want = DropReason::ipv6_not_ours},
      {.name = "MLD query from a global address",
       .in = mld_query(kAllNodes, kAllNodesMac, kUnspec, {.src = kPeer6}),
       .want = DropReason::mld_invalid},
      {.name = "MLD query with hop limit 255",
       .in = mld_query(kAllNodes, kAllNodesMac, kUnspec, {.hop = 255}),
       .want = DropReason::mld_invalid},
      {.name = "MLD query to the wrong MAC", .in = mld_query(kAllNodes, kMldRoutersMac, kUnspec), .want = DropReason::eth_not_ours},
      {.name = "another host's MLDv2 report",
       .in = mld_query(kMldRouters, kMldRoutersMac, kUnspec, {.type = 143}),
       .want = DropReason::mld_not_query},
      {.name = "Hop-by-Hop without Router Alert",
       .in = mld_query(kAllNodes, kAllNodesMac, kUnspec, {.hbh = {58, 0, 1, 4, 0, 0, 0, 0}}),  // PadN only
       .want = DropReason::ipv6_extension_header},
      {.name = "Hop-by-Hop Router Alert before UDP",
       .in = mld_query(kAllNodes, kAllNodesMac, kUnspec, {.hbh = {17, 0, 5, 2, 0, 0, 1, 0}}),
       .want = DropReason::ipv6_extension_header},
      {.name = "Hop-by-Hop Router Alert for RSVP",
       .in = mld_query(kAllNodes, kAllNodesMac, kUnspec, {.hbh = {58, 0, 5, 2, 0, 1, 1, 0}}),  // value 1: RSVP, not MLD
       .want = DropReason::ipv6_extension_header},

      // capacity contract
      {.name = "capacity below length", .in = request4(req()), .want = DropReason::mbuf_no_tailroom, .room = kBelowLength},
  };
}

std::vector<RouteRow> make_route_rows() {
  using frame::Route;
  const Bytes tcp_syn(20, 0);  // the kernel parses TCP; reflect never does
  const IpAddress ll = pkt::ip("fe80::ff:fe00:1");  // the kernel's link-local address, not owned
  const IpAddress ll_sn = pkt::solicited_node(ll);
  return {
      {.name = "STUN to an owned address", .in = request4(req()), .want = Route::reply},
      {.name = "TCP (BGP, SSH) to an owned address",
       .in = to_us().ipv4({.src = kPeer4, .dst = kOur4, .proto = 6}).payload(tcp_syn),
       .want = Route::kernel},
      {.name = "TCP to an address not owned",
       .in = to_us().ipv4({.src = kPeer4, .dst = kOther4, .proto = 6}).payload(tcp_syn),
       .want = Route::drop},
      {.name = "TCP to another host's MAC",
       .in = to_us(kOtherMac).ipv4({.src = kPeer4, .dst = kOur4, .proto = 6}).payload(tcp_syn),
       .want = Route::drop},
      {.name = "UDP to a port not served (BFD)", .in = request4(Bytes(24, 0), {.dport = 3784}), .want = Route::kernel},
      {.name = "ICMP echo reply (the kernel's ping)", .in = echo4(Bytes(8, 1), 0), .want = Route::kernel},
      {.name = "ICMP echo request: answered here", .in = echo4(Bytes(8, 1)), .want = Route::reply},
      {.name = "ICMP with a bad checksum",
       .in = to_us().ipv4({.src = kPeer4, .dst = kOur4}).icmp(0, 0, Bytes(8, 1)).bad_checksum(),
       .want = Route::drop},
      {.name = "IPv4 fragment to an owned address",  // MF
       .in = to_us().ipv4({.src = kPeer4, .dst = kOur4, .frag = 0x2000, .proto = 17}).payload(Bytes(16, 0)),
       .want = Route::kernel},
      {.name = "ARP request for an owned address: answered here", .in = arp_request(kPeer4, kOur4), .want = Route::reply},
      {.name = "ARP request for another address", .in = arp_request(kPeer4, kOther4), .want = Route::drop},
      {.name = "ARP reply to the kernel's request",
       .in = to_us().arp(2, kPeerMac, kPeer4, kOurMac, kOur4),
       .want = Route::kernel},
      {.name = "gratuitous ARP", .in = arp_request(kPeer4, kPeer4), .want = Route::kernel},
      {.name = "TCP over IPv6 to an owned address",
       .in = to_us().ipv6({.src = kPeer6, .dst = kOur6, .next = 6}).payload(tcp_syn),
       .want = Route::kernel},
      {.name = "NA to an owned address (the kernel resolved its peer)",
       .in = icmp6_to(kPeer6, kOur6).na(0x60000000u, kPeer6, kPeerMac),
       .want = Route::kernel},
      {.name = "NS for the kernel's link-local address",
       .in = icmp6_to(kPeerLl, ll_sn, 255, pkt::multicast_mac(ll_sn)).ns(ll, kSlla),
       .want = Route::kernel},
      {.name = "RA to all-nodes", .in = icmp6_to(kPeerLl, kAllNodes, 255, kAllNodesMac).icmp(134, 0, Bytes(12, 0)), .want = Route::kernel},
      {.name = "NS for an owned address: answered here", .in = icmp6_to(kPeer6, kSn, 255, kSnMac).ns(kOur6, kSlla), .want = Route::reply},
      {.name = "malformed IPv4", .in = to_us().ethertype(0x0800).payload(Bytes(10, 0x45)), .want = Route::drop},
  };
}

}  // namespace

std::vector<IpAddress> our_groups() {
  std::vector<IpAddress> out;
  auto add = [&out](const IpAddress& a) {
    const IpAddress g = pkt::solicited_node(a);
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  };
  for (const IpAddress& a : kOwned6) add(a);
  add(pkt::eui64_link_local(kOurMac));
  return out;
}

Reply mld_report(const std::vector<IpAddress>& groups, uint8_t record_type, std::optional<pkt::Vlan> vlan) {
  Bytes body{0, 0, 0, static_cast<uint8_t>(groups.size())};  // reserved, number of records
  for (const IpAddress& g : groups) {
    body.insert(body.end(), {record_type, 0, 0, 0});
    body.insert(body.end(), g.bytes.begin(), g.bytes.end());
  }
  const IpAddress ll = pkt::eui64_link_local(kOurMac);
  return {frame::ReplyKind::mld_report, pkt::Packet()
                                         .eth(kMldRoutersMac, kOurMac, vlan)
                                         .ipv6({.src = ll, .dst = kMldRouters, .hop = 1, .hop_by_hop = kHbhRouterAlert})
                                         .icmp(143, 0, body)};
}

frame::PortIdentity port_identity(bool tagged) {
  frame::PortIdentity p;
  p.mac = kOurMac;
  p.vlan = tagged ? kVlan : -1;
  p.ttl = kTtl;
  for (const IpAddress& a : kOwned4) p.add_v4(a.v4_bytes());
  for (const IpAddress& a : kOwned6) p.add_v6(a.bytes);
  p.stun_ports.set(3478);
  p.stun_ports.set(3479);
  // RFC 5780 on addresses of their own: every other row is plain STUN.
  auto pair = [](const IpAddress& primary, const IpAddress& alternate) {
    stun::Rfc5780Pair r;
    r.v6 = primary.v6;
    r.local = {primary.bytes, alternate.bytes};
    r.advertised = r.local;
    r.port = {3478, 3479};
    return r;
  };
  p.rfc5780[0] = pair(kPair4p, kPair4a);
  p.rfc5780[1] = pair(kPair6p, kPair6a);
  return p;
}

Bytes expected_frame(const Reply& r, bool tx_offload) {
  return tx_offload && is_udp_reply(r.kind) ? pkt::to_offload_form(r.frame) : r.frame;
}

const std::vector<Row>& rows() {
  static const std::vector<Row> table = make_rows();
  return table;
}

const std::vector<RouteRow>& route_rows() {
  static const std::vector<RouteRow> table = make_route_rows();
  return table;
}

}  // namespace stunbox::golden
