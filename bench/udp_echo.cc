// The kernel floor for scripts/bench.sh: a UDP server with stunbox's socket pattern (SO_REUSEPORT workers, epoll, recvmmsg/sendmmsg, PKTINFO) and no STUN logic.
//
// Each datagram is answered with the smallest reply stunbox-load accepts: the
// request's first 20 bytes with the type turned into a Binding Success
// Response and one XOR-MAPPED-ADDRESS taken straight from the peer address
// (no validation, no parsing). The reply has the same size as stunbox's, so
// the server CPU per response measured here is the syscall and copy cost
// that any server with this pattern pays.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/be.h"

namespace {

constexpr size_t kSlot = 2048;
constexpr size_t kCtrl = CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo));
constexpr uint32_t kCookie = 0x2112A442u;

std::atomic<bool> g_stop{false};

struct Options {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  unsigned workers = 1;
  unsigned batch = 32;
  unsigned max_seconds = 600;
  int first_cpu = -1;  // pin worker i to CPU first_cpu + i
};

[[noreturn]] void usage_error(const std::string& what) {
  std::fprintf(stderr, "udp-echo-floor: %s\nusage: udp-echo-floor --listen ADDR:PORT|[V6]:PORT [--workers N] "
               "[--batch N] [--cpu FIRST] [--max-seconds S]\n", what.c_str());
  std::exit(2);
}

bool parse_addr(const std::string& s, Options& o) {
  if (!s.empty() && s[0] == '[') {
    const size_t end = s.find("]:");
    if (end == std::string::npos) return false;
    auto* a = reinterpret_cast<sockaddr_in6*>(&o.addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(std::atoi(s.c_str() + end + 2)));
    o.addr_len = sizeof(sockaddr_in6);
    return inet_pton(AF_INET6, s.substr(1, end - 1).c_str(), &a->sin6_addr) == 1;
  }
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  auto* a = reinterpret_cast<sockaddr_in*>(&o.addr);
  a->sin_family = AF_INET;
  a->sin_port = htons(static_cast<uint16_t>(std::atoi(s.c_str() + colon + 1)));
  o.addr_len = sizeof(sockaddr_in);
  return inet_pton(AF_INET, s.substr(0, colon).c_str(), &a->sin_addr) == 1;
}

// Writes the reply over buf and returns its length (0: too short to answer).
size_t make_reply(uint8_t* buf, size_t len, const sockaddr_storage& peer) {
  if (len < 20) return 0;
  stunbox::store_be16(buf, 0x0101);
  uint8_t* p = buf + 20;
  if (peer.ss_family == AF_INET) {
    const auto& s = reinterpret_cast<const sockaddr_in&>(peer);
    stunbox::store_be16(buf + 2, 12);
    stunbox::store_be32(p, 0x00200008);  // XOR-MAPPED-ADDRESS, 8 bytes
    stunbox::store_be16(p + 4, 0x0001);
    stunbox::store_be16(p + 6, static_cast<uint16_t>(ntohs(s.sin_port) ^ (kCookie >> 16)));
    stunbox::store_be32(p + 8, ntohl(s.sin_addr.s_addr) ^ kCookie);
    return 32;
  }
  const auto& s = reinterpret_cast<const sockaddr_in6&>(peer);
  stunbox::store_be16(buf + 2, 24);
  stunbox::store_be32(p, 0x00200014);
  stunbox::store_be16(p + 4, 0x0002);
  stunbox::store_be16(p + 6, static_cast<uint16_t>(ntohs(s.sin6_port) ^ (kCookie >> 16)));
  for (int i = 0; i < 16; ++i) p[8 + i] = s.sin6_addr.s6_addr[i] ^ buf[4 + i];
  return 44;
}

