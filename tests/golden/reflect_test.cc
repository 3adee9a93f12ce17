// Golden table for frame::reflect: {description, input frame, expected reply frame or drop reason}, both checksum variants.
#include "frame/reflect.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <optional>
#include <random>
#include <set>
#include <variant>

#include "frame_builder.h"

namespace stunbox::frame {
namespace {

using namespace golden;  // NOLINT: test-local builders

const Mac kOurMac{0x02, 0, 0, 0, 0, 0x01};
const Mac kPeerMac{0x02, 0, 0, 0, 0, 0xAA};
const Mac kOtherMac{0x02, 0, 0, 0, 0, 0xBB};
const Mac kBroadcast{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
const Mac kAllNodesMac{0x33, 0x33, 0, 0, 0, 0x01};
const Ip4 kOur4{198, 18, 0, 2};
const Ip4 kOur4b{198, 18, 1, 2};
const Ip4 kPeer4{198, 18, 0, 1};
const Ip4 kOther4{198, 18, 0, 77};
const Ip6 kOur6 = ip6("2001:2::2");
const Ip6 kOur6b = ip6("2001:2::abcd:3");
const Ip6 kPeer6 = ip6("2001:2::1");
const Ip6 kPeerLl = ip6("fe80::1");
const Ip6 kOther6 = ip6("2001:2::99");
// The port's RFC 5780 pairs: primary (kPair4p, 3478), alternate (kPair4a, 3479); IPv6 likewise.
const Ip4 kPair4p{198, 18, 0, 4};
const Ip4 kPair4a{198, 18, 0, 5};
const Ip6 kPair6p = ip6("2001:2::4");
const Ip6 kPair6a = ip6("2001:2::5");
const Ip6 kAllNodes = ip6("ff02::1");
const Ip6 kUnspec = ip6("::");
constexpr uint8_t kTtl = 77;  // differs from every request's TTL, so the reply's comes from the port
constexpr uint16_t kVlan = 100;
constexpr uint16_t kPeerPort = 40000;
const std::array<uint8_t, 12> kTxid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
const std::array<uint8_t, 16> kClassicTxid{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

PortIdentity make_port(bool tagged) {
  PortIdentity p;
  p.mac = kOurMac;
  p.vlan = tagged ? kVlan : -1;
  p.ttl = kTtl;
  EXPECT_TRUE(p.add_v4(kOur4));
  EXPECT_TRUE(p.add_v4(kOur4b));
  EXPECT_TRUE(p.add_v6(kOur6));
  EXPECT_TRUE(p.add_v6(kOur6b));
  p.stun_ports.set(3478);
  p.stun_ports.set(3479);
  // RFC 5780 on addresses of their own: every other row is plain STUN.
  EXPECT_TRUE(p.add_v4(kPair4p));
  EXPECT_TRUE(p.add_v4(kPair4a));
  EXPECT_TRUE(p.add_v6(kPair6p));
  EXPECT_TRUE(p.add_v6(kPair6a));
  stun::Rfc5780Pair v4;
  std::copy(kPair4p.begin(), kPair4p.end(), v4.local[0].begin());
  std::copy(kPair4a.begin(), kPair4a.end(), v4.local[1].begin());
  v4.advertised = v4.local;
  v4.port = {3478, 3479};
  p.rfc5780[0] = v4;
  stun::Rfc5780Pair v6;
  v6.v6 = true;
  std::copy(kPair6p.begin(), kPair6p.end(), v6.local[0].begin());
  std::copy(kPair6a.begin(), kPair6a.end(), v6.local[1].begin());
  v6.advertised = v6.local;
  v6.port = {3478, 3479};
  p.rfc5780[1] = v6;
  return p;
}

// ---- frame recipes -------------------------------------------------------

struct V4 {
  Ip4 src = kPeer4;
  Ip4 dst = kOur4;
  uint16_t sport = kPeerPort;
  uint16_t dport = 3478;
  Ip4Opts ip{};
  int vlan = -1;
  Mac dmac = kOurMac;
  int udp_csum = -1;
  int udp_len = -1;
  Bytes pad;
};

Bytes v4_udp(const Bytes& payload, const V4& p = {}) {
  return cat({eth(p.dmac, kPeerMac, 0x0800,
                  ipv4(p.src, p.dst, 17, udp4(p.src, p.dst, p.sport, p.dport, payload, p.udp_csum, p.udp_len), p.ip),
                  p.vlan),
              p.pad});
}

Ip4Opts reply_ip4() {
  Ip4Opts o;
  o.id = 0;
  o.frag = 0x4000;  // DF, id 0: RFC 6864 atomic datagram
  o.ttl = kTtl;
  return o;
}

Bytes v4_udp_reply(const Bytes& payload, const V4& p = {}) {
  return eth(kPeerMac, kOurMac, 0x0800, ipv4(p.dst, p.src, 17, udp4(p.dst, p.src, p.dport, p.sport, payload), reply_ip4()),
             p.vlan);
}

struct V6 {
  Ip6 src = kPeer6;
  Ip6 dst = kOur6;
  uint16_t sport = kPeerPort;
  uint16_t dport = 3478;
  Ip6Opts ip{};
  int vlan = -1;
  Mac dmac = kOurMac;
  int udp_csum = -1;
  Bytes pad;
};

Bytes v6_udp(const Bytes& payload, const V6& p = {}) {
  return cat({eth(p.dmac, kPeerMac, 0x86DD,
                  ipv6(p.src, p.dst, 17, udp6(p.src, p.dst, p.sport, p.dport, payload, p.udp_csum), p.ip), p.vlan),
              p.pad});
}

Bytes v6_udp_reply(const Bytes& payload, const V6& p = {}) {
  Ip6Opts o;
  o.hop = kTtl;
  return eth(kPeerMac, kOurMac, 0x86DD, ipv6(p.dst, p.src, 17, udp6(p.dst, p.src, p.dport, p.sport, payload), o),
             p.vlan);
}

Bytes stun_ok4(const V4& p, bool fp) { return stun_success(kTxid, false, p.src.data(), p.sport, fp); }
Bytes stun_ok6(const V6& p, bool fp) { return stun_success(kTxid, true, p.src.data(), p.sport, fp); }

const Bytes kEchoBody{0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g', '!', 0x00, 0xFF};  // id, seq, odd-length data

Bytes v4_icmp(const Bytes& icmp, const Ip4& src = kPeer4, const Ip4Opts& o = {}, Mac dmac = kOurMac) {
  return eth(dmac, kPeerMac, 0x0800, ipv4(src, kOur4, 1, icmp, o));
}

Bytes v6_icmp(uint8_t type, uint8_t code, const Bytes& body, const Ip6& src = kPeer6, const Ip6& dst = kOur6,
              uint8_t hop = 255, Mac dmac = kOurMac, bool bad_csum = false, int vlan = -1) {
  Ip6Opts o;
  o.hop = hop;
  return eth(dmac, kPeerMac, 0x86DD, ipv6(src, dst, 58, icmp6(src, dst, type, code, body, bad_csum), o), vlan);
}

Bytes na_reply(const Ip6& to, const Mac& to_mac, uint32_t flags, const Ip6& target = kOur6, int vlan = -1) {
  Ip6Opts o;
  o.hop = 255;
  return eth(to_mac, kOurMac, 0x86DD, ipv6(target, to, 58, icmp6(target, to, 136, 0, na_body(flags, target, kOurMac)), o),
             vlan);
}

Bytes arp_frame(uint16_t op, const Ip4& spa, const Ip4& tpa, Mac dmac = kBroadcast, int vlan = -1) {
  return eth(dmac, kPeerMac, 0x0806, arp(op, kPeerMac, spa, Mac{}, tpa), vlan);
}

Bytes arp_reply_frame(const Ip4& spa, const Ip4& tpa, int vlan = -1) {
  return eth(kPeerMac, kOurMac, 0x0806, arp(2, kOurMac, spa, kPeerMac, tpa), vlan);
}

// ---- the table -----------------------------------------------------------

struct Case {
  std::string name;
  Bytes in;
  std::variant<Bytes, DropReason> want;
  std::optional<ReplyKind> kind;
  bool tagged = false;
  RxHints hints{};
  size_t room = 256;  // capacity - len
  bool truncatable = true;  // every shorter prefix must drop (false when the frame carries padding)
  stun::ResponderConfig cfg{};
};

// gtest prints a failing parameter with this instead of a byte dump.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Case reply(std::string name, Bytes in, Bytes out, ReplyKind kind) {
  Case c;
  c.name = std::move(name);
  c.in = std::move(in);
  c.want = std::move(out);
  c.kind = kind;
  return c;
}

Case dropped(std::string name, Bytes in, DropReason r) {
  Case c;
  c.name = std::move(name);
  c.in = std::move(in);
  c.want = r;
  return c;
}

template <typename F>
Case with(Case c, F f) {
  f(c);
  return c;
}

// ---- MLD (RFC 3810) ----
const Ip6 kMldRouters = ip6("ff02::16");
const Mac kMldRoutersMac{0x33, 0x33, 0, 0, 0, 0x16};
const Bytes kHbhRouterAlert = {58, 0, 5, 2, 0, 0, 1, 0};  // next ICMPv6, Router Alert MLD, PadN

// The solicited-node group of an address and its MAC.
Ip6 solicited(const Ip6& a) {
  Ip6 g = ip6("ff02::1:ff00:0");
  std::copy(a.begin() + 13, a.end(), g.begin() + 13);
  return g;
}
Mac group_mac(const Ip6& g) { return {0x33, 0x33, g[12], g[13], g[14], g[15]}; }

// An MLD query from `src` to `dst` about `group` (:: = general); v2 adds the MLDv2 fields.
Bytes mld_query(const Ip6& dst, const Mac& dmac, const Ip6& group, bool v2 = true, const Ip6& src = kPeerLl,
                uint8_t hop = 1, const Bytes& hbh = kHbhRouterAlert, uint8_t type = 130, int vlan = -1) {
  Bytes body = {0x03, 0xE8, 0, 0};  // max response delay 1000 ms, reserved
  body.insert(body.end(), group.begin(), group.end());
  if (v2) body.insert(body.end(), {0x02, 125, 0, 0});  // QRV 2, QQIC 125 s, no sources
  Ip6Opts o;
  o.hop = hop;
  return eth(dmac, kPeerMac, 0x86DD, ipv6(src, dst, 0, cat({hbh, icmp6(src, dst, type, 0, body)}), o), vlan);
}

// The MLDv2 report answering it: from our EUI-64 link-local to ff02::16, MODE_IS_EXCLUDE records.
Bytes mld_report(const std::vector<Ip6>& groups, uint8_t record_type = 2, int vlan = -1) {
  Bytes body = {0, 0, 0, static_cast<uint8_t>(groups.size())};  // reserved, number of records
  for (const Ip6& g : groups) {
    body.insert(body.end(), {record_type, 0, 0, 0});
    body.insert(body.end(), g.begin(), g.end());
  }
  const auto ll = link_local_of(kOurMac);
  const Ip6 src = ll;
  Ip6Opts o;
  o.hop = 1;
  return eth(kMldRoutersMac, kOurMac, 0x86DD,
             ipv6(src, kMldRouters, 0, cat({kHbhRouterAlert, icmp6(src, kMldRouters, 143, 0, body)}), o), vlan);
}

// Every solicited-node group of make_port's IPv6 addresses, each once, in address order, then that
// of the port's EUI-64 link-local address.
std::vector<Ip6> our_groups() {
  const PortIdentity p = make_port(false);
  std::vector<Ip6> out;
  auto add = [&out](const Ip6& a) {
    const Ip6 g = solicited(a);
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  };
  for (size_t i = 0; i < p.n_v6; ++i) {
    Ip6 a;
    std::copy(p.v6[i].begin(), p.v6[i].end(), a.begin());
    add(a);
  }
  add(link_local_of(kOurMac));
  return out;
}

std::vector<Case> cases() {
  std::vector<Case> t;
  const Bytes req = stun_request(kTxid, false);
  const Bytes req_fp = stun_request(kTxid, true);
  const V4 p4{};
  const V6 p6{};

  // --- STUN over IPv4
  t.push_back(reply("v4 RFC 8489 request", v4_udp(req), v4_udp_reply(stun_ok4(p4, false)), ReplyKind::stun_success));
  t.push_back(reply("v4 request with FINGERPRINT mirrors it", v4_udp(req_fp), v4_udp_reply(stun_ok4(p4, true)),
                    ReplyKind::stun_success));
  t.push_back(with(reply("v4 FINGERPRINT policy always", v4_udp(req), v4_udp_reply(stun_ok4(p4, true)),
                         ReplyKind::stun_success),
                   [](Case& c) { c.cfg.fingerprint = stun::FingerprintPolicy::always; }));
  {
    V4 o;
    o.ip.options = {0x01, 0x01, 0x01, 0x00, 0x94, 0x04, 0x00, 0x00};  // NOP NOP NOP EOL, Router Alert
    t.push_back(reply("v4 with IP options: reply has none", v4_udp(req_fp, o), v4_udp_reply(stun_ok4(o, true), o),
                      ReplyKind::stun_success));
    o.ip.options.assign(40, 0x01);  // IHL 15
    t.push_back(reply("v4 with 40 bytes of options", v4_udp(req, o), v4_udp_reply(stun_ok4(o, false), o),
                      ReplyKind::stun_success));
  }
  t.push_back(reply("v4 classic RFC 3489 request", v4_udp(stun_classic_request(kClassicTxid)),
                    v4_udp_reply(stun_classic_success(kClassicTxid, kPeer4, kPeerPort)), ReplyKind::stun_success));
  t.push_back(dropped("v4 classic disabled", v4_udp(stun_classic_request(kClassicTxid)), DropReason::stun_classic_disabled));
  t.back().cfg.classic = false;
  {
    // CHANGE-REQUEST (RFC 5780 s7.2): all flags clear asks for nothing and is
    // a plain Binding request (stuntman's stunclient: RFC 5389 header, no
    // FINGERPRINT; Debian's `stun`: classic header); a requested change gets
    // 420 listing 0x0003 while no RFC 5780 address pair is configured.
    const Bytes no_change = stun_attr(0x0003, {0, 0, 0, 0});
    t.push_back(reply("v4 CHANGE-REQUEST 0 (stuntman's binding test)", v4_udp(stun_request(kTxid, false, no_change)),
                      v4_udp_reply(stun_ok4(p4, false)), ReplyKind::stun_success));
    t.push_back(reply("v4 CHANGE-REQUEST 0 with FINGERPRINT", v4_udp(stun_request(kTxid, true, no_change)),
                      v4_udp_reply(stun_ok4(p4, true)), ReplyKind::stun_success));
    t.push_back(reply("v4 CHANGE-REQUEST with only unused bits set", v4_udp(stun_request(kTxid, false, stun_attr(0x0003, {0xFF, 0xFF, 0xFF, 0xF9}))),
                      v4_udp_reply(stun_ok4(p4, false)), ReplyKind::stun_success));
    t.push_back(reply("v4 classic CHANGE-REQUEST 0 (Debian's stun)",
                      v4_udp(stun_classic_request(kClassicTxid, no_change)),
                      v4_udp_reply(stun_classic_success(kClassicTxid, kPeer4, kPeerPort)), ReplyKind::stun_success));
    for (const uint8_t flags : {0x02, 0x04, 0x06}) {
      const Bytes change = stun_attr(0x0003, {0, 0, 0, flags});
      const std::string f = std::to_string(flags);
      t.push_back(reply("v4 CHANGE-REQUEST " + f + " -> 420", v4_udp(stun_request(kTxid, false, change)),
                        v4_udp_reply(stun_error_420(kTxid, {0x0003}, false)), ReplyKind::stun_error));
      t.push_back(reply("v4 CHANGE-REQUEST " + f + " with FINGERPRINT -> 420", v4_udp(stun_request(kTxid, true, change)),
                        v4_udp_reply(stun_error_420(kTxid, {0x0003}, true)), ReplyKind::stun_error));
      t.push_back(reply("v4 classic CHANGE-REQUEST " + f + " -> 420", v4_udp(stun_classic_request(kClassicTxid, change)),
                        v4_udp_reply(stun_classic_error_420(kClassicTxid, {0x0003})), ReplyKind::stun_error));
    }
    t.push_back(reply("v4 CHANGE-REQUEST of 8 bytes -> 420", v4_udp(stun_request(kTxid, false, stun_attr(0x0003, Bytes(8, 0)))),
                      v4_udp_reply(stun_error_420(kTxid, {0x0003}, false)), ReplyKind::stun_error));
  }
  {
    V4 o;
    o.udp_csum = 0;
    t.push_back(reply("v4 UDP checksum 0 = none: allowed", v4_udp(req, o), v4_udp_reply(stun_ok4(o, false)),
                      ReplyKind::stun_success));
  }
  {
    V4 o;
    o.pad.assign(12, 0);
    Case c = reply("v4 Ethernet padding trimmed", v4_udp(req, o), v4_udp_reply(stun_ok4(o, false)), ReplyKind::stun_success);
    c.truncatable = false;
    t.push_back(c);
  }
  {
    V4 o;
    o.dport = 3479;
    t.push_back(reply("v4 second served port", v4_udp(req, o), v4_udp_reply(stun_ok4(o, false), o), ReplyKind::stun_success));
    V4 b;
    b.dst = kOur4b;
    t.push_back(reply("v4 second owned address answers from it", v4_udp(req, b), v4_udp_reply(stun_ok4(b, false), b),
                      ReplyKind::stun_success));
    V4 s;
    s.sport = 1;
    t.push_back(reply("v4 source port 1", v4_udp(req, s), v4_udp_reply(stun_ok4(s, false), s), ReplyKind::stun_success));
  }
  {
    V4 o;
    o.ip.tos = 0xB8;
    o.ip.ttl = 1;
    t.push_back(reply("v4 TOS and TTL 1 in request", v4_udp(req, o), v4_udp_reply(stun_ok4(o, false), o),
                      ReplyKind::stun_success));
  }
  {
    V4 o;
    o.vlan = kVlan;
    t.push_back(with(reply("v4 on tagged port keeps the tag", v4_udp(req_fp, o), v4_udp_reply(stun_ok4(o, true), o),
                           ReplyKind::stun_success),
                     [](Case& c) { c.tagged = true; }));
    t.push_back(dropped("tagged frame on untagged port", v4_udp(req, o), DropReason::vlan_mismatch));
    V4 w;
    w.vlan = kVlan + 1;
    t.push_back(with(dropped("wrong VID on tagged port", v4_udp(req, w), DropReason::vlan_mismatch),
                     [](Case& c) { c.tagged = true; }));
    t.push_back(with(dropped("untagged frame on tagged port", v4_udp(req), DropReason::vlan_mismatch),
                     [](Case& c) { c.tagged = true; }));
    t.push_back(with(dropped("ARP untagged on tagged port", arp_frame(1, kPeer4, kOur4), DropReason::vlan_mismatch),
                     [](Case& c) { c.tagged = true; }));
  }
  // Priority-tagged frames (802.1Q VID 0, PCP 1 from eth()): untagged traffic whose reply keeps the tag.
  {
    V4 o;
    o.vlan = 0;
    t.push_back(reply("v4 priority-tagged (VID 0) on untagged port, reply keeps the tag", v4_udp(req, o),
                      v4_udp_reply(stun_ok4(o, false), o), ReplyKind::stun_success));
    V6 o6;
    o6.vlan = 0;
    t.push_back(reply("v6 priority-tagged (VID 0) on untagged port, reply keeps the tag", v6_udp(req, o6),
                      v6_udp_reply(stun_ok6(o6, false), o6), ReplyKind::stun_success));
    t.push_back(reply("ARP priority-tagged (VID 0) on untagged port", arp_frame(1, kPeer4, kOur4, kBroadcast, 0),
                      arp_reply_frame(kOur4, kPeer4, 0), ReplyKind::arp_reply));
    t.push_back(with(dropped("priority-tagged (VID 0) on tagged port", v4_udp(req, o), DropReason::vlan_mismatch),
                     [](Case& c) { c.tagged = true; }));
  }
  // hints
  {
    V4 o;
    o.ip.bad_csum = true;
    t.push_back(with(reply("v4 hints.ip good trusts the NIC", v4_udp(req, o), v4_udp_reply(stun_ok4(o, false)),
                           ReplyKind::stun_success),
                     [](Case& c) { c.hints.ip = CsumState::good; }));
    t.push_back(dropped("v4 bad header checksum", v4_udp(req, o), DropReason::ipv4_bad_checksum));
    t.push_back(with(dropped("v4 hints.ip bad", v4_udp(req), DropReason::ipv4_bad_checksum),
                     [](Case& c) { c.hints.ip = CsumState::bad; }));
    V4 u;
    u.udp_csum = 0x1234;
    t.push_back(dropped("v4 bad UDP checksum", v4_udp(req, u), DropReason::udp_bad_checksum));
    t.push_back(with(reply("v4 hints.udp good trusts the NIC", v4_udp(req, u), v4_udp_reply(stun_ok4(u, false)),
                           ReplyKind::stun_success),
                     [](Case& c) { c.hints.udp = CsumState::good; }));
    t.push_back(with(dropped("v4 hints.udp bad", v4_udp(req), DropReason::udp_bad_checksum),
                     [](Case& c) { c.hints.udp = CsumState::bad; }));
  }
  // STUN-level drops pass through
  t.push_back(dropped("v4 STUN response is never answered", v4_udp(stun_success(kTxid, false, kPeer4.data(), 1, false)),
                      DropReason::stun_response));
  t.push_back(dropped("v4 STUN payload too short", v4_udp(Bytes{0, 1, 0, 0}), DropReason::stun_too_short));
  t.push_back(dropped("v4 empty UDP payload", v4_udp(Bytes{}), DropReason::stun_too_short));
  t.push_back(with(dropped("v4 no room for the response", v4_udp(req), DropReason::stun_no_room),
                   [](Case& c) { c.room = 0; }));

  {
    // RFC 5780: the reply leaves from the endpoint CHANGE-REQUEST picks (source IP and
    // port rewritten, checksums over the new values) and names it and the diagonal one.
    auto change = [](uint8_t flags) { return stun_attr(0x0003, {0, 0, 0, flags}); };
    auto addr4 = [](uint16_t type, const Ip4& a, uint16_t port) { return stun_address(type, false, a.data(), port); };
    auto from4 = [](V4 o, const Ip4& ip, uint16_t port) {
      o.dst = ip;
      o.dport = port;
      return o;
    };
    V4 pp;
    pp.dst = kPair4p;
    t.push_back(reply("rfc5780 v4 change IP and port: PP answered from AA",
                      v4_udp(stun_request(kTxid, false, change(6)), pp),
                      v4_udp_reply(stun_success(kTxid, false, kPeer4.data(), kPeerPort, false,
                                                cat({addr4(0x802B, kPair4a, 3479), addr4(0x802C, kPair4a, 3479)})),
                                   from4(pp, kPair4a, 3479)),
                      ReplyKind::stun_success));
    V4 pa = from4(pp, kPair4p, 3479);
    t.push_back(reply("rfc5780 v4 plain request with FINGERPRINT to PA: OTHER-ADDRESS is AP",
                      v4_udp(stun_request(kTxid, true), pa),
                      v4_udp_reply(stun_success(kTxid, false, kPeer4.data(), kPeerPort, true,
                                                cat({addr4(0x802B, kPair4p, 3479), addr4(0x802C, kPair4a, 3478)})),
                                   pa),
                      ReplyKind::stun_success));
    V4 rp = from4(pp, kPair4p, 8080);  // the reply goes to the client's port 8080
    rp.sport = kPeerPort;
    {
      V4 to_8080 = pp;
      to_8080.sport = 8080;
      t.push_back(reply("rfc5780 v4 RESPONSE-PORT 8080: sent there, XOR-MAPPED-ADDRESS names the source port",
                        v4_udp(stun_request(kTxid, false, stun_attr(0x0027, {0x1F, 0x90, 0, 0})), pp),
                        v4_udp_reply(stun_success(kTxid, false, kPeer4.data(), kPeerPort, false,
                                                  cat({addr4(0x802B, kPair4p, 3478), addr4(0x802C, kPair4a, 3479)})),
                                     to_8080),
                        ReplyKind::stun_success));
    }
    V4 ap = from4(pp, kPair4a, 3478);
    t.push_back(reply("rfc5780 v4 classic change port: AP answered from AA with SOURCE- and CHANGED-ADDRESS",
                      v4_udp(stun_classic_request(kClassicTxid, change(2)), ap),
                      v4_udp_reply(stun_classic_success(kClassicTxid, kPeer4, kPeerPort,
                                                        cat({addr4(0x0004, kPair4a, 3479), addr4(0x0005, kPair4p, 3479)})),
                                   from4(ap, kPair4a, 3479)),
                      ReplyKind::stun_success));
    t.push_back(reply("rfc5780 v4 PADDING with RESPONSE-PORT -> 400 to the sender",
                      v4_udp(stun_request(kTxid, false,
                                          cat({stun_attr(0x0027, {0x1F, 0x90, 0, 0}), stun_attr(0x0026, Bytes(8, 0))})),
                             pp),
                      v4_udp_reply(cat({Bytes{0x01, 0x11, 0x00, 0x14, 0x21, 0x12, 0xA4, 0x42},
                                        Bytes(kTxid.begin(), kTxid.end()),
                                        stun_attr(0x0009, cat({Bytes{0, 0, 4, 0}, Bytes{'B', 'a', 'd', ' ', 'R', 'e', 'q',
                                                                                        'u', 'e', 's', 't'}}))}),
                                   pp),
                      ReplyKind::stun_error));
    V6 aa6;
    aa6.dst = kPair6a;
    aa6.dport = 3479;
    V6 from_pa6 = aa6;
    from_pa6.dst = kPair6p;
    auto addr6 = [](uint16_t type, const Ip6& a, uint16_t port) { return stun_address(type, true, a.data(), port); };
    t.push_back(reply("rfc5780 v6 change IP: AA answered from PA",
                      v6_udp(stun_request(kTxid, true, change(4)), aa6),
                      v6_udp_reply(stun_success(kTxid, true, kPeer6.data(), kPeerPort, true,
                                                cat({addr6(0x802B, kPair6p, 3479), addr6(0x802C, kPair6p, 3478)})),
                                   from_pa6),
                      ReplyKind::stun_success));
    // Not an endpoint of a pair (kOur4:3479 is served but is no RFC 5780 endpoint): 420 as before.
    V4 plain;
    plain.dport = 3479;
    t.push_back(reply("rfc5780 change request to a plain address -> 420", v4_udp(stun_request(kTxid, false, change(4)), plain),
                      v4_udp_reply(stun_error_420(kTxid, {0x0003}, false), plain), ReplyKind::stun_error));
  }

  // --- STUN over IPv6
  t.push_back(reply("v6 RFC 8489 request", v6_udp(req), v6_udp_reply(stun_ok6(p6, false)), ReplyKind::stun_success));
  t.push_back(reply("v6 request with FINGERPRINT", v6_udp(req_fp), v6_udp_reply(stun_ok6(p6, true)), ReplyKind::stun_success));
  {
    const Bytes no_change = stun_attr(0x0003, {0, 0, 0, 0});
    t.push_back(reply("v6 CHANGE-REQUEST 0", v6_udp(stun_request(kTxid, false, no_change)),
                      v6_udp_reply(stun_ok6(p6, false)), ReplyKind::stun_success));
    t.push_back(reply("v6 CHANGE-REQUEST 0 with FINGERPRINT", v6_udp(stun_request(kTxid, true, no_change)),
                      v6_udp_reply(stun_ok6(p6, true)), ReplyKind::stun_success));
    t.push_back(reply("v6 CHANGE-REQUEST 6 with FINGERPRINT -> 420",
                      v6_udp(stun_request(kTxid, true, stun_attr(0x0003, {0, 0, 0, 6}))),
                      v6_udp_reply(stun_error_420(kTxid, {0x0003}, true)), ReplyKind::stun_error));
  }
  {
    V6 o;
    o.src = kPeerLl;
    o.dst = kOur6b;
    o.dport = 3479;
    t.push_back(reply("v6 link-local client, second address and port", v6_udp(req, o), v6_udp_reply(stun_ok6(o, false), o),
                      ReplyKind::stun_success));
    V6 v;
    v.vlan = kVlan;
    t.push_back(with(reply("v6 on tagged port", v6_udp(req_fp, v), v6_udp_reply(stun_ok6(v, true), v), ReplyKind::stun_success),
                     [](Case& c) { c.tagged = true; }));
    V6 pad;
    pad.pad.assign(5, 0xEE);
    Case c = reply("v6 trailing bytes trimmed", v6_udp(req, pad), v6_udp_reply(stun_ok6(pad, false)), ReplyKind::stun_success);
    c.truncatable = false;
    t.push_back(c);
    V6 z;
    z.udp_csum = 0;
    t.push_back(dropped("v6 UDP checksum 0", v6_udp(req, z), DropReason::udp_zero_checksum_v6));
    t.push_back(with(dropped("v6 UDP checksum 0 even with hints good", v6_udp(req, z), DropReason::udp_zero_checksum_v6),
                     [](Case& cc) { cc.hints.udp = CsumState::good; }));
    V6 b;
    b.udp_csum = 0xBEEF;
    t.push_back(dropped("v6 bad UDP checksum", v6_udp(req, b), DropReason::udp_bad_checksum));
    t.push_back(with(reply("v6 hints.udp good", v6_udp(req, b), v6_udp_reply(stun_ok6(b, false)), ReplyKind::stun_success),
                     [](Case& cc) { cc.hints.udp = CsumState::good; }));
    t.push_back(with(dropped("v6 hints.udp bad", v6_udp(req), DropReason::udp_bad_checksum),
                     [](Case& cc) { cc.hints.udp = CsumState::bad; }));
    t.push_back(with(dropped("v6 no room for the response", v6_udp(req), DropReason::stun_no_room),
                     [](Case& cc) { cc.room = 0; }));
  }

  // A reply whose UDP checksum computes to 0 must carry 0xFFFF (RFC 768; RFC
  // 8200 s8.1 for IPv6): search a transaction id that produces one.
  for (bool v6 : {false, true}) {
    bool found = false;
    for (uint32_t k = 0; k < (1u << 20) && !found; ++k) {
      std::array<uint8_t, 12> txid = kTxid;
      txid[9] = static_cast<uint8_t>(k >> 16);
      txid[10] = static_cast<uint8_t>(k >> 8);
      txid[11] = static_cast<uint8_t>(k);
      const Bytes resp = stun_success(txid, v6, v6 ? kPeer6.data() : kPeer4.data(), kPeerPort, false);
      Bytes u;
      put16(u, 3478);
      put16(u, kPeerPort);
      put16(u, static_cast<uint16_t>(8 + resp.size()));
      put16(u, 0);
      u.insert(u.end(), resp.begin(), resp.end());
      const uint32_t ph = v6 ? ref_pseudo6(kOur6, kPeer6, 17, u.size()) : ref_pseudo4(kOur4, kPeer4, 17, u.size());
      if (ref_checksum(u, ph) != 0) continue;
      found = true;
      const Bytes rq = stun_request(txid, false);
      t.push_back(v6 ? reply("v6 reply checksum computing to 0 is sent as 0xFFFF", v6_udp(rq), v6_udp_reply(resp),
                             ReplyKind::stun_success)
                     : reply("v4 reply checksum computing to 0 is sent as 0xFFFF", v4_udp(rq), v4_udp_reply(resp),
                             ReplyKind::stun_success));
      EXPECT_EQ(std::get<Bytes>(t.back().want)[(v6 ? 14 + 40 : 14 + 20) + 6], 0xFF);
    }
    EXPECT_TRUE(found) << "no transaction id gives a zero UDP checksum";
  }

  // --- Ethernet
  t.push_back(dropped("runt frame", Bytes(13, 0), DropReason::eth_too_short));
  t.push_back(dropped("empty frame", Bytes{}, DropReason::eth_too_short));
  {
    V4 o;
    o.dmac = kOtherMac;
    t.push_back(dropped("unicast MAC of another host", v4_udp(req, o), DropReason::eth_not_ours));
    o.dmac = kBroadcast;
    t.push_back(dropped("IPv4 to broadcast MAC", v4_udp(req, o), DropReason::eth_not_ours));
    o.dmac = Mac{0x01, 0x00, 0x5e, 0, 0, 1};
    t.push_back(dropped("IPv4 to multicast MAC", v4_udp(req, o), DropReason::eth_not_ours));
    V6 m;
    m.dmac = multicast_mac(solicited_node(kOur6));
    t.push_back(dropped("v6 unicast address under a multicast MAC", v6_udp(req, m), DropReason::eth_not_ours));
  }
  t.push_back(dropped("ARP to a multicast MAC", arp_frame(1, kPeer4, kOur4, Mac{0x01, 0, 0x5e, 0, 0, 1}),
                      DropReason::eth_not_ours));
  t.push_back(dropped("LLDP", eth(kOurMac, kPeerMac, 0x88CC, Bytes(46, 0)), DropReason::eth_unsupported_type));
  t.push_back(dropped("QinQ outer tag", eth(kOurMac, kPeerMac, 0x88A8, Bytes(46, 0)), DropReason::eth_unsupported_type));
  t.push_back(with(dropped("unknown type inside the tag", eth(kOurMac, kPeerMac, 0x88B5, Bytes(46, 0), kVlan),
                           DropReason::eth_unsupported_type),
                   [](Case& c) { c.tagged = true; }));
  t.push_back(with(dropped("tag header cut", eth(kOurMac, kPeerMac, 0x8100, Bytes{0x00}), DropReason::eth_too_short),
                   [](Case& c) { c.tagged = true; }));

  // --- IPv4 header
  {
    V4 o;
    o.ip.version = 5;
    t.push_back(dropped("IP version 5", v4_udp(req, o), DropReason::ipv4_malformed));
    Bytes ihl4 = v4_udp(req);
    ihl4[14] = 0x44;  // IHL 4 (checksum no longer matters: malformed first)
    t.push_back(dropped("IHL 4", ihl4, DropReason::ipv4_malformed));
    V4 big;
    big.ip.total_len = 20 + 8 + 20 + 1;
    t.push_back(dropped("total length past the frame", v4_udp(req, big), DropReason::ipv4_malformed));
    V4 small;
    small.ip.total_len = 19;
    t.push_back(dropped("total length below IHL", v4_udp(req, small), DropReason::ipv4_malformed));
    V4 longihl;
    longihl.ip.options.assign(40, 1);
    Bytes cut = eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeer4, kOur4, 17, {}, longihl.ip));
    cut.resize(14 + 40);  // IHL says 60
    t.push_back(dropped("options cut by the frame", cut, DropReason::ipv4_malformed));
    V4 mf;
    mf.ip.frag = 0x2000;
    t.push_back(dropped("first fragment (MF)", v4_udp(req, mf), DropReason::ipv4_fragment));
    mf.ip.frag = 0x0003;
    t.push_back(dropped("later fragment (offset)", v4_udp(req, mf), DropReason::ipv4_fragment));
    V4 df;
    df.ip.frag = 0x4000;
    t.push_back(reply("DF alone is not a fragment", v4_udp(req, df), v4_udp_reply(stun_ok4(df, false)), ReplyKind::stun_success));
    V4 nd;
    nd.dst = kOther4;
    t.push_back(dropped("v4 destination not ours", v4_udp(req, nd), DropReason::ipv4_not_ours));
    nd.dst = Ip4{255, 255, 255, 255};
    t.push_back(dropped("v4 destination limited broadcast", v4_udp(req, nd), DropReason::ipv4_not_ours));
    for (const auto& [label, src] : std::vector<std::pair<std::string, Ip4>>{
             {"0.0.0.0", {0, 0, 0, 0}},
             {"0.1.2.3", {0, 1, 2, 3}},
             {"127.0.0.1", {127, 0, 0, 1}},
             {"224.0.0.1", {224, 0, 0, 1}},
             {"239.255.255.250", {239, 255, 255, 250}},
             {"240.0.0.1", {240, 0, 0, 1}},
             {"255.255.255.255", {255, 255, 255, 255}},
             {"own address", kOur4},
             {"own second address", kOur4b}}) {
      V4 s;
      s.src = src;
      t.push_back(dropped("v4 source " + label, v4_udp(req, s), DropReason::ipv4_bad_source));
    }
    t.push_back(dropped("v4 TCP", eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeer4, kOur4, 6, Bytes(20, 0))),
                        DropReason::ipv4_unsupported_proto));
  }

