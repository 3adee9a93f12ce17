// The control thread: the UNIX control socket (several clients), the --interactive terminal and the periodic stats block.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "backend/reporter.h"
#include "console/health.h"
#include "console/view.h"
#include "core/result.h"

namespace stunbox::console {

struct ControlOptions {
  std::string socket_path;   // "" = no control socket
  bool interactive = false;  // also run the console on stdin/stdout
};

// One thread, poll() over the listening socket, its clients, stdin (when
// interactive) and a wake-up pipe; it only reads published counters, so no
// client can slow the data path. `quit` on the interactive console stops
// stunbox (SIGTERM to the process, as testpmd's quit does); EOF on stdin only
// ends the interactive console. A socket client's `quit` ends its session.
class ControlServer {
 public:
  // Console output for the terminal (interactive console, periodic stats)
  // goes to `out`'s text(); `view`, `out` and what `reload` uses outlive the server.
  // `health` (may be null) answers the health and drain commands.
  ControlServer(const View& view, Reload reload, backend::Reporter& out, Health* health = nullptr)
      : view_(view), reload_(std::move(reload)), out_(out), health_(health) {}
  ~ControlServer() { stop(); }
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Creates the socket's directory (0750) if missing, replaces a stale socket
  // (one nobody answers on), binds (0660) and starts the thread. A live
  // socket of another process is an error, never taken over. On error
  // nothing runs; call start again with socket_path "" to run without it.
  Status start(const ControlOptions& options);
  // Interactive only: the console thread prints its greeting and first
  // prompt and starts reading stdin. The backend calls it after its ready
  // line, so that line never shares a line with the prompt (scripts match
  // "^stunbox: ready") and nothing typed earlier runs before it.
  void greet();
  // Stops the thread and removes the socket file (if it is still ours).
  void stop();

 private:
  void run();

  const View& view_;
  Reload reload_;
  backend::Reporter& out_;
  Health* health_;
  ControlOptions options_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // 'x': stop, 'g': greet
  std::atomic<bool> greet_{false};  // greet(): wo; console thread: ro
  unsigned long socket_ino_ = 0;
  unsigned long socket_dev_ = 0;
  std::thread thread_;
};

}  // namespace stunbox::console
