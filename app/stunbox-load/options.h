// stunbox-load's command line: the options, their parsing and the target safety check.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace stunbox::load {

// A numeric socket address (no name lookup: targets are literal on purpose).
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

std::string format_addr(const SockAddr& a);

inline constexpr double kMaxDurationS = 600;  // hard cap on any run

struct Options {
  std::vector<SockAddr> servers;  // --server, repeatable
  std::vector<SockAddr> binds;    // --bind, repeatable, port 0
  unsigned sockets = 64;
  unsigned threads = 1;
  unsigned window = 8;            // closed loop: requests in flight per socket
  double rate = 0;                // open loop when > 0: requests/s over all sockets
  uint64_t count = 0;             // 0 = no count bound
  double duration_s = 0;          // 0 = no duration bound (still capped at kMaxDurationS)
  unsigned timeout_ms = 1000;
  unsigned batch = 32;
  double max_loss_pct = 1.0;
  int server_pid = 0;             // 0 = not measured
  bool classic = false;
  bool legacy = false;
  bool fingerprint = false;
  bool allow_any_target = false;
  bool help = false;
  bool quiet = false;             // only the JSON line
};

std::string usage();

// Parses argv; the error is one line naming the flag.
Result<Options> parse_options(int argc, char** argv);

// True for the targets this workplace allows: 127.0.0.0/8, ::1, 198.18.0.0/15
// and 2001:2::/48 (RFC 2544 / RFC 5180 benchmarking ranges).
bool target_allowed(const SockAddr& a);

}  // namespace stunbox::load