  // --- UDP
  {
    t.push_back(dropped("v4 UDP header cut by total length",
                        eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeer4, kOur4, 17, Bytes{0x9c, 0x40, 0x0d, 0x96})),
                        DropReason::udp_malformed));
    V4 l;
    l.udp_len = 7;
    t.push_back(dropped("v4 UDP length 7", v4_udp(req, l), DropReason::udp_malformed));
    l.udp_len = 8 + 20 + 1;
    t.push_back(dropped("v4 UDP length past the IP payload", v4_udp(req, l), DropReason::udp_malformed));
    V4 z;
    z.sport = 0;
    t.push_back(dropped("v4 source port 0", v4_udp(req, z), DropReason::udp_source_port_zero));
    V4 n;
    n.dport = 3480;
    t.push_back(dropped("v4 port not served", v4_udp(req, n), DropReason::udp_port_not_served));
    V6 z6;
    z6.sport = 0;
    t.push_back(dropped("v6 source port 0", v6_udp(req, z6), DropReason::udp_source_port_zero));
    V6 n6;
    n6.dport = 53;
    t.push_back(dropped("v6 port not served", v6_udp(req, n6), DropReason::udp_port_not_served));
    t.push_back(dropped("v6 UDP header cut by payload length",
                        eth(kOurMac, kPeerMac, 0x86DD, ipv6(kPeer6, kOur6, 17, Bytes{0x9c, 0x40, 0x0d, 0x96})),
                        DropReason::udp_malformed));
    Bytes big6 = v6_udp(req);
    big6[14 + 40 + 5] = 29;  // UDP length 29 > payload 28 (malformed before checksum)
    t.push_back(dropped("v6 UDP length past the IPv6 payload", big6, DropReason::udp_malformed));
  }

  // --- IPv6 header
  {
    V6 v;
    v.ip.version = 4;
    t.push_back(dropped("IPv6 version 4", v6_udp(req, v), DropReason::ipv6_malformed));
    V6 l;
    l.ip.payload_len = 8 + 20 + 1;
    t.push_back(dropped("IPv6 payload length past the frame", v6_udp(req, l), DropReason::ipv6_malformed));
    Bytes cut = v6_udp(req);
    cut.resize(14 + 39);
    t.push_back(dropped("IPv6 header cut", cut, DropReason::ipv6_malformed));
    for (uint8_t next : {0, 43, 44, 60}) {
      t.push_back(dropped("IPv6 extension header " + std::to_string(next),
                          eth(kOurMac, kPeerMac, 0x86DD, ipv6(kPeer6, kOur6, next, Bytes(16, 0))),
                          DropReason::ipv6_extension_header));
    }
    t.push_back(dropped("IPv6 TCP", eth(kOurMac, kPeerMac, 0x86DD, ipv6(kPeer6, kOur6, 6, Bytes(20, 0))),
                        DropReason::ipv6_unsupported_proto));
    t.push_back(dropped("IPv6 no next header", eth(kOurMac, kPeerMac, 0x86DD, ipv6(kPeer6, kOur6, 59, Bytes{})),
                        DropReason::ipv6_unsupported_proto));
    V6 d;
    d.dst = kOther6;
    t.push_back(dropped("v6 destination not ours", v6_udp(req, d), DropReason::ipv6_not_ours));
    V6 m;
    m.dst = solicited_node(kOur6);
    m.dmac = multicast_mac(m.dst);
    t.push_back(dropped("v6 UDP to our solicited-node group", v6_udp(req, m), DropReason::ipv6_not_ours));
    V6 a;
    a.dst = kAllNodes;
    a.dmac = kAllNodesMac;
    t.push_back(dropped("v6 UDP to all-nodes", v6_udp(req, a), DropReason::ipv6_not_ours));
    for (const auto& [label, src] : std::vector<std::pair<std::string, Ip6>>{
             {"ff02::1", kAllNodes}, {"::1", ip6("::1")}, {"::", kUnspec}, {"own", kOur6}, {"own second", kOur6b}}) {
      V6 s;
      s.src = src;
      t.push_back(dropped("v6 source " + label, v6_udp(req, s), DropReason::ipv6_bad_source));
    }
  }

  // --- ARP
  t.push_back(reply("ARP request broadcast", arp_frame(1, kPeer4, kOur4), arp_reply_frame(kOur4, kPeer4), ReplyKind::arp_reply));
  t.push_back(reply("ARP request unicast (refresh)", arp_frame(1, kPeer4, kOur4b, kOurMac), arp_reply_frame(kOur4b, kPeer4),
                    ReplyKind::arp_reply));
  t.push_back(reply("ARP probe from 0.0.0.0 (RFC 5227)", arp_frame(1, Ip4{0, 0, 0, 0}, kOur4),
                    arp_reply_frame(kOur4, Ip4{0, 0, 0, 0}), ReplyKind::arp_reply));
  {
    Case c = reply("ARP padded to 60 bytes: reply is 42", cat({arp_frame(1, kPeer4, kOur4), Bytes(18, 0)}),
                   arp_reply_frame(kOur4, kPeer4), ReplyKind::arp_reply);
    c.truncatable = false;
    t.push_back(c);
  }
  t.push_back(with(reply("ARP on tagged port", arp_frame(1, kPeer4, kOur4, kBroadcast, kVlan),
                         arp_reply_frame(kOur4, kPeer4, kVlan), ReplyKind::arp_reply),
                   [](Case& c) { c.tagged = true; }));
  t.push_back(dropped("ARP for another host", arp_frame(1, kPeer4, kOther4), DropReason::arp_not_ours));
  t.push_back(dropped("ARP reply", arp_frame(2, kPeer4, kOur4, kOurMac), DropReason::arp_not_request));
  t.push_back(dropped("gratuitous ARP request", arp_frame(1, kOur4, kOur4), DropReason::arp_not_request));
  t.push_back(dropped("RARP-style op 3", arp_frame(3, kPeer4, kOur4), DropReason::arp_not_request));
  {
    Bytes a = arp_frame(1, kPeer4, kOur4);
    a[15] = 6;  // htype IEEE 802
    t.push_back(dropped("ARP htype 6", a, DropReason::arp_malformed));
    a = arp_frame(1, kPeer4, kOur4);
    a[18] = 8;  // hlen
    t.push_back(dropped("ARP hlen 8", a, DropReason::arp_malformed));
    a = arp_frame(1, kPeer4, kOur4);
    a[16] = 0x86;  // ptype IPv6
    a[17] = 0xDD;
    t.push_back(dropped("ARP ptype IPv6", a, DropReason::arp_malformed));
  }

  // --- ICMP
  {
    const Bytes echo = icmp4(8, 0, kEchoBody);
    t.push_back(reply("ICMP echo", v4_icmp(echo),
                      eth(kPeerMac, kOurMac, 0x0800, ipv4(kOur4, kPeer4, 1, icmp4(0, 0, kEchoBody), reply_ip4())),
                      ReplyKind::icmp_echo_reply));
    Ip4Opts o;
    o.options = {0x01, 0x01, 0x01, 0x01};
    t.push_back(reply("ICMP echo with IP options: reply has none", v4_icmp(echo, kPeer4, o),
                      eth(kPeerMac, kOurMac, 0x0800, ipv4(kOur4, kPeer4, 1, icmp4(0, 0, kEchoBody), reply_ip4())),
                      ReplyKind::icmp_echo_reply));
    t.push_back(reply("ICMP echo without data", v4_icmp(icmp4(8, 0, Bytes{0, 1, 0, 2})),
                      eth(kPeerMac, kOurMac, 0x0800, ipv4(kOur4, kPeer4, 1, icmp4(0, 0, Bytes{0, 1, 0, 2}), reply_ip4())),
                      ReplyKind::icmp_echo_reply));
    t.push_back(reply("ICMP echo all zero (id 0, seq 0, no data)", v4_icmp(icmp4(8, 0, Bytes(4, 0))),
                      eth(kPeerMac, kOurMac, 0x0800, ipv4(kOur4, kPeer4, 1, icmp4(0, 0, Bytes(4, 0)), reply_ip4())),
                      ReplyKind::icmp_echo_reply));
    t.push_back(dropped("ICMP echo from broadcast", v4_icmp(echo, Ip4{255, 255, 255, 255}), DropReason::ipv4_bad_source));
    t.push_back(dropped("ICMP echo to broadcast MAC", v4_icmp(echo, kPeer4, {}, kBroadcast), DropReason::eth_not_ours));
    t.push_back(dropped("ICMP bad checksum", v4_icmp(icmp4(8, 0, kEchoBody, true)), DropReason::icmp_bad_checksum));
    // No hint covers ICMP (i40e and ixgbe call it "L4 good" unchecked): verified in software whatever they say.
    t.push_back(with(dropped("ICMP bad checksum with every hint good", v4_icmp(icmp4(8, 0, kEchoBody, true)),
                             DropReason::icmp_bad_checksum),
                     [](Case& c) { c.hints = {CsumState::good, CsumState::good}; }));
    t.push_back(with(reply("ICMP echo with hints.udp bad is still answered", v4_icmp(echo),
                           eth(kPeerMac, kOurMac, 0x0800, ipv4(kOur4, kPeer4, 1, icmp4(0, 0, kEchoBody), reply_ip4())),
                           ReplyKind::icmp_echo_reply),
                     [](Case& c) { c.hints.udp = CsumState::bad; }));
    t.push_back(dropped("ICMP 4 bytes", v4_icmp(Bytes{8, 0, 0xF7, 0xFF}), DropReason::icmp_malformed));
    t.push_back(dropped("ICMP echo reply", v4_icmp(icmp4(0, 0, kEchoBody)), DropReason::icmp_not_echo_request));
    t.push_back(dropped("ICMP echo code 1", v4_icmp(icmp4(8, 1, kEchoBody)), DropReason::icmp_not_echo_request));
    t.push_back(dropped("ICMP timestamp", v4_icmp(icmp4(13, 0, Bytes(16, 0))), DropReason::icmp_not_echo_request));
  }

  // --- ICMPv6 echo
  {
    Ip6Opts o;
    o.hop = kTtl;
    t.push_back(reply("ICMPv6 echo", v6_icmp(128, 0, kEchoBody, kPeer6, kOur6, 64),
                      eth(kPeerMac, kOurMac, 0x86DD, ipv6(kOur6, kPeer6, 58, icmp6(kOur6, kPeer6, 129, 0, kEchoBody), o)),
                      ReplyKind::icmp6_echo_reply));
    t.push_back(with(reply("ICMPv6 echo on tagged port", v6_icmp(128, 0, kEchoBody, kPeerLl, kOur6b, 64, kOurMac, false, kVlan),
                           eth(kPeerMac, kOurMac, 0x86DD,
                               ipv6(kOur6b, kPeerLl, 58, icmp6(kOur6b, kPeerLl, 129, 0, kEchoBody), o), kVlan),
                           ReplyKind::icmp6_echo_reply),
                     [](Case& c) { c.tagged = true; }));
    t.push_back(dropped("ICMPv6 bad checksum", v6_icmp(128, 0, kEchoBody, kPeer6, kOur6, 64, kOurMac, true),
                        DropReason::icmp6_bad_checksum));
    t.push_back(with(dropped("ICMPv6 bad checksum with hints.udp good", v6_icmp(128, 0, kEchoBody, kPeer6, kOur6, 64,
                                                                              kOurMac, true),
                             DropReason::icmp6_bad_checksum),
                     [](Case& c) { c.hints.udp = CsumState::good; }));
    t.push_back(with(reply("ICMPv6 echo with hints.udp bad is still answered", v6_icmp(128, 0, kEchoBody, kPeer6, kOur6, 64),
                           eth(kPeerMac, kOurMac, 0x86DD, ipv6(kOur6, kPeer6, 58, icmp6(kOur6, kPeer6, 129, 0, kEchoBody), o)),
                           ReplyKind::icmp6_echo_reply),
                     [](Case& c) { c.hints.udp = CsumState::bad; }));
    t.push_back(dropped("ICMPv6 2 bytes", eth(kOurMac, kPeerMac, 0x86DD, ipv6(kPeer6, kOur6, 58, Bytes{128, 0})),
                        DropReason::icmp6_malformed));
    t.push_back(dropped("ICMPv6 echo without id/seq", v6_icmp(128, 0, Bytes{}), DropReason::icmp6_malformed));
    t.push_back(dropped("ICMPv6 router advertisement", v6_icmp(134, 0, Bytes(12, 0)), DropReason::icmp6_unsupported_type));
    t.push_back(dropped("ICMPv6 neighbor advertisement", v6_icmp(136, 0, na_body(0x60000000, kPeer6, kPeerMac)),
                        DropReason::icmp6_unsupported_type));
    t.push_back(dropped("ICMPv6 echo from ::", v6_icmp(128, 0, kEchoBody, kUnspec), DropReason::ipv6_bad_source));
    const Ip6 sn = solicited_node(kOur6);
    t.push_back(dropped("ICMPv6 echo to solicited-node group", v6_icmp(128, 0, kEchoBody, kPeer6, sn, 64, multicast_mac(sn)),
                        DropReason::ipv6_not_ours));
  }

  // --- NDP
  {
    const Ip6 sn = solicited_node(kOur6);
    const Mac snmac = multicast_mac(sn);
    const Bytes slla = lla_option(1, kPeerMac);
    t.push_back(reply("NS to solicited-node group", v6_icmp(135, 0, ns_body(kOur6, slla), kPeer6, sn, 255, snmac),
                      na_reply(kPeer6, kPeerMac, 0x60000000), ReplyKind::ndp_advert));
    t.push_back(reply("NS unicast without options (reply grows)", v6_icmp(135, 0, ns_body(kOur6)),
                      na_reply(kPeer6, kPeerMac, 0x60000000), ReplyKind::ndp_advert));
    t.push_back(reply("NS from link-local for second address",
                      v6_icmp(135, 0, ns_body(kOur6b, slla), kPeerLl, solicited_node(kOur6b), 255,
                              multicast_mac(solicited_node(kOur6b))),
                      na_reply(kPeerLl, kPeerMac, 0x60000000, kOur6b), ReplyKind::ndp_advert));
    t.push_back(reply("DAD NS from :: -> NA to all-nodes, S=0", v6_icmp(135, 0, ns_body(kOur6), kUnspec, sn, 255, snmac),
                      na_reply(kAllNodes, kAllNodesMac, 0x20000000), ReplyKind::ndp_advert));
    t.push_back(with(reply("NS on tagged port", v6_icmp(135, 0, ns_body(kOur6, slla), kPeer6, sn, 255, snmac, false, kVlan),
                           na_reply(kPeer6, kPeerMac, 0x60000000, kOur6, kVlan), ReplyKind::ndp_advert),
                     [](Case& c) { c.tagged = true; }));
    t.push_back(with(dropped("NS without room to grow", v6_icmp(135, 0, ns_body(kOur6)), DropReason::mbuf_no_tailroom),
                     [](Case& c) { c.room = 7; }));
    t.push_back(dropped("NS hop limit 64", v6_icmp(135, 0, ns_body(kOur6, slla), kPeer6, sn, 64, snmac), DropReason::ndp_invalid));
    t.push_back(dropped("NS code 1", v6_icmp(135, 1, ns_body(kOur6, slla), kPeer6, sn, 255, snmac), DropReason::ndp_invalid));
    t.push_back(dropped("NS for a multicast target", v6_icmp(135, 0, ns_body(sn), kPeer6, kOur6), DropReason::ndp_invalid));
    t.push_back(dropped("NS shorter than 24 bytes", v6_icmp(135, 0, Bytes(16, 0), kPeer6, kOur6), DropReason::ndp_invalid));
    t.push_back(dropped("NS option of length 0", v6_icmp(135, 0, ns_body(kOur6, Bytes{1, 0, 0, 0, 0, 0, 0, 0})),
                        DropReason::ndp_invalid));
    t.push_back(dropped("NS option past the end", v6_icmp(135, 0, ns_body(kOur6, Bytes{1, 2, 0, 0, 0, 0, 0, 0})),
                        DropReason::ndp_invalid));
    t.push_back(dropped("NS option header cut", v6_icmp(135, 0, ns_body(kOur6, Bytes{1})), DropReason::ndp_invalid));
    t.push_back(dropped("DAD NS with source link-layer option", v6_icmp(135, 0, ns_body(kOur6, slla), kUnspec, sn, 255, snmac),
                        DropReason::ndp_invalid));
    t.push_back(dropped("DAD NS to a unicast address", v6_icmp(135, 0, ns_body(kOur6), kUnspec, kOur6), DropReason::ndp_invalid));
    t.push_back(dropped("NS for another host", v6_icmp(135, 0, ns_body(kOther6, slla)), DropReason::ndp_not_ours));
    t.push_back(dropped("NS to the group of another host",
                        v6_icmp(135, 0, ns_body(kOther6, slla), kPeer6, solicited_node(kOther6), 255,
                                multicast_mac(solicited_node(kOther6))),
                        DropReason::ipv6_not_ours));
    t.push_back(dropped("NS to our group under a wrong multicast MAC",
                        v6_icmp(135, 0, ns_body(kOur6, slla), kPeer6, sn, 255, kAllNodesMac), DropReason::eth_not_ours));
    t.push_back(dropped("NS bad checksum", v6_icmp(135, 0, ns_body(kOur6, slla), kPeer6, sn, 255, snmac, true),
                        DropReason::icmp6_bad_checksum));
    t.push_back(with(dropped("NS bad checksum with every hint good",
                             v6_icmp(135, 0, ns_body(kOur6, slla), kPeer6, sn, 255, snmac, true),
                             DropReason::icmp6_bad_checksum),
                     [](Case& c) { c.hints = {CsumState::good, CsumState::good}; }));
  }
  // capacity contract
  t.push_back(with(dropped("capacity below length", v4_udp(req), DropReason::mbuf_no_tailroom),
                   [](Case& c) { c.room = static_cast<size_t>(-1); }));  // marker: capacity = len - 1
  // MLD: queries answered with MLDv2 reports of our solicited-node groups; Hop-by-Hop only for MLD.
  {
    const Ip6 none{};
    const std::vector<Ip6> groups = our_groups();
    t.push_back(reply("MLDv2 general query: report of every solicited-node group",
                      mld_query(kAllNodes, kAllNodesMac, none), mld_report(groups), ReplyKind::mld_report));
    t.push_back(reply("MLDv1 general query: answered with an MLDv2 report", mld_query(kAllNodes, kAllNodesMac, none, false),
                      mld_report(groups), ReplyKind::mld_report));
    const Ip6 g = solicited(kOur6);
    t.push_back(reply("MLD group-specific query for our group: that group only", mld_query(g, group_mac(g), g),
                      mld_report({g}), ReplyKind::mld_report));
    t.push_back(with(reply("MLD query on tagged port keeps the tag",
                           mld_query(kAllNodes, kAllNodesMac, none, true, kPeerLl, 1, kHbhRouterAlert, 130, kVlan),
                           mld_report(groups, 2, kVlan), ReplyKind::mld_report),
                     [](Case& c) { c.tagged = true; }));
    const Ip6 other = ip6("ff02::1:ff99:9999");
    t.push_back(dropped("MLD query for another group", mld_query(other, group_mac(other), other),
                        DropReason::ipv6_not_ours));
    t.push_back(dropped("MLD query from a global address", mld_query(kAllNodes, kAllNodesMac, none, true, kPeer6),
                        DropReason::mld_invalid));
    t.push_back(dropped("MLD query with hop limit 255", mld_query(kAllNodes, kAllNodesMac, none, true, kPeerLl, 255),
                        DropReason::mld_invalid));
    t.push_back(dropped("MLD query to the wrong MAC", mld_query(kAllNodes, kMldRoutersMac, none), DropReason::eth_not_ours));
    t.push_back(dropped("another host's MLDv2 report",
                        mld_query(kMldRouters, kMldRoutersMac, none, true, kPeerLl, 1, kHbhRouterAlert, 143),
                        DropReason::mld_not_query));
    const Bytes hbh_no_ra = {58, 0, 1, 4, 0, 0, 0, 0};  // PadN only
    t.push_back(dropped("Hop-by-Hop without Router Alert", mld_query(kAllNodes, kAllNodesMac, none, true, kPeerLl, 1, hbh_no_ra),
                        DropReason::ipv6_extension_header));
    const Bytes hbh_ra_udp = {17, 0, 5, 2, 0, 0, 1, 0};  // Router Alert, but UDP follows
    t.push_back(dropped("Hop-by-Hop Router Alert before UDP",
                        mld_query(kAllNodes, kAllNodesMac, none, true, kPeerLl, 1, hbh_ra_udp),
                        DropReason::ipv6_extension_header));
    const Bytes hbh_ra_rsvp = {58, 0, 5, 2, 0, 1, 1, 0};  // Router Alert value 1 (RSVP), not MLD
    t.push_back(dropped("Hop-by-Hop Router Alert for RSVP", mld_query(kAllNodes, kAllNodesMac, none, true, kPeerLl, 1, hbh_ra_rsvp),
                        DropReason::ipv6_extension_header));
  }
  return t;
}

