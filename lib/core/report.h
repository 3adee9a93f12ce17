// Text rendering of counter snapshots: the periodic stats block and the final counters.
#pragma once

#include <string>

#include "core/counters.h"

namespace stunbox {

// A multi-line block: totals, and when prev is given, rates over interval_s
// seconds; drop reasons listed only when non-zero. No escape codes.
std::string format_stats(const Snapshot& now, const Snapshot* prev, double interval_s);

}  // namespace stunbox
