// sd_notify datagrams by hand, and the health monitor thread that pings the watchdog only while every worker progresses.
#include "console/notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace stunbox::console {

namespace {

bool parse_u64(const char* text, uint64_t& out) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

}  // namespace

Notifier Notifier::from_environment() {
  Notifier n;
  const char* sock = std::getenv("NOTIFY_SOCKET");
  if (sock == nullptr || *sock == '\0') return n;
  n.socket_path_ = sock;
  uint64_t usec = 0;
  if (parse_u64(std::getenv("WATCHDOG_USEC"), usec) && usec > 0) {
    uint64_t pid = 0;
    const char* pid_text = std::getenv("WATCHDOG_PID");
    // The watchdog may be meant for a parent or child process (systemd.exec(5)).
    if (pid_text == nullptr || (parse_u64(pid_text, pid) && pid == static_cast<uint64_t>(getpid()))) {
      n.watchdog_ = std::chrono::microseconds(usec);
    }
  }
  return n;
}

Status Notifier::send(std::string_view state) const {
  if (!active()) return Status::ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof addr.sun_path) return Error{"NOTIFY_SOCKET: path too long"};
  // Only absolute paths and abstract names ('@') are valid notify sockets.
  if (socket_path_[0] != '/' && socket_path_[0] != '@') return Error{"NOTIFY_SOCKET: not an absolute path or @name"};
  std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::string("NOTIFY_SOCKET: socket: ") + std::strerror(errno)};
  const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  const int err = errno;
  ::close(fd);
  if (n < 0) return Error{"NOTIFY_SOCKET " + socket_path_ + ": " + std::strerror(err)};
  return Status::ok();
}

HealthMonitor::HealthMonitor(ProgressSource source, Notifier notifier, std::chrono::milliseconds stall_after)
    : source_(std::move(source)), notifier_(std::move(notifier)), stall_after_(stall_after) {
  count_ = source_.count ? source_.count() : 0;
  stalled_ = std::make_unique<std::atomic<bool>[]>(count_);
  last_progress_.assign(count_, 0);
  last_change_.assign(count_, std::chrono::steady_clock::now());
  for (size_t i = 0; i < count_; ++i) {
    stalled_[i].store(false, std::memory_order_relaxed);
    last_progress_[i] = source_.progress(i);
  }
}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void HealthMonitor::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool HealthMonitor::stalled(size_t worker) const {
  return worker < count_ && stalled_[worker].load(std::memory_order_relaxed);
}

bool HealthMonitor::all_healthy() const {
  for (size_t i = 0; i < count_; ++i) {
    if (stalled_[i].load(std::memory_order_relaxed)) return false;
  }
  return true;
}

void HealthMonitor::sample(std::chrono::steady_clock::time_point now) {
  for (size_t i = 0; i < count_; ++i) {
    const uint64_t p = source_.progress(i);
    if (p != last_progress_[i]) {
      last_progress_[i] = p;
      last_change_[i] = now;
    }
    stalled_[i].store(now - last_change_[i] >= stall_after_, std::memory_order_relaxed);
  }
}

void HealthMonitor::loop() {
  using Clock = std::chrono::steady_clock;
  // systemd's advice (sd_watchdog_enabled(3)): ping at half the timeout.
  const auto ping_every = std::chrono::duration_cast<Clock::duration>(notifier_.watchdog_usec() / 2);
  const bool watchdog = notifier_.active() && ping_every.count() > 0;
  // Sample often enough to notice a stall well within one watchdog period.
  Clock::duration tick = std::chrono::milliseconds(100);
  if (watchdog && ping_every < tick) tick = ping_every;
  Clock::time_point next_ping = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    const Clock::time_point now = Clock::now();
    sample(now);
    if (watchdog && now >= next_ping) {
      if (all_healthy()) {
        // A failed send cannot be reported anywhere useful; systemd acts on the silence.
        if (notifier_.watchdog()) pings_.fetch_add(1, std::memory_order_relaxed);
      }
      next_ping = now + ping_every;
    }
    lock.lock();
    cv_.wait_for(lock, tick, [this] { return stop_; });
  }
}

}  // namespace stunbox::console
