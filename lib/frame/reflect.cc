// The appliance's per-packet path: classify a frame and rewrite it in place into its STUN, ARP, NDP or echo reply.
#include "frame/reflect.h"

#include <bit>
#include <cstring>

#include "frame/checksum.h"
#include "frame/fast_path.h"
#include "frame/headers.h"

namespace stunbox::frame {

namespace {

// Records owned address `index` in its slot: a slot already holding a
// different address becomes kShared (the same address twice keeps the first).
template <size_t N>
void claim_slot(uint8_t& slot, size_t index, const std::array<std::array<uint8_t, N>, kMaxPortAddresses>& addrs) {
  if (slot == OwnedSlots::kEmpty) {
    slot = static_cast<uint8_t>(index);
  } else if (slot != OwnedSlots::kShared && addrs[slot] != addrs[index]) {
    slot = OwnedSlots::kShared;
  }
}

}  // namespace

bool PortIdentity::add_v4(const std::array<uint8_t, 4>& a) {
  if (n_v4 >= v4.size()) return false;
  v4[n_v4] = a;
  uint32_t raw;
  std::memcpy(&raw, a.data(), 4);
  claim_slot(owned.v4[OwnedSlots::slot_v4(raw)], n_v4, v4);
  ++n_v4;
  return true;
}

bool PortIdentity::add_v6(const std::array<uint8_t, 16>& a) {
  if (n_v6 >= v6.size()) return false;
  v6[n_v6] = a;
  uint64_t lo, hi;
  std::memcpy(&lo, a.data(), 8);
  std::memcpy(&hi, a.data() + 8, 8);
  claim_slot(owned.v6[OwnedSlots::slot_v6(lo, hi)], n_v6, v6);
  ++n_v6;
  return true;
}

namespace {

// Replies leave as atomic datagrams (RFC 6864 s4.1: DF set, so the ID may be
// any value; 0 leaks nothing). STUN answers are small and echo replies are no
// larger than the request, so DF never costs a reachable reply.
constexpr uint16_t kReplyFrag = kIpv4FlagDf;
constexpr uint8_t kNdpHopLimit = 255;  // RFC 4861 s7.1.1 / s7.1.2

constexpr uint8_t kAllNodes[16] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
constexpr uint8_t kAllNodesMac[6] = {0x33, 0x33, 0, 0, 0, 0x01};
// ff02::16, all MLDv2-capable routers (RFC 3810 s5.2.14), and its MAC (RFC 2464 s7).
constexpr uint8_t kMldRouters[16] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16};
constexpr uint8_t kMldRoutersMac[6] = {0x33, 0x33, 0, 0, 0, 0x16};
// Hop-by-Hop header of an MLD message: next header ICMPv6, length 0 (8 bytes), Router Alert
// value 0 = MLD (RFC 2711 s2.1), PadN of 0 bytes.
constexpr uint8_t kMldHopByHop[8] = {58, 0, 5, 2, 0, 0, 1, 0};
constexpr size_t kMldReportHeader = 8;   // type, code, checksum, reserved, number of records
constexpr size_t kMldRecord = 20;        // type, aux len 0, sources 0, the group (RFC 3810 s5.2.4)
constexpr size_t kMldV1QueryLen = 24;    // RFC 2710 s3; MLDv2 queries are longer (RFC 3810 s5.1)
// ff02::1:ff00:0/104, RFC 4291 s2.7.1.
constexpr uint8_t kSolicitedNodePrefix[13] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xFF};

inline Verdict drop(DropReason r, stun::RequestKind request = stun::RequestKind::none) noexcept {
  return make_verdict(false, r, ReplyKind{}, request, 0, 0, 0);
}

// A reply of `kind`, frame[0, length), with these header lengths; STUN
// replies carry the responder's RFC 5780 bits in the reason byte.
inline Verdict reply(ReplyKind kind, size_t length, size_t l2_len, size_t l3_len,
                     stun::RequestKind request = stun::RequestKind::none, uint8_t rfc5780_bits = 0) noexcept {
  return make_verdict(true, static_cast<DropReason>(rfc5780_bits), kind, request, length, l2_len, l3_len);
}

// Fixed-size compares as word loads (a libc memcmp call per packet shows in profiles).
using fast::ld32;
using fast::ld64;
inline bool equal_mac(const uint8_t* a, const uint8_t* b) noexcept {
  uint16_t x, y;
  std::memcpy(&x, a + 4, 2);
  std::memcpy(&y, b + 4, 2);
  return ld32(a) == ld32(b) && x == y;
}
inline bool equal_v6(const uint8_t* a, const uint8_t* b) noexcept {
  return ((ld64(a) ^ ld64(b)) | (ld64(a + 8) ^ ld64(b + 8))) == 0;
}

inline bool owns_v4(const PortIdentity& port, const uint8_t* a) noexcept {
  const uint32_t x = ld32(a);
  for (size_t i = 0; i < port.n_v4; ++i)
    if (ld32(port.v4[i].data()) == x) return true;
  return false;
}

inline bool owns_v6(const PortIdentity& port, const uint8_t* a) noexcept {
  for (size_t i = 0; i < port.n_v6; ++i)
    if (equal_v6(port.v6[i].data(), a)) return true;
  return false;
}

// True when `a` is the solicited-node multicast address of an owned address.
inline bool solicited_node_of_ours(const PortIdentity& port, const uint8_t* a) noexcept {
  if (std::memcmp(a, kSolicitedNodePrefix, sizeof(kSolicitedNodePrefix)) != 0) return false;
  for (size_t i = 0; i < port.n_v6; ++i)
    if (std::memcmp(port.v6[i].data() + 13, a + 13, 3) == 0) return true;
  return false;
}

// RFC 1122 s3.2.1.3 / RFC 5735: sources a reply must never go to.
inline bool bad_v4_source(const PortIdentity& port, const uint8_t* s) noexcept {
  const uint8_t a = s[0];
  if (a == 0 || a == 127 || a >= 224) return true;  // 0/8, 127/8, 224/4 + 240/4 (incl. 255.255.255.255)
  return owns_v4(port, s);
}

inline bool is_unspecified_v6(const uint8_t* a) noexcept { return (ld64(a) | ld64(a + 8)) == 0; }

inline bool is_loopback_v6(const uint8_t* a) noexcept {
  static constexpr uint8_t kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return equal_v6(a, kLoop);
}

