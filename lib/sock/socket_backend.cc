// Socket backend: per-worker SO_REUSEPORT sockets, epoll + eventfd for prompt stop, recvmmsg/sendmmsg batches.
#include "sock/socket_backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "console/backend_view.h"
#include "console/control_server.h"
#include "console/metrics.h"
#include "core/counters.h"
#include "core/privileges.h"
#include "core/source_sketch.h"
#include "core/report.h"
#include "core/runtime.h"
#include "stun/responder.h"
#include "limits/limiter.h"

namespace stunbox::sock {

namespace {

// Largest datagram we accept; anything longer arrives with MSG_TRUNC and is
// dropped. A slot also has room for the response, which may be longer than
// the request (the responder grows the message in place).
constexpr size_t kDataRoom = 2048;
constexpr size_t kSlotSize = kDataRoom + stun::kMaxResponseSize;
// Bound on batches drained from one socket per wakeup, so a busy socket
// cannot starve the worker's other sockets or delay the stop check.
constexpr unsigned kMaxBatchesPerWakeup = 8;
constexpr size_t kCtrlSize = CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo));
constexpr uint32_t kStopToken = UINT32_MAX;
// Longest a worker sleeps in epoll_wait: its progress counter (the view's
// stall detection) moves at least this often even with no traffic.
constexpr int kHeartbeatMs = 100;

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no syscall
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// A worker's time accounting. worker: wo (relaxed stores), readers: ro.
struct alignas(64) WorkerUsageCounters {
  std::atomic<uint64_t> busy_ns{0};
  std::atomic<uint64_t> total_ns{0};
  std::atomic<uint64_t> progress{0};
};

std::string errno_text(int err) { return std::strerror(err); }

std::string format_endpoint(bool v6, const uint8_t* addr, uint16_t port) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, addr, text, sizeof text);
  char out[INET6_ADDRSTRLEN + 10];
  std::snprintf(out, sizeof out, v6 ? "[%s]:%u" : "%s:%u", text, static_cast<unsigned>(port));
  return out;
}

void print_line(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// RAII file descriptor so an early error return leaks nothing.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct BindTarget {
  bool v6 = false;
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // printable, with the port actually bound
};

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
  t.text = format_endpoint(la.ip.v6, la.ip.bytes.data(), la.port);
  return t;
}

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

// Immutable responder settings handed to workers; kept alive until run()
// returns because a worker may still hold a pointer from its current batch.
struct LiveSettings {
  config::Config cfg;
  stun::ResponderConfig responder;
  std::unique_ptr<limits::Policy> policy;  // abuse controls of this generation
};

// State shared between the main thread and the workers.
struct Shared {
  std::atomic<const stun::ResponderConfig*> responder{nullptr};  // main: wo, workers: ro (once per batch)
  std::atomic<bool> stop{false};                                  // main: wo, workers: ro
  std::atomic<const limits::Policy*> policy{nullptr};  // main: wo, workers: ro (once per batch)
  limits::Limiter* limiter = nullptr;  // shared buckets; set before the workers start, outlives them
  Fd stop_event;  // eventfd, written once by main; never read, so it stays readable for every worker
  // Test hook (STUNBOX_TEST_STALL_AFTER_PACKETS=N): the first worker to have
  // received N datagrams stops making progress until stop, so tests can see
  // the health monitor withhold WATCHDOG=1 and /metrics report the stall.
  // main: wo (before the workers start); workers: claim once (exchange to 0).
  std::atomic<uint64_t> test_stall_after{0};
};

class Worker {
 public:
  // counters: one block per listen address (this worker's sockets, same order).
  Worker(std::vector<Fd> sockets, std::vector<bool> v6, unsigned batch, Shared& shared, WorkerCounters* counters,
         WorkerUsageCounters& usage, SourceSketch& sources)
      : sockets_(std::move(sockets)), v6_(std::move(v6)), batch_(batch), shared_(shared),
        counters_(counters), usage_(usage), sources_(sources) {}

