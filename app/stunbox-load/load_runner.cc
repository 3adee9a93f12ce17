#include "load_runner.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace stunbox::load {

uint64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void Stats::merge(const Stats& o) {
  sent += o.sent;
  received += o.received;
  valid += o.valid;
  late += o.late;
  lost += o.lost;
  send_errors += o.send_errors;
  recv_errors += o.recv_errors;
  for (size_t i = 0; i < kCheckCount; ++i) invalid[i] += o.invalid[i];
  if (o.first_send_ns != 0 && (first_send_ns == 0 || o.first_send_ns < first_send_ns))
    first_send_ns = o.first_send_ns;
  last_send_ns = std::max(last_send_ns, o.last_send_ns);
  last_valid_ns = std::max(last_valid_ns, o.last_valid_ns);
  latency.merge(o.latency);
}

namespace {

enum class SlotState : uint8_t { free, outstanding, answered, lost };

struct Slot {
  uint64_t sent_ns = 0;
  uint32_t seq = 0;
  SlotState state = SlotState::free;
};

// One connected UDP socket and its in-flight requests. Sequence numbers are
// sent in order, so the oldest outstanding request is always at `oldest`.
struct Flow {
  int fd = -1;
  uint32_t index = 0;  // global socket index, part of the transaction id
  Endpoint self;       // the address the server must report
  std::vector<Slot> ring;
  uint32_t mask = 0;
  uint32_t next_seq = 0;
  uint32_t oldest = 0;
  uint32_t outstanding = 0;

  uint32_t room() const { return static_cast<uint32_t>(ring.size()) - (next_seq - oldest); }
};

struct FdCloser {
  std::vector<Flow>* flows;
  ~FdCloser() {
    for (auto& f : *flows)
      if (f.fd >= 0) close(f.fd);
  }
};

Endpoint endpoint_of(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto* s = reinterpret_cast<const sockaddr_in*>(&ss);
    return {IpAddress::of(false, reinterpret_cast<const uint8_t*>(&s->sin_addr)), ntohs(s->sin_port)};
  }
  const auto* s = reinterpret_cast<const sockaddr_in6*>(&ss);
  return {IpAddress::of(true, reinterpret_cast<const uint8_t*>(&s->sin6_addr)), ntohs(s->sin6_port)};
}

uint32_t pow2_at_least(uint64_t v) {
  uint32_t p = 64;
  while (p < v && p < (1u << 16)) p <<= 1;
  return p;
}

class Worker {
 public:
  Worker(const Options& o, const Expect& expect, std::vector<Flow*> flows, uint64_t count_limit,
         double rate, uint64_t start_ns, uint64_t send_end_ns, const std::atomic<bool>* stop)
      : o_(o),
        expect_(expect),
        flows_(std::move(flows)),
        count_limit_(count_limit),
        rate_(rate),
        start_ns_(start_ns),
        send_end_ns_(send_end_ns),
        timeout_ns_(uint64_t{o.timeout_ms} * 1000000ull),
        stop_(stop) {
    const size_t b = o.batch;
    send_buf_.resize(b * kMaxRequestSize);
    recv_buf_.resize(b * kRecvSize);
    send_iov_.resize(b);
    recv_iov_.resize(b);
    send_msgs_.resize(b);
    recv_msgs_.resize(b);
    for (size_t i = 0; i < b; ++i) {
      recv_iov_[i] = {recv_buf_.data() + i * kRecvSize, kRecvSize};
      recv_msgs_[i] = {};
      recv_msgs_[i].msg_hdr.msg_iov = &recv_iov_[i];
      recv_msgs_[i].msg_hdr.msg_iovlen = 1;
      send_msgs_[i] = {};
      send_msgs_[i].msg_hdr.msg_iov = &send_iov_[i];
      send_msgs_[i].msg_hdr.msg_iovlen = 1;
    }
  }

