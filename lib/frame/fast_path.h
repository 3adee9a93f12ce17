// The fast path of reflect: the common frame (untagged IPv4/IPv6 UDP Binding request, no attribute or FINGERPRINT only) answered from whole-word loads and stores.
//
// It answers only what the general path (reflect.cc) would answer, byte for
// byte, and declines everything else: any check that fails, any rare case
// (VLAN, IPv4 options, fragments, ARP, NDP, ICMP, MLD, classic STUN,
// attributes, SOFTWARE, an RFC 5780 endpoint, tailroom short, a NIC hint
// saying "bad") makes it return false with the frame untouched, and the general
// path then decides, with its named drop reasons. So every drop keeps its
// reason, and the golden tables (tests/golden, tests/dpdk) check that both
// paths give identical bytes and that the frames eligible here take it.
//
// What makes it cheaper than the general path, which does the same work:
// - each header is loaded once as 32/64-bit words, in memory order (the raw
//   checksum domain of checksum.h: no byte swaps), and the reply headers are
//   stored as whole words built in registers;
// - fused checksums (RFC 1071 s2, RFC 1624): the unchanged words (magic
//   cookie, transaction id, addresses, ports) are summed once and serve both
//   the request's UDP checksum verification and the reply's checksum;
// - owned addresses and served ports are looked up without loops
//   (PortIdentity::owned slots, the stun_ports bitmap);
// - FINGERPRINT: the reply's CRC-32 continues the request's verified CRC of
//   the header (CRC-32 is affine: the type/length change is one constant),
//   so only the 12 bytes of XOR-MAPPED-ADDRESS are added; both CRCs are
//   straight-line code (stun::crc32_fixed), so nothing here is a call.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "frame/checksum.h"
#include "frame/headers.h"
#include "frame/reflect.h"
#include "stun/crc32.h"
#include "stun/message.h"

