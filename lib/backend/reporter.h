// Where library code sends the lines a user reads: the app implements it (stdout for news, stderr for warnings).
#pragma once

#include <string_view>

namespace stunbox::backend {

// Library code never prints (a lint in tests/lint keeps it so): it hands
// lines to a Reporter, and the app alone decides where they go. Lines carry
// no "stunbox: " prefix and no trailing newline; the reporter adds both.
class Reporter {
 public:
  virtual ~Reporter() = default;
  // News while serving or starting: "listening on udp 127.0.0.1:3478 (2 SO_REUSEPORT sockets)".
  virtual void info(std::string_view line) = 0;
  // Something the operator should look at; serving goes on: "cannot pin worker 3: Invalid argument".
  virtual void warn(std::string_view line) = 0;
  // Text printed as it is (a summary block, the periodic stats, console output); may span lines.
  virtual void text(std::string_view block) = 0;
};

}  // namespace stunbox::backend