// RFC 8200 s4.1 extension headers (plus the s4.7-registered ones): never parsed, dropped.
inline bool is_extension_header(uint8_t next) noexcept {
  switch (next) {
    case 0: case 43: case 44: case 50: case 51: case 60: case 135: case 139: case 140: case 253: case 254:
      return true;
    default:
      return false;
  }
}

inline void set_macs(EthHdr* eth, const uint8_t* dst, const PortIdentity& port) noexcept {
  std::memmove(eth->dst, dst, 6);
  std::memcpy(eth->src, port.mac.data(), 6);
}

inline void swap_macs(EthHdr* eth, const PortIdentity& port) noexcept {
  std::memcpy(eth->dst, eth->src, 6);
  std::memcpy(eth->src, port.mac.data(), 6);
}

// Where a UDP reply comes from and goes to. The source is a parameter, not a
// swap of the request, so RFC 5780 can later answer from another address/port.
struct UdpV4Path {
  uint8_t src[4];
  uint8_t dst[4];
  uint16_t sport;
  uint16_t dport;
};
struct UdpV6Path {
  uint8_t src[16];
  uint8_t dst[16];
  uint16_t sport;
  uint16_t dport;
};

// Writes IPv4 (IHL 5) + UDP headers in front of a payload already placed at
// l2 + 28 and returns the verdict. MACs are the caller's.
template <bool kTxCsumOffload>
inline Verdict write_udp_v4(uint8_t* frame, size_t l2, const UdpV4Path& path, uint16_t payload_len, uint8_t ttl,
                            ReplyKind kind, stun::RequestKind request, uint8_t rfc5780_bits) noexcept {
  auto* ip = reinterpret_cast<Ipv4Hdr*>(frame + l2);
  auto* udp = reinterpret_cast<UdpHdr*>(frame + l2 + sizeof(Ipv4Hdr));
  const uint16_t udp_len = static_cast<uint16_t>(sizeof(UdpHdr) + payload_len);
  const uint16_t total = static_cast<uint16_t>(sizeof(Ipv4Hdr) + udp_len);
  ip->ver_ihl = 0x45;
  ip->tos = 0;
  ip->total_len = be16(total);
  ip->id = be16(0);
  ip->frag = be16(kReplyFrag);
  ip->ttl = ttl;
  ip->proto = kProtoUdp;
  ip->csum = be16(0);
  std::memcpy(ip->src, path.src, 4);
  std::memcpy(ip->dst, path.dst, 4);
  udp->sport = be16(path.sport);
  udp->dport = be16(path.dport);
  udp->len = be16(udp_len);
  // Raw-domain sums (checksum.h): every header word is known here, so both
  // sums are built from values in registers instead of re-reading the bytes
  // just written (RFC 1071 s2: the sum is order-independent).
  const uint64_t addrs = csum::raw_addr_v4(path.src) + csum::raw_addr_v4(path.dst);
  const uint64_t phdr = addrs + csum::raw16(kProtoUdp) + csum::raw16(udp_len);
  if constexpr (kTxCsumOffload) {
    // What rte_ipv4_phdr_cksum yields: the folded, non-complemented seed.
    udp->csum.raw = csum::fold(phdr);
  } else {
    // tos, id and the checksum words are 0.
    ip->csum.raw = csum::raw_field(csum::raw16(0x4500) + csum::raw16(total) + csum::raw16(kReplyFrag) +
                                   csum::raw16(static_cast<uint16_t>(ttl << 8 | kProtoUdp)) + addrs);
    const uint64_t udp_hdr = csum::raw16(path.sport) + csum::raw16(path.dport) + csum::raw16(udp_len);
    const uint16_t c =
        csum::raw_field(csum::raw_sum(frame + l2 + sizeof(Ipv4Hdr) + sizeof(UdpHdr), payload_len, phdr + udp_hdr));
    udp->csum.raw = c == 0 ? 0xFFFF : c;  // RFC 768: a computed 0 is sent as all ones (either byte order)
  }
  return reply(kind, l2 + total, l2, sizeof(Ipv4Hdr), request, rfc5780_bits);
}

template <bool kTxCsumOffload>
inline Verdict write_udp_v6(uint8_t* frame, size_t l2, const UdpV6Path& path, uint16_t payload_len,
                            uint8_t hop_limit, ReplyKind kind, stun::RequestKind request, uint8_t rfc5780_bits) noexcept {
  auto* ip = reinterpret_cast<Ipv6Hdr*>(frame + l2);
  auto* udp = reinterpret_cast<UdpHdr*>(frame + l2 + sizeof(Ipv6Hdr));
  const uint16_t udp_len = static_cast<uint16_t>(sizeof(UdpHdr) + payload_len);
  ip->ver_tc_flow = be32(0x60000000u);
  ip->payload_len = be16(udp_len);
  ip->next = kProtoUdp;
  ip->hop_limit = hop_limit;
  std::memcpy(ip->src, path.src, 16);
  std::memcpy(ip->dst, path.dst, 16);
  udp->sport = be16(path.sport);
  udp->dport = be16(path.dport);
  udp->len = be16(udp_len);
  const uint64_t phdr =
      csum::raw_addr_v6(path.src) + csum::raw_addr_v6(path.dst) + csum::raw16(kProtoUdp) + csum::raw16(udp_len);
  if constexpr (kTxCsumOffload) {
    udp->csum.raw = csum::fold(phdr);
  } else {
    // As for IPv4: the UDP header words come from registers, not memory.
    const uint64_t udp_hdr = csum::raw16(path.sport) + csum::raw16(path.dport) + csum::raw16(udp_len);
    const uint16_t c =
        csum::raw_field(csum::raw_sum(frame + l2 + sizeof(Ipv6Hdr) + sizeof(UdpHdr), payload_len, phdr + udp_hdr));
    udp->csum.raw = c == 0 ? 0xFFFF : c;  // RFC 8200 s8.1: never 0 over IPv6
  }
  return reply(kind, l2 + sizeof(Ipv6Hdr) + udp_len, l2, sizeof(Ipv6Hdr), request, rfc5780_bits);
}

inline ReplyKind reply_kind(const stun::Answer& a) noexcept {
  return a.outcome == stun::Outcome::success ? ReplyKind::stun_success : ReplyKind::stun_error;
}

template <typename Path>
[[gnu::noinline]] stun::Answer answer_rfc5780(const stun::ResponderConfig& cfg, uint8_t* payload, size_t len,
                                              size_t capacity, const stun::ClientRef& client,
                                              const stun::Rfc5780Pair& pair, uint16_t dport, Path& path) noexcept;

