#include "core/report.h"

#include <cstdio>

namespace stunbox {

std::string format_stats(const Snapshot& now, const Snapshot* prev, double interval_s) {
  std::string out;
  char line[160];
  auto rate = [&](size_t i) -> double {
    if (prev == nullptr || interval_s <= 0) return 0.0;
    return static_cast<double>(now.v[i] - prev->v[i]) / interval_s;
  };
  for (size_t i = 0; i < kCounterCount; ++i) {
    if (prev != nullptr) {
      std::snprintf(line, sizeof line, "  %-22s %16llu  %14.1f/s\n", std::string(kCounterNames[i]).c_str(),
                    static_cast<unsigned long long>(now.v[i]), rate(i));
    } else {
      std::snprintf(line, sizeof line, "  %-22s %16llu\n", std::string(kCounterNames[i]).c_str(),
                    static_cast<unsigned long long>(now.v[i]));
    }
    out += line;
  }
  std::snprintf(line, sizeof line, "  %-22s %16llu\n", "drops", static_cast<unsigned long long>(now.total_drops()));
  out += line;
  for (size_t r = 0; r < kDropReasonCount; ++r) {
    uint64_t v = now.v[kCounterCount + r];
    if (v == 0) continue;
    std::snprintf(line, sizeof line, "    drop %-26s %12llu\n", std::string(kDropReasonNames[r]).c_str(),
                  static_cast<unsigned long long>(v));
    out += line;
  }
  return out;
}

}  // namespace stunbox
