// STUN message format (RFC 8489 s5-6 and s14, RFC 3489 classic): constants, header check, single-pass attribute validator and a read-only view.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/be.h"
#include "core/drop_reason.h"

namespace stunbox::stun {

inline constexpr size_t kHeaderSize = 20;
inline constexpr uint32_t kMagicCookie = 0x2112A442u;      // RFC 8489 s5
inline constexpr uint32_t kFingerprintXor = 0x5354554Eu;   // RFC 8489 s14.7

// RFC 8489 s5: the class is bits C1 (type bit 8) and C0 (type bit 4).
enum class MessageClass : uint8_t { request = 0, indication = 1, success = 2, error = 3 };

inline constexpr uint16_t kMethodBinding = 0x001;

// RFC 8489 s5 Figure 3: the 12 method bits are split around the class bits.
inline constexpr uint16_t method_of(uint16_t type) {
  return static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}
inline constexpr MessageClass class_of(uint16_t type) {
  return static_cast<MessageClass>(((type >> 4) & 1) | ((type >> 7) & 2));
}
inline constexpr uint16_t message_type(uint16_t method, MessageClass c) {
  const auto cls = static_cast<uint16_t>(c);
  return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                               ((cls & 1) << 4) | ((cls & 2) << 7));
}

inline constexpr uint16_t kBindingRequest = message_type(kMethodBinding, MessageClass::request);
inline constexpr uint16_t kBindingSuccess = message_type(kMethodBinding, MessageClass::success);
inline constexpr uint16_t kBindingError = message_type(kMethodBinding, MessageClass::error);
static_assert(kBindingRequest == 0x0001 && kBindingSuccess == 0x0101 && kBindingError == 0x0111);

// Attribute types (IANA "STUN Attributes" registry). 0x0000-0x7FFF are
// comprehension-required, 0x8000-0xFFFF comprehension-optional (RFC 8489 s14).
namespace attr {
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kResponseAddress = 0x0002;   // RFC 3489; reserved since RFC 5389
inline constexpr uint16_t kChangeRequest = 0x0003;     // RFC 5780 (RFC 3489 before)
inline constexpr uint16_t kSourceAddress = 0x0004;     // RFC 3489 responses only
inline constexpr uint16_t kChangedAddress = 0x0005;    // RFC 3489 responses only
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kPassword = 0x0007;          // RFC 3489 Shared Secret responses only
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kReflectedFrom = 0x000B;     // RFC 3489 responses only
inline constexpr uint16_t kChannelNumber = 0x000C;     // TURN, RFC 8656
inline constexpr uint16_t kLifetime = 0x000D;
inline constexpr uint16_t kXorPeerAddress = 0x0012;
inline constexpr uint16_t kData = 0x0013;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kXorRelayedAddress = 0x0016;
inline constexpr uint16_t kRequestedAddressFamily = 0x0017;
inline constexpr uint16_t kEvenPort = 0x0018;
inline constexpr uint16_t kRequestedTransport = 0x0019;
inline constexpr uint16_t kDontFragment = 0x001A;
inline constexpr uint16_t kAccessToken = 0x001B;       // RFC 7635
inline constexpr uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kPasswordAlgorithm = 0x001D;
inline constexpr uint16_t kUserhash = 0x001E;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kReservationToken = 0x0022;
inline constexpr uint16_t kPriority = 0x0024;          // ICE, RFC 8445
inline constexpr uint16_t kUseCandidate = 0x0025;
inline constexpr uint16_t kPadding = 0x0026;           // RFC 5780
inline constexpr uint16_t kResponsePort = 0x0027;      // RFC 5780
inline constexpr uint16_t kConnectionId = 0x002A;      // RFC 6062
inline constexpr uint16_t kSoftware = 0x8022;          // SERVER in RFC 3489
inline constexpr uint16_t kAlternateServer = 0x8023;
inline constexpr uint16_t kFingerprint = 0x8028;
inline constexpr uint16_t kIceControlled = 0x8029;
inline constexpr uint16_t kIceControlling = 0x802A;
inline constexpr uint16_t kResponseOrigin = 0x802B;    // RFC 5780
inline constexpr uint16_t kOtherAddress = 0x802C;      // RFC 5780
}  // namespace attr

inline constexpr uint8_t kFamilyIpv4 = 0x01;  // RFC 8489 s14.1
inline constexpr uint8_t kFamilyIpv6 = 0x02;

inline constexpr bool comprehension_required(uint16_t type) { return type < 0x8000; }