// ---- running -------------------------------------------------------------

struct Reflected {
  Verdict v;
  Bytes out;
};

// The frame lives in a heap buffer of exactly `capacity` bytes, so ASan
// catches any access past it.
template <bool kOffload>
Reflected run(const Bytes& in, size_t capacity, const PortIdentity& port, const stun::ResponderConfig& cfg, RxHints hints) {
  // (The capacity-below-length case still needs the bytes themselves.)
  std::unique_ptr<uint8_t[]> buf(new uint8_t[std::max({capacity, in.size(), size_t{1}})]);
  std::copy(in.begin(), in.end(), buf.get());
  Reflected r;
  r.v = reflect<kOffload>(buf.get(), in.size(), capacity, port, cfg, hints);
  if (r.v.tx) r.out.assign(buf.get(), buf.get() + std::min<size_t>(r.v.length, capacity));
  return r;
}

size_t capacity_of(const Case& c) { return c.room == static_cast<size_t>(-1) ? c.in.size() - 1 : c.in.size() + c.room; }

bool is_udp_reply(ReplyKind k) { return k == ReplyKind::stun_success || k == ReplyKind::stun_error; }

class Golden : public ::testing::TestWithParam<Case> {};

template <bool kOffload>
void check_case(const Case& c) {
  const PortIdentity port = make_port(c.tagged);
  const Reflected r = run<kOffload>(c.in, capacity_of(c), port, c.cfg, c.hints);
  if (const auto* reason = std::get_if<DropReason>(&c.want)) {
    EXPECT_FALSE(r.v.tx) << "expected drop " << name(*reason) << ", got a reply:\n" << hex(r.out.data(), r.out.size());
    if (!r.v.tx) {
      EXPECT_EQ(name(r.v.reason), name(*reason));
    }
    return;
  }
  const Bytes& want_sw = std::get<Bytes>(c.want);
  ASSERT_TRUE(r.v.tx) << "expected a reply, dropped: " << name(r.v.reason);
  EXPECT_EQ(r.v.kind, *c.kind);
  const bool udp = is_udp_reply(*c.kind);
  const Bytes want = (kOffload && udp) ? to_offload_form(want_sw) : want_sw;
  EXPECT_EQ(r.out, want) << "got:\n" << hex(r.out.data(), r.out.size()) << "\nwant:\n" << hex(want.data(), want.size());
  // A tagged port's frames carry its tag; an untagged port may get a priority tag (VID 0), kept in the reply.
  const bool tagged_in = c.in.size() > 13 && c.in[12] == 0x81 && c.in[13] == 0x00;
  EXPECT_EQ(r.v.l2_len, tagged_in ? 18 : 14);
  const bool v6 = want_sw[r.v.l2_len - 2] == 0x86;
  EXPECT_EQ(r.v.ipv6(), v6);
  if (*c.kind != ReplyKind::arp_reply) {
    EXPECT_EQ(r.v.l3_len, v6 ? 40 : 20);
  }
  EXPECT_EQ(r.v.udp(), udp);  // in the offload variant: the checksums are the NIC's
  if (udp) {
    EXPECT_NE(r.v.request, stun::RequestKind::none);
  }
  if (kOffload && udp) {
    // What the NIC would put on the wire must equal the software reply.
    EXPECT_EQ(complete_offload(r.out, r.v.l2_len, r.v.l3_len, r.v.ipv6()), want_sw);
  } else {
    EXPECT_EQ(check_checksums(r.out.data(), r.out.size()), "");
  }
}

