// The STUN Binding responder: validates a request and rewrites it in place into the response. No I/O, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/address.h"
#include "core/counters.h"
#include "core/drop_reason.h"
#include "stun/message.h"

namespace stunbox::stun {

// The transport address the request came from, as the server saw it
// (core/address.h: the socket backend and the tests hold one of these).
using Endpoint = stunbox::Endpoint;

enum class FingerprintPolicy : uint8_t { mirror, always, never };

// Responder options, fixed at setup (reload swaps the whole struct).
struct ResponderConfig {
  FingerprintPolicy fingerprint = FingerprintPolicy::mirror;
  bool classic = true;  // answer RFC 3489 requests (no magic cookie)
  // SOFTWARE attribute value; empty = not sent. At most 127 characters
  // (RFC 8489 s14.14: fewer than 128 characters). Storage is the config's.
  std::string_view software;
};

// One RFC 5780 address pair (RFC 5780 s4.1): two IPs of one family and two
// ports of this server; its four endpoints are every (IP, port) combination:
// PP, PA, AP, AA (primary/alternate IP x primary/alternate port).
struct Rfc5780Pair {
  bool v6 = false;
  std::array<std::array<uint8_t, 16>, 2> local{};       // [0] primary, [1] alternate IP; network order (IPv4: first 4 bytes)
  std::array<std::array<uint8_t, 16>, 2> advertised{};  // what clients are told (= local unless behind a 1:1 NAT)
  std::array<uint16_t, 2> port{};                       // [0] primary, [1] alternate; host order
};

// Where a request arrived, when that is one of a pair's endpoints.
struct Rfc5780Site {
  const Rfc5780Pair* pair = nullptr;  // nullptr: not an RFC 5780 endpoint (plain STUN)
  uint8_t ip = 0;                     // 0: the primary IP, 1: the alternate
  uint8_t port = 0;                   // 0: the primary port, 1: the alternate
};

enum class Outcome : uint8_t {
  success,  // Binding Success Response written
  error,    // Binding Error Response written (420 Unknown Attribute, or 400 Bad Request)
  drop,     // nothing written; see reason
};

// Answer::rfc5780 bits, all 0 unless the request reached an RFC 5780 endpoint.
namespace rfc5780 {
inline constexpr uint8_t kFromAlternateIp = 0x01;    // the reply leaves from the pair's alternate IP
inline constexpr uint8_t kFromAlternatePort = 0x02;  // ... and/or its alternate port
inline constexpr uint8_t kAskedChangeIp = 0x04;      // CHANGE-REQUEST asked to change the IP (honoured)
inline constexpr uint8_t kAskedChangePort = 0x08;    // ... the port
inline constexpr uint8_t kResponsePort = 0x10;       // RESPONSE-PORT honoured: see Answer::response_port
inline constexpr uint8_t kPadded = 0x20;             // the reply carries PADDING
}  // namespace rfc5780

// Counts an answer's RFC 5780 bits: change requests by kind, RESPONSE-PORT.
inline void count_rfc5780(uint8_t bits, LocalCounters& c) noexcept {
  if (bits == 0) [[likely]] return;
  switch (bits & (rfc5780::kAskedChangeIp | rfc5780::kAskedChangePort)) {
    case rfc5780::kAskedChangeIp:
      c.add(Counter::stun_change_ip);
      break;
    case rfc5780::kAskedChangePort:
      c.add(Counter::stun_change_port);
      break;
    case rfc5780::kAskedChangeIp | rfc5780::kAskedChangePort:
      c.add(Counter::stun_change_ip_port);
      break;
    default:
      break;
  }
  if ((bits & rfc5780::kResponsePort) != 0) c.add(Counter::stun_response_port);
}

enum class RequestKind : uint8_t { none, rfc5389, classic };

struct Answer {
  Outcome outcome = Outcome::drop;
  DropReason reason{};          // valid when outcome == drop
  RequestKind kind = RequestKind::none;  // set whenever the header is a Binding request (see respond)
  uint8_t rfc5780 = 0;          // rfc5780::k* bits when outcome == success
  uint16_t length = 0;          // response length in bytes when outcome != drop
  // Host order: send the reply to the client's IP at this port (RFC 5780
  // RESPONSE-PORT); 0 = the port the request came from.
  uint16_t response_port = 0;
};
static_assert(sizeof(Answer) == 8);

// Longest SOFTWARE value in bytes: fewer than 128 characters (RFC 8489
// s14.14) of at most 4 UTF-8 bytes each. Config enforces it; a longer value
// is still sent when it fits (it only makes the response larger).
inline constexpr size_t kMaxSoftwareBytes = 127 * 4;

// Longest response the responder can build with a SOFTWARE of at most
// kMaxSoftwareBytes, PADDING aside: an RFC 5780 success to an IPv6 client
// (XOR-MAPPED-ADDRESS, OTHER-ADDRESS and RESPONSE-ORIGIN), SOFTWARE and
// FINGERPRINT; every 420 is shorter. A reply's PADDING never makes it longer
// than its request, so buffers of max(request length, this) bytes never
// yield stun_no_room. (responder.cc static_asserts both.)
inline constexpr size_t kMaxResponseSize = kHeaderSize + 3 * (4 + 20)       // three IPv6 address attributes
                                           + (4 + kMaxSoftwareBytes)         // SOFTWARE
                                           + 8;                              // FINGERPRINT

// buf[0, len) holds the received datagram; buf has room for `capacity` bytes
// (capacity >= len). On success/error the response is written at buf[0,
// answer.length) <= capacity. On drop, buf may have been read but is not
// modified. answer.kind is set as soon as the header is a Binding request
// (type 0x0001, sound length), whatever happens next: backends count
// requests by kind and the outcome separately.
//
// `site` says whether the request reached an RFC 5780 endpoint. There the
// success also carries OTHER-ADDRESS (the endpoint diagonal to the one
// reached) and RESPONSE-ORIGIN (the endpoint the reply leaves from, after
// CHANGE-REQUEST), or for classic clients SOURCE-ADDRESS and CHANGED-ADDRESS
// (RFC 3489 s11.2.3-4); RESPONSE-PORT is honoured (answer.response_port),
// PADDING is echoed no longer than keeps the reply within the request's
// size, and PADDING with RESPONSE-PORT, or RESPONSE-PORT 0, gets 400 (RFC 5780
// s6.1). answer.rfc5780 tells the caller where the reply leaves from.

// The client as the frame path has it, without copying it into an Endpoint
// (whose zero-initialisation showed in the profile): a view of its address
// (4 or 16 bytes, network order; must not lie inside buf), port (host
// order), family. Kept a pointer view on purpose: it is the hot path's shape.
using ClientRef = EndpointRef;
//
// The overload without `site` is the plain path (no RFC 5780 endpoint): it
// is compiled apart, so plain requests pay nothing for RFC 5780.
Answer respond(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity, ClientRef client) noexcept;
Answer respond(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity, ClientRef client,
               Rfc5780Site site) noexcept;

inline Answer respond(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity,
                      const Endpoint& client) noexcept {
  return respond(cfg, buf, len, capacity, EndpointRef::of(client));
}
inline Answer respond(const ResponderConfig& cfg, uint8_t* buf, size_t len, size_t capacity, const Endpoint& client,
                      Rfc5780Site site) noexcept {
  return respond(cfg, buf, len, capacity, EndpointRef::of(client), site);
}

}  // namespace stunbox::stun