// The RFC 5780 endpoint (local address `dst`, port `dport`) a request
// reached, or none (site.pair == nullptr).
inline stun::Rfc5780Site rfc5780_site(const stun::Rfc5780Pair& pair, const uint8_t* dst, uint16_t dport) noexcept {
  const size_t n = pair.v6 ? 16 : 4;
  stun::Rfc5780Site site;
  const bool primary_ip = std::memcmp(dst, pair.local[0].data(), n) == 0;
  if (!primary_ip && std::memcmp(dst, pair.local[1].data(), n) != 0) return site;
  if (dport != pair.port[0] && dport != pair.port[1]) return site;
  site.pair = &pair;
  site.ip = primary_ip ? 0 : 1;
  site.port = dport == pair.port[0] ? 0 : 1;
  return site;
}

// The STUN answer to payload[0, len). Plain requests (the port has no RFC
// 5780 pair of this family, or the request reached another address/port)
// take the responder's plain path. At an RFC 5780 endpoint the reply's
// source becomes the endpoint the responder picked and its destination port
// RESPONSE-PORT's; path.src holds the local address the request reached.
template <typename Path>
inline stun::Answer answer(const stun::ResponderConfig& cfg, uint8_t* payload, size_t len, size_t capacity,
                           const stun::ClientRef& client, const std::optional<stun::Rfc5780Pair>& pair,
                           uint16_t dport, Path& path) noexcept {
  if (!pair) [[likely]]
    return stun::respond(cfg, payload, len, capacity, client);
  return answer_rfc5780(cfg, payload, len, capacity, client, *pair, dport, path);
}

// Out of line: the plain path's code stays as small as before RFC 5780.
template <typename Path>
stun::Answer answer_rfc5780(const stun::ResponderConfig& cfg, uint8_t* payload, size_t len, size_t capacity,
                            const stun::ClientRef& client, const stun::Rfc5780Pair& pair, uint16_t dport,
                            Path& path) noexcept {
  const stun::Rfc5780Site site = rfc5780_site(pair, path.src, dport);
  if (site.pair == nullptr) return stun::respond(cfg, payload, len, capacity, client);
  const stun::Answer a = stun::respond(cfg, payload, len, capacity, client, site);
  if (a.outcome != stun::Outcome::success) return a;
  const unsigned ip = (a.rfc5780 & stun::rfc5780::kFromAlternateIp) != 0 ? 1 : 0;
  const unsigned from_port = (a.rfc5780 & stun::rfc5780::kFromAlternatePort) != 0 ? 1 : 0;
  std::memcpy(path.src, pair.local[ip].data(), sizeof path.src);
  path.sport = pair.port[from_port];
  if (a.response_port != 0) path.dport = a.response_port;
  return a;
}

// ---- IPv4 ----------------------------------------------------------------

template <bool kTxCsumOffload>
Verdict udp_v4(uint8_t* frame, size_t capacity, size_t l2, size_t ihl, size_t l4_len, const PortIdentity& port,
               const stun::ResponderConfig& cfg, RxHints hints) noexcept {
  auto* ip = reinterpret_cast<Ipv4Hdr*>(frame + l2);
  const size_t l4 = l2 + ihl;
  if (l4_len < sizeof(UdpHdr)) return drop(DropReason::udp_malformed);
  auto* udp = reinterpret_cast<UdpHdr*>(frame + l4);
  const uint16_t udp_len = host(udp->len);
  if (udp_len < sizeof(UdpHdr) || udp_len > l4_len) return drop(DropReason::udp_malformed);
  const uint16_t sport = host(udp->sport);
  const uint16_t dport = host(udp->dport);
  if (sport == 0) return drop(DropReason::udp_source_port_zero);
  if (!port.stun_ports.test(dport)) return drop(DropReason::udp_port_not_served);
  // RFC 768: a zero checksum means the sender computed none.
  if (udp->csum.raw != 0 && hints.udp != CsumState::good) {
    if (hints.udp == CsumState::bad ||
        !csum::raw_verify(csum::raw_sum(frame + l4, udp_len,
                                        csum::raw_addr_v4(ip->src) + csum::raw_addr_v4(ip->dst) +
                                            csum::raw16(kProtoUdp) + csum::raw16(udp_len))))
      return drop(DropReason::udp_bad_checksum);
  }

  UdpV4Path path;
  std::memcpy(path.src, ip->dst, 4);  // reply from the address the request reached
  std::memcpy(path.dst, ip->src, 4);
  path.sport = dport;
  path.dport = sport;
  // The reply's destination is the client; path is a copy, outside the frame.
  const stun::ClientRef client{path.dst, sport, false};

  // The reply carries no IP options: the payload moves to l2 + 28 first.
  const size_t payload_len = udp_len - sizeof(UdpHdr);
  const size_t reply_payload = l2 + sizeof(Ipv4Hdr) + sizeof(UdpHdr);
  uint8_t* payload = frame + reply_payload;
  if (ihl != sizeof(Ipv4Hdr)) std::memmove(payload, frame + l4 + sizeof(UdpHdr), payload_len);

  const stun::Answer a = answer(cfg, payload, payload_len, capacity - reply_payload, client, port.rfc5780[0], dport, path);
  if (a.outcome == stun::Outcome::drop) return drop(a.reason, a.kind);
  swap_macs(reinterpret_cast<EthHdr*>(frame), port);
  return write_udp_v4<kTxCsumOffload>(frame, l2, path, a.length, port.ttl, reply_kind(a), a.kind, a.rfc5780);
}