  // Allocates every per-packet buffer up front; the serving loop allocates nothing.
  Status prepare() {
    data_.assign(static_cast<size_t>(batch_) * kSlotSize, 0);
    rx_ctrl_.assign(static_cast<size_t>(batch_) * kCtrlSize, 0);
    tx_ctrl_.assign(static_cast<size_t>(batch_) * kCtrlSize, 0);
    peers_.assign(batch_, sockaddr_storage{});
    rx_iov_.assign(batch_, iovec{});
    tx_iov_.assign(batch_, iovec{});
    rx_msgs_.assign(batch_, mmsghdr{});
    tx_msgs_.assign(batch_, mmsghdr{});
    events_.assign(sockets_.size() + 1, epoll_event{});
    epoll_ = Fd(epoll_create1(EPOLL_CLOEXEC));
    if (epoll_.get() < 0) return Error{"epoll_create1: " + errno_text(errno)};
    for (size_t i = 0; i < sockets_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<uint32_t>(i);
      if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, sockets_[i].get(), &ev) != 0) {
        return Error{"epoll_ctl: " + errno_text(errno)};
      }
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = kStopToken;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, shared_.stop_event.get(), &ev) != 0) {
      return Error{"epoll_ctl: " + errno_text(errno)};
    }
    return Status::ok();
  }

  void serve() {
    const uint64_t start = monotonic_ns();
    uint64_t busy = 0;
    while (!shared_.stop.load(std::memory_order_relaxed)) {
      int n = epoll_wait(epoll_.get(), events_.data(), static_cast<int>(events_.size()), kHeartbeatMs);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;  // only EBADF/EINVAL: nothing sensible left to do
      }
      // Busy = time from wake-up to back in epoll_wait, for wake-ups that
      // carried datagrams; the rest of total is waiting.
      const uint64_t woke = monotonic_ns();
      unsigned got = 0;
      for (int e = 0; e < n; ++e) {
        if (events_[e].data.u32 == kStopToken) return;
        got += drain(events_[e].data.u32);
      }
      const uint64_t done = monotonic_ns();
      if (got != 0) busy += done - woke;
      // Once per wakeup, not per datagram: the console reads the copy.
      sources_.publish();
      if (got != 0 && shared_.test_stall_after.load(std::memory_order_relaxed) != 0) [[unlikely]] {
        if (test_hook_stall(got)) return;
      }
      usage_.busy_ns.store(busy, std::memory_order_relaxed);
      usage_.total_ns.store(done - start, std::memory_order_relaxed);
      usage_.progress.store(usage_.progress.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  }

 private:
  // The stall test hook: once this worker has seen the armed number of
  // datagrams, it freezes its progress counter and idles until stop.
  // Returns true when stopped while stalled.
  bool test_hook_stall(unsigned got) {
    test_seen_ += got;
    uint64_t armed = shared_.test_stall_after.load(std::memory_order_relaxed);
    if (test_seen_ < armed || !shared_.test_stall_after.compare_exchange_strong(armed, 0)) return false;
    while (!shared_.stop.load(std::memory_order_relaxed)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return true;
  }

  // Returns the number of datagrams received.
  unsigned drain(uint32_t sock_index) {
    unsigned total = 0;
    for (unsigned b = 0; b < kMaxBatchesPerWakeup; ++b) {
      int got = receive_batch(sock_index);
      if (got > 0) total += static_cast<unsigned>(got);
      if (got < static_cast<int>(batch_)) break;  // socket empty (or error): back to epoll
    }
    return total;
  }

  // One recvmmsg + one sendmmsg. Returns the number of datagrams received.
  int receive_batch(uint32_t sock_index) {
    const int fd = sockets_[sock_index].get();
    const bool v6_socket = v6_[sock_index];
    for (unsigned i = 0; i < batch_; ++i) {
      rx_iov_[i] = iovec{slot(i), kDataRoom};
      msghdr& h = rx_msgs_[i].msg_hdr;
      h.msg_name = &peers_[i];
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_iov = &rx_iov_[i];
      h.msg_iovlen = 1;
      h.msg_control = rx_ctrl_.data() + static_cast<size_t>(i) * kCtrlSize;
      h.msg_controllen = kCtrlSize;
      h.msg_flags = 0;
      rx_msgs_[i].msg_len = 0;
    }
    // MSG_TRUNC in flags makes msg_len the datagram's real length, so
    // rx_bytes counts what the client sent even when it did not fit.
    int got = recvmmsg(fd, rx_msgs_.data(), batch_, MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (got <= 0) return got;

    // One load per batch: a reload swaps the pointer, the old settings stay alive.
    const stun::ResponderConfig& rc = *shared_.responder.load(std::memory_order_acquire);
    const limits::Policy& policy = *shared_.policy.load(std::memory_order_acquire);
    const uint64_t now = limits::now_ns();  // one clock read per batch
    unsigned out = 0;
    for (int i = 0; i < got; ++i) {
      const msghdr& h = rx_msgs_[i].msg_hdr;
      const size_t len = rx_msgs_[i].msg_len;
      local_.add(Counter::rx_packets);
      local_.add(Counter::rx_bytes, len);
      if ((h.msg_flags & MSG_TRUNC) != 0) {
        local_.drop(DropReason::sock_truncated);
        continue;
      }
      stun::Endpoint client;
      if (!client_endpoint(peers_[i], client)) {
        local_.drop(DropReason::sock_bad_source);
        continue;
      }
      sources_.record(client.addr.data(), client.v6);
      uint8_t* buf = slot(static_cast<unsigned>(i));
      const stun::Answer a = stun::respond(rc, buf, len, kSlotSize, client);
      if (a.kind == stun::RequestKind::rfc5389) local_.add(Counter::stun_requests);
      if (a.kind == stun::RequestKind::classic) local_.add(Counter::stun_classic_requests);
      if (a.outcome == stun::Outcome::drop) {
        local_.drop(a.reason);
        continue;
      }
      // Abuse controls only on what would be answered: garbage costs no tokens.
      if (auto denied = shared_.limiter->check(policy, {client.v6, client.addr.data(), client.port}, now)) {
        local_.drop(*denied);
        continue;
      }
      local_.add(a.outcome == stun::Outcome::success ? Counter::stun_success : Counter::stun_error);
      prepare_reply(out, static_cast<unsigned>(i), a.length, v6_socket);
      ++out;
    }
    // Published before the replies leave, so a client holding its answer
    // also sees its request counted; what sendmmsg did follows right after.
    counters_[sock_index].publish(local_);
    send_replies(fd, out);
    counters_[sock_index].publish(local_);
    return got;
  }

  uint8_t* slot(unsigned i) { return data_.data() + static_cast<size_t>(i) * kSlotSize; }

  // The client as the responder must report it: v4-mapped IPv6 sources are
  // IPv4 clients (RFC 8489 s14.2 family follows the client's real address).
  static bool client_endpoint(const sockaddr_storage& ss, stun::Endpoint& ep) {
    if (ss.ss_family == AF_INET) {
      const auto& s = reinterpret_cast<const sockaddr_in&>(ss);
      ep.v6 = false;
      std::memcpy(ep.addr.data(), &s.sin_addr, 4);
      ep.port = ntohs(s.sin_port);
    } else if (ss.ss_family == AF_INET6) {
      const auto& s = reinterpret_cast<const sockaddr_in6&>(ss);
      ep.port = ntohs(s.sin6_port);
      if (IN6_IS_ADDR_V4MAPPED(&s.sin6_addr)) {
        ep.v6 = false;
        std::memcpy(ep.addr.data(), s.sin6_addr.s6_addr + 12, 4);
      } else {
        ep.v6 = true;
        std::memcpy(ep.addr.data(), &s.sin6_addr, 16);
      }
    } else {
      return false;
    }
    // A reply to port 0 cannot be delivered and port 0 is a spoofing tell.
    return ep.port != 0;
  }

  // Fills tx slot `out` for the response at rx slot `i`, sourced from the
  // address the request was sent to (so a wildcard bind answers correctly).
  void prepare_reply(unsigned out, unsigned i, uint16_t length, bool v6_socket) {
    const msghdr& rx = rx_msgs_[i].msg_hdr;
    tx_iov_[out] = iovec{slot(i), length};
    msghdr& h = tx_msgs_[out].msg_hdr;
    h.msg_name = &peers_[i];
    h.msg_namelen = rx.msg_namelen;
    h.msg_iov = &tx_iov_[out];
    h.msg_iovlen = 1;
    h.msg_flags = 0;
    tx_msgs_[out].msg_len = 0;
    uint8_t* ctrl = tx_ctrl_.data() + static_cast<size_t>(out) * kCtrlSize;
    h.msg_control = ctrl;
    h.msg_controllen = kCtrlSize;
    size_t used = 0;
    cmsghdr* c_out = CMSG_FIRSTHDR(&h);
    for (cmsghdr* c = CMSG_FIRSTHDR(&rx); c != nullptr && c_out != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&rx), c)) {
      if (!v6_socket && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo in;
        std::memcpy(&in, CMSG_DATA(c), sizeof in);
        in_pktinfo pi{};
        // ipi_spec_dst is the local address the packet was accepted on; the
        // kernel routes the reply itself (ifindex 0).
        pi.ipi_spec_dst = in.ipi_spec_dst;
        c_out->cmsg_level = IPPROTO_IP;
        c_out->cmsg_type = IP_PKTINFO;
        c_out->cmsg_len = CMSG_LEN(sizeof pi);
        std::memcpy(CMSG_DATA(c_out), &pi, sizeof pi);
        used = CMSG_SPACE(sizeof pi);
        break;
      }
      if (v6_socket && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo in;
        std::memcpy(&in, CMSG_DATA(c), sizeof in);
        in6_pktinfo pi{};
        pi.ipi6_addr = in.ipi6_addr;
        // A link-local source is only meaningful with its interface.
        if (IN6_IS_ADDR_LINKLOCAL(&in.ipi6_addr)) pi.ipi6_ifindex = in.ipi6_ifindex;
        if (IN6_IS_ADDR_MULTICAST(&in.ipi6_addr)) break;  // let the kernel pick a unicast source
        c_out->cmsg_level = IPPROTO_IPV6;
        c_out->cmsg_type = IPV6_PKTINFO;
        c_out->cmsg_len = CMSG_LEN(sizeof pi);
        std::memcpy(CMSG_DATA(c_out), &pi, sizeof pi);
        used = CMSG_SPACE(sizeof pi);
        break;
      }
    }
    if (used == 0) {
      h.msg_control = nullptr;
      h.msg_controllen = 0;
    } else {
      h.msg_controllen = used;
    }
  }

  // Sends the packed replies; a partial send retries the remainder, a
  // refused message is counted and skipped, so this always terminates.
  void send_replies(int fd, unsigned count) {
    unsigned done = 0;
    while (done < count) {
      int sent = sendmmsg(fd, tx_msgs_.data() + done, count - done, MSG_DONTWAIT);
      if (sent > 0) {
        for (unsigned k = done; k < done + static_cast<unsigned>(sent); ++k) {
          local_.add(Counter::tx_packets);
          local_.add(Counter::tx_bytes, tx_msgs_[k].msg_len);
        }
        done += static_cast<unsigned>(sent);
        continue;
      }
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        // Socket buffer full: drop the rest of this batch rather than spin.
        local_.drop(DropReason::sock_send_failed, count - done);
        return;
      }
      // This one message was refused (e.g. unroutable destination): skip it.
      local_.drop(DropReason::sock_send_failed);
      ++done;
    }
  }

  std::vector<Fd> sockets_;
  std::vector<bool> v6_;
  unsigned batch_;
  Shared& shared_;
  WorkerCounters* counters_;
  WorkerUsageCounters& usage_;
  SourceSketch& sources_;  // this worker: wo (record per datagram, publish per wakeup); console: read()
  LocalCounters local_;
  uint64_t test_seen_ = 0;  // datagrams seen, counted only while the stall hook is armed
  Fd epoll_;
  std::vector<uint8_t> data_;
  std::vector<uint8_t> rx_ctrl_;
  std::vector<uint8_t> tx_ctrl_;
  std::vector<sockaddr_storage> peers_;
  std::vector<iovec> rx_iov_;
  std::vector<iovec> tx_iov_;
  std::vector<mmsghdr> rx_msgs_;
  std::vector<mmsghdr> tx_msgs_;
  std::vector<epoll_event> events_;
};