TEST_P(Golden, Software) { check_case<false>(GetParam()); }
TEST_P(Golden, Offload) { check_case<true>(GetParam()); }

// Every proper prefix of a frame that is answered must be dropped, on a
// buffer exactly its size and on one with room, in both variants.
TEST(GoldenTable, EveryTruncationOfAnAnsweredFrameDrops) {
  size_t frames = 0;
  for (const Case& c : cases()) {
    if (!std::holds_alternative<Bytes>(c.want) || !c.truncatable) continue;
    ++frames;
    const PortIdentity port = make_port(c.tagged);
    for (size_t n = 0; n < c.in.size(); ++n) {
      const Bytes cut(c.in.begin(), c.in.begin() + static_cast<long>(n));
      for (size_t room : {size_t{0}, size_t{512}}) {
        ASSERT_FALSE((run<false>(cut, n + room, port, c.cfg, c.hints).v.tx)) << c.name << ": prefix " << n << " answered";
        ASSERT_FALSE((run<true>(cut, n + room, port, c.cfg, c.hints).v.tx)) << c.name << ": prefix " << n << " answered";
      }
    }
  }
  EXPECT_GT(frames, 20u);
}

// The expected replies the test builds are themselves valid frames (guards
// the oracle).
TEST(GoldenTable, ExpectedRepliesAreValid) {
  for (const Case& c : cases()) {
    if (const auto* want = std::get_if<Bytes>(&c.want)) {
      EXPECT_EQ(check_checksums(want->data(), want->size()), "") << c.name;
    }
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s;
  for (char ch : info.param.name) s += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return std::to_string(info.index) + "_" + s;
}

INSTANTIATE_TEST_SUITE_P(Table, Golden, ::testing::ValuesIn(cases()), case_name);

// Every reason the frame layer itself can produce appears in the table.
TEST(GoldenTable, CoversEveryFrameDropReason) {
  std::set<DropReason> seen;
  for (const Case& c : cases())
    if (const auto* r = std::get_if<DropReason>(&c.want)) seen.insert(*r);
  std::vector<DropReason> frame_reasons;
  for (size_t i = static_cast<size_t>(DropReason::eth_too_short); i <= static_cast<size_t>(DropReason::ndp_not_ours); ++i)
    frame_reasons.push_back(static_cast<DropReason>(i));
  frame_reasons.push_back(DropReason::mbuf_no_tailroom);
  frame_reasons.push_back(DropReason::mld_not_query);
  frame_reasons.push_back(DropReason::mld_invalid);
  for (DropReason r : frame_reasons) EXPECT_TRUE(seen.count(r)) << "no golden case for " << name(r);
}

// Random byte mutations of every answered frame: never a crash or an access
// outside the exact-size buffer; any reply still has valid checksums and
// stays within capacity.
TEST(GoldenTable, MutatedFramesStaySafe) {
  std::mt19937 rng(12345);
  const PortIdentity untagged = make_port(false);
  const PortIdentity tagged = make_port(true);
  size_t replies = 0;
  for (const Case& c : cases()) {
    if (!std::holds_alternative<Bytes>(c.want)) continue;
    const PortIdentity& port = c.tagged ? tagged : untagged;
    for (int i = 0; i < 300; ++i) {
      Bytes m = c.in;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; ++k) m[rng() % m.size()] = static_cast<uint8_t>(rng());
      const size_t cap = m.size() + (i % 2 ? 0 : 64);
      const Reflected r = run<false>(m, cap, port, c.cfg, c.hints);
      if (r.v.tx) {
        ++replies;
        ASSERT_LE(r.v.length, cap);
        ASSERT_EQ(check_checksums(r.out.data(), r.out.size()), "") << c.name << " mutation " << i;
      }
      (void)run<true>(m, cap, port, c.cfg, c.hints);
    }
  }
  EXPECT_GT(replies, 0u);  // some mutations (payload bytes, ports) still get answers
}

