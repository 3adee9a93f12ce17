// The socket-mode worker's batch loop: recvmmsg, respond in place, sendmmsg from the address each request reached.
#include "sock/worker.h"

#include <netinet/in.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>

namespace stunbox::sock {
namespace {

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

std::string errno_text(int err) { return std::strerror(err); }

// The client as the responder must report it: v4-mapped IPv6 sources are
// IPv4 clients (RFC 8489 s14.2 family follows the client's real address).
// RFC 5780 RESPONSE-PORT: the reply goes to the client's address at `port`.
void set_port(sockaddr_storage& ss, uint16_t port) {
  if (ss.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6&>(ss).sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in&>(ss).sin_port = htons(port);
  }
}

bool client_endpoint(const sockaddr_storage& ss, Endpoint& ep) {
  if (ss.ss_family == AF_INET) {
    const auto& s = reinterpret_cast<const sockaddr_in&>(ss);
    ep.ip.v6 = false;
    std::memcpy(ep.ip.bytes.data(), &s.sin_addr, 4);
    ep.port = ntohs(s.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto& s = reinterpret_cast<const sockaddr_in6&>(ss);
    ep.port = ntohs(s.sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&s.sin6_addr)) {
      ep.ip.v6 = false;
      std::memcpy(ep.ip.bytes.data(), s.sin6_addr.s6_addr + 12, 4);
    } else {
      ep.ip.v6 = true;
      std::memcpy(ep.ip.bytes.data(), &s.sin6_addr, 16);
    }
  } else {
    return false;
  }
  // A reply to port 0 cannot be delivered and port 0 is a spoofing tell.
  return ep.port != 0;
}

}  // namespace

Status Shared::init() {
  stop_event = Fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (stop_event.get() < 0) return Error{"eventfd: " + errno_text(errno)};
  return Status::ok();
}

void Shared::request_stop() {
  stop.store(true, std::memory_order_relaxed);
  uint64_t one = 1;
  // Never read by workers, so one write wakes them all for good.
  [[maybe_unused]] ssize_t r = ::write(stop_event.get(), &one, sizeof one);
}

Worker::Worker(std::vector<Fd> sockets, std::vector<SocketRole> roles, unsigned batch, Shared& shared,
               WorkerCounters* counters, WorkerUsageCounters& usage, SourceSketch& sources)
    : sockets_(std::move(sockets)), roles_(std::move(roles)), batch_(batch), shared_(shared), counters_(counters),
      usage_(usage), sources_(sources) {}

Status Worker::prepare() {
  data_.assign(static_cast<size_t>(batch_) * kSlotSize, 0);
  rx_ctrl_.assign(static_cast<size_t>(batch_) * kCtrlSize, 0);
  tx_ctrl_.assign(static_cast<size_t>(batch_) * kCtrlSize, 0);
  peers_.assign(batch_, sockaddr_storage{});
  rx_iov_.assign(batch_, iovec{});
  tx_iov_.assign(batch_, iovec{});
  rx_msgs_.assign(batch_, mmsghdr{});
  tx_msgs_.assign(batch_, mmsghdr{});
  elsewhere_socket_.assign(batch_, 0);
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

void Worker::serve() {
  start_ns_ = monotonic_ns();
  while (!shared_.stop.load(std::memory_order_relaxed)) {
    if (run_once(kHeartbeatMs) < 0) return;
  }
}

int Worker::run_once(int timeout_ms) {
  if (start_ns_ == 0) start_ns_ = monotonic_ns();
  const int n = epoll_wait(epoll_.get(), events_.data(), static_cast<int>(events_.size()), timeout_ms);
  if (n < 0) return errno == EINTR ? 0 : -1;  // else only EBADF/EINVAL: nothing sensible left to do
  // Busy = time from wake-up to back in epoll_wait, for wake-ups that
  // carried datagrams; the rest of total is waiting.
  const uint64_t woke = monotonic_ns();
  unsigned got = 0;
  for (int e = 0; e < n; ++e) {
    if (events_[e].data.u32 == kStopToken) return -1;
    got += drain(events_[e].data.u32);
  }
  const uint64_t done = monotonic_ns();
  if (got != 0) busy_ns_ += done - woke;
  // Once per wakeup, not per datagram: the console reads the copy.
  sources_.publish();
  if (got != 0 && shared_.test_stall_after.load(std::memory_order_relaxed) != 0) [[unlikely]] {
    if (test_hook_stall(got)) return -1;
  }
  usage_.busy_ns.store(busy_ns_, std::memory_order_relaxed);
  usage_.total_ns.store(done - start_ns_, std::memory_order_relaxed);
  usage_.progress.store(usage_.progress.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return static_cast<int>(got);
}

// The stall test hook: once this worker has seen the armed number of
// datagrams, it freezes its progress counter and idles until stop.
// Returns true when stopped while stalled.
bool Worker::test_hook_stall(unsigned got) {
  test_seen_ += got;
  uint64_t armed = shared_.test_stall_after.load(std::memory_order_relaxed);
  if (test_seen_ < armed || !shared_.test_stall_after.compare_exchange_strong(armed, 0)) return false;
  while (!shared_.stop.load(std::memory_order_relaxed)) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return true;
}

// Returns the number of datagrams received.
unsigned Worker::drain(uint32_t sock_index) {
  unsigned total = 0;
  for (unsigned b = 0; b < kMaxBatchesPerWakeup; ++b) {
    int got = receive_batch(sock_index);
    if (got > 0) total += static_cast<unsigned>(got);
    if (got < static_cast<int>(batch_)) break;  // socket empty (or error): back to epoll
  }
  return total;
}

// One recvmmsg + one sendmmsg. Returns the number of datagrams received.
int Worker::receive_batch(uint32_t sock_index) {
  const int fd = sockets_[sock_index].get();
  const SocketRole& role = roles_[sock_index];
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
  unsigned out = 0;        // replies on this socket: tx_msgs_[0, out)
  unsigned elsewhere = 0;  // RFC 5780 replies on another endpoint's socket: tx_msgs_ from the back
  for (int i = 0; i < got; ++i) {
    const msghdr& h = rx_msgs_[i].msg_hdr;
    const size_t len = rx_msgs_[i].msg_len;
    local_.add(Counter::rx_packets);
    local_.add(Counter::rx_bytes, len);
    if ((h.msg_flags & MSG_TRUNC) != 0) {
      local_.drop(DropReason::sock_truncated);
      continue;
    }
    Endpoint client;
    if (!client_endpoint(peers_[i], client)) {
      local_.drop(DropReason::sock_bad_source);
      continue;
    }
    sources_.record(client.ip.data(), client.ip.v6);
    uint8_t* buf = slot(static_cast<unsigned>(i));
    const stun::Answer a = stun::respond(rc, buf, len, kSlotSize, client, role.site);
    if (a.kind == stun::RequestKind::rfc5389) local_.add(Counter::stun_requests);
    if (a.kind == stun::RequestKind::classic) local_.add(Counter::stun_classic_requests);
    if (a.outcome == stun::Outcome::drop) {
      local_.drop(a.reason);
      continue;
    }
    // Abuse controls only on what would be answered: garbage costs no
    // tokens. The port checked is where the reply would go (RESPONSE-PORT's).
    const uint16_t to_port = a.response_port != 0 ? a.response_port : client.port;
    if (auto denied = shared_.limiter->check(policy, {client.ip.data(), to_port, client.ip.v6}, now, &credit_)) {
      local_.drop(*denied);
      continue;
    }
    local_.add(a.outcome == stun::Outcome::success ? Counter::stun_success : Counter::stun_error);
    stun::count_rfc5780(a.rfc5780, local_);
    if (a.response_port != 0) set_port(peers_[i], a.response_port);
    const uint32_t from = role.site.pair == nullptr || a.outcome != stun::Outcome::success
                              ? sock_index
                              : role.endpoint_socket[(a.rfc5780 & stun::rfc5780::kFromAlternateIp ? 2 : 0) +
                                                     (a.rfc5780 & stun::rfc5780::kFromAlternatePort ? 1 : 0)];
    if (from == sock_index) {
      prepare_reply(out++, static_cast<unsigned>(i), a.length, role.v6, true);
    } else {
      // That socket is bound to the endpoint's own address: no PKTINFO.
      elsewhere_socket_[elsewhere] = from;
      prepare_reply(batch_ - 1 - elsewhere++, static_cast<unsigned>(i), a.length, role.v6, false);
    }
  }
  // Published before the replies leave, so a client holding its answer
  // also sees its request counted; what sendmmsg did follows right after.
  counters_[sock_index].publish(local_);
  send_replies(fd, out);
  if (elsewhere != 0) [[unlikely]]
    send_elsewhere(elsewhere);
  counters_[sock_index].publish(local_);
  return got;
}

void Worker::send_elsewhere(unsigned count) {
  for (unsigned k = 0; k < count; ++k) {
    mmsghdr& m = tx_msgs_[batch_ - 1 - k];
    const ssize_t n = ::sendmsg(sockets_[elsewhere_socket_[k]].get(), &m.msg_hdr, MSG_DONTWAIT);
    if (n < 0) {
      local_.drop(DropReason::sock_send_failed);
      continue;
    }
    local_.add(Counter::tx_packets);
    local_.add(Counter::tx_bytes, static_cast<uint64_t>(n));
  }
}

uint8_t* Worker::slot(unsigned i) { return data_.data() + static_cast<size_t>(i) * kSlotSize; }

// Fills tx slot `out` for the response at rx slot `i`; with `pktinfo`,
// sourced from the address the request was sent to (so a wildcard bind
// answers correctly).
void Worker::prepare_reply(unsigned out, unsigned i, uint16_t length, bool v6_socket, bool pktinfo) {
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
  cmsghdr* c_out = pktinfo ? CMSG_FIRSTHDR(&h) : nullptr;
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
void Worker::send_replies(int fd, unsigned count) {
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

}  // namespace stunbox::sock
