// The STUN Binding responder: validates a request and rewrites it in place into the response. No I/O, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/drop_reason.h"
#include "stun/message.h"

namespace stunbox::stun {

// The transport address the request came from, as the server saw it.
struct Endpoint {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};  // IPv4 in the first 4 bytes, network order
  uint16_t port = 0;               // host order
};

enum class FingerprintPolicy : uint8_t { mirror, always, never };

// Responder options, fixed at setup (reload swaps the whole struct).
struct ResponderConfig {
  FingerprintPolicy fingerprint = FingerprintPolicy::mirror;
  bool classic = true;  // answer RFC 3489 requests (no magic cookie)
  // SOFTWARE attribute value; empty = not sent. At most 127 characters
  // (RFC 8489 s14.14: fewer than 128 characters). Storage is the config's.
  std::string_view software;
};

enum class Outcome : uint8_t {
  success,  // Binding Success Response written
  error,    // Binding Error Response written (420 Unknown Attribute)
  drop,     // nothing written; see reason
};

enum class RequestKind : uint8_t { none, rfc5389, classic };

struct Answer {
  Outcome outcome = Outcome::drop;
  DropReason reason{};          // valid when outcome == drop
  RequestKind kind = RequestKind::none;  // set whenever the header is a Binding request (see respond)
  uint8_t reserved_ = 0;        // explicit, so the struct has no padding (see make_answer in responder.cc)
  uint16_t length = 0;          // response length in bytes when outcome != drop
  uint16_t reserved2_ = 0;
};
static_assert(sizeof(Answer) == 8);

// Longest SOFTWARE value in bytes: fewer than 128 characters (RFC 8489
// s14.14) of at most 4 UTF-8 bytes each. Config enforces it; a longer value
// is still sent when it fits (it only makes the response larger).
inline constexpr size_t kMaxSoftwareBytes = 127 * 4;

// Longest response the responder can build with a SOFTWARE of at most
// kMaxSoftwareBytes: the 420 error response with ERROR-CODE, UNKNOWN-ATTRIBUTES
// for kMaxUnknownAttributes types, SOFTWARE and FINGERPRINT. Buffers of this
// capacity never yield stun_no_room. (responder.cc static_asserts it.)
inline constexpr size_t kMaxResponseSize = kHeaderSize + (4 + 4 + 20)          // ERROR-CODE
                                           + (4 + 2 * kMaxUnknownAttributes)    // UNKNOWN-ATTRIBUTES
                                           + (4 + kMaxSoftwareBytes)            // SOFTWARE
                                           + 8;                                 // FINGERPRINT

// buf[0, len) holds the received datagram; buf has room for `capacity` bytes
// (capacity >= len). On success/error the response is written at buf[0,
// answer.length) <= capacity. On drop, buf may have been read but is not
// modified. answer.kind is set as soon as the header is a Binding request
// (type 0x0001, sound length), whatever happens next: backends count
// requests by kind and the outcome separately.
Answer respond(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity,
               const Endpoint& client) noexcept;

// The client as the frame path has it, without copying it into an Endpoint
// (whose zero-initialisation showed in the profile): its address (4 or 16
// bytes, network order; must not lie inside buf), port (host order), family.
struct ClientRef {
  const uint8_t* addr = nullptr;
  uint16_t port = 0;
  bool v6 = false;
};
Answer respond(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity, ClientRef client) noexcept;

inline Answer respond(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity,
                      const Endpoint& client) noexcept {
  return respond(cfg, buf, len, capacity, ClientRef{client.addr.data(), client.port, client.v6});
}

}  // namespace stunbox::stun
