// Socket setup for the socket backend: bind targets, socket options, the exclusive-bind probe, one socket per worker.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "sock/fd.h"

namespace stunbox::sock {

// One listen address, ready for bind(2).
struct BindTarget {
  bool v6 = false;
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // printable, with the port actually bound: "127.0.0.1:3478", "[::1]:3478"
};

BindTarget make_target(const config::ListenAddress& la);

// A UDP socket bound to `t`: non-blocking, PKTINFO on (so replies leave from
// the address a request reached), IPv6-only for IPv6, the buffer sizes of
// `sc`, SO_REUSEPORT when asked. Errors: "cannot bind 127.0.0.1:3478: Address already in use".
Result<Fd> open_socket(const BindTarget& t, bool reuseport, const config::SocketSection& sc);

// Every worker's sockets: sockets[w][a] is worker w's SO_REUSEPORT socket for
// listen address a (targets[a]). Each address is first probed with an
// exclusive bind, since SO_REUSEPORT would silently share a port with another
// process of the same user. Port 0 becomes the port the kernel picked (and
// targets[a].text says so), joined by every other worker.
Result<std::vector<std::vector<Fd>>> bind_workers(std::vector<BindTarget>& targets, unsigned workers,
                                                  const config::SocketSection& sc);

}  // namespace stunbox::sock