namespace stunbox::frame::fast {

inline uint16_t ld16(const uint8_t* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline uint32_t ld32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t ld64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void st16(uint8_t* p, uint16_t v) noexcept { std::memcpy(p, &v, 2); }
inline void st32(uint8_t* p, uint32_t v) noexcept { std::memcpy(p, &v, 4); }
inline void st64(uint8_t* p, uint64_t v) noexcept { std::memcpy(p, &v, 8); }

// Memory-order (little-endian host) constants of the words the fast path compares and writes.
inline constexpr uint16_t kRawEtherIpv4 = 0x0008;         // 08 00
inline constexpr uint16_t kRawEtherIpv6 = 0xDD86;         // 86 DD
inline constexpr uint32_t kRawCookie = 0x42A41221u;       // 21 12 A4 42
inline constexpr uint32_t kRawBindingRequest = 0x0100u;   // 00 01, length 00 00
inline constexpr uint32_t kRawBindingRequestFp = 0x08000100u;  // 00 01, length 00 08
inline constexpr uint32_t kRawFingerprintAttr = 0x04002880u;   // 80 28, length 00 04
inline constexpr uint32_t kRawXmaHeader = 0x08002000u;    // 00 20, length 00 08
inline constexpr uint16_t kRawPortXor = 0x1221;           // the cookie's top 16 bits (21 12)
inline constexpr size_t kStunPlain = stun::kHeaderSize;    // an attribute-less request
inline constexpr size_t kStunFp = stun::kHeaderSize + 8;   // FINGERPRINT only
inline constexpr size_t kXmaV4 = 12, kXmaV6 = 24;          // XOR-MAPPED-ADDRESS attribute sizes

// CRC-32 is affine: crc(A) ^ crc(B) is the pure (zero-init, no final xor)
// CRC of A ^ B for equal lengths. The reply's header differs from a
// FINGERPRINT-only request's in type and length alone (00 01 00 08 ->
// 01 01 00 LL), so its CRC is the request's (already computed to verify it)
// xor this constant. kReplyLenV4/V6: XOR-MAPPED-ADDRESS + FINGERPRINT.
constexpr uint32_t pure_crc32(const uint8_t (&d)[20]) {
  uint32_t c = 0;
  for (uint8_t b : d) {
    c ^= b;
    for (int i = 0; i < 8; ++i) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
  }
  return c;
}
constexpr uint32_t header_crc_delta(uint8_t reply_len) {
  const uint8_t d[20] = {0x01, 0x00, 0x00, static_cast<uint8_t>(0x08 ^ reply_len)};
  return pure_crc32(d);
}
inline constexpr uint32_t kHeaderCrcDeltaV4 = header_crc_delta(kXmaV4 + 8);
inline constexpr uint32_t kHeaderCrcDeltaV6 = header_crc_delta(kXmaV6 + 8);

// The port's loop-free ownership test (PortIdentity::owned): kOwned,
// kNotOwned, or kUnsure (a slot two addresses share: the general path decides).
enum class Owned : uint8_t { kNotOwned, kOwned, kUnsure };
[[gnu::always_inline]] inline Owned owned_v4(const PortIdentity& port, uint32_t raw) noexcept {
  const unsigned s = OwnedSlots::slot_v4(raw);
  const uint8_t e = port.owned.v4[s];
  if (e == OwnedSlots::kEmpty) return Owned::kNotOwned;
  if (e == OwnedSlots::kShared) return Owned::kUnsure;
  return ld32(port.v4[e].data()) == raw ? Owned::kOwned : Owned::kNotOwned;
}
[[gnu::always_inline]] inline Owned owned_v6(const PortIdentity& port, uint64_t lo, uint64_t hi) noexcept {
  const unsigned s = OwnedSlots::slot_v6(lo, hi);
  const uint8_t e = port.owned.v6[s];
  if (e == OwnedSlots::kEmpty) return Owned::kNotOwned;
  if (e == OwnedSlots::kShared) return Owned::kUnsure;
  const uint8_t* a = port.v6[e].data();
  return ((ld64(a) ^ lo) | (ld64(a + 8) ^ hi)) == 0 ? Owned::kOwned : Owned::kNotOwned;
}

// True when the request reached an endpoint of the port's RFC 5780 pair of
// its family (the general path answers it from there); `dst`: the local
// address in the frame, `dport_raw` the UDP destination port in memory order.
template <bool kV6>
[[gnu::always_inline]] inline bool at_rfc5780_endpoint(const std::optional<stun::Rfc5780Pair>& pair, const uint8_t* dst,
                                uint16_t dport_raw) noexcept {
  if (!pair) [[likely]] return false;
  const uint16_t dport = bswap16(dport_raw);
  if (dport != pair->port[0] && dport != pair->port[1]) return false;
  constexpr size_t n = kV6 ? 16 : 4;
  return std::memcmp(dst, pair->local[0].data(), n) == 0 || std::memcmp(dst, pair->local[1].data(), n) == 0;
}

// A 32-bit memory-order word's contribution to a raw sum (checksum.h).
[[gnu::always_inline]] inline uint64_t w64(uint64_t v) noexcept { return (v & 0xFFFFFFFFu) + (v >> 32); }

// What both families share from the UDP header on: the checks of the UDP
// and STUN headers, the fused UDP checksum, the reply's UDP header, STUN
// header, XOR-MAPPED-ADDRESS (of `xaddr_*`, already XORed) and FINGERPRINT.
// `addrs` is the raw sum of both addresses, `l4_len` what the IP header
// leaves for UDP. Returns the reply's UDP length, or 0 to decline.
// kFp: the instantiation for FINGERPRINT (in the request, or always added);
// the other one serves the common plain request with none of that code in
// it, so the lcore loop around it keeps more of its values in registers.
template <bool kTxCsumOffload, bool kV6, bool kFp>
[[gnu::always_inline]] inline uint16_t udp_stun(uint8_t* udp, size_t l4_len, size_t room, const PortIdentity& port,
                                                 const stun::ResponderConfig& cfg, RxHints hints, uint64_t addrs,
                                                 const uint8_t* client_addr, const uint8_t* local_addr) noexcept {
  const uint32_t u0 = ld32(udp);      // source port, destination port
  const uint32_t u1 = ld32(udp + 4);  // length, checksum
  const uint16_t sport_raw = static_cast<uint16_t>(u0);
  const uint16_t dport_raw = static_cast<uint16_t>(u0 >> 16);
  const uint16_t udp_len = bswap16(static_cast<uint16_t>(u1));
  const uint16_t csum_raw = static_cast<uint16_t>(u1 >> 16);
  if (sport_raw == 0 || !port.stun_ports.test(bswap16(dport_raw))) return 0;
  if (at_rfc5780_endpoint<kV6>(port.rfc5780[kV6 ? 1 : 0], local_addr, dport_raw)) return 0;
  if (udp_len > l4_len) return 0;
  if (hints.udp == CsumState::bad) return 0;
  if (kV6 && csum_raw == 0) return 0;  // RFC 8200 s8.1: the general path drops it

  uint8_t* s = udp + 8;
  const uint32_t h0 = ld32(s);  // type, length
  if constexpr (!kFp) {
    if (h0 == kRawBindingRequestFp || cfg.fingerprint == stun::FingerprintPolicy::always) [[unlikely]]
      return udp_stun<kTxCsumOffload, kV6, true>(udp, l4_len, room, port, cfg, hints, addrs, client_addr, local_addr);
  }
  const bool fp_in = kFp && h0 == kRawBindingRequestFp;
  if (udp_len != 8 + (fp_in ? kStunFp : kStunPlain)) return 0;
  if (!fp_in && h0 != kRawBindingRequest) return 0;
  const uint32_t cookie = ld32(s + 4);
  if (cookie != kRawCookie) return 0;  // classic (RFC 3489): the general path
  const uint64_t t0 = ld64(s + 8);
  const uint32_t t1 = ld32(s + 16);
  const uint64_t common = uint64_t{cookie} + w64(t0) + t1;  // in the request and the reply alike
  uint32_t fp_attr = 0, fp_value = 0;
  if (fp_in) {
    fp_attr = ld32(s + 20);
    fp_value = ld32(s + 24);
    if (fp_attr != kRawFingerprintAttr) return 0;
  }
  const bool fp_out = kFp && (cfg.fingerprint == stun::FingerprintPolicy::always ||
                               (fp_in && cfg.fingerprint == stun::FingerprintPolicy::mirror));
  constexpr size_t kXma = kV6 ? kXmaV6 : kXmaV4;
  const size_t stun_len = kStunPlain + kXma + (fp_out ? 8 : 0);
  if (stun_len > room) return 0;  // stun_no_room: the general path drops it

  // RFC 768 / RFC 8200 s8.1: the pseudo-header, the UDP header (with its
  // checksum field) and the message sum to 0xFFFF. Over IPv4 a 0 field means none was sent.
  const uint64_t ports = uint64_t{sport_raw} + dport_raw;
  if (hints.udp != CsumState::good && (kV6 || csum_raw != 0)) {
    const uint64_t sum = addrs + csum::raw16(kProtoUdp) + 2 * uint64_t{static_cast<uint16_t>(u1)} + csum_raw + ports +
                         h0 + common + fp_attr + fp_value;
    if (!csum::raw_verify(sum)) return 0;
  }
  uint32_t crc20 = 0;
  if (fp_in) {
    // RFC 8489 s14.7: over the header, the length field as sent.
    crc20 = stun::crc32_fixed<stun::kHeaderSize>(0, s);
    if (bswap32(fp_value) != (crc20 ^ stun::kFingerprintXor)) return 0;
  }

  // ---- the reply: every check passed, the frame is ours to rewrite ----
  const uint16_t reply_udp_len = static_cast<uint16_t>(8 + stun_len);
  const uint16_t len_raw = bswap16(reply_udp_len);
  const uint32_t rh0 = 0x0101u | uint32_t{bswap16(static_cast<uint16_t>(stun_len - kStunPlain))} << 16;
  const uint32_t x1 = uint32_t{kV6 ? 0x0200u : 0x0100u} | uint32_t{static_cast<uint16_t>(sport_raw ^ kRawPortXor)} << 16;
  const uint32_t xma_hdr = kV6 ? 0x14002000u : kRawXmaHeader;
  st32(s, rh0);
  st64(s + 20, uint64_t{xma_hdr} | uint64_t{x1} << 32);
  uint64_t xaddr_sum;
  if constexpr (kV6) {
    const uint64_t a0 = ld64(client_addr) ^ (uint64_t{cookie} | t0 << 32);
    const uint64_t a1 = ld64(client_addr + 8) ^ (t0 >> 32 | uint64_t{t1} << 32);
    st64(s + 28, a0);
    st64(s + 36, a1);
    xaddr_sum = w64(a0) + w64(a1);
  } else {
    const uint32_t a = ld32(client_addr) ^ cookie;
    st32(s + 28, a);
    xaddr_sum = a;
  }
  uint64_t fp_sum = 0;
  if (fp_out) {
    uint32_t crc;
    if (fp_in) {
      crc = stun::crc32_fixed<kXma>(crc20 ^ (kV6 ? kHeaderCrcDeltaV6 : kHeaderCrcDeltaV4), s + stun::kHeaderSize);
    } else {
      crc = stun::crc32_fixed<stun::kHeaderSize + kXma>(0, s);
    }
    const uint32_t fv = bswap32(crc ^ stun::kFingerprintXor);
    st64(s + kStunPlain + kXma, uint64_t{kRawFingerprintAttr} | uint64_t{fv} << 32);
    fp_sum = uint64_t{kRawFingerprintAttr} + fv;
  }
  uint16_t out_csum;
  const uint64_t phdr = addrs + csum::raw16(kProtoUdp) + len_raw;
  if constexpr (kTxCsumOffload) {
    out_csum = csum::fold(phdr);  // the pseudo-header seed the NIC completes
  } else {
    const uint64_t sum =
        phdr + len_raw + ports + rh0 + common + xma_hdr + x1 + xaddr_sum + fp_sum;
    out_csum = csum::raw_field(sum);
    if (out_csum == 0) out_csum = 0xFFFF;  // RFC 768 / RFC 8200 s8.1: a computed 0 is sent as all ones
  }
  // Ports swapped, new length and checksum: one store.
  st64(udp, uint64_t{dport_raw} | uint64_t{sport_raw} << 16 | uint64_t{len_raw} << 32 | uint64_t{out_csum} << 48);
  return reply_udp_len;
}

// The reply's Ethernet header: to the request's source, from the port's MAC.
[[gnu::always_inline]] inline void swap_macs(uint8_t* f, const PortIdentity& port) noexcept {
  const uint32_t s0 = ld32(f + 6);
  const uint16_t s1 = ld16(f + 10);
  st32(f, s0);
  st16(f + 4, s1);
  std::memcpy(f + 6, port.mac.data(), 6);
}

// True and the verdict in `out` when the frame took the fast path (it is
// then the reply); false with the frame untouched otherwise.
template <bool kTxCsumOffload>
[[gnu::always_inline]] inline bool reflect_fast(uint8_t* f, size_t len, size_t capacity, const PortIdentity& port,
                                                const stun::ResponderConfig& cfg, RxHints hints,
                                                Verdict& out) noexcept {
  if constexpr (std::endian::native != std::endian::little) return false;
  constexpr size_t kEth = 14;
  if (len < kEth + 20 + 8 + kStunPlain || capacity < len || port.vlan >= 0 || !cfg.software.empty()) return false;
  // Unicast to our MAC (6 bytes as a 32- and a 16-bit compare).
  if (ld32(f) != ld32(port.mac.data()) || ld16(f + 4) != ld16(port.mac.data() + 4)) return false;
  const uint16_t type = ld16(f + 12);
  uint8_t* ip = f + kEth;
  if (type == kRawEtherIpv4) {
    const uint32_t i0 = ld32(ip);       // version/IHL, TOS, total length
    const uint32_t i1 = ld32(ip + 4);   // id, flags/fragment offset
    const uint32_t i2 = ld32(ip + 8);   // TTL, protocol, checksum
    const uint32_t src = ld32(ip + 12);
    const uint32_t dst = ld32(ip + 16);
    const size_t total = bswap16(static_cast<uint16_t>(i0 >> 16));
    // RFC 791: version 4, IHL 5; not a fragment (MF, offset: 0xFF3F in memory order); UDP.
    if ((i0 & 0xFF) != 0x45 || total < 20 + 8 || total > len - kEth || ((i1 >> 16) & 0xFF3Fu) != 0 ||
        ((i2 >> 8) & 0xFF) != kProtoUdp)
      return false;
    if (hints.ip == CsumState::bad) return false;
    const uint64_t addrs = uint64_t{src} + dst;
    if (hints.ip != CsumState::good && !csum::raw_verify(uint64_t{i0} + i1 + i2 + addrs)) return false;
    // RFC 1122 s3.2.1.3: never answer 0/8, 127/8, multicast or class E, or ourselves.
    const uint8_t a = static_cast<uint8_t>(src);
    if (a == 0 || a == 127 || a >= 224) return false;
    if (owned_v4(port, dst) != Owned::kOwned || owned_v4(port, src) != Owned::kNotOwned) return false;
    // The client's address, copied out: the reply's header overwrites it.
    uint8_t client[4];
    st32(client, src);
    const uint16_t udp_len = udp_stun<kTxCsumOffload, false, false>(ip + 20, total - 20, capacity - (kEth + 20 + 8), port,
                                                              cfg, hints, addrs, client, ip + 16);
    if (udp_len == 0) return false;
    const uint16_t reply_total = static_cast<uint16_t>(20 + udp_len);
    const uint32_t r0 = 0x45u | uint32_t{bswap16(reply_total)} << 16;   // TOS 0
    constexpr uint32_t r1 = uint32_t{0x0040u} << 16;                    // id 0, DF (40 00)
    const uint32_t r2 = uint32_t{port.ttl} | uint32_t{kProtoUdp} << 8;  // checksum below
    uint16_t ip_csum = 0;
    if constexpr (!kTxCsumOffload) ip_csum = csum::raw_field(uint64_t{r0} + r1 + r2 + addrs);
    st64(ip, uint64_t{r0} | uint64_t{r1} << 32);
    st64(ip + 8, uint64_t{r2 | uint32_t{ip_csum} << 16} | uint64_t{dst} << 32);
    st32(ip + 16, src);
    swap_macs(f, port);
    out = make_verdict(true, DropReason{}, ReplyKind::stun_success, stun::RequestKind::rfc5389, kEth + reply_total, kEth, 20);
    return true;
  }
  if (type == kRawEtherIpv6) {
    if (len < kEth + 40 + 8 + kStunPlain) return false;
    const uint32_t i0 = ld32(ip);      // version, traffic class, flow label
    const uint32_t i1 = ld32(ip + 4);  // payload length, next header, hop limit
    const size_t l4_len = bswap16(static_cast<uint16_t>(i1));
    if ((i0 & 0xF0) != 0x60 || l4_len > len - kEth - 40 || ((i1 >> 16) & 0xFF) != kProtoUdp) return false;
    const uint64_t s0 = ld64(ip + 8), s1 = ld64(ip + 16);
    const uint64_t d0 = ld64(ip + 24), d1 = ld64(ip + 32);
    // RFC 4291 s2.5.2-3, s2.7: never answer multicast, ::, ::1 or ourselves.
    if ((s0 & 0xFF) == 0xFF || (s0 == 0 && (s1 | uint64_t{1} << 56) == uint64_t{1} << 56)) return false;
    if (owned_v6(port, d0, d1) != Owned::kOwned || owned_v6(port, s0, s1) != Owned::kNotOwned) return false;
    uint8_t client[16];
    st64(client, s0);
    st64(client + 8, s1);
    const uint64_t addrs = w64(s0) + w64(s1) + w64(d0) + w64(d1);
    const uint16_t udp_len = udp_stun<kTxCsumOffload, true, false>(ip + 40, l4_len, capacity - (kEth + 40 + 8), port, cfg,
                                                             hints, addrs, client, ip + 24);
    if (udp_len == 0) return false;
    st64(ip, uint64_t{0x60} | uint64_t{bswap16(udp_len)} << 32 | uint64_t{kProtoUdp} << 48 |
                 uint64_t{port.ttl} << 56);
    st64(ip + 8, d0);
    st64(ip + 16, d1);
    st64(ip + 24, s0);
    st64(ip + 32, s1);
    swap_macs(f, port);
    out = make_verdict(true, DropReason{}, ReplyKind::stun_success, stun::RequestKind::rfc5389, kEth + 40 + udp_len, kEth,
                       40);
    return true;
  }
  return false;
}

}  // namespace stunbox::frame::fast

namespace stunbox::frame {

// reflect() for callers that inline the fast path (the lcore loop): the
// fast path, else the general one.
template <bool kTxCsumOffload>
[[gnu::always_inline]] inline Verdict reflect_inline(uint8_t* frame, size_t len, size_t capacity,
                                                     const PortIdentity& port, const stun::ResponderConfig& stun_cfg,
                                                     RxHints hints) noexcept {
  Verdict v;
  if (fast::reflect_fast<kTxCsumOffload>(frame, len, capacity, port, stun_cfg, hints, v)) [[likely]]
    return v;
  return reflect_general<kTxCsumOffload>(frame, len, capacity, port, stun_cfg, hints);
}

}  // namespace stunbox::frame
