// stunbox entry point: parse the command line, load the config, run the chosen backend, turn failures into exit codes.
#include <sys/stat.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/reference.h"
#include "core/runtime.h"
#include "daemon.h"

#ifndef STUNBOX_VERSION
#define STUNBOX_VERSION "unknown"
#endif

namespace {

using namespace stunbox;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // bad config, runtime failure
constexpr int kExitUsage = 2;    // bad command line

constexpr const char* kDefaultConfig = "config/stunbox.yaml";
constexpr const char* kInstalledConfig = "/etc/stunbox/stunbox.yaml";

constexpr const char* kHelp = R"(Usage: stunbox [OPTIONS] [-- EAL-ARGS...]

A STUN server (RFC 8489 / RFC 5389 Binding, plus RFC 3489 classic clients).

Options:
  -c, --config FILE        configuration file (YAML). Default: config/stunbox.yaml
                           in the current directory, else /etc/stunbox/stunbox.yaml.
      --set PATH=VALUE     override one config key; VALUE is parsed as YAML.
                           Repeatable, applied in order after the file is read,
                           e.g. --set socket.workers=2
                                --set 'socket.listen=["127.0.0.1:4000"]'
      --check-config FILE  validate FILE (with any --set applied), print
                           "FILE: OK" and exit 0, or print the error and exit 1.
      --drain-on-stop SECONDS
                           on SIGTERM/SIGINT, first drain (report unhealthy so
                           a BGP health hook withdraws the routes) and keep
                           answering for SECONDS (0..3600), then stop; a second
                           signal stops at once. Overrides health.drain_on_stop_s.
      --interactive        also run the console (the commands of stunbox-cli, see
                           `help`) on this terminal: a "stunbox> " prompt on
                           stdin/stdout. quit stops stunbox; EOF (Ctrl-D) only
                           closes the console and stunbox keeps serving.
  -h, --help               show this help and exit.
  -V, --version            show the version and exit.
  -- EAL-ARGS...           everything after "--" is appended to dpdk.eal
                           (DPDK EAL arguments; only valid with mode: dpdk).

Config file:
  One YAML file for the whole program (see docs/configuration.md):
)";
// Between the two: the key sketch, generated from the config schema.
constexpr const char* kHelpAfterSketch = R"(  Every error names the file, line and YAML path.

Modes:
  socket   kernel UDP sockets: one worker thread per CPU (socket.workers), each
           with its own SO_REUSEPORT socket per listen address. Works anywhere.
  dpdk     kernel-bypass data path on a DPDK NIC or vdev (dpdk section).

Signals:
  SIGINT, SIGTERM  stop, print the final counters, exit 0 (after the drain
                   period when health.drain_on_stop_s or --drain-on-stop is set).
  SIGHUP           re-read the config file (same path, same --set overrides) and
                   apply stun options and stats.period live;
                   settings that need a restart (mode, listen, workers, batch,
                   ...) are reported.

Console:
  control.socket (default /run/stunbox/stunbox.sock) serves the testpmd-style
  console: `stunbox-cli` attaches to it (interactive, or one command such as
  `stunbox-cli show port stats all`); see docs/operations.md.

Output:
  One "stunbox: ready: ..." line once serving; with stats.period N, a counter
  block with rates every N seconds; "stunbox: final counters" at exit.

Exit codes:
  0  stopped by SIGINT/SIGTERM, or --help/--version/--check-config succeeded
  1  bad config file or runtime failure (bind, EAL, ...); one line on stderr
  2  bad command line (unknown option, missing argument)

Example:
  stunbox -c config/stunbox.yaml --set socket.workers=2 --set stats.period=10
)";

struct Args {
  std::string config_path;  // empty = default search
  std::vector<std::string> overrides;
  std::string check_config;
  bool check = false;
  bool interactive = false;
  bool help = false;
  bool version = false;
  std::vector<std::string> extra_eal;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "stunbox: %s (see --help)\n", message.c_str());
  return kExitUsage;
}