  Status setup() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) return Error{std::string("epoll_create1: ") + std::strerror(errno)};
    for (size_t i = 0; i < flows_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, flows_[i]->fd, &ev) != 0)
        return Error{std::string("epoll_ctl: ") + std::strerror(errno)};
    }
    return Status::ok();
  }

  ~Worker() {
    if (ep_ >= 0) close(ep_);
  }

  const Stats& stats() const { return stats_; }

  void run() {
    std::vector<epoll_event> events(std::max<size_t>(flows_.size(), 1));
    bool sending = true;
    uint64_t drain_end = 0;
    size_t rr = 0;  // open loop: next flow to send on
    for (;;) {
      uint64_t now = mono_ns();
      if (sending && (stop_->load(std::memory_order_relaxed) || now >= send_end_ns_ ||
                      (count_limit_ != 0 && stats_.sent >= count_limit_))) {
        sending = false;
        drain_end = now + timeout_ns_;
      }
      uint64_t wake = sending ? now + 100000000ull : drain_end;  // re-check stop at least every 100 ms
      uint64_t outstanding = 0;
      for (Flow* f : flows_) {
        expire(*f, now, &wake);
        outstanding += f->outstanding;
      }
      if (sending) {
        if (rate_ > 0) {
          send_open_loop(now, &rr, &wake);
        } else {
          for (Flow* f : flows_) {
            if (!top_up(*f)) wake = std::min<uint64_t>(wake, now + 1000000ull);  // retry a failed send in 1 ms
          }
        }
      } else {
        if (outstanding == 0) break;
        if (now >= drain_end) {
          for (Flow* f : flows_) expire(*f, UINT64_MAX, &wake);
          break;
        }
      }
      const uint64_t wait_ns = wake > now ? wake - now : 0;
      timespec ts{static_cast<time_t>(wait_ns / 1000000000ull), static_cast<long>(wait_ns % 1000000000ull)};
      int n;
      if (have_pwait2_) {
        n = epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()), &ts, nullptr);
        if (n < 0 && errno == ENOSYS) {
          have_pwait2_ = false;  // kernel before 5.11: millisecond waits instead
          continue;
        }
      } else {
        n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()),
                       static_cast<int>(std::min<uint64_t>((wait_ns + 999999) / 1000000, 1000)));
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        ++stats_.recv_errors;
        continue;
      }
      for (int i = 0; i < n; ++i) {
        Flow& f = *flows_[events[i].data.u64];
        receive(f);
        if (sending && rate_ <= 0 && !stop_->load(std::memory_order_relaxed)) top_up(f);
      }
    }
  }

 private:
  static constexpr size_t kRecvSize = 2048;

  uint64_t remaining() const {
    if (count_limit_ == 0) return UINT64_MAX;
    return count_limit_ > stats_.sent ? count_limit_ - stats_.sent : 0;
  }

  // Declares lost every outstanding request older than the timeout; `now` of
  // UINT64_MAX expires all. Lowers *wake to the next expiry.
  void expire(Flow& f, uint64_t now, uint64_t* wake) {
    while (f.oldest != f.next_seq) {
      Slot& s = f.ring[f.oldest & f.mask];
      if (s.state == SlotState::outstanding) {
        const uint64_t due = s.sent_ns + timeout_ns_;
        if (now != UINT64_MAX && due > now) {
          *wake = std::min(*wake, due);
          return;
        }
        s.state = SlotState::lost;
        --f.outstanding;
        ++stats_.lost;
      }
      ++f.oldest;
    }
  }

  // Sends up to n requests on f in one sendmmsg; returns how many left.
  // *failed is set when the kernel refused (not merely a short batch).
  uint32_t send_batch(Flow& f, uint32_t n, bool* failed) {
    n = std::min({n, f.room(), static_cast<uint32_t>(o_.batch)});
    if (n == 0) return 0;
    const uint64_t now = mono_ns();  // per batch: a stale stamp would inflate latency
    for (uint32_t i = 0; i < n; ++i) {
      uint8_t* buf = send_buf_.data() + i * kMaxRequestSize;
      const TxId id{expect_.prefix, expect_.run_nonce, f.index, f.next_seq + i};
      send_iov_[i] = {buf, build_request(buf, id, o_.fingerprint)};
    }
    int r = sendmmsg(f.fd, send_msgs_.data(), n, MSG_DONTWAIT);
    // A connected UDP socket reports an earlier ICMP error on the next call:
    // that call sent nothing, so try once more.
    if (r < 0 && (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH))
      r = sendmmsg(f.fd, send_msgs_.data(), n, MSG_DONTWAIT);
    if (r < 0) {
      ++stats_.send_errors;
      *failed = true;
      return 0;
    }
    if (r > 0) {
      if (stats_.first_send_ns == 0) stats_.first_send_ns = now;
      stats_.last_send_ns = now;
    }
    for (int i = 0; i < r; ++i) {
      const uint32_t seq = f.next_seq++;
      Slot& s = f.ring[seq & f.mask];
      s.seq = seq;
      s.sent_ns = now;
      s.state = SlotState::outstanding;
    }
    f.outstanding += static_cast<uint32_t>(r);
    stats_.sent += static_cast<uint64_t>(r);
    if (static_cast<uint32_t>(r) < n) *failed = true;  // socket buffer full
    return static_cast<uint32_t>(r);
  }

  // Closed loop: fills f's window. Returns false if a send failed.
  bool top_up(Flow& f) {
    bool failed = false;
    while (!failed) {
      const uint64_t want = std::min<uint64_t>(o_.window - std::min(o_.window, f.outstanding), remaining());
      if (want == 0 || f.room() == 0) break;
      if (send_batch(f, static_cast<uint32_t>(want), &failed) == 0) break;
    }
    return !failed;
  }

  // Open loop: sends what the schedule says is due by now, round robin over
  // the flows, and sets *wake to when the next few are due.
  void send_open_loop(uint64_t now, size_t* rr, uint64_t* wake) {
    const double elapsed = static_cast<double>(now - start_ns_) * 1e-9;
    uint64_t due = static_cast<uint64_t>(elapsed * rate_) + 1;
    if (count_limit_ != 0) due = std::min(due, count_limit_);
    uint64_t to_send = due > stats_.sent ? due - stats_.sent : 0;
    // A generator that fell behind catches up in slices, so answers are still
    // read (and timeouts checked) in between instead of overflowing our
    // receive buffers; the report's send_rate shows any shortfall.
    uint64_t budget = std::max<uint64_t>(256, 4ull * o_.batch);
    size_t idle = 0;
    bool failed_any = false;
    while (to_send > 0 && budget > 0 && idle < flows_.size()) {
      Flow& f = *flows_[*rr];
      *rr = (*rr + 1) % flows_.size();
      bool failed = false;
      // Spread evenly: at most a batch, and no more than a fair share per flow.
      const uint64_t share = std::max<uint64_t>(1, to_send / flows_.size());
      const uint64_t n = std::min<uint64_t>({share, o_.batch, budget});
      const uint32_t got = send_batch(f, static_cast<uint32_t>(n), &failed);
      failed_any = failed_any || failed;
      to_send -= got;
      budget -= got;
      idle = got == 0 ? idle + 1 : 0;
    }
    // Wake when a small group is due: per-packet wakeups cost more than they
    // smooth at high rates (~20 us of schedule per wake, at most a batch).
    const double group = std::clamp(rate_ * 20e-6, 1.0, static_cast<double>(o_.batch));
    const double next_s = (static_cast<double>(stats_.sent) + group) / rate_;
    uint64_t next = start_ns_ + static_cast<uint64_t>(next_s * 1e9);
    if (to_send > 0 && budget == 0) next = now;  // behind schedule: only poll for answers
    else if (to_send > 0 || failed_any) next = std::min<uint64_t>(next, now + 1000000ull);  // blocked: retry soon
    *wake = std::min(*wake, std::max(next, now));
  }

  void receive(Flow& f) {
    for (int rounds = 0; rounds < 64; ++rounds) {  // bounded so one busy socket cannot starve the rest
      for (size_t i = 0; i < o_.batch; ++i) {
        recv_msgs_[i].msg_hdr.msg_flags = 0;
        recv_msgs_[i].msg_len = 0;
      }
      const int n = recvmmsg(f.fd, recv_msgs_.data(), o_.batch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNREFUSED)
          ++stats_.recv_errors;
        return;
      }
      const uint64_t now = mono_ns();
      for (int i = 0; i < n; ++i) {
        ++stats_.received;
        const auto& h = recv_msgs_[i].msg_hdr;
        const uint8_t* p = recv_buf_.data() + static_cast<size_t>(i) * kRecvSize;
        const size_t len = recv_msgs_[i].msg_len;
        Check c = (h.msg_flags & MSG_TRUNC) ? Check::truncated : Check::ok;
        if (c == Check::ok) c = validate(f, p, len, now);
        if (c != Check::ok) ++stats_.invalid[static_cast<size_t>(c)];
      }
      if (static_cast<size_t>(n) < o_.batch) return;
    }
  }

  Check validate(Flow& f, const uint8_t* p, size_t len, uint64_t now) {
    TxId id;
    Check c = check_header(p, len, expect_, &id);
    if (c != Check::ok) return c;
    if (id.socket_index != f.index) return Check::unknown_txid;
    // Never sent yet (seq at or after next_seq, modulo 2^32)?
    if (static_cast<int32_t>(id.seq - f.next_seq) >= 0) return Check::unknown_txid;
    if (f.next_seq - id.seq > f.ring.size()) {
      // Older than the ring: certainly no longer outstanding.
      ++stats_.late;
      return Check::ok;
    }
    Slot& s = f.ring[id.seq & f.mask];
    switch (s.state) {
      case SlotState::outstanding:
        break;
      case SlotState::answered:
        return Check::duplicate;
      case SlotState::lost:
        ++stats_.late;
        return Check::ok;
      case SlotState::free:
        return Check::unknown_txid;
    }
    // An answer, valid or not, settles the transaction.
    s.state = SlotState::answered;
    --f.outstanding;
    c = check_body(p, len, expect_, f.self);
    if (c != Check::ok) return c;
    ++stats_.valid;
    stats_.last_valid_ns = now;
    stats_.latency.record(now - s.sent_ns);
    return Check::ok;
  }

  const Options& o_;
  const Expect expect_;
  std::vector<Flow*> flows_;
  const uint64_t count_limit_;  // this thread's share; 0 = none
  const double rate_;           // this thread's share; 0 = closed loop
  const uint64_t start_ns_;
  const uint64_t send_end_ns_;
  const uint64_t timeout_ns_;
  const std::atomic<bool>* stop_;
  int ep_ = -1;
  bool have_pwait2_ = true;
  Stats stats_;
  std::vector<uint8_t> send_buf_, recv_buf_;
  std::vector<iovec> send_iov_, recv_iov_;
  std::vector<mmsghdr> send_msgs_, recv_msgs_;
};

