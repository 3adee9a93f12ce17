// The one address vocabulary: an IPv4/IPv6 address, an address + UDP port (Endpoint), and a view of one inside a frame.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace stunbox {

// An IPv4 or IPv6 address, network order; IPv4 in the first 4 bytes, the
// rest zero. Config, the socket backend, the limits, the load generator and
// the tests all hold addresses as this.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};

  static IpAddress v4(const std::array<uint8_t, 4>& a) {
    IpAddress ip;
    std::memcpy(ip.bytes.data(), a.data(), 4);
    return ip;
  }
  static IpAddress v6_of(const std::array<uint8_t, 16>& a) { return IpAddress{true, a}; }
  // From 4 or 16 bytes at p.
  static IpAddress of(bool v6, const uint8_t* p) {
    IpAddress ip;
    ip.v6 = v6;
    std::memcpy(ip.bytes.data(), p, v6 ? 16 : 4);
    return ip;
  }
  // "198.18.0.2" or "2001:2::2" (no brackets, no prefix); nullopt otherwise.
  static std::optional<IpAddress> parse(std::string_view text);

  const uint8_t* data() const { return bytes.data(); }
  size_t size() const { return v6 ? 16 : 4; }
  // The first 4 bytes as IPv4 (meaningful when !v6).
  std::array<uint8_t, 4> v4_bytes() const { return {bytes[0], bytes[1], bytes[2], bytes[3]}; }
  bool is_wildcard() const;                   // 0.0.0.0 or ::
  std::string to_string() const;              // inet_ntop form: "198.18.0.2", "2001:2::2"
  bool operator==(const IpAddress&) const = default;
};

// An address and a UDP port (host order).
struct Endpoint {
  IpAddress ip;
  uint16_t port = 0;

  // "198.18.0.2:3478" or "[2001:2::2]:3478"; nullopt otherwise (no port range check beyond 0..65535).
  static std::optional<Endpoint> parse(std::string_view text);
  std::string to_string() const;  // the same forms
  bool operator==(const Endpoint&) const = default;
};

// "198.18.0.2:3478" or "[2001:2::2]:3478" for 4 or 16 bytes at addr.
std::string endpoint_text(bool v6, const uint8_t* addr, uint16_t port);

// An address + port as the per-packet code has it: a pointer into the frame
// (4 or 16 bytes, network order), no copy. The hot paths (stun::respond's
// client, the limiter's source, frame::reply_peer) take this, not an
// Endpoint: building an Endpoint zeroes and copies 20 bytes per packet (it
// showed in the profile), while this fits in two registers.
struct EndpointRef {
  const uint8_t* addr = nullptr;
  uint16_t port = 0;
  bool v6 = false;

  static EndpointRef of(const Endpoint& e) { return {e.ip.bytes.data(), e.port, e.ip.v6}; }
  Endpoint copy() const { return {IpAddress::of(v6, addr), port}; }
};

}  // namespace stunbox

template <>
struct std::hash<stunbox::IpAddress> {
  size_t operator()(const stunbox::IpAddress& a) const noexcept {
    // FNV-1a over the family and the bytes in use.
    uint64_t h = 0xcbf29ce484222325ull ^ static_cast<uint64_t>(a.v6);
    for (size_t i = 0; i < a.size(); ++i) h = (h ^ a.bytes[i]) * 0x100000001b3ull;
    return static_cast<size_t>(h);
  }
};

template <>
struct std::hash<stunbox::Endpoint> {
  size_t operator()(const stunbox::Endpoint& e) const noexcept {
    return std::hash<stunbox::IpAddress>{}(e.ip) * 31u + e.port;
  }
};