// Comprehension-required types the responder understands, i.e. whose
// presence does not change a Binding response, so they are accepted and
// ignored (RFC 8489 s14: "understood" need not mean "acted upon").
// Every registered comprehension-required type is below 0x40, so the set is
// a 64-bit mask: one shift and one AND per attribute.
// Deliberately absent, hence answered with 420 Unknown Attribute:
//   RESPONSE-ADDRESS, RESPONSE-PORT: they ask for a reply to another address
//     or port (RFC 3489 / RFC 5780). Honouring them would be a reflection
//     vector and ignoring them would silently mislead NAT-type clients; 420
//     tells them plainly.
//   CHANGE-REQUEST (see scan_attributes): understood when it asks for no
//     change (all flags clear: stuntman's and Debian's `stun` clients put one
//     in every plain Binding request), and on an RFC 5780 endpoint whatever
//     it asks; elsewhere 420 when it asks for a change, or when its value is
//     not the 4 bytes RFC 5780 s7.2 defines.
//   RESPONSE-PORT: understood on an RFC 5780 endpoint only (s7.5).
//   RFC 3489 response-only types (SOURCE-ADDRESS, CHANGED-ADDRESS, PASSWORD,
//     REFLECTED-FROM) in an RFC 5389+ request: reserved there (RFC 8489 s18.3).
//   BANDWIDTH 0x0010 and TIMER-VAL 0x0021: reserved, never standardised.
inline constexpr uint16_t kUnderstoodTypes[] = {
    attr::kMappedAddress,      attr::kUsername,          attr::kMessageIntegrity,
    attr::kErrorCode,          attr::kUnknownAttributes, attr::kChannelNumber,
    attr::kLifetime,           attr::kXorPeerAddress,    attr::kData,
    attr::kRealm,              attr::kNonce,             attr::kXorRelayedAddress,
    attr::kRequestedAddressFamily, attr::kEvenPort,      attr::kRequestedTransport,
    attr::kDontFragment,       attr::kAccessToken,       attr::kMessageIntegritySha256,
    attr::kPasswordAlgorithm,  attr::kUserhash,          attr::kXorMappedAddress,
    attr::kReservationToken,   attr::kPriority,          attr::kUseCandidate,
    attr::kPadding,            attr::kConnectionId,
};
// RFC 3489 s11.1: attributes a classic server knows but that are not
// expected in a request are ignored, so a classic request may also carry the
// 3489 response-only types. RESPONSE-ADDRESS and CHANGE-REQUEST still get 420.
inline constexpr uint16_t kClassicExtraUnderstoodTypes[] = {
    attr::kSourceAddress, attr::kChangedAddress, attr::kPassword, attr::kReflectedFrom};

namespace detail {
template <size_t N>
constexpr uint64_t type_mask(const uint16_t (&types)[N]) {
  uint64_t m = 0;
  for (uint16_t t : types) m |= uint64_t{1} << t;
  return m;
}
}  // namespace detail

inline constexpr uint64_t kUnderstoodMask = detail::type_mask(kUnderstoodTypes);
inline constexpr uint64_t kClassicUnderstoodMask =
    kUnderstoodMask | detail::type_mask(kClassicExtraUnderstoodTypes);

// True when `type` is comprehension-optional or understood (see above).
inline constexpr bool understood(uint16_t type, bool classic) {
  if (!comprehension_required(type)) return true;
  if (type >= 64) return false;
  return ((classic ? kClassicUnderstoodMask : kUnderstoodMask) >> type) & 1u;
}
static_assert(understood(attr::kPriority, false) && !understood(attr::kChangeRequest, false) &&
              !understood(attr::kResponseAddress, true) && !understood(attr::kResponsePort, false) &&
              understood(attr::kIceControlled, false) && !understood(0x0040, false) &&
              understood(attr::kSourceAddress, true) && !understood(attr::kSourceAddress, false));

// CHANGE-REQUEST flags (RFC 5780 s7.2, RFC 3489 s11.2.4): bits of the
// value's last byte. Every other bit is unused and ignored.
inline constexpr uint8_t kChangeIpFlag = 0x04;    // "A": change IP
inline constexpr uint8_t kChangePortFlag = 0x02;  // "B": change port

// What the fixed 20-byte header says.
struct HeaderInfo {
  uint16_t type = 0;
  bool classic = false;  // no magic cookie: RFC 3489, transaction id = bytes 4..19
};

