// The control thread: accepts clients on the UNIX socket, runs their commands, prints the periodic stats block.
#include "console/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "console/console.h"
#include "console/protocol.h"

namespace stunbox::console {
namespace {

// Clients beyond this are told so and closed; each costs a little memory only.
constexpr size_t kMaxClients = 32;
// A client that does not read its responses is dropped once this much is queued.
constexpr size_t kMaxPendingOutput = 4 << 20;
constexpr const char* kPrompt = "stunbox> ";

std::string errno_text(int err) { return std::strerror(err); }

// mkdir -p for the socket's parent directory; new directories get 0750.
Status make_parent_dirs(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return Status::ok();
  const std::string dir = path.substr(0, slash);
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0750) != 0 && errno != EEXIST) {
      return Error{"control.socket " + path + ": cannot create directory " + part + ": " + errno_text(errno)};
    }
  }
  return Status::ok();
}

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), std::min(path.size(), sizeof a.sun_path - 1));
  return a;
}

struct Client {
  int fd = -1;
  std::string in;
  std::string out;
  bool closing = false;  // close once `out` is flushed
  bool overlong = false; // discarding the rest of an overlong line
  Session session;
};

void append_response(std::string& out, const Response& r) {
  out += r.text;
  if (!r.text.empty() && r.text.back() != '\n') out += '\n';
  out += kEndMarker;
  out += r.status == Response::Status::ok ? kStatusOk : r.status == Response::Status::error ? kStatusError : kStatusQuit;
  out += '\n';
}

}  // namespace

Status ControlServer::start(const ControlOptions& options) {
  options_ = options;
  const std::string& path = options_.socket_path;
  if (!path.empty()) {
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) return Error{"control.socket " + path + ": path too long"};
    if (Status st = make_parent_dirs(path); !st) return st;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return Error{"control.socket " + path + ": exists and is not a socket"};
      // Someone answering means a live daemon: never take its socket over.
      int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un a = unix_address(path);
      const bool live = probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      if (probe >= 0) ::close(probe);
      if (live) return Error{"control.socket " + path + ": another process is serving it"};
      ::unlink(path.c_str());  // stale, left by a crash
    }
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_fd_ < 0) return Error{"control.socket " + path + ": " + errno_text(errno)};
    sockaddr_un a = unix_address(path);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::chmod(path.c_str(), 0660) != 0 ||
        ::listen(listen_fd_, 16) != 0) {
      const int err = errno;
      ::close(listen_fd_);
      listen_fd_ = -1;
      return Error{"control.socket " + path + ": " + errno_text(err)};
    }
    if (::stat(path.c_str(), &st) == 0) {
      socket_ino_ = st.st_ino;
      socket_dev_ = st.st_dev;
    }
  }
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    const int err = errno;
    stop();
    return Error{"control thread: pipe: " + errno_text(err)};
  }
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "sbx-console");
  return Status::ok();
}

void ControlServer::greet() {
  if (!options_.interactive || !thread_.joinable()) return;
  greet_.store(true, std::memory_order_release);
  const char c = 'g';
  [[maybe_unused]] ssize_t r = ::write(wake_[1], &c, 1);
}