void worker(const Options& o, int fd, unsigned index) {
  if (o.first_cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<unsigned>(o.first_cpu) + index, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  const unsigned b = o.batch;
  std::vector<uint8_t> data(b * kSlot), rx_ctrl(b * kCtrl), tx_ctrl(b * kCtrl);
  std::vector<sockaddr_storage> peers(b);
  std::vector<iovec> rx_iov(b), tx_iov(b);
  std::vector<mmsghdr> rx(b), tx(b);
  const bool v6 = o.addr.ss_family == AF_INET6;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  while (!g_stop.load(std::memory_order_relaxed)) {
    epoll_event out;
    if (epoll_wait(ep, &out, 1, 100) <= 0) continue;
    for (int round = 0; round < 8; ++round) {
      for (unsigned i = 0; i < b; ++i) {
        rx_iov[i] = iovec{data.data() + i * kSlot, kSlot};
        msghdr& h = rx[i].msg_hdr;
        h.msg_name = &peers[i];
        h.msg_namelen = sizeof(sockaddr_storage);
        h.msg_iov = &rx_iov[i];
        h.msg_iovlen = 1;
        h.msg_control = rx_ctrl.data() + i * kCtrl;
        h.msg_controllen = kCtrl;
        h.msg_flags = 0;
      }
      const int got = recvmmsg(fd, rx.data(), b, MSG_DONTWAIT | MSG_TRUNC, nullptr);
      if (got <= 0) break;
      unsigned n = 0;
      for (int i = 0; i < got; ++i) {
        const msghdr& r = rx[i].msg_hdr;
        uint8_t* buf = data.data() + static_cast<size_t>(i) * kSlot;
        const size_t len = make_reply(buf, rx[i].msg_len, peers[i]);
        if (len == 0 || (r.msg_flags & MSG_TRUNC) != 0) continue;
        tx_iov[n] = iovec{buf, len};
        msghdr& h = tx[n].msg_hdr;
        h.msg_name = &peers[i];
        h.msg_namelen = r.msg_namelen;
        h.msg_iov = &tx_iov[n];
        h.msg_iovlen = 1;
        h.msg_flags = 0;
        // Same as stunbox: reply from the address the request reached.
        h.msg_control = nullptr;
        h.msg_controllen = 0;
        uint8_t* ctrl = tx_ctrl.data() + n * kCtrl;
        for (cmsghdr* c = CMSG_FIRSTHDR(&r); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&r), c)) {
          if (!v6 && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo in;
            std::memcpy(&in, CMSG_DATA(c), sizeof in);
            in_pktinfo pi{};
            pi.ipi_spec_dst = in.ipi_spec_dst;
            h.msg_control = ctrl;
            h.msg_controllen = CMSG_SPACE(sizeof pi);
            cmsghdr* co = CMSG_FIRSTHDR(&h);
            co->cmsg_level = IPPROTO_IP;
            co->cmsg_type = IP_PKTINFO;
            co->cmsg_len = CMSG_LEN(sizeof pi);
            std::memcpy(CMSG_DATA(co), &pi, sizeof pi);
            break;
          }
          if (v6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo in;
            std::memcpy(&in, CMSG_DATA(c), sizeof in);
            in6_pktinfo pi{};
            pi.ipi6_addr = in.ipi6_addr;
            h.msg_control = ctrl;
            h.msg_controllen = CMSG_SPACE(sizeof pi);
            cmsghdr* co = CMSG_FIRSTHDR(&h);
            co->cmsg_level = IPPROTO_IPV6;
            co->cmsg_type = IPV6_PKTINFO;
            co->cmsg_len = CMSG_LEN(sizeof pi);
            std::memcpy(CMSG_DATA(co), &pi, sizeof pi);
            break;
          }
        }
        ++n;
      }
      for (unsigned done = 0; done < n;) {
        const int sent = sendmmsg(fd, tx.data() + done, n - done, MSG_DONTWAIT);
        if (sent > 0) {
          done += static_cast<unsigned>(sent);
        } else if (sent < 0 && errno == EINTR) {
          continue;
        } else if (sent < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
          break;
        } else {
          ++done;
        }
      }
      if (got < static_cast<int>(b)) break;
    }
  }
  close(ep);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool have_listen = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage_error(a + ": missing value");
    const std::string v = argv[++i];
    if (a == "--listen") {
      if (!parse_addr(v, o)) usage_error("--listen: bad address " + v);
      have_listen = true;
    } else if (a == "--workers") {
      o.workers = static_cast<unsigned>(std::atoi(v.c_str()));
    } else if (a == "--batch") {
      o.batch = static_cast<unsigned>(std::atoi(v.c_str()));
    } else if (a == "--cpu") {
      o.first_cpu = std::atoi(v.c_str());
    } else if (a == "--max-seconds") {
      o.max_seconds = static_cast<unsigned>(std::atoi(v.c_str()));
    } else {
      usage_error("unknown option " + a);
    }
  }
  if (!have_listen) usage_error("--listen is required");
  if (o.workers < 1 || o.workers > 64 || o.batch < 1 || o.batch > 1024 || o.max_seconds < 1)
    usage_error("--workers 1..64, --batch 1..1024, --max-seconds >= 1");

  // Signals are taken by main alone (sigtimedwait), as in stunbox.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::vector<int> fds;
  const int one = 1;
  for (unsigned w = 0; w < o.workers; ++w) {
    const int fd = socket(o.addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        (o.addr.ss_family == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one)
                                      : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one)) != 0 ||
        bind(fd, reinterpret_cast<const sockaddr*>(&o.addr), o.addr_len) != 0) {
      std::fprintf(stderr, "udp-echo-floor: socket/bind: %s\n", std::strerror(errno));
      return 1;
    }
    fds.push_back(fd);
  }
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < o.workers; ++w) threads.emplace_back(worker, std::cref(o), fds[w], w);
  std::printf("udp-echo-floor: ready (%u workers, batch %u)\n", o.workers, o.batch);
  std::fflush(stdout);

  timespec limit{static_cast<time_t>(o.max_seconds), 0};
  sigtimedwait(&set, nullptr, &limit);  // a signal or the time limit: either way stop
  g_stop.store(true);
  for (auto& t : threads) t.join();
  for (int fd : fds) close(fd);
  return 0;
}
