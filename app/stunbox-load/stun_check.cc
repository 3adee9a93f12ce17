#include "stun_check.h"

#include <cstring>

#include "core/be.h"

namespace stunbox::load {

const char* check_name(Check c) noexcept {
  switch (c) {
    case Check::ok:
      return "ok";
#define STUNBOX_LOAD_X(name) \
  case Check::name:          \
    return #name;
      STUNBOX_LOAD_INVALID_REASONS(STUNBOX_LOAD_X)
#undef STUNBOX_LOAD_X
    case Check::count_:
      break;
  }
  return "?";
}

namespace {

struct CrcTable {
  uint32_t v[256];
  constexpr CrcTable() : v{} {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      v[i] = c;
    }
  }
};
constexpr CrcTable kCrcTable;

}  // namespace

uint32_t crc32(const uint8_t* data, size_t len) noexcept {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) c = kCrcTable.v[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

size_t build_request(uint8_t* buf, const TxId& id, bool fingerprint) noexcept {
  store_be16(buf, kBindingRequest);
  store_be16(buf + 2, fingerprint ? 8 : 0);
  store_be32(buf + 4, id.prefix);
  store_be32(buf + 8, id.run_nonce);
  store_be32(buf + 12, id.socket_index);
  store_be32(buf + 16, id.seq);
  if (!fingerprint) return 20;
  store_be16(buf + 20, kAttrFingerprint);
  store_be16(buf + 22, 4);
  store_be32(buf + 24, crc32(buf, 20) ^ kFingerprintXor);
  return 28;
}

Check check_header(const uint8_t* p, size_t len, const Expect& e, TxId* id) noexcept {
  if (len < 20) return Check::too_short;
  if ((p[0] & 0xC0) != 0) return Check::not_stun;  // RFC 8489 s5
  const size_t body = load_be16(p + 2);
  if (body + 20 != len || (body & 3) != 0) return Check::bad_length;
  id->prefix = load_be32(p + 4);
  id->run_nonce = load_be32(p + 8);
  id->socket_index = load_be32(p + 12);
  id->seq = load_be32(p + 16);
  if (id->prefix != e.prefix) return Check::bad_cookie;
  if (id->run_nonce != e.run_nonce) return Check::unknown_txid;
  return Check::ok;
}

namespace {

// Decodes a (XOR-)MAPPED-ADDRESS value (RFC 8489 s14.1/s14.2). xor_key is the
// header bytes 4..19 (cookie + transaction id) or null for the plain form.
bool decode_address(const uint8_t* v, size_t n, const uint8_t* xor_key, Endpoint* out) {
  if (n < 4) return false;
  const uint8_t family = v[1];
  size_t alen;
  if (family == 0x01) {
    alen = 4;
  } else if (family == 0x02) {
    alen = 16;
  } else {
    return false;
  }
  if (n != 4 + alen) return false;
  *out = Endpoint{IpAddress::of(family == 0x02, v + 4), load_be16(v + 2)};
  if (xor_key != nullptr) {
    out->port ^= load_be16(xor_key);
    for (size_t i = 0; i < alen; ++i) out->ip.bytes[i] ^= xor_key[i];
  }
  return true;
}

}  // namespace

Check check_body(const uint8_t* p, size_t len, const Expect& e, const Endpoint& self) noexcept {
  const uint16_t type = load_be16(p);
  if (type == kBindingError) return Check::error_response;
  if (type != kBindingSuccess) return Check::bad_type;

  bool have_xor = false, have_draft = false, have_plain = false;
  Endpoint xor_addr, draft_addr, plain_addr;
  const uint8_t* key = p + 4;
  size_t off = 20;
  while (off < len) {
    if (len - off < 4) return Check::bad_attribute;
    const uint16_t at = load_be16(p + off);
    const size_t alen = load_be16(p + off + 2);
    const size_t padded = (alen + 3) & ~size_t{3};  // RFC 8489 s14: 32-bit padding
    if (padded > len - off - 4) return Check::bad_attribute;
    const uint8_t* v = p + off + 4;
    if (at == kAttrFingerprint) {
      if (alen != 4) return Check::bad_attribute;
      if (off + 8 != len) return Check::fingerprint_not_last;  // RFC 8489 s14.7
      if ((crc32(p, off) ^ kFingerprintXor) != load_be32(v)) return Check::bad_fingerprint;
    } else if (at == kAttrXorMappedAddress && !have_xor) {
      if (!decode_address(v, alen, key, &xor_addr)) return Check::bad_attribute;
      have_xor = true;
    } else if (at == kAttrXorMappedDraft && !have_draft) {
      if (!decode_address(v, alen, key, &draft_addr)) return Check::bad_attribute;
      have_draft = true;
    } else if (at == kAttrMappedAddress && !have_plain) {
      if (!decode_address(v, alen, nullptr, &plain_addr)) return Check::bad_attribute;
      have_plain = true;
    }
    off += 4 + padded;
  }

  // Which form answers the question: RFC 8489 clients need XOR-MAPPED-ADDRESS;
  // RFC 3489 clients need MAPPED-ADDRESS (RFC 5389 s12.2); --legacy lets
  // either side fall back to the other forms old peers send.
  bool primary;
  if (e.classic) {
    primary = have_plain || (e.legacy && (have_xor || have_draft));
  } else {
    primary = have_xor || (e.legacy && (have_draft || have_plain));
  }
  if (!primary) {
    const bool any = have_xor || have_draft || have_plain;
    return (!e.classic && any) ? Check::legacy_address : Check::no_mapped_address;
  }
  // Every address form present that we read must name us.
  if (have_xor && xor_addr != self) return Check::wrong_address;
  if (have_plain && plain_addr != self) return Check::wrong_address;
  if (have_draft && e.legacy && !have_xor && draft_addr != self) return Check::wrong_address;
  return Check::ok;
}

}  // namespace stunbox::load