void ControlServer::stop() {
  if (thread_.joinable()) {
    const char c = 'x';
    [[maybe_unused]] ssize_t r = ::write(wake_[1], &c, 1);
    thread_.join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    // Remove the file only if it is still the one we bound (not a successor's).
    struct stat st {};
    if (::stat(options_.socket_path.c_str(), &st) == 0 && st.st_ino == socket_ino_ && st.st_dev == socket_dev_) {
      ::unlink(options_.socket_path.c_str());
    }
  }
  for (int& fd : wake_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

void ControlServer::run() {
  Console console(view_, reload_, health_);
  Session periodic;
  Session terminal;
  std::vector<std::unique_ptr<Client>> clients;
  bool stdin_open = options_.interactive;
  bool greeted = false;
  std::string stdin_buf;
  const bool tty = ::isatty(STDOUT_FILENO) == 1;

  unsigned period = console.stats_period();
  Clock::time_point next_print = Clock::now() + std::chrono::seconds(period);
  std::vector<pollfd> fds;
  for (;;) {
    // Periodic block (like testpmd --stats-period; screen cleared only on a terminal).
    const unsigned now_period = console.stats_period();
    if (now_period != period) {
      period = now_period;
      next_print = Clock::now() + std::chrono::seconds(period);
    }
    int timeout_ms = 1000;  // re-check the period at least every second
    if (period != 0) {
      const auto now = Clock::now();
      if (now >= next_print) {
        std::string block = console.periodic_block(periodic);
        if (tty) block = "\033[2J\033[1;1H" + block;
        out_.text(block);
        next_print = now + std::chrono::seconds(period);
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_print - Clock::now()).count();
      timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, 1000));
    }

    if (stdin_open && !greeted && greet_.load(std::memory_order_acquire)) {
      greeted = true;
      out_.text(std::string("Interactive console: type help for the commands, quit to stop stunbox, "
                               "Ctrl-D to leave it running without a console.\n") + kPrompt);
    }
    fds.clear();
    fds.push_back(pollfd{wake_[0], POLLIN, 0});
    fds.push_back(pollfd{listen_fd_, static_cast<short>(listen_fd_ >= 0 ? POLLIN : 0), 0});
    fds.push_back(pollfd{stdin_open && greeted ? STDIN_FILENO : -1, POLLIN, 0});
    for (const auto& c : clients) {
      short ev = c->closing ? 0 : POLLIN;
      if (!c->out.empty()) ev |= POLLOUT;
      fds.push_back(pollfd{c->fd, ev, 0});
    }
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[0].revents != 0) {
      char wake[16];
      const ssize_t got = ::read(wake_[0], wake, sizeof wake);
      if (got <= 0 || std::memchr(wake, 'x', static_cast<size_t>(got)) != nullptr) break;  // stop()
      continue;  // greet(): handled at the top of the loop
    }

    // Existing clients first (their indices match fds[3...]).
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& c = *clients[i];
      const short re = fds[3 + i].revents;
      bool drop = (re & (POLLERR | POLLNVAL)) != 0;
      if (!drop && (re & (POLLIN | POLLHUP)) != 0 && !c.closing) {
        char buf[4096];
        const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
          drop = true;
        } else if (got > 0) {
          c.in.append(buf, static_cast<size_t>(got));
          size_t nl;
          while (!c.closing && (nl = c.in.find('\n')) != std::string::npos) {
            std::string line = c.in.substr(0, nl);
            c.in.erase(0, nl + 1);
            if (c.overlong) {
              c.overlong = false;
              continue;
            }
            Response r = console.execute(line, c.session);
            append_response(c.out, r);
            if (r.status == Response::Status::quit) c.closing = true;
          }
          if (c.in.size() > kMaxLineLength) {
            append_response(c.out, Response{"line longer than " + std::to_string(kMaxLineLength) + " bytes: ignored\n",
                                            Response::Status::error});
            c.in.clear();
            c.overlong = true;
          }
        }
      }
      if (!drop && !c.out.empty()) {
        const ssize_t put = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (put > 0) c.out.erase(0, static_cast<size_t>(put));
        else if (put < 0 && errno != EAGAIN && errno != EINTR) drop = true;
        if (c.out.size() > kMaxPendingOutput) drop = true;
      }
      if (!drop && c.closing && c.out.empty()) drop = true;
      if (drop) {
        ::close(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(clients, [](const std::unique_ptr<Client>& c) { return c->fd < 0; });

    if (fds[1].revents & POLLIN) {
      for (;;) {
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        if (clients.size() >= kMaxClients) {
          std::string out;
          append_response(out, Response{"too many console clients (" + std::to_string(kMaxClients) + ")\n",
                                        Response::Status::quit});
          [[maybe_unused]] ssize_t r = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          ::close(fd);
          continue;
        }
        auto c = std::make_unique<Client>();
        c->fd = fd;
        clients.push_back(std::move(c));
      }
    }

    if (stdin_open && greeted && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buf[4096];
      const ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
      if (got <= 0 && !(got < 0 && (errno == EAGAIN || errno == EINTR))) {
        stdin_open = false;
        out_.text("\nstunbox: console input closed (EOF); still serving\n");
      } else if (got > 0) {
        stdin_buf.append(buf, static_cast<size_t>(got));
        size_t nl;
        while ((nl = stdin_buf.find('\n')) != std::string::npos) {
          std::string line = stdin_buf.substr(0, nl);
          stdin_buf.erase(0, nl + 1);
          Response r = console.execute(line, terminal);
          std::string text = r.text;
          if (r.status == Response::Status::quit) {
            out_.text(text);
            // As testpmd's quit: stop the whole program (main waits for SIGTERM).
            ::kill(::getpid(), SIGTERM);
            stdin_open = false;
            break;
          }
          out_.text(text + kPrompt);
        }
      }
    }
  }
  for (const auto& c : clients) ::close(c->fd);
}

}  // namespace stunbox::console
