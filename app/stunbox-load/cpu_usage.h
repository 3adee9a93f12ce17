// CPU time of another process (the server under load), read from /proc.
#pragma once

#include <cstdint>

#include "core/result.h"

namespace stunbox::load {

struct CpuSample {
  uint64_t ns = 0;
  const char* source = "";  // "schedstat" (ns resolution) or "stat" (clock ticks)
};

// Sums the run time of every thread of pid: /proc/PID/task/*/schedstat when
// readable (nanoseconds), else utime+stime of /proc/PID/stat (clock ticks,
// includes exited threads). Use the same source for before and after.
Result<CpuSample> process_cpu(int pid, const char* prefer = nullptr);

}  // namespace stunbox::load