// Checks the fixed header of msg[0, len) (RFC 8489 s5-6). Returns the drop
// reason, or nullopt and fills `out` when the header is sound.
inline std::optional<DropReason> check_header(const uint8_t* msg, size_t len, HeaderInfo& out) noexcept {
  if (len < kHeaderSize) return DropReason::stun_too_short;
  // RFC 8489 s6: the two most significant bits of every STUN message are 0.
  if ((msg[0] & 0xC0) != 0) return DropReason::stun_bad_top_bits;
  // RFC 8489 s5/s6: the length counts the attributes only, which are padded
  // to 4 bytes, so it is the rest of the datagram and a multiple of 4.
  const uint16_t length = load_be16(msg + 2);
  if ((length & 3u) != 0 || size_t{length} + kHeaderSize != len) return DropReason::stun_bad_length;
  out.type = load_be16(msg);
  out.classic = load_be32(msg + 4) != kMagicCookie;
  return std::nullopt;
}

// Most distinct unknown comprehension-required types recorded for
// UNKNOWN-ATTRIBUTES; more still yield 420, listing the first ones.
inline constexpr size_t kMaxUnknownAttributes = 16;

// What the single pass over the attributes found.
struct AttributeScan {
  bool fingerprint = false;     // FINGERPRINT present, last and correct
  bool integrity = false;       // MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 present
  bool change_request = false;  // a CHANGE-REQUEST was understood (see change_flags)
  uint8_t change_flags = 0;     // kChangeIpFlag | kChangePortFlag over every understood CHANGE-REQUEST
  bool response_port = false;   // RESPONSE-PORT present and understood (RFC 5780 endpoints only)
  uint16_t response_port_value = 0;  // its port, host order
  bool padding = false;         // PADDING present (RFC 5780 s7.6)
  uint16_t padding_length = 0;  // the first PADDING's value length
  uint8_t n_unknown = 0;        // distinct unknown comprehension-required types, capped
  std::array<uint16_t, kMaxUnknownAttributes> unknown{};
};

// One pass over the attributes of a message whose header passed
// check_header: every attribute inside the message and padded to 4 (s14),
// FINGERPRINT last and correct (s14.7), unknown comprehension-required types
// collected, except after MESSAGE-INTEGRITY(-SHA256), where everything but
// FINGERPRINT is ignored (s14.5, s14.6). A CHANGE-REQUEST with no flag set
// is understood; one asking for a change is understood only when `rfc5780`
// (the request reached an RFC 5780 endpoint), and so is RESPONSE-PORT; a
// CHANGE-REQUEST or RESPONSE-PORT whose value is not 4 bytes is listed as
// unknown. Returns the drop reason or nullopt.
std::optional<DropReason> scan_attributes(const uint8_t* msg, size_t len, bool classic, AttributeScan& out,
                                          bool rfc5780 = false) noexcept;

struct Attribute {
  uint16_t type = 0;
  uint16_t length = 0;      // value length, without padding
  size_t offset = 0;        // of the attribute header within the message
  const uint8_t* value = nullptr;
};

// A read-only view over one datagram, for tools and tests (the responder uses
// check_header/scan_attributes directly to stay single-pass).
class MessageView {
 public:
  MessageView(const uint8_t* msg, size_t len) noexcept : msg_(msg), len_(len) {}

  // Full validation: header and attributes. nullopt when valid.
  std::optional<DropReason> validate() const noexcept;

  // Header accessors: valid when len >= kHeaderSize.
  uint16_t type() const noexcept { return load_be16(msg_); }
  uint16_t method() const noexcept { return method_of(type()); }
  MessageClass message_class() const noexcept { return class_of(type()); }
  uint16_t length_field() const noexcept { return load_be16(msg_ + 2); }
  bool classic() const noexcept { return load_be32(msg_ + 4) != kMagicCookie; }
  // 12 bytes (RFC 5389+) or 16 bytes (RFC 3489, starting at byte 4).
  const uint8_t* transaction_id() const noexcept { return classic() ? msg_ + 4 : msg_ + 8; }
  size_t transaction_id_size() const noexcept { return classic() ? 16 : 12; }

  // Attributes in order; stops at the first one that does not fit.
  template <typename F>
  void for_each_attribute(F&& f) const {
    Attribute a;
    for (size_t off = kHeaderSize; next(off, a); off += 4 + ((size_t{a.length} + 3) & ~size_t{3})) f(a);
  }
  // First attribute of this type.
  std::optional<Attribute> find(uint16_t type) const noexcept;

  const uint8_t* data() const noexcept { return msg_; }
  size_t size() const noexcept { return len_; }

 private:
  bool next(size_t off, Attribute& a) const noexcept;
  const uint8_t* msg_;
  size_t len_;
};

}  // namespace stunbox::stun