Result<Endpoint> open_flow(const Options& o, size_t i, Flow* f) {
  const SockAddr& server = o.servers[i % o.servers.size()];
  const std::string where = "socket " + std::to_string(i) + " to " + format_addr(server);
  f->fd = socket(server.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (f->fd < 0) return Error{where + ": socket: " + std::strerror(errno)};
  // Big buffers so bursts of answers are not dropped on our side. Best
  // effort: the *FORCE forms need CAP_NET_ADMIN, the plain ones are capped by
  // net.core.[rw]mem_max.
  const int buf = 4 << 20;
  if (setsockopt(f->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
    setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (setsockopt(f->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
    setsockopt(f->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (!o.binds.empty()) {
    std::vector<const SockAddr*> same;
    for (const auto& b : o.binds)
      if (b.family() == server.family()) same.push_back(&b);
    const SockAddr& b = *same[(i / o.servers.size()) % same.size()];
    if (bind(f->fd, b.sa(), b.len) != 0)
      return Error{where + ": bind " + format_addr(b) + ": " + std::strerror(errno)};
  }
  // connect() picks the source address and port the server will see, and
  // makes the kernel drop datagrams from anyone else.
  if (connect(f->fd, server.sa(), server.len) != 0) return Error{where + ": connect: " + std::strerror(errno)};
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (getsockname(f->fd, reinterpret_cast<sockaddr*>(&local), &len) != 0)
    return Error{where + ": getsockname: " + std::strerror(errno)};
  return endpoint_of(local);
}

}  // namespace

Result<RunResult> run_load(const Options& o, const std::atomic<bool>* stop) {
  std::random_device rd;
  Expect expect;
  expect.classic = o.classic;
  expect.legacy = o.legacy;
  expect.run_nonce = rd();
  if (o.classic) {
    // RFC 3489 ids are 128 random bits; ours must never look like RFC 5389.
    do expect.prefix = rd();
    while (expect.prefix == kMagicCookie);
  }

  // Ring size per flow: the window, or what the rate keeps in flight per flow
  // over a timeout, with headroom; at most 2^16 slots.
  uint64_t want_slots;
  if (o.rate > 0) {
    want_slots = static_cast<uint64_t>(o.rate / o.sockets * (o.timeout_ms / 1000.0) * 1.5) + 2ull * o.batch;
  } else {
    want_slots = 2ull * o.window + o.batch;
  }
  const uint32_t slots = pow2_at_least(want_slots);

  std::vector<Flow> flows(o.sockets);
  FdCloser closer{&flows};
  for (size_t i = 0; i < flows.size(); ++i) {
    Flow& f = flows[i];
    f.index = static_cast<uint32_t>(i);
    auto self = open_flow(o, i, &f);
    if (!self) return self.error();
    f.self = *self;
    f.ring.assign(slots, Slot{});
    f.mask = slots - 1;
  }

  const uint64_t start = mono_ns();
  const double bound_s = o.duration_s > 0 ? o.duration_s : kMaxDurationS;
  const uint64_t send_end = start + static_cast<uint64_t>(bound_s * 1e9);
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned t = 0; t < o.threads; ++t) {
    std::vector<Flow*> mine;
    for (size_t i = t; i < flows.size(); i += o.threads) mine.push_back(&flows[i]);
    uint64_t count = 0;
    if (o.count != 0) {
      count = o.count / o.threads + (t < o.count % o.threads ? 1 : 0);
      if (count == 0) continue;  // more threads than requests
    }
    workers.push_back(std::make_unique<Worker>(o, expect, std::move(mine), count, o.rate / o.threads, start,
                                               send_end, stop));
    Status s = workers.back()->setup();
    if (!s) return Error{s.message()};
  }

  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  try {
    for (auto& w : workers) threads.emplace_back([&w] { w->run(); });
  } catch (const std::system_error& e) {
    // Threads already started still stop on their own bounds.
    for (auto& th : threads) th.join();
    return Error{std::string("cannot start a thread: ") + e.what()};
  }
  for (auto& th : threads) th.join();
  const uint64_t end = mono_ns();

  RunResult r;
  for (auto& w : workers) r.stats.merge(w->stats());
  const uint64_t first = r.stats.first_send_ns != 0 ? r.stats.first_send_ns : start;
  r.elapsed_s = static_cast<double>(end - first) * 1e-9;
  r.send_s = r.stats.last_send_ns > first ? static_cast<double>(r.stats.last_send_ns - first) * 1e-9 : 0;
  r.active_s = r.stats.last_valid_ns > first ? static_cast<double>(r.stats.last_valid_ns - first) * 1e-9 : 0;
  return r;
}

}  // namespace stunbox::load
