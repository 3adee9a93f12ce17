// Text forms of the address vocabulary (inet_ntop / inet_pton).
#include "core/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace stunbox {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char s[INET6_ADDRSTRLEN] = {};  // inet_pton needs a terminator
  std::copy(text.begin(), text.end(), s);
  IpAddress a;
  if (inet_pton(AF_INET, s, a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (inet_pton(AF_INET6, s, a.bytes.data()) == 1) return a;
  return std::nullopt;
}

bool IpAddress::is_wildcard() const {
  return std::all_of(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size()), [](uint8_t b) { return b == 0; });
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

std::string endpoint_text(bool v6, const uint8_t* addr, uint16_t port) {
  const std::string ip = IpAddress::of(v6, addr).to_string();
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

std::string Endpoint::to_string() const { return endpoint_text(ip.v6, ip.bytes.data(), port); }

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host, port_text;
  const bool bracket = !text.empty() && text[0] == '[';
  if (bracket) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  const auto ip = IpAddress::parse(host);
  if (!ip || ip->v6 != bracket) return std::nullopt;
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port_text.empty() || port > 65535)
    return std::nullopt;
  return Endpoint{*ip, static_cast<uint16_t>(port)};
}

}  // namespace stunbox