// "/run/stunbox/stunbox.sock" -> "/run/stunbox"; "x.sock" -> "."; "" -> "".
std::string parent_directory(const std::string& path) {
  if (path.empty()) return {};
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

unsigned online_cpus() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

bool same_listen(const std::vector<config::ListenAddress>& a, const std::vector<config::ListenAddress>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].ip.v6 != b[i].ip.v6 || a[i].ip.bytes != b[i].ip.bytes || a[i].port != b[i].port) return false;
  }
  return true;
}

// Names the settings that differ and cannot change while running.
std::string restart_only_changes(const config::Config& now, const config::Config& next) {
  std::string out;
  auto note = [&out](const char* key) {
    if (!out.empty()) out += ", ";
    out += key;
  };
  if (now.mode != next.mode) note("mode");
  if (!same_listen(now.socket.listen, next.socket.listen)) note("socket.listen");
  if (now.socket.workers != next.socket.workers) note("socket.workers");
  if (now.socket.batch != next.socket.batch) note("socket.batch");
  if (now.socket.pin != next.socket.pin) note("socket.pin");
  if (now.socket.rcvbuf != next.socket.rcvbuf) note("socket.rcvbuf");
  if (now.socket.sndbuf != next.socket.sndbuf) note("socket.sndbuf");
  // The process already runs as the user: it cannot switch again.
  if (now.socket.user != next.socket.user) note("socket.user");
  if (now.socket.group != next.socket.group) note("socket.group");
  if (now.control.socket != next.control.socket) note("control.socket");
  if (now.stats.metrics_listen != next.stats.metrics_listen) note("stats.metrics_listen");
  if (now.limits.rate.table_size != next.limits.rate.table_size) note("limits.rate.table_size");
  return out;
}

