// The public helpers of config.h: address text, enum names.
#include "config/config.h"

#include "config/schema.h"

namespace stunbox::config {

std::string to_string(const IpAddress& a) { return a.to_string(); }

std::string to_string(const ListenAddress& a) { return a.Endpoint::to_string(); }

std::string to_string(const IpPrefix& p) { return to_string(p.ip) + "/" + std::to_string(p.length); }

std::optional<IpAddress> parse_ip(std::string_view text) { return IpAddress::parse(text); }

bool is_wildcard(const IpAddress& a) { return a.is_wildcard(); }

std::string_view to_string(Mode m) { return kModeNames[static_cast<size_t>(m)]; }
std::string_view to_string(Idle i) { return kIdleNames[static_cast<size_t>(i)]; }
std::string_view to_string(TxChecksum t) { return kTxChecksumNames[static_cast<size_t>(t)]; }
std::string_view to_string(PortXstats x) { return kPortXstatsNames[static_cast<size_t>(x)]; }
std::string_view to_string(Steering s) { return kSteeringNames[static_cast<size_t>(s)]; }
std::string_view to_string(stun::FingerprintPolicy f) { return kFingerprintNames[static_cast<size_t>(f)]; }

}  // namespace stunbox::config
