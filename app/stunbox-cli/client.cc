// stunbox-cli's connection to the daemon's control socket.
#include "client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "console/protocol.h"

namespace stunbox::cli {

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

bool Client::connect(const std::string& path, std::string& error) {
  sockaddr_un a{};
  if (path.size() >= sizeof a.sun_path) {
    error = "socket path too long";
    return false;
  }
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    error = std::strerror(errno);
    return false;
  }
  return true;
}

Reply Client::command(const std::string& line) {
  Reply r;
  std::string out = line + "\n";
  size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return r;
    sent += static_cast<size_t>(n);
  }
  for (;;) {
    // The end line: the marker at the start of a line, then the status and "\n".
    size_t at = buffer_.empty() || buffer_[0] != console::kEndMarker ? buffer_.find(std::string("\n") + console::kEndMarker)
                                                                      : std::string::npos;
    size_t marker = std::string::npos;
    if (!buffer_.empty() && buffer_[0] == console::kEndMarker) marker = 0;
    else if (at != std::string::npos) marker = at + 1;
    if (marker != std::string::npos && buffer_.size() >= marker + 3) {
      r.text = buffer_.substr(0, marker);
      r.status = buffer_[marker + 1];
      buffer_.erase(0, marker + 3);
      return r;
    }
    char buf[8192];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.text = buffer_;
      buffer_.clear();
      return r;  // status 0: the daemon went away mid-response
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace stunbox::cli
