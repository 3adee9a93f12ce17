// Text layouts of the console (testpmd's port block and the tables), as pure functions for tests.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "console/view.h"
#include "core/counters.h"
#include "core/source_sketch.h"

namespace stunbox::console {

struct Throughput {
  uint64_t rx_pps = 0, rx_bps = 0, tx_pps = 0, tx_bps = 0;
};

// Rates between two readings of the same port `interval_s` apart (bits per
// second from bytes). Counters that went backwards (a device reset) give 0.
Throughput throughput(const PortStats& before, const PortStats& after, double interval_s);

// testpmd's "show port stats" block for one port.
std::string format_port_block(size_t port, const PortStats& shown, const Throughput& rate);

// Field-wise a - b, clamped at 0 (a baseline newer than a device reset).
PortStats minus(const PortStats& a, const PortStats& b);
Snapshot minus(const Snapshot& a, const Snapshot& b);

// "show stun stats": requests by kind, responses, other replies, drops by
// every non-zero reason and the total.
std::string format_stun_stats(const Snapshot& s);

// "show port xstats N".
std::string format_xstats(size_t port, std::span<const XStat> xstats);

// A source prefix as "198.18.0.0/24" or "2001:2::/64".
std::string format_prefix(const SourcePrefix& p);

// "show top sources": the merged heaviest prefixes (merge_top_sources),
// with their share of `total` recorded packets and the error bound.
std::string format_top_sources(std::span<const SourceEntry> top, uint64_t total, size_t workers, size_t asked);

// Busy percentage of a time interval, 0 when total is 0.
double busy_percent(uint64_t busy, uint64_t total);

}  // namespace stunbox::console
