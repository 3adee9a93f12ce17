// Values that are more than a scalar: listen addresses, owned prefixes, ACL CIDRs, the RSS key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/tree.h"

namespace stunbox::config {

// "IPv4:PORT" or "[IPv6]:PORT", port 1..65535, not multicast.
ListenAddress parse_listen(const Node& n, const std::string& path);
// An owned address: "ADDR[/LEN]" (LEN 1..32 or 1..128), not unspecified, multicast or broadcast.
IpPrefix parse_prefix(const Node& n, const std::string& path);
// An ACL entry: any address (0.0.0.0/0 and ::/0 allowed), host bits must be zero.
IpPrefix parse_cidr(const Node& n, const std::string& path);
// 80 or 104 hex digits.
std::vector<uint8_t> parse_hex_key(const Node& n, const std::string& path);
std::string hex(const std::vector<uint8_t>& bytes);

// "[a, b]" with each item rendered by `render`.
template <typename T, typename F>
std::string flow_list(const std::vector<T>& v, F render) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += render(v[i]);
  }
  return out + "]";
}

}  // namespace stunbox::config
