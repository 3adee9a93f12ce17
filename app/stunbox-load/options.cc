#include "options.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/address.h"

namespace stunbox::load {

std::string usage() {
  return R"(usage: stunbox-load --server HOST:PORT [--server [V6]:PORT]... (--count N | --duration S) [options]

Sends STUN Binding requests over UDP and validates every response.

Targets and sources:
  --server HOST:PORT     server to load; IPv4 HOST:PORT or [IPv6]:PORT, numeric,
                         repeatable (sockets are spread over the servers)
  --bind ADDR            local address for the sockets (repeatable; used round
                         robin per address family, e.g. 127.0.0.2..127.0.0.9)
  --sockets N            source sockets (default 64)
  --threads N            sender/receiver threads (default 1)
  --allow-any-target     allow servers outside 127.0.0.0/8, ::1, 198.18.0.0/15,
                         2001:2::/48 (refused otherwise)

Load shape (closed loop unless --rate):
  --window W             closed loop: requests in flight per socket (default 8)
  --rate R               open loop: R requests/s over all sockets, paced
  --count N              stop sending after N requests
  --duration S           stop sending after S seconds (max 600; runs are always
                         capped at 600 s)
  --timeout MS           an unanswered request is lost after MS ms (default 1000)
  --batch N              sendmmsg/recvmmsg batch size (default 32)

Requests and validation:
  --fingerprint          add FINGERPRINT to requests
  --classic              send RFC 3489 requests (no magic cookie), expect
                         MAPPED-ADDRESS
  --legacy               also accept pre-RFC 5389 answers: MAPPED-ADDRESS
                         without XOR-MAPPED-ADDRESS, or the draft 0x8020 form

Report:
  --server-pid PID       report the server's CPU time per valid response
  --max-loss PCT         loss above PCT percent fails the run (default 1)
  --quiet                print only the final JSON line
  --help                 this text

Exit: 0 all responses valid and loss <= --max-loss; 1 otherwise (or a run
could not start); 2 bad command line. The last output line is one JSON object.
)";
}

std::string format_addr(const SockAddr& a) {
  if (a.family() == AF_INET) {
    const auto* s = reinterpret_cast<const sockaddr_in*>(&a.ss);
    return endpoint_text(false, reinterpret_cast<const uint8_t*>(&s->sin_addr), ntohs(s->sin_port));
  }
  const auto* s = reinterpret_cast<const sockaddr_in6*>(&a.ss);
  return endpoint_text(true, reinterpret_cast<const uint8_t*>(&s->sin6_addr), ntohs(s->sin6_port));
}

namespace {

bool parse_ip(const std::string& host, uint16_t port, SockAddr* out) {
  *out = SockAddr{};
  auto* s4 = reinterpret_cast<sockaddr_in*>(&out->ss);
  if (inet_pton(AF_INET, host.c_str(), &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    out->len = sizeof(sockaddr_in);
    return true;
  }
  *out = SockAddr{};
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&out->ss);
  if (inet_pton(AF_INET6, host.c_str(), &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    out->len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

bool parse_u64(std::string_view s, uint64_t lo, uint64_t hi, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool parse_double(const std::string& s, double lo, double hi, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v) || v < lo || v > hi) return false;
  *out = v;
  return true;
}

// "1.2.3.4:P" or "[v6]:P".
bool parse_server(const std::string& s, SockAddr* out) {
  std::string host, port;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    if (host.find(':') == std::string::npos) return false;  // brackets are for IPv6
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string::npos) return false;  // IPv6 needs brackets
  }
  uint64_t p;
  if (!parse_u64(port, 1, 65535, &p)) return false;
  return parse_ip(host, static_cast<uint16_t>(p), out);
}

bool parse_bind(std::string s, SockAddr* out) {
  if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  return parse_ip(s, 0, out);
}

}  // namespace

