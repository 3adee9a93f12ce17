// The STUN Binding responder: one header check, one pass over the attributes, then the response written over the request.
#include "stun/responder.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "stun/crc32.h"

namespace stunbox::stun {
namespace {

// Answer::length is 16 bits; a UDP payload is smaller still.
constexpr size_t kMaxDatagram = 0xFFFF;

constexpr size_t pad4(size_t n) { return (n + 3) & ~size_t{3}; }

// RFC 8489 s14.8 reason phrases. RFC 3489 s11.2.9 wants the phrase a
// multiple of 4 bytes, so classic responses pad it with spaces inside the length.
struct ErrorCode {
  uint16_t code;
  std::string_view phrase;
};
constexpr ErrorCode k420{420, "Unknown Attribute"};
constexpr ErrorCode k400{400, "Bad Request"};

constexpr size_t address_attr_size(bool v6) { return 4 + (v6 ? 20 : 8); }
constexpr size_t software_attr_size(size_t n) { return n == 0 ? 0 : 4 + pad4(n); }
constexpr size_t error_code_attr_size(const ErrorCode& e) { return 4 + 4 + pad4(e.phrase.size()); }
// RFC 3489 s11.2.10 repeats one type to reach a multiple of 4 bytes; RFC 8489
// s14.9 pads instead. Either way the attribute occupies the same room.
constexpr size_t unknown_attr_size(size_t n) { return 4 + pad4(2 * n); }

// `addresses`: 1, or 3 from an RFC 5780 endpoint (RESPONSE-ORIGIN and
// OTHER-ADDRESS, or SOURCE-ADDRESS and CHANGED-ADDRESS); PADDING apart.
constexpr size_t success_size(bool v6, size_t addresses, size_t software_len, bool fingerprint) {
  return kHeaderSize + addresses * address_attr_size(v6) + software_attr_size(software_len) + (fingerprint ? 8 : 0);
}
constexpr size_t error_size(const ErrorCode& e, size_t n_unknown, size_t software_len, bool fingerprint) {
  return kHeaderSize + error_code_attr_size(e) + (n_unknown == 0 ? 0 : unknown_attr_size(n_unknown)) +
         software_attr_size(software_len) + (fingerprint ? 8 : 0);
}

static_assert(success_size(true, 3, kMaxSoftwareBytes, true) == kMaxResponseSize);
static_assert(error_size(k420, kMaxUnknownAttributes, kMaxSoftwareBytes, true) <= kMaxResponseSize);
static_assert(error_size(k400, 0, kMaxSoftwareBytes, true) <= kMaxResponseSize);
static_assert(kMaxResponseSize <= kMaxDatagram);

// Every return builds the Answer as one 64-bit value in a register. Built
// field by field, GCC stores the bytes to the stack and reloads them as one
// word for the return registers: a failed store-to-load forward, about 15
// cycles on every call (it showed as a third of respond's profile samples).
inline Answer make_answer(Outcome o, DropReason r, RequestKind k, size_t length, uint8_t rfc5780_bits = 0,
                          uint16_t response_port = 0) {
  const uint64_t v = uint64_t{static_cast<uint8_t>(o)} | uint64_t{static_cast<uint8_t>(r)} << 8 |
                     uint64_t{static_cast<uint8_t>(k)} << 16 | uint64_t{rfc5780_bits} << 24 |
                     uint64_t{static_cast<uint16_t>(length)} << 32 | uint64_t{response_port} << 48;
  return std::bit_cast<Answer>(v);
}
inline Answer dropped(RequestKind k, DropReason r) { return make_answer(Outcome::drop, r, k, 0); }

// RFC 8489 s14.2: port XOR the top 16 bits of the cookie; IPv4 XOR the
// cookie; IPv6 XOR cookie||transaction id, which is exactly msg[4, 20).
[[gnu::always_inline]] inline uint8_t* put_xor_mapped_address(uint8_t* p, const uint8_t* msg, const ClientRef& client) {
  store_be16(p, attr::kXorMappedAddress);
  store_be16(p + 2, client.v6 ? 20 : 8);
  p[4] = 0;
  p[5] = client.v6 ? kFamilyIpv6 : kFamilyIpv4;
  store_be16(p + 6, static_cast<uint16_t>(client.port ^ (kMagicCookie >> 16)));
  // Fixed-size word XORs (the compiler emits 4- or 8-byte loads) instead of
  // a byte loop with a variable trip count.
  auto xor_words = [&](size_t off) {
    uint32_t a, m;
    std::memcpy(&a, client.addr + off, 4);
    std::memcpy(&m, msg + 4 + off, 4);
    a ^= m;
    std::memcpy(p + 8 + off, &a, 4);
  };
  xor_words(0);
  if (client.v6) {
    xor_words(4);
    xor_words(8);
    xor_words(12);
  }
  return p + address_attr_size(client.v6);
}

// RFC 3489 s11.2.1, and every address attribute that is not XORed
// (OTHER-ADDRESS, RESPONSE-ORIGIN: RFC 5780 s7.3-4; SOURCE-ADDRESS,
// CHANGED-ADDRESS: RFC 3489 s11.2.3-4). RFC 3489 has only family 0x01; for
// an IPv6 client we send family 0x02 with the 16-byte address, the layout
// RFC 5389 s15.1 gave MAPPED-ADDRESS and what old dual-stack servers sent.
[[gnu::always_inline]] inline uint8_t* put_address(uint8_t* p, uint16_t type, bool v6, const uint8_t* addr, uint16_t port) {
  store_be16(p, type);
  store_be16(p + 2, v6 ? 20 : 8);
  p[4] = 0;
  p[5] = v6 ? kFamilyIpv6 : kFamilyIpv4;
  store_be16(p + 6, port);
  std::memcpy(p + 8, addr, v6 ? 16 : 4);
  return p + address_attr_size(v6);
}

// RFC 8489 s14.14 (SERVER in RFC 3489 s11.2.x, same type). Classic parsers
// step by the length field, so there the padding is spaces counted in it.
uint8_t* put_software(uint8_t* p, std::string_view sw, bool classic) {
  const size_t padded = pad4(sw.size());
  store_be16(p, attr::kSoftware);
  store_be16(p + 2, static_cast<uint16_t>(classic ? padded : sw.size()));
  std::memcpy(p + 4, sw.data(), sw.size());
  std::memset(p + 4 + sw.size(), classic ? ' ' : 0, padded - sw.size());
  return p + 4 + padded;
}

// RFC 8489 s14.8: class (hundreds), number (the rest), reason phrase.
uint8_t* put_error(uint8_t* p, const ErrorCode& e, bool classic) {
  const size_t n = e.phrase.size();
  const size_t padded = pad4(n);
  store_be16(p, attr::kErrorCode);
  store_be16(p + 2, static_cast<uint16_t>(4 + (classic ? padded : n)));
  p[4] = 0;
  p[5] = 0;
  p[6] = static_cast<uint8_t>(e.code / 100);
  p[7] = static_cast<uint8_t>(e.code % 100);
  std::memcpy(p + 8, e.phrase.data(), n);
  std::memset(p + 8 + n, classic ? ' ' : 0, padded - n);
  return p + error_code_attr_size(e);
}

// RFC 5780 s7.6: PADDING of `n` bytes (a multiple of 4); the value is ignored by clients.
uint8_t* put_padding(uint8_t* p, size_t n) {
  store_be16(p, attr::kPadding);
  store_be16(p + 2, static_cast<uint16_t>(n));
  std::memset(p + 4, 0, n);
  return p + 4 + n;
}

// RFC 8489 s14.9 / RFC 3489 s11.2.10.
uint8_t* put_unknown_attributes(uint8_t* p, const AttributeScan& scan, bool classic) {
  const size_t n = scan.n_unknown;
  const size_t entries = (classic && (n & 1u)) ? n + 1 : n;
  store_be16(p, attr::kUnknownAttributes);
  store_be16(p + 2, static_cast<uint16_t>(2 * entries));
  for (size_t i = 0; i < n; ++i) store_be16(p + 4 + 2 * i, scan.unknown[i]);
  if (entries > n) store_be16(p + 4 + 2 * n, scan.unknown[n - 1]);
  std::memset(p + 4 + 2 * entries, 0, pad4(2 * entries) - 2 * entries);
  return p + unknown_attr_size(n);
}

// Writes the header's type and length and, when asked, FINGERPRINT at p
// (the length already counts it: RFC 8489 s14.7).
inline void finish(uint8_t* buf, uint8_t* p, size_t total, uint16_t type, bool fingerprint) {
  store_be16(buf, type);
  store_be16(buf + 2, static_cast<uint16_t>(total - kHeaderSize));
  if (fingerprint) {
    const size_t off = static_cast<size_t>(p - buf);
    store_be16(p, attr::kFingerprint);
    store_be16(p + 2, 4);
    store_be32(p + 4, crc32(buf, off) ^ kFingerprintXor);
  }
}

// The common request: no attribute, not at an RFC 5780 endpoint. Nothing to
// scan, no error, no RFC 5780 attribute: the success alone.
inline Answer answer_plain(const ResponderConfig& cfg, uint8_t* buf, size_t capacity, const ClientRef& client,
                           bool classic, RequestKind kind) {
  const bool fingerprint = !classic && cfg.fingerprint == FingerprintPolicy::always;
  const std::string_view sw = cfg.software;
  const size_t total = success_size(client.v6, 1, sw.size(), fingerprint);
  if (total > std::min(capacity, kMaxDatagram)) return dropped(kind, DropReason::stun_no_room);
  uint8_t* p = buf + kHeaderSize;
  p = classic ? put_address(p, attr::kMappedAddress, client.v6, client.addr, client.port)
              : put_xor_mapped_address(p, buf, client);
  if (!sw.empty()) p = put_software(p, sw, classic);
  finish(buf, p, total, kBindingSuccess, fingerprint);
  return make_answer(Outcome::success, DropReason{}, kind, total);
}

// kSite: the request reached an RFC 5780 endpoint (site.pair is set);
// false compiles the plain path without any of it.
template <bool kSite>
[[gnu::always_inline]] inline Answer respond_at(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity, ClientRef client,
                         Rfc5780Site site) noexcept {
  HeaderInfo h;
  if (auto r = check_header(buf, len, h)) return dropped(RequestKind::none, *r);

  switch (class_of(h.type)) {
    case MessageClass::request:
      break;
    case MessageClass::indication:
      return dropped(RequestKind::none, DropReason::stun_indication);  // RFC 8489 s6.3.2: no response
    case MessageClass::success:
    case MessageClass::error:
      // Never answer a response: two servers would bounce forever.
      return dropped(RequestKind::none, DropReason::stun_response);
  }
  // RFC 8489 s6.3.1 would allow a 400 here. We drop instead: no client of a
  // Binding-only box needs it, and every reply to a spoofable source is
  // reflected traffic.
  if (method_of(h.type) != kMethodBinding) return dropped(RequestKind::none, DropReason::stun_not_binding);

  const RequestKind kind = h.classic ? RequestKind::classic : RequestKind::rfc5389;
  if (h.classic && !cfg.classic) return dropped(kind, DropReason::stun_classic_disabled);

  // Most requests carry no attributes at all and reach a plain address.
  const Rfc5780Pair* const pair = kSite ? site.pair : nullptr;
  if (!kSite && len == kHeaderSize) [[likely]]
    return answer_plain(cfg, buf, capacity, client, h.classic, kind);

  AttributeScan scan;
  if (auto r = scan_attributes(buf, len, h.classic, scan, pair != nullptr)) return dropped(kind, *r);

  // RFC 3489 has no FINGERPRINT: never send it to a classic client.
  const bool fingerprint =
      !h.classic && (cfg.fingerprint == FingerprintPolicy::always ||
                     (cfg.fingerprint == FingerprintPolicy::mirror && scan.fingerprint));
  const std::string_view sw = cfg.software;
  // RFC 5780 s6.1: PADDING with RESPONSE-PORT (a reply bigger than the
  // request, sent elsewhere), or a RESPONSE-PORT that names no port, is 400.
  const ErrorCode* error = scan.n_unknown != 0 ? &k420
                           : (scan.response_port && (scan.padding || scan.response_port_value == 0)) ? &k400
                                                                                                      : nullptr;
  size_t total = error != nullptr ? error_size(*error, scan.n_unknown, sw.size(), fingerprint)
                                  : success_size(client.v6, pair != nullptr ? 3 : 1, sw.size(), fingerprint);
  // PADDING is echoed from an RFC 5780 endpoint (s7.6) to RFC 5389 clients,
  // but never so long that the reply outgrows the request: an amplifier it is not.
  size_t padding = 0;
  if (pair != nullptr && error == nullptr && scan.padding && !h.classic && len > total + 4) {
    padding = std::min(pad4(scan.padding_length), (len - total - 4) & ~size_t{3});
    if (padding != 0) total += 4 + padding;
  }
  // Checked before the first write, so a drop leaves buf untouched. The cap
  // keeps an oversized SOFTWARE from overflowing the 16-bit length fields.
  if (total > std::min(capacity, kMaxDatagram)) {
    return dropped(kind, DropReason::stun_no_room);
  }

  // Everything needed from the request (transaction id in the header,
  // scan results) survives the overwrite from byte 20 on.
  uint8_t* p = buf + kHeaderSize;
  uint8_t bits = 0;
  uint16_t response_port = 0;
  if (error != nullptr) {
    // RFC 8489 s6.3.1.1: 420 listing the unknown comprehension-required types.
    p = put_error(p, *error, h.classic);
    if (scan.n_unknown != 0) p = put_unknown_attributes(p, scan, h.classic);
  } else {
    p = h.classic ? put_address(p, attr::kMappedAddress, client.v6, client.addr, client.port)
                  : put_xor_mapped_address(p, buf, client);
    if (pair != nullptr) {
      // The reply leaves from the endpoint the request reached, with the
      // asked-for change applied (s6.1); OTHER-ADDRESS is the diagonal one.
      const bool change_ip = (scan.change_flags & kChangeIpFlag) != 0;
      const bool change_port = (scan.change_flags & kChangePortFlag) != 0;
      const unsigned from_ip = site.ip ^ (change_ip ? 1u : 0u);
      const unsigned from_port = site.port ^ (change_port ? 1u : 0u);
      const unsigned other_ip = site.ip ^ 1u;
      const unsigned other_port = site.port ^ 1u;
      const uint16_t origin_type = h.classic ? attr::kSourceAddress : attr::kResponseOrigin;
      const uint16_t other_type = h.classic ? attr::kChangedAddress : attr::kOtherAddress;
      p = put_address(p, origin_type, pair->v6, pair->advertised[from_ip].data(), pair->port[from_port]);
      p = put_address(p, other_type, pair->v6, pair->advertised[other_ip].data(), pair->port[other_port]);
      bits = static_cast<uint8_t>((from_ip != 0 ? rfc5780::kFromAlternateIp : 0) |
                                  (from_port != 0 ? rfc5780::kFromAlternatePort : 0) |
                                  (change_ip ? rfc5780::kAskedChangeIp : 0) |
                                  (change_port ? rfc5780::kAskedChangePort : 0) |
                                  (padding != 0 ? rfc5780::kPadded : 0));
      if (scan.response_port) {
        bits |= rfc5780::kResponsePort;
        response_port = scan.response_port_value;
      }
      if (padding != 0) p = put_padding(p, padding);
    }
  }
  if (!sw.empty()) p = put_software(p, sw, h.classic);
  finish(buf, p, total, error != nullptr ? kBindingError : kBindingSuccess, fingerprint);

  return make_answer(error != nullptr ? Outcome::error : Outcome::success, DropReason{}, kind, total, bits,
                     response_port);
}

}  // namespace

Answer respond(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity, ClientRef client) noexcept {
  return respond_at<false>(cfg, buf, len, capacity, client, {});
}

Answer respond(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity, ClientRef client,
               Rfc5780Site site) noexcept {
  return site.pair != nullptr ? respond_at<true>(cfg, buf, len, capacity, client, site)
                              : respond_at<false>(cfg, buf, len, capacity, client, {});
}

}  // namespace stunbox::stun