// The socket backend as the console and metrics see it: one "port" per
// listen address, one queue per (listen address, worker).
class SocketView final : public console::BackendView {
 public:
  SocketView(std::unique_ptr<LiveSettings> first, const RunOptions& opts, Shared& shared,
             std::vector<std::string> listen_text, std::vector<bool> v6, unsigned workers,
             const std::vector<WorkerCounters>& counters, const std::vector<WorkerUsageCounters>& usage,
             const std::vector<std::unique_ptr<SourceSketch>>& sources)
      : opts_(opts), shared_(shared), listen_(std::move(listen_text)), v6_(std::move(v6)), usage_(usage),
        sources_(sources) {
    current_.store(first.get(), std::memory_order_release);
    generations_.push_back(std::move(first));
    const size_t n = listen_.size();
    for (unsigned w = 0; w < workers; ++w) {
      console::WorkerInfo info;
      info.id = w;
      for (size_t a = 0; a < n; ++a) {
        queues_.push_back(console::QueueView{static_cast<unsigned>(a), w, w, &counters[w * n + a]});
        if (a != 0) info.queues += ' ';
        info.queues += std::to_string(a) + ":" + std::to_string(w);
      }
      workers_.push_back(std::move(info));
    }
  }

  std::string_view mode() const override { return "socket"; }
  size_t port_count() const override { return listen_.size(); }
  std::string port_name(size_t port) const override { return "udp " + listen_.at(port); }