Verdict icmp_v4(uint8_t* frame, size_t l2, size_t ihl, size_t l4_len, const PortIdentity& port) noexcept {
  if (port.stun_only) return drop(DropReason::steering_not_stun);  // steering: the kernel's
  auto* ip = reinterpret_cast<Ipv4Hdr*>(frame + l2);
  const size_t l4 = l2 + ihl;
  auto* icmp = header_at<IcmpEcho>(frame, l4 + l4_len, l4);
  if (icmp == nullptr) return drop(DropReason::icmp_malformed);
  // Always in software: no NIC hint covers ICMP (RxHints).
  if (!csum::verify(csum::sum(frame + l4, l4_len))) return drop(DropReason::icmp_bad_checksum);
  if (icmp->type != kIcmpEchoRequest || icmp->code != 0) return drop(DropReason::icmp_not_echo_request);

  uint8_t src[4], dst[4];
  std::memcpy(src, ip->dst, 4);
  std::memcpy(dst, ip->src, 4);
  // Recomputed, not updated incrementally: for an all-zero reply (id 0, seq
  // 0, no data) RFC 1624 eqn. 3 yields 0x0000 where 0xFFFF is required, and
  // echo is off the hot path.
  icmp->type = kIcmpEchoReply;
  icmp->csum = be16(0);
  icmp->csum = be16(csum::compute(frame + l4, l4_len));
  if (ihl != sizeof(Ipv4Hdr)) std::memmove(frame + l2 + sizeof(Ipv4Hdr), frame + l4, l4_len);

  swap_macs(reinterpret_cast<EthHdr*>(frame), port);
  const uint16_t total = static_cast<uint16_t>(sizeof(Ipv4Hdr) + l4_len);
  ip->ver_ihl = 0x45;
  ip->tos = 0;
  ip->total_len = be16(total);
  ip->id = be16(0);
  ip->frag = be16(kReplyFrag);
  ip->ttl = port.ttl;
  ip->proto = kProtoIcmp;
  ip->csum = be16(0);
  std::memcpy(ip->src, src, 4);
  std::memcpy(ip->dst, dst, 4);
  ip->csum = be16(csum::compute(frame + l2, sizeof(Ipv4Hdr)));
  return reply(ReplyKind::icmp_echo_reply, l2 + total, l2, sizeof(Ipv4Hdr));
}

// The IPv4 header's raw sum; the common option-less header as a fixed-size
// sum the compiler unrolls into straight-line loads.
inline uint64_t header_sum_v4(const uint8_t* ip, size_t ihl) noexcept {
  if (ihl == sizeof(Ipv4Hdr)) [[likely]]
    return csum::raw_sum(ip, sizeof(Ipv4Hdr));
  return csum::raw_sum(ip, ihl);
}

template <bool kTxCsumOffload>
Verdict ipv4(uint8_t* frame, size_t len, size_t capacity, size_t l2, const PortIdentity& port,
             const stun::ResponderConfig& cfg, RxHints hints) noexcept {
  auto* ip = header_at<Ipv4Hdr>(frame, len, l2);
  if (ip == nullptr) return drop(DropReason::ipv4_malformed);
  // RFC 791 s3.1 / RFC 1122 s3.2.1.1-2: version 4, IHL >= 5, total length
  // covers the header and fits the frame (Ethernet padding may follow).
  const size_t ihl = static_cast<size_t>(ip->ver_ihl & 0x0F) * 4;
  const size_t total = host(ip->total_len);
  if ((ip->ver_ihl >> 4) != 4 || ihl < sizeof(Ipv4Hdr) || total < ihl || total > len - l2)
    return drop(DropReason::ipv4_malformed);
  // RFC 1122 s3.2.1.2: silently discard datagrams with a bad header checksum.
  if (hints.ip == CsumState::bad || (hints.ip != CsumState::good && !csum::raw_verify(header_sum_v4(frame + l2, ihl))))
    return drop(DropReason::ipv4_bad_checksum);
  if ((host(ip->frag) & (kIpv4FlagMf | kIpv4OffsetMask)) != 0) return drop(DropReason::ipv4_fragment);
  if (!owns_v4(port, ip->dst)) return drop(DropReason::ipv4_not_ours);
  if (bad_v4_source(port, ip->src)) return drop(DropReason::ipv4_bad_source);
  const size_t l4_len = total - ihl;
  if (ip->proto == kProtoUdp) [[likely]]
    return udp_v4<kTxCsumOffload>(frame, capacity, l2, ihl, l4_len, port, cfg, hints);
  if (ip->proto == kProtoIcmp) return icmp_v4(frame, l2, ihl, l4_len, port);
  return drop(DropReason::ipv4_unsupported_proto);
}

// ---- MLD (RFC 3810) ------------------------------------------------------

// The groups a port reports: the solicited-node groups of its IPv6 addresses, each once, in
// address order, then that of its EUI-64 link-local address (the reports' source; with an
// exception path the kernel TAP has the same MAC, so the same link-local, and answers neighbour
// solicitations for it). None when the port has no IPv6 address.
using GroupList = std::array<std::array<uint8_t, 16>, kMaxPortAddresses + 1>;
size_t solicited_groups(const PortIdentity& port, GroupList& out) noexcept {
  size_t n = 0;
  auto add = [&](const uint8_t* addr) {
    std::array<uint8_t, 16> g{};
    std::memcpy(g.data(), kSolicitedNodePrefix, sizeof(kSolicitedNodePrefix));
    std::memcpy(g.data() + 13, addr + 13, 3);
    bool dup = false;
    for (size_t k = 0; k < n; ++k) dup = dup || out[k] == g;
    if (!dup) out[n++] = g;
  };
  for (size_t i = 0; i < port.n_v6; ++i) add(port.v6[i].data());
  if (n != 0) add(link_local_of(port.mac).data());
  return n;
}

// Writes IPv6 + Hop-by-Hop + an MLDv2 report of `groups` (records of `record_type`) at frame + l2;
// the Ethernet header up to l2 is the caller's. Returns the frame length, 0 if it does not fit.
size_t write_mld_report(uint8_t* frame, size_t capacity, size_t l2, const PortIdentity& port,
                        const std::array<uint8_t, 16>* groups, size_t n, uint8_t record_type) noexcept {
  const size_t icmp_len = kMldReportHeader + n * kMldRecord;
  const size_t total = l2 + sizeof(Ipv6Hdr) + sizeof(kMldHopByHop) + icmp_len;
  if (total > capacity || n == 0) return 0;
  auto* ip = reinterpret_cast<Ipv6Hdr*>(frame + l2);
  const std::array<uint8_t, 16> src = link_local_of(port.mac);
  ip->ver_tc_flow = be32(0x60000000u);
  ip->payload_len = be16(static_cast<uint16_t>(sizeof(kMldHopByHop) + icmp_len));
  ip->next = kProtoHopByHop;
  ip->hop_limit = 1;  // RFC 3810 s5: link-local, never forwarded
  std::memcpy(ip->src, src.data(), 16);
  std::memcpy(ip->dst, kMldRouters, 16);
  uint8_t* hbh = frame + l2 + sizeof(Ipv6Hdr);
  std::memcpy(hbh, kMldHopByHop, sizeof(kMldHopByHop));
  uint8_t* m = hbh + sizeof(kMldHopByHop);
  m[0] = kIcmp6MldV2Report;
  m[1] = 0;
  m[2] = m[3] = 0;  // checksum
  m[4] = m[5] = 0;  // reserved
  m[6] = static_cast<uint8_t>(n >> 8);
  m[7] = static_cast<uint8_t>(n);
  for (size_t i = 0; i < n; ++i) {
    uint8_t* r = m + kMldReportHeader + i * kMldRecord;
    r[0] = record_type;
    r[1] = 0;         // aux data length
    r[2] = r[3] = 0;  // number of sources: EXCLUDE {} = every source
    std::memcpy(r + 4, groups[i].data(), 16);
  }
  const uint16_t c = csum::compute(m, icmp_len, csum::pseudo_v6(ip->src, ip->dst, kProtoIcmp6, static_cast<uint32_t>(icmp_len)));
  m[2] = static_cast<uint8_t>(c >> 8);
  m[3] = static_cast<uint8_t>(c);
  return total;
}

