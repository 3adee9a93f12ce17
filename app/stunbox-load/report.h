// The end-of-run report of stunbox-load: human lines, then one JSON line, and the pass/fail verdict.
#pragma once

#include <optional>
#include <string>

#include "load_runner.h"
#include "options.h"

namespace stunbox::load {

struct ServerCpu {
  int pid = 0;
  uint64_t ns = 0;  // CPU time used during the run
  const char* source = "";
};

struct Verdict {
  bool pass = false;
  std::string why;  // empty when pass
};

Verdict judge(const Options& o, const RunResult& r);

// Human-readable summary lines (each ending in '\n').
std::string human_report(const Options& o, const RunResult& r, const std::optional<ServerCpu>& cpu,
                         const Verdict& v);

// One JSON object on one line, no trailing newline.
std::string json_report(const Options& o, const RunResult& r, const std::optional<ServerCpu>& cpu,
                        const Verdict& v);

}  // namespace stunbox::load