// The exception path's classification (frame::route of the verdict): what
// the kernel needs goes to it, what the fast path answers never does, and
// nothing malformed, foreign or over a limit is handed on.
TEST(Route, KernelGetsWhatTheBoxDoesNotAnswer) {
  const PortIdentity port = make_port(false);
  const stun::ResponderConfig cfg{};
  const Bytes tcp_syn(20, 0);  // the kernel parses TCP; reflect never does
  struct Case {
    const char* name;
    Bytes in;
    Route want;
  };
  Ip4Opts frag;
  frag.frag = 0x2000;  // MF
  const Ip6 ll = ip6("fe80::ff:fe00:1");  // the kernel's link-local address, not owned
  Ip6Opts ns_hop;
  ns_hop.hop = 255;
  const Case cases[] = {
      {"STUN to an owned address", v4_udp(stun_request(kTxid, false)), Route::reply},
      {"TCP (BGP, SSH) to an owned address", eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeer4, kOur4, 6, tcp_syn)),
       Route::kernel},
      {"TCP to an address not owned", eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeer4, kOther4, 6, tcp_syn)), Route::drop},
      {"TCP to another host's MAC", eth(kOtherMac, kPeerMac, 0x0800, ipv4(kPeer4, kOur4, 6, tcp_syn)), Route::drop},
      {"UDP to a port not served (BFD)", v4_udp(Bytes(24, 0), V4{.dport = 3784}), Route::kernel},
      {"ICMP echo reply (the kernel's ping)",
       eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeer4, kOur4, 1, icmp4(0, 0, Bytes(8, 1)))), Route::kernel},
      {"ICMP echo request: answered here",
       eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeer4, kOur4, 1, icmp4(8, 0, Bytes(8, 1)))), Route::reply},
      {"ICMP with a bad checksum",
       eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeer4, kOur4, 1, icmp4(0, 0, Bytes(8, 1), true))), Route::drop},
      {"IPv4 fragment to an owned address", eth(kOurMac, kPeerMac, 0x0800, ipv4(kPeer4, kOur4, 17, Bytes(16, 0), frag)),
       Route::kernel},
      {"ARP request for an owned address: answered here", arp_frame(1, kPeer4, kOur4), Route::reply},
      {"ARP request for another address", arp_frame(1, kPeer4, kOther4), Route::drop},
      {"ARP reply to the kernel's request", eth(kOurMac, kPeerMac, 0x0806, arp(2, kPeerMac, kPeer4, kOurMac, kOur4)),
       Route::kernel},
      {"gratuitous ARP", arp_frame(1, kPeer4, kPeer4), Route::kernel},
      {"TCP over IPv6 to an owned address", eth(kOurMac, kPeerMac, 0x86DD, ipv6(kPeer6, kOur6, 6, tcp_syn)),
       Route::kernel},
      {"NA to an owned address (the kernel resolved its peer)",
       eth(kOurMac, kPeerMac, 0x86DD,
           ipv6(kPeer6, kOur6, 58, icmp6(kPeer6, kOur6, 136, 0, na_body(0x60000000u, kPeer6, kPeerMac)), ns_hop)),
       Route::kernel},
      {"NS for the kernel's link-local address",
       eth(multicast_mac(solicited_node(ll)), kPeerMac, 0x86DD,
           ipv6(kPeerLl, solicited_node(ll), 58,
                icmp6(kPeerLl, solicited_node(ll), 135, 0, ns_body(ll, lla_option(1, kPeerMac))), ns_hop)),
       Route::kernel},
      {"RA to all-nodes", eth(kAllNodesMac, kPeerMac, 0x86DD,
                              ipv6(kPeerLl, kAllNodes, 58, icmp6(kPeerLl, kAllNodes, 134, 0, Bytes(12, 0)), ns_hop)),
       Route::kernel},
      {"NS for an owned address: answered here",
       eth(multicast_mac(solicited_node(kOur6)), kPeerMac, 0x86DD,
           ipv6(kPeer6, solicited_node(kOur6), 58,
                icmp6(kPeer6, solicited_node(kOur6), 135, 0, ns_body(kOur6, lla_option(1, kPeerMac))), ns_hop)),
       Route::reply},
      {"malformed IPv4", eth(kOurMac, kPeerMac, 0x0800, Bytes(10, 0x45)), Route::drop},
  };
  for (const Case& c : cases) {
    const Verdict v = run<false>(c.in, c.in.size() + 256, port, cfg, RxHints{}).v;
    EXPECT_EQ(static_cast<int>(route(v)), static_cast<int>(c.want))
        << c.name << ": " << (v.tx ? std::string("reply") : std::string(name(v.reason)));
  }
  // No reason produced outside lib/frame goes to the kernel (limits, TX, STUN).
  for (DropReason r : {DropReason::rate_limited, DropReason::l3_policed, DropReason::nd_policed,
                       DropReason::tx_ring_full, DropReason::stun_bad_fingerprint, DropReason::exception_policed})
    EXPECT_FALSE(for_kernel(r)) << name(r);
}