// A frame with a Hop-by-Hop header: only an MLD query (Router Alert 0, then ICMPv6 type 130) is
// accepted, and answered in place with an MLDv2 report (RFC 3810 s6.2) of the groups it asks
// about. The answer is immediate (a 0 delay is one of the delays s6.2 allows; a box has few groups).
// MLDv1 queries get an MLDv2 report too: snooping switches learn from either.
Verdict mld_query(uint8_t* frame, size_t capacity, size_t l2, size_t l4_len, const PortIdentity& port) noexcept {
  if (port.stun_only) return drop(DropReason::steering_not_stun);  // steering: the kernel's
  auto* ip = reinterpret_cast<Ipv6Hdr*>(frame + l2);
  const size_t hbh_at = l2 + sizeof(Ipv6Hdr);
  const size_t end = hbh_at + l4_len;
  if (l4_len < 8) return drop(DropReason::ipv6_extension_header);
  const size_t hbh_len = (static_cast<size_t>(frame[hbh_at + 1]) + 1) * 8;
  if (hbh_len > l4_len) return drop(DropReason::ipv6_extension_header);
  bool router_alert_mld = false;
  for (size_t off = hbh_at + 2; off < hbh_at + hbh_len;) {
    const uint8_t type = frame[off];
    if (type == kHbhOptPad1) {
      ++off;
      continue;
    }
    if (off + 2 > hbh_at + hbh_len) return drop(DropReason::ipv6_extension_header);
    const size_t olen = frame[off + 1];
    if (off + 2 + olen > hbh_at + hbh_len) return drop(DropReason::ipv6_extension_header);
    if (type == kHbhOptRouterAlert && olen == 2 && frame[off + 2] == 0 && frame[off + 3] == 0) router_alert_mld = true;
    off += 2 + olen;
  }
  // Hop-by-Hop is accepted for MLD alone.
  if (!router_alert_mld || frame[hbh_at] != kProtoIcmp6) return drop(DropReason::ipv6_extension_header);
  const size_t icmp_at = hbh_at + hbh_len;
  const size_t icmp_len = end - icmp_at;
  if (icmp_len < 4) return drop(DropReason::icmp6_malformed);
  if (!csum::verify(csum::sum(frame + icmp_at, icmp_len,
                              csum::pseudo_v6(ip->src, ip->dst, kProtoIcmp6, static_cast<uint32_t>(icmp_len)))))
    return drop(DropReason::icmp6_bad_checksum);
  if (frame[icmp_at] != kIcmp6MldQuery) return drop(DropReason::mld_not_query);
  // RFC 3810 s5.1.14 / RFC 2710 s3: hop limit 1, a link-local source, code 0.
  if (icmp_len < kMldV1QueryLen || ip->hop_limit != 1 || frame[icmp_at + 1] != 0 || ip->src[0] != 0xFE ||
      (ip->src[1] & 0xC0) != 0x80)
    return drop(DropReason::mld_invalid);
  // Which groups: all of ours (general query, to ff02::1) or the one asked about (to that group).
  GroupList ours;
  const size_t n_ours = solicited_groups(port, ours);
  const uint8_t* group = frame + icmp_at + 8;
  const std::array<uint8_t, 16>* report = ours.data();
  size_t n = n_ours;
  if (!is_unspecified_v6(group)) {
    n = 0;
    for (size_t i = 0; i < n_ours; ++i) {
      if (equal_v6(ours[i].data(), group)) {
        report = &ours[i];
        n = 1;
      }
    }
    if (n == 0 || !equal_v6(ip->dst, group)) return drop(DropReason::ipv6_not_ours);
  } else if (!equal_v6(ip->dst, kAllNodes)) {
    return drop(DropReason::mld_invalid);
  }
  if (n == 0) return drop(DropReason::ipv6_not_ours);  // no IPv6 address: no group to report
  // The destination MAC matches the destination group (RFC 2464 s7).
  const auto* eth = reinterpret_cast<const EthHdr*>(frame);
  if (eth->dst[0] != 0x33 || eth->dst[1] != 0x33 || std::memcmp(eth->dst + 2, ip->dst + 12, 4) != 0)
    return drop(DropReason::eth_not_ours);
  GroupList groups;
  std::copy(report, report + n, groups.begin());  // the frame is overwritten below
  const size_t length = write_mld_report(frame, capacity, l2, port, groups.data(), n, kMldRecordModeIsExclude);
  if (length == 0) return drop(DropReason::mbuf_no_tailroom);
  set_macs(reinterpret_cast<EthHdr*>(frame), kMldRoutersMac, port);
  return reply(ReplyKind::mld_report, length, l2, sizeof(Ipv6Hdr));
}

// ---- IPv6 ----------------------------------------------------------------

