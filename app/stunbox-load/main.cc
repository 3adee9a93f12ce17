// stunbox-load: STUN Binding load generator and response validator (see docs/load-generator.md).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <optional>

#include "cpu_usage.h"
#include "load_runner.h"
#include "options.h"
#include "report.h"

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

}  // namespace

int main(int argc, char** argv) {
  using namespace stunbox::load;
  auto opts = parse_options(argc, argv);
  if (!opts) {
    std::fprintf(stderr, "stunbox-load: %s\n", opts.message().c_str());
    return 2;
  }
  const Options& o = *opts;
  if (o.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }

  // Ctrl-C / SIGTERM end the sending phase early; the report still follows.
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::optional<CpuSample> cpu_before;
  if (o.server_pid != 0) {
    auto c = process_cpu(o.server_pid);
    if (!c) {
      std::fprintf(stderr, "stunbox-load: %s\n", c.message().c_str());
      return 2;
    }
    cpu_before = *c;
  }

  auto run = run_load(o, &g_stop);
  if (!run) {
    std::fprintf(stderr, "stunbox-load: %s\n", run.message().c_str());
    return 1;
  }

  std::optional<ServerCpu> cpu;
  if (cpu_before) {
    auto after = process_cpu(o.server_pid, cpu_before->source);
    if (after) {
      cpu = ServerCpu{o.server_pid, after->ns >= cpu_before->ns ? after->ns - cpu_before->ns : 0,
                      cpu_before->source};
    } else {
      std::fprintf(stderr, "stunbox-load: server process %d is gone; no CPU figure\n", o.server_pid);
    }
  }

  const Verdict v = judge(o, *run);
  if (!o.quiet) std::fputs(human_report(o, *run, cpu, v).c_str(), stdout);
  std::printf("%s\n", json_report(o, *run, cpu, v).c_str());
  std::fflush(stdout);
  return v.pass ? 0 : 1;
}