  console::PortStats port_stats(size_t port) const override {
    const Snapshot s = port_snapshot(port);
    console::PortStats p;
    p.rx_packets = s.get(Counter::rx_packets);
    p.rx_bytes = s.get(Counter::rx_bytes);
    p.rx_errors = s.get(DropReason::sock_truncated);
    p.tx_packets = s.get(Counter::tx_packets);
    p.tx_bytes = s.get(Counter::tx_bytes);
    p.tx_errors = s.get(DropReason::sock_send_failed);
    return p;
  }

  console::LinkState link(size_t) const override { return console::LinkState{true, 0, false}; }

  std::string port_info(size_t port) const override {
    const config::SocketSection& sc = config().socket;
    auto bytes_or_default = [](unsigned v) { return v == 0 ? std::string("kernel default") : std::to_string(v) + " bytes"; };
    std::string o;
    o += "Driver: kernel UDP sockets (socket mode)\n";
    o += "Listen address: " + listen_.at(port) + " (" + (v6_.at(port) ? "IPv6" : "IPv4") + ")\n";
    o += "Workers: " + std::to_string(workers_.size()) + " (one SO_REUSEPORT socket each; the kernel spreads flows)\n";
    o += "Batch: " + std::to_string(sc.batch) + " datagrams per recvmmsg/sendmmsg\n";
    o += "Reply source: the request's destination address (" + std::string(v6_.at(port) ? "IPV6_PKTINFO" : "IP_PKTINFO") +
         ")\n";
    o += "SO_RCVBUF: " + bytes_or_default(sc.rcvbuf) + ", SO_SNDBUF: " + bytes_or_default(sc.sndbuf) + "\n";
    o += "Checksums: kernel\n";
    o += std::string("Pinned workers: ") + (sc.pin ? "yes" : "no") + "\n";
    return o;
  }