template <bool kTxCsumOffload>
Verdict udp_v6(uint8_t* frame, size_t capacity, size_t l2, size_t l4_len, const PortIdentity& port,
               const stun::ResponderConfig& cfg, RxHints hints) noexcept {
  auto* ip = reinterpret_cast<Ipv6Hdr*>(frame + l2);
  const size_t l4 = l2 + sizeof(Ipv6Hdr);
  if (l4_len < sizeof(UdpHdr)) return drop(DropReason::udp_malformed);
  auto* udp = reinterpret_cast<UdpHdr*>(frame + l4);
  const uint16_t udp_len = host(udp->len);
  if (udp_len < sizeof(UdpHdr) || udp_len > l4_len) return drop(DropReason::udp_malformed);
  if (udp->csum.raw == 0) return drop(DropReason::udp_zero_checksum_v6);
  const uint16_t sport = host(udp->sport);
  const uint16_t dport = host(udp->dport);
  if (sport == 0) return drop(DropReason::udp_source_port_zero);
  if (!port.stun_ports.test(dport)) return drop(DropReason::udp_port_not_served);
  if (hints.udp == CsumState::bad ||
      (hints.udp != CsumState::good &&
       !csum::raw_verify(csum::raw_sum(frame + l4, udp_len,
                                       csum::raw_addr_v6(ip->src) + csum::raw_addr_v6(ip->dst) +
                                           csum::raw16(kProtoUdp) + csum::raw16(udp_len)))))
    return drop(DropReason::udp_bad_checksum);

  UdpV6Path path;
  std::memcpy(path.src, ip->dst, 16);
  std::memcpy(path.dst, ip->src, 16);
  path.sport = dport;
  path.dport = sport;
  const stun::ClientRef client{path.dst, sport, true};

  const size_t reply_payload = l4 + sizeof(UdpHdr);
  const stun::Answer a = answer(cfg, frame + reply_payload, udp_len - sizeof(UdpHdr), capacity - reply_payload, client,
                                port.rfc5780[1], dport, path);
  if (a.outcome == stun::Outcome::drop) return drop(a.reason, a.kind);
  swap_macs(reinterpret_cast<EthHdr*>(frame), port);
  return write_udp_v6<kTxCsumOffload>(frame, l2, path, a.length, port.ttl, reply_kind(a), a.kind, a.rfc5780);
}

// RFC 4861 s7.1.1 validation and s7.2.4 answer.
Verdict neighbor_solicit(uint8_t* frame, size_t capacity, size_t l2, size_t l4_len, bool src_unspecified,
                         bool dst_multicast, const PortIdentity& port) noexcept {
  auto* ip = reinterpret_cast<Ipv6Hdr*>(frame + l2);
  const size_t l4 = l2 + sizeof(Ipv6Hdr);
  auto* ns = header_at<NdpHdr>(frame, l4 + l4_len, l4);
  if (ns == nullptr || ip->hop_limit != kNdpHopLimit || ns->code != 0 || ns->target[0] == 0xFF)
    return drop(DropReason::ndp_invalid);
  // s7.1.1: from :: the destination is a solicited-node address.
  if (src_unspecified && !dst_multicast) return drop(DropReason::ndp_invalid);
  // Options: each non-zero length, inside the message; no source link-layer
  // address when the source is ::.
  for (size_t off = l4 + sizeof(NdpHdr), end = l4 + l4_len; off < end;) {
    auto* opt = header_at<NdpOpt>(frame, end, off);
    if (opt == nullptr || opt->len == 0 || static_cast<size_t>(opt->len) * 8 > end - off)
      return drop(DropReason::ndp_invalid);
    if (src_unspecified && opt->type == kNdpOptSourceLinkAddr) return drop(DropReason::ndp_invalid);
    off += static_cast<size_t>(opt->len) * 8;
  }
  if (!owns_v6(port, ns->target)) return drop(DropReason::ndp_not_ours);

  constexpr size_t kNaLen = sizeof(NdpHdr) + sizeof(NdpOptLinkAddr);
  const size_t reply_len = l4 + kNaLen;
  if (reply_len > capacity) return drop(DropReason::mbuf_no_tailroom);

  auto* eth = reinterpret_cast<EthHdr*>(frame);
  uint8_t target[16];
  std::memcpy(target, ns->target, 16);
  uint32_t flags = kNaFlagOverride;
  if (src_unspecified) {
    // s7.2.4: a DAD probe is answered to all-nodes, unsolicited.
    set_macs(eth, kAllNodesMac, port);
    std::memcpy(ip->dst, kAllNodes, 16);
  } else {
    swap_macs(eth, port);
    std::memcpy(ip->dst, ip->src, 16);
    flags |= kNaFlagSolicited;
  }
  std::memcpy(ip->src, target, 16);
  ip->ver_tc_flow = be32(0x60000000u);
  ip->payload_len = be16(static_cast<uint16_t>(kNaLen));
  ip->next = kProtoIcmp6;
  ip->hop_limit = kNdpHopLimit;
  auto* na = reinterpret_cast<NdpHdr*>(frame + l4);
  na->type = kIcmp6NeighborAdvert;
  na->code = 0;
  na->csum = be16(0);
  na->flags = be32(flags);
  auto* tlla = reinterpret_cast<NdpOptLinkAddr*>(frame + l4 + sizeof(NdpHdr));
  tlla->type = kNdpOptTargetLinkAddr;
  tlla->len = 1;
  std::memcpy(tlla->mac, port.mac.data(), 6);
  na->csum = be16(csum::compute(frame + l4, kNaLen, csum::pseudo_v6(ip->src, ip->dst, kProtoIcmp6, kNaLen)));
  return reply(ReplyKind::ndp_advert, reply_len, l2, sizeof(Ipv6Hdr));
}

Verdict icmp_v6(uint8_t* frame, size_t capacity, size_t l2, size_t l4_len, bool src_unspecified, bool dst_multicast,
                const PortIdentity& port) noexcept {
  if (port.stun_only) return drop(DropReason::steering_not_stun);  // steering: the kernel's
  auto* ip = reinterpret_cast<Ipv6Hdr*>(frame + l2);
  const size_t l4 = l2 + sizeof(Ipv6Hdr);
  if (l4_len < 4) return drop(DropReason::icmp6_malformed);
  // RFC 4443 s2.3: the checksum covers the pseudo-header and the message.
  // Always in software: no NIC hint covers ICMPv6 (RxHints), and the echo
  // reply's checksum is an incremental update that needs a correct one.
  if (!csum::verify(csum::sum(frame + l4, l4_len,
                              csum::pseudo_v6(ip->src, ip->dst, kProtoIcmp6, static_cast<uint32_t>(l4_len)))))
    return drop(DropReason::icmp6_bad_checksum);
  const uint8_t type = frame[l4];
  if (type == kIcmp6NeighborSolicit)
    return neighbor_solicit(frame, capacity, l2, l4_len, src_unspecified, dst_multicast, port);
  if (type != kIcmp6EchoRequest) return drop(DropReason::icmp6_unsupported_type);
  // Only neighbor solicitations may come from :: or go to a multicast group.
  if (dst_multicast) return drop(DropReason::ipv6_not_ours);
  if (src_unspecified) return drop(DropReason::ipv6_bad_source);
  auto* echo = header_at<IcmpEcho>(frame, l4 + l4_len, l4);
  if (echo == nullptr) return drop(DropReason::icmp6_malformed);

  // Swapping the addresses leaves the pseudo-header sum unchanged, so only
  // the type word needs an incremental update (RFC 1624). The covered data
  // include the (non-zero) addresses, so eqn. 3's all-zero corner cannot occur.
  echo->csum = be16(csum::update16(host(echo->csum), static_cast<uint16_t>((kIcmp6EchoRequest << 8) | echo->code),
                                   static_cast<uint16_t>((kIcmp6EchoReply << 8) | echo->code)));
  echo->type = kIcmp6EchoReply;
  swap_macs(reinterpret_cast<EthHdr*>(frame), port);
  uint8_t peer[16];
  std::memcpy(peer, ip->src, 16);
  std::memcpy(ip->src, ip->dst, 16);
  std::memcpy(ip->dst, peer, 16);
  ip->hop_limit = port.ttl;
  return reply(ReplyKind::icmp6_echo_reply, l4 + l4_len, l2, sizeof(Ipv6Hdr));
}

