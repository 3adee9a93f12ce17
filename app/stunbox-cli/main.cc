// stunbox-cli: attaches to a running stunbox's control socket; an interactive console or one command for scripts.
#include <editline/readline.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "client.h"
#include "console/grammar.h"
#include "console/protocol.h"

namespace {

using namespace stunbox;

constexpr int kExitOk = 0;
constexpr int kExitCommandError = 1;
constexpr int kExitNoDaemon = 2;  // cannot connect, connection lost, or bad usage
constexpr const char* kDefaultSocket = "/run/stunbox/stunbox.sock";
constexpr const char* kPrompt = "stunbox> ";

constexpr const char* kUsage = R"(Usage: stunbox-cli [-s SOCKET] [COMMAND...]

Attaches to a running stunbox's console over its control socket.

  -s, --socket SOCKET   the daemon's control.socket (default: $STUNBOX_SOCKET,
                        else /run/stunbox/stunbox.sock)
  -h, --help            show this help and the console commands, and exit

With a COMMAND, runs it, prints the answer and exits:
  0  the command succeeded
  1  the daemon refused the command (unknown, bad argument); the reason is on stderr
  2  no daemon: the socket cannot be reached (the path is named), or it went away

For health checkers (a BGP speaker's hook, a load balancer's probe):
  stunbox-cli health   exits 0 and prints "healthy" while the box should get
                       traffic; exits 1 with "unhealthy: REASON" on stderr when
                       a worker stalled, a link is down, it is starting or
                       stopping, or it is drained; exits 2 when no daemon answers.

Without one, an interactive "stunbox> " prompt with line editing, history
(~/.stunbox_history) and TAB completion; quit or Ctrl-D leaves (the daemon
keeps running). When stdin is not a terminal, commands are read one per line.
)";

// Completion state for readline's generator (called repeatedly per TAB).
std::vector<std::string> g_matches;

char* match_generator(const char* /*text*/, int state) {
  if (state < 0 || static_cast<size_t>(state) >= g_matches.size()) return nullptr;
  return strdup(g_matches[static_cast<size_t>(state)].c_str());
}

char** attempt_completion(const char* text, int /*start*/, int end) {
  g_matches = console::complete(std::string_view(rl_line_buffer, static_cast<size_t>(end)));
  rl_attempted_completion_over = 1;  // never fall back to file names
  if (g_matches.empty()) return nullptr;
  return rl_completion_matches(text, match_generator);
}

// Prints a reply; returns the exit code it means.
int show(const cli::Reply& r, const std::string& socket) {
  if (r.status == console::kStatusError) {
    std::fputs(r.text.c_str(), stderr);
    return kExitCommandError;
  }
  std::fputs(r.text.c_str(), stdout);
  std::fflush(stdout);
  if (r.status == 0) {
    std::fprintf(stderr, "stunbox-cli: %s: connection closed by stunbox\n", socket.c_str());
    return kExitNoDaemon;
  }
  return kExitOk;
}

int interactive(cli::Client& client, const std::string& socket) {
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  std::string history;
  if (tty) {
    rl_readline_name = "stunbox";
    rl_attempted_completion_function = attempt_completion;
    rl_completion_append_character = ' ';
    using_history();
    if (const char* home = std::getenv("HOME")) {
      history = std::string(home) + "/.stunbox_history";
      read_history(history.c_str());
    }
    std::printf("Connected to stunbox at %s. Type help for the commands, quit or Ctrl-D to leave.\n", socket.c_str());
  }
  int rc = kExitOk;
  for (;;) {
    std::string line;
    if (tty) {
      char* raw = readline(kPrompt);
      if (raw == nullptr) break;  // Ctrl-D
      line = raw;
      std::free(raw);
      if (line.find_first_not_of(" \t") != std::string::npos) add_history(line.c_str());
    } else if (!std::getline(std::cin, line)) {
      break;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const cli::Reply r = client.command(line);
    const int code = show(r, socket);
    if (code == kExitNoDaemon) {
      rc = code;
      break;
    }
    if (code == kExitCommandError && !tty) rc = code;  // scripts learn that a command failed
    if (r.status == console::kStatusQuit) break;
  }
  if (tty && !history.empty()) write_history(history.c_str());
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket;
  if (const char* env = std::getenv("STUNBOX_SOCKET"); env != nullptr && *env != '\0') socket = env;
  if (socket.empty()) socket = kDefaultSocket;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (!words.empty()) {
      words.emplace_back(a);  // everything after the first command word belongs to the command
    } else if (a == "-s" || a == "--socket") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "stunbox-cli: option '%s' needs a SOCKET argument (see --help)\n", argv[i]);
        return kExitNoDaemon;
      }
      socket = argv[++i];
    } else if (a.starts_with("--socket=")) {
      socket = std::string(a.substr(9));
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::printf("\n%s", console::help_text().c_str());
      return kExitOk;
    } else if (a.starts_with("-") && a.size() > 1) {
      std::fprintf(stderr, "stunbox-cli: unknown option '%s' (see --help)\n", argv[i]);
      return kExitNoDaemon;
    } else {
      words.emplace_back(a);
    }
  }

  cli::Client client;
  std::string error;
  if (!client.connect(socket, error)) {
    std::fprintf(stderr, "stunbox-cli: cannot connect to %s: %s (is stunbox running with control.socket there?)\n",
                 socket.c_str(), error.c_str());
    return kExitNoDaemon;
  }
  if (words.empty()) return interactive(client, socket);
  std::string line;
  for (const std::string& w : words) {
    if (!line.empty()) line += ' ';
    line += w;
  }
  return show(client.command(line), socket);
}
