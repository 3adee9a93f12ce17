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

// RFC 8489 s14.8 reason phrase for 420. RFC 3489 s11.2.9 wants the phrase a
// multiple of 4 bytes, so classic responses pad it with spaces inside the length.
constexpr char kReason420[] = "Unknown Attribute";
constexpr size_t kReason420Len = sizeof(kReason420) - 1;

constexpr size_t address_attr_size(bool v6) { return 4 + (v6 ? 20 : 8); }
constexpr size_t software_attr_size(size_t n) { return n == 0 ? 0 : 4 + pad4(n); }
constexpr size_t error_code_attr_size() { return 4 + 4 + pad4(kReason420Len); }
// RFC 3489 s11.2.10 repeats one type to reach a multiple of 4 bytes; RFC 8489
// s14.9 pads instead. Either way the attribute occupies the same room.
constexpr size_t unknown_attr_size(size_t n) { return 4 + pad4(2 * n); }

constexpr size_t success_size(bool v6, size_t software_len, bool fingerprint) {
  return kHeaderSize + address_attr_size(v6) + software_attr_size(software_len) + (fingerprint ? 8 : 0);
}
constexpr size_t error_size(size_t n_unknown, size_t software_len, bool fingerprint) {
  return kHeaderSize + error_code_attr_size() + unknown_attr_size(n_unknown) +
         software_attr_size(software_len) + (fingerprint ? 8 : 0);
}

static_assert(error_size(kMaxUnknownAttributes, kMaxSoftwareBytes, true) == kMaxResponseSize);
static_assert(success_size(true, kMaxSoftwareBytes, true) <= kMaxResponseSize);
static_assert(kMaxResponseSize <= kMaxDatagram);

// Every return builds the Answer as one 64-bit value in a register. Built
// field by field, GCC stores the bytes to the stack and reloads them as one
// word for the return registers: a failed store-to-load forward, about 15
// cycles on every call (it showed as a third of respond's profile samples).
inline Answer make_answer(Outcome o, DropReason r, RequestKind k, size_t length) {
  const uint64_t v = uint64_t{static_cast<uint8_t>(o)} | uint64_t{static_cast<uint8_t>(r)} << 8 |
                     uint64_t{static_cast<uint8_t>(k)} << 16 | uint64_t{static_cast<uint16_t>(length)} << 32;
  return std::bit_cast<Answer>(v);
}
inline Answer dropped(RequestKind k, DropReason r) { return make_answer(Outcome::drop, r, k, 0); }

// RFC 8489 s14.2: port XOR the top 16 bits of the cookie; IPv4 XOR the
// cookie; IPv6 XOR cookie||transaction id, which is exactly msg[4, 20).
uint8_t* put_xor_mapped_address(uint8_t* p, const uint8_t* msg, const ClientRef& client) {
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

// RFC 3489 s11.2.1. RFC 3489 has only family 0x01; for an IPv6 client we
// send family 0x02 with the 16-byte address, the layout RFC 5389 s15.1 gave
// MAPPED-ADDRESS and what old dual-stack servers sent. A classic client over
// IPv6 is rare, but answering it correctly beats dropping a valid request.
uint8_t* put_mapped_address(uint8_t* p, const ClientRef& client) {
  store_be16(p, attr::kMappedAddress);
  store_be16(p + 2, client.v6 ? 20 : 8);
  p[4] = 0;
  p[5] = client.v6 ? kFamilyIpv6 : kFamilyIpv4;
  store_be16(p + 6, client.port);
  std::memcpy(p + 8, client.addr, client.v6 ? 16 : 4);
  return p + address_attr_size(client.v6);
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

// RFC 8489 s14.8: class 4, number 20, reason phrase.
uint8_t* put_error_420(uint8_t* p, bool classic) {
  const size_t padded = pad4(kReason420Len);
  store_be16(p, attr::kErrorCode);
  store_be16(p + 2, static_cast<uint16_t>(4 + (classic ? padded : kReason420Len)));
  p[4] = 0;
  p[5] = 0;
  p[6] = 4;
  p[7] = 20;
  std::memcpy(p + 8, kReason420, kReason420Len);
  std::memset(p + 8 + kReason420Len, classic ? ' ' : 0, padded - kReason420Len);
  return p + error_code_attr_size();
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

}  // namespace

Answer respond(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity, ClientRef client) noexcept {
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

  AttributeScan scan;
  // Most requests carry no attributes at all: skip the out-of-line scan.
  if (len != kHeaderSize) {
    if (auto r = scan_attributes(buf, len, h.classic, scan)) return dropped(kind, *r);
  }

  // RFC 3489 has no FINGERPRINT: never send it to a classic client.
  const bool fingerprint =
      !h.classic && (cfg.fingerprint == FingerprintPolicy::always ||
                     (cfg.fingerprint == FingerprintPolicy::mirror && scan.fingerprint));
  const std::string_view sw = cfg.software;
  const bool error = scan.n_unknown != 0;
  const size_t total = error ? error_size(scan.n_unknown, sw.size(), fingerprint)
                             : success_size(client.v6, sw.size(), fingerprint);
  // Checked before the first write, so a drop leaves buf untouched. The cap
  // keeps an oversized SOFTWARE from overflowing the 16-bit length fields.
  if (total > std::min(capacity, kMaxDatagram)) {
    return dropped(kind, DropReason::stun_no_room);
  }

  // Everything needed from the request (transaction id in the header,
  // scan results) survives the overwrite from byte 20 on.
  uint8_t* p = buf + kHeaderSize;
  if (error) {
    // RFC 8489 s6.3.1.1: 420 listing the unknown comprehension-required types.
    p = put_error_420(p, h.classic);
    p = put_unknown_attributes(p, scan, h.classic);
  } else {
    p = h.classic ? put_mapped_address(p, client) : put_xor_mapped_address(p, buf, client);
  }
  if (!sw.empty()) p = put_software(p, sw, h.classic);

  store_be16(buf, error ? kBindingError : kBindingSuccess);
  store_be16(buf + 2, static_cast<uint16_t>(total - kHeaderSize));
  if (fingerprint) {
    // The length field above already counts FINGERPRINT (RFC 8489 s14.7).
    const size_t off = static_cast<size_t>(p - buf);
    store_be16(p, attr::kFingerprint);
    store_be16(p + 2, 4);
    store_be32(p + 4, crc32(buf, off) ^ kFingerprintXor);
  }

  return make_answer(error ? Outcome::error : Outcome::success, DropReason{}, kind, total);
}

}  // namespace stunbox::stun