template <bool kTxCsumOffload>
Verdict ipv6(uint8_t* frame, size_t len, size_t capacity, size_t l2, bool l2_to_us, const PortIdentity& port,
             const stun::ResponderConfig& cfg, RxHints hints) noexcept {
  auto* ip = header_at<Ipv6Hdr>(frame, len, l2);
  if (ip == nullptr) return drop(DropReason::ipv6_malformed);
  const size_t l4_len = host(ip->payload_len);
  if ((host(ip->ver_tc_flow) >> 28) != 6 || l4_len > len - l2 - sizeof(Ipv6Hdr))
    return drop(DropReason::ipv6_malformed);
  if (ip->next == kProtoHopByHop) return mld_query(frame, capacity, l2, l4_len, port);
  if (is_extension_header(ip->next)) return drop(DropReason::ipv6_extension_header);

  bool dst_multicast = false;
  if (!owns_v6(port, ip->dst)) {
    if (!solicited_node_of_ours(port, ip->dst)) return drop(DropReason::ipv6_not_ours);
    dst_multicast = true;
  }
  if (!l2_to_us) {
    // Multicast MAC only for a solicited-node group (RFC 2464 s7: 33:33 + low 32 bits).
    const auto* eth = reinterpret_cast<const EthHdr*>(frame);
    if (!dst_multicast || eth->dst[0] != 0x33 || eth->dst[1] != 0x33 || std::memcmp(eth->dst + 2, ip->dst + 12, 4) != 0)
      return drop(DropReason::eth_not_ours);
  }
  // RFC 4291 s2.5.2-3, s2.7: never answer multicast, loopback or ourselves;
  // :: only for DAD (checked per protocol below).
  const bool src_unspecified = is_unspecified_v6(ip->src);
  if (ip->src[0] == 0xFF || is_loopback_v6(ip->src) || owns_v6(port, ip->src)) return drop(DropReason::ipv6_bad_source);

  if (ip->next == kProtoUdp) [[likely]] {
    if (dst_multicast) return drop(DropReason::ipv6_not_ours);
    if (src_unspecified) return drop(DropReason::ipv6_bad_source);
    return udp_v6<kTxCsumOffload>(frame, capacity, l2, l4_len, port, cfg, hints);
  }
  if (ip->next == kProtoIcmp6) return icmp_v6(frame, capacity, l2, l4_len, src_unspecified, dst_multicast, port);
  return drop(DropReason::ipv6_unsupported_proto);
}

// ---- ARP -----------------------------------------------------------------

Verdict arp(uint8_t* frame, size_t len, size_t l2, const PortIdentity& port) noexcept {
  if (port.stun_only) return drop(DropReason::steering_not_stun);  // steering: the kernel's
  auto* a = header_at<ArpHdr>(frame, len, l2);
  if (a == nullptr || host(a->htype) != kArpHtypeEthernet || host(a->ptype) != kEtherTypeIpv4 || a->hlen != 6 ||
      a->plen != 4)
    return drop(DropReason::arp_malformed);
  // A gratuitous request (sender == target) announces someone else's binding.
  if (host(a->op) != kArpOpRequest || std::memcmp(a->spa, a->tpa, 4) == 0) return drop(DropReason::arp_not_request);
  if (!owns_v4(port, a->tpa)) return drop(DropReason::arp_not_ours);

  // RFC 826 "Packet Reception": swap sender and target, fill in our hardware address.
  uint8_t ip[4];
  std::memcpy(ip, a->tpa, 4);
  std::memcpy(a->tha, a->sha, 6);
  std::memcpy(a->tpa, a->spa, 4);
  std::memcpy(a->sha, port.mac.data(), 6);
  std::memcpy(a->spa, ip, 4);
  a->op = be16(kArpOpReply);
  set_macs(reinterpret_cast<EthHdr*>(frame), a->tha, port);
  return reply(ReplyKind::arp_reply, l2 + sizeof(ArpHdr), l2, 0);
}

// Writes the Ethernet (+802.1Q) header of a frame the port originates.
size_t write_l2(uint8_t* out, const PortIdentity& port, const uint8_t* dst, uint16_t type) noexcept {
  auto* eth = reinterpret_cast<EthHdr*>(out);
  std::memcpy(eth->dst, dst, 6);
  std::memcpy(eth->src, port.mac.data(), 6);
  if (port.vlan < 0) {
    eth->type = be16(type);
    return sizeof(EthHdr);
  }
  eth->type = be16(kEtherTypeVlan);
  auto* tag = reinterpret_cast<VlanTag*>(out + sizeof(EthHdr));
  tag->tci = be16(static_cast<uint16_t>(port.vlan & 0x0FFF));
  tag->type = be16(type);
  return sizeof(EthHdr) + sizeof(VlanTag);
}

}  // namespace

