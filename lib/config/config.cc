// The public helpers of config.h: address text, enum names.
#include "config/config.h"

#include <arpa/inet.h>

#include <algorithm>

#include "config/schema.h"

namespace stunbox::config {

std::string to_string(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf)) return "?";
  return buf;
}

std::string to_string(const ListenAddress& a) {
  std::string ip = to_string(a.ip);
  return (a.ip.v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(a.port);
}

std::string to_string(const IpPrefix& p) { return to_string(p.ip) + "/" + std::to_string(p.length); }

std::optional<IpAddress> parse_ip(std::string_view text) {
  std::string s(text);  // inet_pton needs a terminator
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return std::nullopt;
}

bool is_wildcard(const IpAddress& a) {
  size_t n = a.v6 ? 16 : 4;
  return std::all_of(a.bytes.begin(), a.bytes.begin() + static_cast<std::ptrdiff_t>(n),
                     [](uint8_t b) { return b == 0; });
}

std::string_view to_string(Mode m) { return kModeNames[static_cast<size_t>(m)]; }
std::string_view to_string(Idle i) { return kIdleNames[static_cast<size_t>(i)]; }
std::string_view to_string(TxChecksum t) { return kTxChecksumNames[static_cast<size_t>(t)]; }
std::string_view to_string(PortXstats x) { return kPortXstatsNames[static_cast<size_t>(x)]; }
std::string_view to_string(stun::FingerprintPolicy f) { return kFingerprintNames[static_cast<size_t>(f)]; }

}  // namespace stunbox::config
