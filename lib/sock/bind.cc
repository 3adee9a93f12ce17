// Socket setup: one SO_REUSEPORT socket per worker and listen address, after an exclusive probe of each address.
#include "sock/bind.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace stunbox::sock {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

uint16_t target_port(const BindTarget& t) {
  return t.v6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(&t.addr)->sin6_port)
              : ntohs(reinterpret_cast<const sockaddr_in*>(&t.addr)->sin_port);
}

void set_target_port(BindTarget& t, uint16_t port) {
  if (t.v6) {
    reinterpret_cast<sockaddr_in6*>(&t.addr)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&t.addr)->sin_port = htons(port);
  }
}

const uint8_t* target_ip(const BindTarget& t) {
  return t.v6 ? reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in6*>(&t.addr)->sin6_addr)
              : reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&t.addr)->sin_addr);
}

}  // namespace

BindTarget make_target(const config::ListenAddress& la) {
  BindTarget t;
  t.v6 = la.ip.v6;
  if (la.ip.v6) {
    auto* s = reinterpret_cast<sockaddr_in6*>(&t.addr);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(la.port);
    std::memcpy(&s->sin6_addr, la.ip.bytes.data(), 16);
    t.len = sizeof(sockaddr_in6);
  } else {
    auto* s = reinterpret_cast<sockaddr_in*>(&t.addr);
    s->sin_family = AF_INET;
    s->sin_port = htons(la.port);
    std::memcpy(&s->sin_addr, la.ip.bytes.data(), 4);
    t.len = sizeof(sockaddr_in);
  }
  t.text = la.Endpoint::to_string();
  return t;
}

Result<Fd> open_socket(const BindTarget& t, bool reuseport, const config::SocketSection& sc) {
  const std::string ctx = "cannot bind " + t.text + ": ";
  Fd fd(::socket(t.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return Error{ctx + errno_text(errno)};
  int one = 1;
  if (t.v6) {
    // So "0.0.0.0:P" and "[::]:P" can both be bound; each family gets its own socket.
    if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0 ||
        setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0) {
      return Error{ctx + errno_text(errno)};
    }
  } else if (setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) {
    return Error{ctx + errno_text(errno)};
  }
  if (reuseport && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return Error{ctx + "SO_REUSEPORT: " + errno_text(errno)};
  }
  if (sc.rcvbuf != 0) {
    int v = static_cast<int>(sc.rcvbuf);
    if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0) {
      return Error{ctx + "SO_RCVBUF: " + errno_text(errno)};
    }
  }
  if (sc.sndbuf != 0) {
    int v = static_cast<int>(sc.sndbuf);
    if (setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &v, sizeof v) != 0) {
      return Error{ctx + "SO_SNDBUF: " + errno_text(errno)};
    }
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&t.addr), t.len) != 0) {
    return Error{ctx + errno_text(errno)};
  }
  return fd;
}

Result<std::vector<std::vector<Fd>>> bind_workers(std::vector<BindTarget>& targets, unsigned workers,
                                                  const config::SocketSection& sc) {
  for (const BindTarget& t : targets) {
    if (target_port(t) == 0) continue;
    auto probe = open_socket(t, false, sc);
    if (!probe) return probe.error();
  }
  std::vector<std::vector<Fd>> sockets(workers);
  for (BindTarget& t : targets) {
    for (unsigned w = 0; w < workers; ++w) {
      auto fd = open_socket(t, true, sc);
      if (!fd) return fd.error();
      if (w == 0 && target_port(t) == 0) {
        // Port 0: the kernel picked one; every other worker joins that port.
        sockaddr_storage bound{};
        socklen_t len = sizeof bound;
        getsockname(fd->get(), reinterpret_cast<sockaddr*>(&bound), &len);
        const uint16_t port = bound.ss_family == AF_INET6
                                  ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                  : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        set_target_port(t, port);
        t.text = endpoint_text(t.v6, target_ip(t), port);
      }
      sockets[w].push_back(std::move(*fd));
    }
  }
  return sockets;
}

}  // namespace stunbox::sock