// Hand-rolled so messages are exactly ours: "--opt VALUE" and "--opt=VALUE";
// short options take their value as the next argument or attached ("-cFILE").
// Returns -1 when parsing succeeded, else the exit code.
int parse_args(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      for (int j = i + 1; j < argc; ++j) args.extra_eal.emplace_back(argv[j]);
      return -1;
    }
    std::string_view name = arg;
    std::optional<std::string> inline_value;
    if (arg.starts_with("--")) {
      auto eq = arg.find('=');
      if (eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        inline_value = std::string(arg.substr(eq + 1));
      }
    } else if (arg.size() > 2 && arg[0] == '-' && (arg[1] == 'c')) {
      name = arg.substr(0, 2);
      inline_value = std::string(arg.substr(2));
    }
    auto take_value = [&](std::string& out) -> bool {
      if (inline_value) {
        out = *inline_value;
        return true;
      }
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    auto no_value = [&]() -> int {
      return inline_value ? usage_error("option '" + std::string(name) + "' takes no argument") : -1;
    };
    if (name == "-c" || name == "--config") {
      if (!take_value(args.config_path)) return usage_error("option '" + std::string(name) + "' needs a FILE argument");
    } else if (name == "--set") {
      std::string v;
      if (!take_value(v)) return usage_error("option '--set' needs a PATH=VALUE argument");
      if (v.find('=') == std::string::npos) return usage_error("--set " + v + ": expected PATH=VALUE");
      args.overrides.push_back(v);
    } else if (name == "--check-config") {
      if (!take_value(args.check_config)) return usage_error("option '--check-config' needs a FILE argument");
      args.check = true;
    } else if (name == "--drain-on-stop") {
      std::string v;
      if (!take_value(v)) return usage_error("option '--drain-on-stop' needs a SECONDS argument");
      const bool digits = !v.empty() && v.size() <= 4 && v.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || std::stoul(v) > 3600) return usage_error("--drain-on-stop " + v + ": expected seconds 0..3600");
      // A --set like any other, so a reload keeps it and `show config` shows it.
      args.overrides.push_back("health.drain_on_stop_s=" + v);
    } else if (name == "--interactive") {
      if (int rc = no_value(); rc >= 0) return rc;
      args.interactive = true;
    } else if (name == "-h" || name == "--help") {
      if (int rc = no_value(); rc >= 0) return rc;
      args.help = true;
    } else if (name == "-V" || name == "--version") {
      if (int rc = no_value(); rc >= 0) return rc;
      args.version = true;
    } else if (arg.starts_with("-") && arg.size() > 1) {
      return usage_error("unknown option '" + std::string(name) + "'");
    } else {
      return usage_error("unexpected argument '" + std::string(arg) + "'");
    }
  }
  return -1;
}

bool file_exists(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  // First, so every thread created later inherits the mask and main alone
  // receives SIGINT/SIGTERM/SIGHUP through sigtimedwait.
  block_signals();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  Args args;
  if (int rc = parse_args(argc, argv, args); rc >= 0) return rc;
  if (args.help) {
    std::fputs(kHelp, stdout);
    std::fputs(config::help_sketch("    ").c_str(), stdout);
    std::fputs(kHelpAfterSketch, stdout);
    return kExitOk;
  }
  if (args.version) {
    std::printf("stunbox %s\n", STUNBOX_VERSION);
#ifdef STUNBOX_HAVE_DPDK
    std::printf("built with DPDK support (mode: dpdk available)\n");
#else
    std::printf("built without DPDK support (mode: socket only)\n");
#endif
    return kExitOk;
  }
  if (args.check) {
    auto cfg = config::load_file(args.check_config, args.overrides);
    if (!cfg) {
      std::fprintf(stderr, "%s\n", cfg.message().c_str());
      return kExitFailure;
    }
    std::printf("%s: OK\n", args.check_config.c_str());
    return kExitOk;
  }

  std::string path = args.config_path;
  if (path.empty()) {
    if (file_exists(kDefaultConfig)) {
      path = kDefaultConfig;
    } else if (file_exists(kInstalledConfig)) {
      path = kInstalledConfig;
    } else {
      std::fprintf(stderr, "stunbox: no config file: neither %s nor %s exists (use -c FILE)\n", kDefaultConfig,
                   kInstalledConfig);
      return kExitFailure;
    }
  }
  auto cfg = config::load_file(path, args.overrides);
  if (!cfg) {
    std::fprintf(stderr, "stunbox: %s\n", cfg.message().c_str());
    return kExitFailure;
  }

  if (cfg->mode == config::Mode::socket && !args.extra_eal.empty()) {
    std::fprintf(stderr, "stunbox: EAL arguments after '--' given but mode is socket\n");
    return kExitUsage;
  }
  const Status st = app::run_daemon(*cfg, app::DaemonOptions{path, args.overrides, args.interactive, args.extra_eal});
  if (!st) {
    std::fprintf(stderr, "stunbox: %s\n", st.message().c_str());
    return kExitFailure;
  }
  return kExitOk;
}