TEST(Announce, GratuitousArp) {
  for (bool tagged : {false, true}) {
    const PortIdentity port = make_port(tagged);
    uint8_t out[64];
    const size_t n = build_gratuitous_arp(out, sizeof out, port, 1);
    const Bytes want = eth(kBroadcast, kOurMac, 0x0806, arp(1, kOurMac, kOur4b, Mac{}, kOur4b), tagged ? kVlan : -1);
    // The tag we originate carries PCP 0.
    Bytes want_pcp0 = want;
    if (tagged) want_pcp0[14] = 0x00;
    ASSERT_EQ(n, want.size());
    EXPECT_EQ(Bytes(out, out + n), want_pcp0);
    EXPECT_EQ(build_gratuitous_arp(out, want.size() - 1, port, 0), 0u);
    EXPECT_EQ(build_gratuitous_arp(out, sizeof out, port, port.n_v4), 0u);  // past the last owned address
  }
}

TEST(Announce, UnsolicitedNa) {
  for (bool tagged : {false, true}) {
    const PortIdentity port = make_port(tagged);
    uint8_t out[128];
    const size_t n = build_unsolicited_na(out, sizeof out, port, 0);
    Bytes want = na_reply(kAllNodes, kAllNodesMac, 0x20000000, kOur6, tagged ? kVlan : -1);
    if (tagged) want[14] = 0x00;
    ASSERT_EQ(n, want.size());
    EXPECT_EQ(Bytes(out, out + n), want) << hex(out, n);
    EXPECT_EQ(check_checksums(out, n), "");
    EXPECT_EQ(build_unsolicited_na(out, want.size() - 1, port, 0), 0u);
    EXPECT_EQ(build_unsolicited_na(out, sizeof out, port, port.n_v6), 0u);
  }
}

