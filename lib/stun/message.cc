// STUN message validation: the single pass over the attributes and the read-only view.
#include "stun/message.h"

#include "stun/crc32.h"

namespace stunbox::stun {

std::optional<DropReason> scan_attributes(const uint8_t* msg, size_t len, bool classic, AttributeScan& out,
                                          bool rfc5780) noexcept {
  size_t off = kHeaderSize;
  bool after_integrity = false;
  while (off < len) {
    // RFC 8489 s14: type, length, value padded to a multiple of 4; the
    // padding is inside the message length.
    if (len - off < 4) return DropReason::stun_bad_attribute;
    const uint16_t type = load_be16(msg + off);
    const uint16_t alen = load_be16(msg + off + 2);
    const size_t padded = (size_t{alen} + 3) & ~size_t{3};
    if (padded > len - off - 4) return DropReason::stun_bad_attribute;

    if (type == attr::kFingerprint) {
      // RFC 8489 s14.7: a 32-bit CRC, last attribute, computed over the
      // message up to it with the length field as sent (it covers FINGERPRINT).
      if (alen != 4) return DropReason::stun_bad_fingerprint;
      if (off + 8 != len) return DropReason::stun_fingerprint_not_last;
      if (load_be32(msg + off + 4) != (crc32(msg, off) ^ kFingerprintXor)) {
        return DropReason::stun_bad_fingerprint;
      }
      out.fingerprint = true;
      return std::nullopt;
    }
    if (!after_integrity) {
      if (type == attr::kMessageIntegrity || type == attr::kMessageIntegritySha256) {
        // RFC 8489 s14.5/s14.6: what follows (but FINGERPRINT, and SHA256
        // after MESSAGE-INTEGRITY, which we understand anyway) is ignored.
        after_integrity = true;
        out.integrity = true;
      } else if (type == attr::kChangeRequest && alen == 4 &&
                 (rfc5780 || (msg[off + 7] & (kChangeIpFlag | kChangePortFlag)) == 0)) {
        // RFC 5780 s7.2. Asking for nothing, it is a plain Binding request anywhere.
        out.change_request = true;
        out.change_flags |= msg[off + 7] & (kChangeIpFlag | kChangePortFlag);
      } else if (type == attr::kResponsePort && alen == 4 && rfc5780) {
        // RFC 5780 s7.5: a 16-bit port, then 2 bytes of padding. The first one counts.
        if (!out.response_port) out.response_port_value = load_be16(msg + off + 4);
        out.response_port = true;
      } else if (type == attr::kPadding) {
        // RFC 5780 s7.6: understood everywhere; only an RFC 5780 endpoint pads its answer.
        if (!out.padding) out.padding_length = alen;
        out.padding = true;
      } else if (!understood(type, classic)) {
        bool seen = false;
        for (size_t i = 0; i < out.n_unknown; ++i) seen |= out.unknown[i] == type;
        if (!seen && out.n_unknown < kMaxUnknownAttributes) out.unknown[out.n_unknown++] = type;
      }
    }
    off += 4 + padded;
  }
  return std::nullopt;
}

std::optional<DropReason> MessageView::validate() const noexcept {
  HeaderInfo h;
  if (auto r = check_header(msg_, len_, h)) return r;
  AttributeScan scan;
  return scan_attributes(msg_, len_, h.classic, scan);
}

bool MessageView::next(size_t off, Attribute& a) const noexcept {
  if (len_ < kHeaderSize || off >= len_ || len_ - off < 4) return false;
  a.type = load_be16(msg_ + off);
  a.length = load_be16(msg_ + off + 2);
  if (a.length > len_ - off - 4) return false;
  a.offset = off;
  a.value = msg_ + off + 4;
  return true;
}

std::optional<Attribute> MessageView::find(uint16_t type) const noexcept {
  std::optional<Attribute> found;
  for_each_attribute([&](const Attribute& a) {
    if (!found && a.type == type) found = a;
  });
  return found;
}

}  // namespace stunbox::stun