template <bool kTxCsumOffload>
Verdict reflect_general(uint8_t* frame, size_t len, size_t capacity, const PortIdentity& port,
                        const stun::ResponderConfig& stun_cfg, RxHints hints) noexcept {
  if (capacity < len) return drop(DropReason::mbuf_no_tailroom);  // caller contract broken: touch nothing
  auto* eth = header_at<EthHdr>(frame, len, 0);
  if (eth == nullptr) return drop(DropReason::eth_too_short);
  const bool to_us = equal_mac(eth->dst, port.mac.data());
  // Unicast to someone else: never ours. Group addresses are judged per protocol.
  if (!to_us && (eth->dst[0] & 0x01) == 0) return drop(DropReason::eth_not_ours);

  uint16_t type = host(eth->type);
  size_t l2 = sizeof(EthHdr);
  if (type == kEtherTypeVlan) {
    auto* tag = header_at<VlanTag>(frame, len, l2);
    if (tag == nullptr) return drop(DropReason::eth_too_short);
    // VLAN id 0 is a priority tag (IEEE 802.1Q s9.6; DCB/PFC fabrics add it for the PCP bits): the
    // frame belongs to no VLAN, so it is untagged traffic. The reply is rewritten in place and keeps
    // the tag as received (VID 0, same PCP and DEI), so it travels in the same traffic class.
    const uint16_t vid = host(tag->tci) & 0x0FFF;
    if (vid == 0 ? port.vlan >= 0 : vid != static_cast<uint16_t>(port.vlan))
      return drop(DropReason::vlan_mismatch);
    type = host(tag->type);
    l2 += sizeof(VlanTag);
  } else if (port.vlan >= 0) {
    return drop(DropReason::vlan_mismatch);
  }

  if (type == kEtherTypeIpv4) [[likely]] {
    if (!to_us) return drop(DropReason::eth_not_ours);
    return ipv4<kTxCsumOffload>(frame, len, capacity, l2, port, stun_cfg, hints);
  }
  if (type == kEtherTypeIpv6) return ipv6<kTxCsumOffload>(frame, len, capacity, l2, to_us, port, stun_cfg, hints);
  if (type == kEtherTypeArp) {
    static constexpr uint8_t kBroadcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    if (!to_us && std::memcmp(eth->dst, kBroadcast, 6) != 0) return drop(DropReason::eth_not_ours);
    return arp(frame, len, l2, port);
  }
  return drop(DropReason::eth_unsupported_type);
}

template Verdict reflect_general<false>(uint8_t*, size_t, size_t, const PortIdentity&, const stun::ResponderConfig&,
                                        RxHints) noexcept;
template Verdict reflect_general<true>(uint8_t*, size_t, size_t, const PortIdentity&, const stun::ResponderConfig&,
                                       RxHints) noexcept;

template <bool kTxCsumOffload>
Verdict reflect(uint8_t* frame, size_t len, size_t capacity, const PortIdentity& port,
                const stun::ResponderConfig& stun_cfg, RxHints hints) noexcept {
  return reflect_inline<kTxCsumOffload>(frame, len, capacity, port, stun_cfg, hints);
}

template Verdict reflect<false>(uint8_t*, size_t, size_t, const PortIdentity&, const stun::ResponderConfig&,
                                RxHints) noexcept;
template Verdict reflect<true>(uint8_t*, size_t, size_t, const PortIdentity&, const stun::ResponderConfig&,
                               RxHints) noexcept;

size_t build_gratuitous_arp(uint8_t* out, size_t capacity, const PortIdentity& port, size_t v4_index) {
  static constexpr uint8_t kBroadcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  const size_t l2 = port.vlan < 0 ? sizeof(EthHdr) : sizeof(EthHdr) + sizeof(VlanTag);
  if (v4_index >= port.n_v4 || capacity < l2 + sizeof(ArpHdr)) return 0;
  write_l2(out, port, kBroadcast, kEtherTypeArp);
  // RFC 5227 s3: an announcement is a request with sender == target address.
  auto* a = reinterpret_cast<ArpHdr*>(out + l2);
  a->htype = be16(kArpHtypeEthernet);
  a->ptype = be16(kEtherTypeIpv4);
  a->hlen = 6;
  a->plen = 4;
  a->op = be16(kArpOpRequest);
  std::memcpy(a->sha, port.mac.data(), 6);
  std::memcpy(a->spa, port.v4[v4_index].data(), 4);
  std::memset(a->tha, 0, 6);
  std::memcpy(a->tpa, port.v4[v4_index].data(), 4);
  return l2 + sizeof(ArpHdr);
}

std::array<uint8_t, 16> link_local_of(const std::array<uint8_t, 6>& mac) {
  return {0xFE, 0x80, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(mac[0] ^ 0x02), mac[1], mac[2], 0xFF, 0xFE,
          mac[3],  mac[4], mac[5]};
}

size_t build_mld_report(uint8_t* out, size_t capacity, const PortIdentity& port) {
  GroupList groups;
  const size_t n = solicited_groups(port, groups);
  const size_t l2 = port.vlan < 0 ? sizeof(EthHdr) : sizeof(EthHdr) + sizeof(VlanTag);
  if (n == 0 || capacity < l2) return 0;
  write_l2(out, port, kMldRoutersMac, kEtherTypeIpv6);
  return write_mld_report(out, capacity, l2, port, groups.data(), n, kMldRecordChangeToExclude);
}

size_t build_unsolicited_na(uint8_t* out, size_t capacity, const PortIdentity& port, size_t v6_index) {
  constexpr size_t kNaLen = sizeof(NdpHdr) + sizeof(NdpOptLinkAddr);
  const size_t l2 = port.vlan < 0 ? sizeof(EthHdr) : sizeof(EthHdr) + sizeof(VlanTag);
  if (v6_index >= port.n_v6 || capacity < l2 + sizeof(Ipv6Hdr) + kNaLen) return 0;
  write_l2(out, port, kAllNodesMac, kEtherTypeIpv6);
  auto* ip = reinterpret_cast<Ipv6Hdr*>(out + l2);
  ip->ver_tc_flow = be32(0x60000000u);
  ip->payload_len = be16(static_cast<uint16_t>(kNaLen));
  ip->next = kProtoIcmp6;
  ip->hop_limit = kNdpHopLimit;
  std::memcpy(ip->src, port.v6[v6_index].data(), 16);
  std::memcpy(ip->dst, kAllNodes, 16);
  // RFC 4861 s7.2.6: unsolicited, Override set, to all-nodes.
  auto* na = reinterpret_cast<NdpHdr*>(out + l2 + sizeof(Ipv6Hdr));
  na->type = kIcmp6NeighborAdvert;
  na->code = 0;
  na->csum = be16(0);
  na->flags = be32(kNaFlagOverride);
  std::memcpy(na->target, port.v6[v6_index].data(), 16);
  auto* tlla = reinterpret_cast<NdpOptLinkAddr*>(out + l2 + sizeof(Ipv6Hdr) + sizeof(NdpHdr));
  tlla->type = kNdpOptTargetLinkAddr;
  tlla->len = 1;
  std::memcpy(tlla->mac, port.mac.data(), 6);
  na->csum = be16(csum::compute(reinterpret_cast<uint8_t*>(na), kNaLen,
                                csum::pseudo_v6(ip->src, ip->dst, kProtoIcmp6, kNaLen)));
  return l2 + sizeof(Ipv6Hdr) + kNaLen;
}

}  // namespace stunbox::frame