// The unsolicited report sent at start and on every link-up (RFC 3810 s6.1).
TEST(Announce, MldReport) {
  for (bool tagged : {false, true}) {
    const PortIdentity port = make_port(tagged);
    uint8_t out[512];
    const size_t n = build_mld_report(out, sizeof out, port);
    Bytes want = mld_report(our_groups(), 4, tagged ? kVlan : -1);
    if (tagged) want[14] = 0x00;  // the tag we originate carries PCP 0
    ASSERT_EQ(n, want.size());
    EXPECT_EQ(Bytes(out, out + n), want) << hex(out, n);
    EXPECT_EQ(check_checksums(out, n), "");
    EXPECT_EQ(build_mld_report(out, want.size() - 1, port), 0u);
  }
  PortIdentity v4_only;
  v4_only.mac = kOurMac;
  uint8_t out[512];
  EXPECT_EQ(build_mld_report(out, sizeof out, v4_only), 0u) << "no IPv6 address, no group to report";
}

TEST(PortIdentityTest, AddressTablesFill) {
  PortIdentity p;
  for (size_t i = 0; i < kMaxPortAddresses; ++i) {
    EXPECT_TRUE(p.add_v4({10, 0, 0, static_cast<uint8_t>(i)}));
    EXPECT_TRUE(p.add_v6({}));
  }
  EXPECT_FALSE(p.add_v4({10, 0, 1, 0}));
  EXPECT_FALSE(p.add_v6({}));
  EXPECT_EQ(p.n_v4, kMaxPortAddresses);
  EXPECT_EQ(p.n_v6, kMaxPortAddresses);
}

}  // namespace
}  // namespace stunbox::frame
