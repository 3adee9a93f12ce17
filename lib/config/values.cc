// Values that are more than a scalar: listen addresses, owned prefixes, ACL CIDRs, the RSS key.
#include "config/values.h"

#include "config/reader.h"
#include "config/text.h"

namespace stunbox::config {
namespace {

bool is_v4_multicast(const IpAddress& a) { return !a.v6 && (a.bytes[0] & 0xf0) == 0xe0; }
bool is_v6_multicast(const IpAddress& a) { return a.v6 && a.bytes[0] == 0xff; }

// "ADDR[/LEN]" (no LEN: a host prefix), LEN from min_len to 32 or 128. Every
// error reads `bad KIND "TEXT": why`.
IpPrefix split_prefix(const Node& n, const std::string& path, const std::string& text, const char* kind,
                      unsigned min_len) {
  auto bad = [&](const std::string& why) {
    fail(n.origin, path, std::string("bad ") + kind + " \"" + text + "\": " + why);
  };
  size_t slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) bad("expected IPv4[/LEN] or IPv6[/LEN]");
  IpPrefix p;
  p.text = text;
  p.ip = *ip;
  unsigned max_len = ip->v6 ? 128 : 32;
  p.length = static_cast<uint8_t>(max_len);
  if (slash != std::string::npos) {
    uint64_t len = 0;
    if (!parse_u64(std::string_view(text).substr(slash + 1), len) || len < min_len || len > max_len)
      bad("prefix length must be between " + std::to_string(min_len) + " and " + std::to_string(max_len));
    p.length = static_cast<uint8_t>(len);
  }
  return p;
}

}  // namespace

ListenAddress parse_listen(const Node& n, const std::string& path) {
  std::string text = R::scalar(n, path, "an address string like \"0.0.0.0:3478\"").text;
  auto bad = [&](const std::string& why) { fail(n.origin, path, "bad address \"" + text + "\": " + why); };
  const std::string kShape = "expected IPv4:PORT or [IPv6]:PORT";
  std::string host, port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') bad(kShape);
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) bad(kShape);
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) bad(kShape + " (IPv6 addresses need brackets)");
  }
  ListenAddress la;
  la.text = text;
  auto ip = parse_ip(host);
  if (!ip || ip->v6 != (text[0] == '[')) bad(kShape);
  la.ip = *ip;
  uint64_t port = 0;
  if (!parse_u64(port_text, port) || port < 1 || port > 65535) bad("port must be between 1 and 65535");
  la.port = static_cast<uint16_t>(port);
  if (is_v4_multicast(la.ip) || is_v6_multicast(la.ip)) bad("a multicast address cannot be listened on");
  return la;
}

IpPrefix parse_prefix(const Node& n, const std::string& path) {
  std::string text = R::scalar(n, path, "an address string like \"198.18.0.2/24\"").text;
  auto bad = [&](const std::string& why) { fail(n.origin, path, "bad address \"" + text + "\": " + why); };
  IpPrefix p = split_prefix(n, path, text, "address", 1);
  if (is_wildcard(p.ip)) bad("the unspecified address cannot be owned");
  if (is_v4_multicast(p.ip) || is_v6_multicast(p.ip)) bad("a multicast address cannot be owned");
  if (!p.ip.v6) {
    uint32_t a = (uint32_t{p.ip.bytes[0]} << 24) | (uint32_t{p.ip.bytes[1]} << 16) |
                 (uint32_t{p.ip.bytes[2]} << 8) | p.ip.bytes[3];
    if (a == 0xffffffffu) bad("the broadcast address cannot be owned");
    // RFC 3021: /31 and /32 have no directed broadcast address.
    if (p.length <= 30) {
      uint32_t host_mask = (1u << (32 - p.length)) - 1;
      if ((a & host_mask) == host_mask)
        bad("is the broadcast address of its /" + std::to_string(p.length) + " subnet");
    }
  }
  return p;
}

std::vector<uint8_t> parse_hex_key(const Node& n, const std::string& path) {
  const std::string& t = n.text;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < t.size(); ++i)
    if (nibble(t[i]) < 0)
      fail(n.origin, path,
           "expected 'auto' or a hex string, got a '" + std::string(1, t[i]) + "' at position " +
               std::to_string(i + 1));
  if (t.size() % 2) fail(n.origin, path, "odd number of hex digits (" + std::to_string(t.size()) + ")");
  size_t bytes = t.size() / 2;
  if (bytes != 40 && bytes != 52)
    fail(n.origin, path,
         "must be 40 or 52 bytes (80 or 104 hex digits), got " + std::to_string(bytes) + " bytes");
  std::vector<uint8_t> key(bytes);
  for (size_t i = 0; i < bytes; ++i)
    key[i] = static_cast<uint8_t>(nibble(t[2 * i]) * 16 + nibble(t[2 * i + 1]));
  return key;
}

IpPrefix parse_cidr(const Node& n, const std::string& path) {
  std::string text = R::scalar(n, path, "a CIDR string like \"198.18.0.0/15\"").text;
  auto bad = [&](const std::string& why) { fail(n.origin, path, "bad CIDR \"" + text + "\": " + why); };
  IpPrefix p = split_prefix(n, path, text, "CIDR", 0);
  const unsigned max_len = p.ip.v6 ? 128 : 32;
  for (unsigned bit = p.length; bit < max_len; ++bit)
    if (p.ip.bytes[bit / 8] & (0x80 >> (bit % 8))) bad("host bits set after /" + std::to_string(p.length));
  return p;
}


std::string hex(const std::vector<uint8_t>& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) out += {kHex[b >> 4], kHex[b & 15]};
  return out;
}

}  // namespace stunbox::config
