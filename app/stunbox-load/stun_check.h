// STUN request building and response validation for stunbox-load: independent of the server's own STUN code on purpose.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/address.h"

namespace stunbox::load {

inline constexpr uint32_t kMagicCookie = 0x2112A442;  // RFC 8489 s5
inline constexpr uint16_t kBindingRequest = 0x0001;
inline constexpr uint16_t kBindingSuccess = 0x0101;
inline constexpr uint16_t kBindingError = 0x0111;
inline constexpr uint16_t kAttrMappedAddress = 0x0001;     // RFC 8489 s14.1
inline constexpr uint16_t kAttrXorMappedAddress = 0x0020;  // RFC 8489 s14.2
inline constexpr uint16_t kAttrXorMappedDraft = 0x8020;    // pre-RFC 5389 drafts
inline constexpr uint16_t kAttrFingerprint = 0x8028;       // RFC 8489 s14.7
inline constexpr uint32_t kFingerprintXor = 0x5354554e;    // RFC 8489 s14.7
inline constexpr size_t kMaxRequestSize = 20 + 8;          // header + FINGERPRINT

// Why a received datagram was not a valid answer. The names are the keys of
// the report's invalid_reasons object.
#define STUNBOX_LOAD_INVALID_REASONS(X) \
  X(truncated)            /* larger than the receive buffer */                   \
  X(too_short)            /* under the 20-byte header */                         \
  X(not_stun)             /* top two bits not zero (RFC 8489 s5) */              \
  X(bad_length)           /* length field != datagram - 20, or not 4-aligned */  \
  X(bad_cookie)           /* magic cookie (or classic id prefix) differs */      \
  X(unknown_txid)         /* transaction id never sent on this socket */         \
  X(duplicate)            /* second answer to the same transaction */            \
  X(error_response)       /* Binding Error Response */                           \
  X(bad_type)             /* any other message type */                           \
  X(bad_attribute)        /* attribute overruns the message or bad size */       \
  X(bad_fingerprint)      /* FINGERPRINT CRC wrong (RFC 8489 s14.7) */           \
  X(fingerprint_not_last) /* FINGERPRINT followed by more (RFC 8489 s14.7) */    \
  X(legacy_address)       /* only a pre-RFC 5389 address form, no --legacy */    \
  X(no_mapped_address)    /* no address attribute at all */                      \
  X(wrong_address)        /* mapped address != the socket's own address */

enum class Check : uint8_t {
  ok,
#define STUNBOX_LOAD_X(name) name,
  STUNBOX_LOAD_INVALID_REASONS(STUNBOX_LOAD_X)
#undef STUNBOX_LOAD_X
  count_,
};
inline constexpr size_t kCheckCount = static_cast<size_t>(Check::count_);

const char* check_name(Check c) noexcept;

// A transport address as the server should report it (core/address.h).
using Endpoint = stunbox::Endpoint;

// Transaction id layout (header bytes 4..19): [4..7] magic cookie, or for
// classic requests a per-run prefix that is never the cookie; [8..11] run
// nonce; [12..15] socket index; [16..19] sequence number on that socket.
struct TxId {
  uint32_t prefix = 0;  // cookie, or classic prefix
  uint32_t run_nonce = 0;
  uint32_t socket_index = 0;
  uint32_t seq = 0;
};

// What a response must look like; fixed for the run.
struct Expect {
  bool classic = false;
  bool legacy = false;
  uint32_t prefix = kMagicCookie;
  uint32_t run_nonce = 0;
};

uint32_t crc32(const uint8_t* data, size_t len) noexcept;

// Writes a Binding request into buf (kMaxRequestSize bytes); returns its size.
size_t build_request(uint8_t* buf, const TxId& id, bool fingerprint) noexcept;

// Stage 1, before the transaction is looked up: framing and the id prefix.
// On ok, *id holds the transaction id fields.
Check check_header(const uint8_t* p, size_t len, const Expect& e, TxId* id) noexcept;

// Stage 2, after the id matched an outstanding request: type, attributes,
// FINGERPRINT and the mapped address. Requires check_header(...) == ok.
Check check_body(const uint8_t* p, size_t len, const Expect& e, const Endpoint& self) noexcept;

}  // namespace stunbox::load
