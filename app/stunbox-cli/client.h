// stunbox-cli's side of the control socket: connect, send one command, read the response up to the end line.
#pragma once

#include <string>

namespace stunbox::cli {

struct Reply {
  std::string text;
  char status = 0;  // console::kStatusOk / kStatusError / kStatusQuit; 0 = connection lost
};

class Client {
 public:
  Client() = default;
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects to the UNIX socket at path; on failure returns false and sets error.
  bool connect(const std::string& path, std::string& error);
  // Sends one line and waits for its end line.
  Reply command(const std::string& line);

 private:
  int fd_ = -1;
  std::string buffer_;  // bytes received beyond the last end line
};

}  // namespace stunbox::cli