bool target_allowed(const SockAddr& a) {
  if (a.family() == AF_INET) {
    const uint32_t ip = ntohl(reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr.s_addr);
    return (ip >> 24) == 127 || (ip & 0xFFFE0000u) == 0xC6120000u;  // 127/8, 198.18/15
  }
  const auto& ip = reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr;
  if (IN6_IS_ADDR_LOOPBACK(&ip)) return true;
  static constexpr uint8_t kBench[6] = {0x20, 0x01, 0x00, 0x02, 0x00, 0x00};  // 2001:2::/48
  return std::memcmp(ip.s6_addr, kBench, sizeof kBench) == 0;
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  bool window_set = false, have_count = false, have_duration = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline = false;
    if (arg.rfind("--", 0) == 0) {
      const auto eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline = true;
      }
    }
    auto flag = [&](const char* name) { return arg == name; };
    auto take = [&](std::string* v) -> bool {
      if (has_inline) {
        *v = value;
        return true;
      }
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    auto bad = [&](const std::string& why) { return Error{arg + ": " + why}; };
    auto is_switch = [&](const char* name) { return flag(name) && !has_inline; };

    if (is_switch("--help") || arg == "-h") {
      o.help = true;
      return o;
    }
    if (is_switch("--classic")) { o.classic = true; continue; }
    if (is_switch("--legacy")) { o.legacy = true; continue; }
    if (is_switch("--fingerprint")) { o.fingerprint = true; continue; }
    if (is_switch("--allow-any-target")) { o.allow_any_target = true; continue; }
    if (is_switch("--quiet")) { o.quiet = true; continue; }

    static const char* const kValued[] = {"--server", "--bind", "--sockets", "--threads", "--window",
                                          "--rate", "--count", "--duration", "--timeout", "--batch",
                                          "--max-loss", "--server-pid"};
    bool known = false;
    for (const char* k : kValued) known = known || flag(k);
    if (!known) return Error{"unknown option '" + std::string(argv[i]) + "' (see --help)"};
    std::string v;
    if (!take(&v)) return bad("needs a value");
    uint64_t n = 0;
    if (flag("--server")) {
      SockAddr a;
      if (!parse_server(v, &a)) return bad("'" + v + "' is not a numeric HOST:PORT or [IPV6]:PORT");
      o.servers.push_back(a);
    } else if (flag("--bind")) {
      SockAddr a;
      if (!parse_bind(v, &a)) return bad("'" + v + "' is not a numeric IPv4 or IPv6 address");
      o.binds.push_back(a);
    } else if (flag("--sockets")) {
      if (!parse_u64(v, 1, 4096, &n)) return bad("expects an integer 1..4096");
      o.sockets = static_cast<unsigned>(n);
    } else if (flag("--threads")) {
      if (!parse_u64(v, 1, 64, &n)) return bad("expects an integer 1..64");
      o.threads = static_cast<unsigned>(n);
    } else if (flag("--window")) {
      if (!parse_u64(v, 1, 4096, &n)) return bad("expects an integer 1..4096");
      o.window = static_cast<unsigned>(n);
      window_set = true;
    } else if (flag("--rate")) {
      if (!parse_double(v, 1, 1e8, &o.rate)) return bad("expects requests/s, 1..1e8");
    } else if (flag("--count")) {
      if (!parse_u64(v, 1, UINT64_C(1) << 40, &o.count)) return bad("expects an integer >= 1");
      have_count = true;
    } else if (flag("--duration")) {
      if (!parse_double(v, 0.001, kMaxDurationS, &o.duration_s))
        return bad("expects seconds, more than 0 and at most 600");
      have_duration = true;
    } else if (flag("--timeout")) {
      if (!parse_u64(v, 1, 60000, &n)) return bad("expects milliseconds 1..60000");
      o.timeout_ms = static_cast<unsigned>(n);
    } else if (flag("--batch")) {
      if (!parse_u64(v, 1, 1024, &n)) return bad("expects an integer 1..1024");
      o.batch = static_cast<unsigned>(n);
    } else if (flag("--max-loss")) {
      if (!parse_double(v, 0, 100, &o.max_loss_pct)) return bad("expects a percentage 0..100");
    } else if (flag("--server-pid")) {
      if (!parse_u64(v, 1, 0x7FFFFFFF, &n)) return bad("expects a process id");
      o.server_pid = static_cast<int>(n);
    }
  }

  if (o.servers.empty()) return Error{"--server: at least one server is required (see --help)"};
  if (!have_count && !have_duration) return Error{"--count or --duration is required (a run must be bounded)"};
  if (o.rate > 0 && window_set) return Error{"--window and --rate are exclusive (closed or open loop)"};
  if (o.threads > o.sockets) return Error{"--threads: more threads than --sockets"};
  if (o.servers.size() > o.sockets) return Error{"--sockets: fewer sockets than --server targets"};
  if (!o.allow_any_target) {
    for (const auto& s : o.servers) {
      if (!target_allowed(s))
        return Error{"--server: " + format_addr(s) +
                     " is outside 127.0.0.0/8, ::1, 198.18.0.0/15, 2001:2::/48; refused without "
                     "--allow-any-target"};
    }
  }
  if (!o.binds.empty()) {
    for (const auto& s : o.servers) {
      bool any = false;
      for (const auto& b : o.binds) any = any || b.family() == s.family();
      if (!any) return Error{"--bind: no address of the family of server " + format_addr(s)};
    }
  }
  return o;
}

}  // namespace stunbox::load