  // Socket mode has no device counters: every counter of this listen address.
  std::vector<console::XStat> xstats(size_t port) const override {
    const Snapshot s = port_snapshot(port);
    std::vector<console::XStat> out;
    for (size_t i = 0; i < kCounterCount; ++i) out.push_back({std::string(kCounterNames[i]), s.v[i]});
    for (size_t r = 0; r < kDropReasonCount; ++r)
      out.push_back({"drop_" + std::string(kDropReasonNames[r]), s.v[kCounterCount + r]});
    return out;
  }

  std::span<const console::QueueView> queues() const override { return queues_; }
  std::span<const console::WorkerInfo> workers() const override { return workers_; }
  console::WorkerUsage usage(size_t worker) const override {
    const WorkerUsageCounters& u = usage_.at(worker);
    return console::WorkerUsage{u.busy_ns.load(std::memory_order_relaxed), u.total_ns.load(std::memory_order_relaxed),
                                u.progress.load(std::memory_order_relaxed)};
  }

  const config::Config& config() const override { return current_.load(std::memory_order_acquire)->cfg; }

  std::vector<SourceSketchSnapshot> source_sketches() const override {
    std::vector<SourceSketchSnapshot> out;
    for (const auto& s : sources_) out.push_back(s->read());
    return out;
  }

  std::string reload() override {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    if (opts_.config_path.empty()) return "reload: no config file to re-read; nothing changed";
    auto next = config::load_file(opts_.config_path, opts_.overrides);
    if (!next) return "reload failed, running config kept: " + next.message();
    const std::string restart = restart_only_changes(config(), *next);
    generations_.push_back(std::make_unique<LiveSettings>(LiveSettings{std::move(*next), {}}));
    LiveSettings* live = generations_.back().get();
    live->responder = live->cfg.stun.responder();
    // The bucket table keeps its size until a restart; show the size in use.
    live->cfg.limits.rate.table_size = config().limits.rate.table_size;
    live->policy = std::make_unique<limits::Policy>(live->cfg.limits);
    // Workers pick the new responder and limits up at their next batch; nothing is lost.
    shared_.responder.store(&live->responder, std::memory_order_release);
    shared_.policy.store(live->policy.get(), std::memory_order_release);
    current_.store(live, std::memory_order_release);
    std::string msg = "reloaded " + opts_.config_path + ": stun options and stats.period applied (limits too)";
    if (!restart.empty()) msg += "; changed but NOT applied (need a restart): " + restart;
    return msg;
  }

 private:
  Snapshot port_snapshot(size_t port) const {
    Snapshot s;
    for (const console::QueueView& q : queues_)
      if (q.port == port) s.add(*q.counters);
    return s;
  }

  RunOptions opts_;
  Shared& shared_;
  std::vector<std::string> listen_;
  std::vector<bool> v6_;
  const std::vector<WorkerUsageCounters>& usage_;
  const std::vector<std::unique_ptr<SourceSketch>>& sources_;
  std::vector<console::QueueView> queues_;
  std::vector<console::WorkerInfo> workers_;
  std::mutex reload_mutex_;
  // Every generation is kept until the view dies: workers and readers may
  // still hold pointers into an older one.
  std::vector<std::unique_ptr<LiveSettings>> generations_;
  std::atomic<const LiveSettings*> current_{nullptr};
};

}  // namespace

Status run(const config::Config& cfg, const RunOptions& opts) {
  const config::SocketSection& sc = cfg.socket;
  if (sc.listen.empty()) return Error{"socket.listen: no address to listen on"};
  const unsigned ncpu = online_cpus();
  const unsigned workers = sc.workers != 0 ? sc.workers : ncpu;
  const unsigned batch = sc.batch != 0 ? sc.batch : 32;

  // socket.user: resolved and checked before anything is bound, so a switch
  // that cannot work fails at once; no_new_privs before the first thread
  // exists, so every thread carries it.
  std::optional<Identity> identity;
  if (!sc.user.empty()) {
    auto id = resolve_identity(sc.user, sc.group);
    if (!id) return Error{"socket.user: " + id.message()};
    if (Status st = check_can_switch(*id); !st) return Error{"socket.user: " + st.message()};
    if (Status st = forbid_new_privileges(); !st) return Error{"socket.user: " + st.message()};
    identity = std::move(*id);
  }

  std::vector<BindTarget> targets;
  for (const auto& la : sc.listen) targets.push_back(make_target(la));

  // SO_REUSEPORT would silently share a port with another process of the
  // same user; probe each address exclusively first so "in use" is reported.
  for (auto& t : targets) {
    if (target_port(t) == 0) continue;
    auto probe = open_socket(t, false, sc);
    if (!probe) return probe.error();
  }

  // sockets[w][a]: worker w's own socket for listen address a.
  std::vector<std::vector<Fd>> sockets(workers);
  for (size_t a = 0; a < targets.size(); ++a) {
    for (unsigned w = 0; w < workers; ++w) {
      auto fd = open_socket(targets[a], true, sc);
      if (!fd) return fd.error();
      if (w == 0 && target_port(targets[a]) == 0) {
        // Port 0: the kernel picked one; every other worker joins that port.
        sockaddr_storage bound{};
        socklen_t len = sizeof bound;
        getsockname(fd->get(), reinterpret_cast<sockaddr*>(&bound), &len);
        uint16_t port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                    : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        set_target_port(targets[a], port);
        const auto& la = sc.listen[a];
        targets[a].text = format_endpoint(la.ip.v6, la.ip.bytes.data(), port);
      }
      sockets[w].push_back(std::move(*fd));
    }
  }

  Shared shared;
  shared.stop_event = Fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (shared.stop_event.get() < 0) return Error{"eventfd: " + errno_text(errno)};
  if (const char* stall = std::getenv("STUNBOX_TEST_STALL_AFTER_PACKETS")) {
    shared.test_stall_after.store(std::strtoull(stall, nullptr, 10), std::memory_order_relaxed);
  }

  auto first = std::make_unique<LiveSettings>(LiveSettings{cfg, {}});
  first->responder = first->cfg.stun.responder();
  shared.responder.store(&first->responder, std::memory_order_release);
  first->policy = std::make_unique<limits::Policy>(first->cfg.limits);
  shared.policy.store(first->policy.get(), std::memory_order_release);
  // Sized once; reloads keep the buckets (table_size needs a restart).
  limits::Limiter limiter(cfg.limits.rate.table_size);
  shared.limiter = &limiter;

  // counters[w * targets + a]: worker w's counters for listen address a.
  std::vector<WorkerCounters> counters(static_cast<size_t>(workers) * targets.size());
  std::vector<WorkerUsageCounters> usage(workers);
  // One source-prefix sketch per worker ("show top sources"): /32 and /64.
  std::vector<std::unique_ptr<SourceSketch>> sources;
  for (unsigned w = 0; w < workers; ++w) sources.push_back(std::make_unique<SourceSketch>());
  std::vector<std::unique_ptr<Worker>> pool;
  std::vector<bool> v6;
  std::vector<std::string> listen_text;
  for (const auto& t : targets) {
    v6.push_back(t.v6);
    listen_text.push_back(t.text);
  }
  SocketView view(std::move(first), opts, shared, listen_text, v6, workers, counters, usage, sources);
  for (unsigned w = 0; w < workers; ++w) {
    pool.push_back(std::make_unique<Worker>(std::move(sockets[w]), v6, batch, shared,
                                            &counters[static_cast<size_t>(w) * targets.size()], usage[w],
                                            *sources[w]));
    Status st = pool.back()->prepare();
    if (!st) return st;
  }

  // /metrics, the health monitor and systemd notify; a bad metrics_listen fails here, before any worker runs.
  auto ops = console::Operations::start(view);
  if (!ops) return ops.error();

  // The console: control socket, --interactive terminal, periodic stats block;
  // up before the privilege drop (it binds) and before the ready line.
  const std::string control_dir = parent_directory(cfg.control.socket);
  const bool control_dir_existed = !control_dir.empty() && path_exists(control_dir);
  console::ControlServer control(view);
  bool control_up = true;
  if (Status st = control.start(console::ControlOptions{cfg.control.socket, opts.interactive}); !st) {
    print_line("stunbox: warning: " + st.message() + "; running without a control socket");
    [[maybe_unused]] Status again = control.start(console::ControlOptions{"", opts.interactive});
    control_up = false;
  }

  // Everything is bound (listen sockets, /metrics, control socket): drop
  // root before any worker serves. Threads already running (console,
  // metrics, health monitor) switch too: glibc applies set*id to all threads.
  if (identity) {
    if (control_up && !cfg.control.socket.empty()) {
      // So the socket can still be removed at exit: hand it over, and its
      // directory too when this start created it (never a directory that was there).
      if (::lchown(cfg.control.socket.c_str(), identity->uid, identity->gid) != 0) {
        print_line("stunbox: warning: cannot hand the control socket " + cfg.control.socket + " to user " +
                   identity->user + ": " + errno_text(errno));
      }
      if (!control_dir_existed && !control_dir.empty() &&
          ::lchown(control_dir.c_str(), identity->uid, identity->gid) != 0) {
        print_line("stunbox: warning: cannot hand " + control_dir + " to user " + identity->user + ": " +
                   errno_text(errno));
      }
    }
    if (Status st = drop_privileges(*identity); !st) return Error{"socket.user: " + st.message()};
    print_line("stunbox: running as user " + identity->user + ", group " + identity->group + " (uid " +
               std::to_string(identity->uid) + ", gid " + std::to_string(identity->gid) + ")");
    if (control_up && !cfg.control.socket.empty() && ::access(control_dir.c_str(), W_OK | X_OK) != 0) {
      print_line("stunbox: note: user " + identity->user + " cannot write " + control_dir + ": the control socket " +
                 "stays there after exit (harmless: the next start replaces it)");
    }
  }

  std::vector<std::thread> threads;
  std::string pin_warning;
  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&pool, w] { pool[w]->serve(); });
    // Named so ps/top (and tests) tell workers from the control and metrics threads.
    pthread_setname_np(threads.back().native_handle(), ("sbx-worker-" + std::to_string(w)).substr(0, 15).c_str());
    if (sc.pin) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(w % ncpu, &set);
      int rc = pthread_setaffinity_np(threads.back().native_handle(), sizeof set, &set);
      if (rc != 0 && pin_warning.empty()) {
        pin_warning = "stunbox: warning: cannot pin worker " + std::to_string(w) + ": " + errno_text(rc);
      }
    }
  }

  auto stop_all = [&] {
    shared.stop.store(true, std::memory_order_relaxed);
    uint64_t one = 1;
    // Never read by workers, so one write wakes them all for good.
    [[maybe_unused]] ssize_t r = ::write(shared.stop_event.get(), &one, sizeof one);
    for (auto& t : threads) t.join();
  };

  if (!pin_warning.empty()) print_line(pin_warning);
  std::string all;
  for (const auto& t : targets) {
    print_line("stunbox: listening on udp " + t.text + " (" + std::to_string(workers) + " SO_REUSEPORT sockets)");
    all += " " + t.text;
  }
  if (const console::MetricsServer* m = (*ops)->metrics()) print_line("stunbox: metrics on " + m->url());
  const std::string ready = "socket mode, " + std::to_string(workers) + (workers == 1 ? " worker" : " workers") +
                            ", listening on" + all;
  print_line("stunbox: ready: " + ready);
  control.greet();
  (*ops)->ready(ready);

  for (;;) {
    Signal sig = wait_signal(1000);
    if (sig == Signal::stop) break;
    if (sig == Signal::reload) {
      (*ops)->reloading();
      print_line("stunbox: " + view.reload());
      (*ops)->reloaded();
    }
  }

  (*ops)->stopping();  // STOPPING=1; /metrics and the monitor stop reading the workers
  control.stop();  // before the workers: it reads their counters
  stop_all();
  std::string final_block = "stunbox: final counters\n" + format_stats(Snapshot::sum(counters), nullptr, 0);
  std::fputs(final_block.c_str(), stdout);
  std::fflush(stdout);
  return Status::ok();
}

}  // namespace stunbox::sock
