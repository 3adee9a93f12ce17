// Console text layouts.
#include "console/format.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace stunbox::console {
namespace {

constexpr const char* kBorder = "########################";

uint64_t sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

std::string printf_line(const char* fmt, auto... args) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, fmt, args...);
  return std::string(buf, n < 0 ? 0 : std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

}  // namespace

Throughput throughput(const PortStats& before, const PortStats& after, double interval_s) {
  Throughput t;
  if (interval_s <= 0) return t;
  auto rate = [interval_s](uint64_t a, uint64_t b) {
    return static_cast<uint64_t>(static_cast<double>(sub(a, b)) / interval_s);
  };
  t.rx_pps = rate(after.rx_packets, before.rx_packets);
  t.tx_pps = rate(after.tx_packets, before.tx_packets);
  t.rx_bps = rate(after.rx_bytes, before.rx_bytes) * 8;
  t.tx_bps = rate(after.tx_bytes, before.tx_bytes) * 8;
  return t;
}

PortStats minus(const PortStats& a, const PortStats& b) {
  PortStats r;
  r.rx_packets = sub(a.rx_packets, b.rx_packets);
  r.rx_missed = sub(a.rx_missed, b.rx_missed);
  r.rx_bytes = sub(a.rx_bytes, b.rx_bytes);
  r.rx_errors = sub(a.rx_errors, b.rx_errors);
  r.rx_nombuf = sub(a.rx_nombuf, b.rx_nombuf);
  r.tx_packets = sub(a.tx_packets, b.tx_packets);
  r.tx_errors = sub(a.tx_errors, b.tx_errors);
  r.tx_bytes = sub(a.tx_bytes, b.tx_bytes);
  return r;
}

Snapshot minus(const Snapshot& a, const Snapshot& b) {
  Snapshot r;
  for (size_t i = 0; i < kSlotCount; ++i) r.v[i] = sub(a.v[i], b.v[i]);
  return r;
}

std::string format_port_block(size_t port, const PortStats& s, const Throughput& t) {
  std::string o;
  o += printf_line("\n  %s NIC statistics for port %-2zu %s\n", kBorder, port, kBorder);
  o += printf_line("  RX-packets: %-10" PRIu64 " RX-missed: %-10" PRIu64 " RX-bytes:  %" PRIu64 "\n", s.rx_packets,
                   s.rx_missed, s.rx_bytes);
  o += printf_line("  RX-errors: %" PRIu64 "\n", s.rx_errors);
  o += printf_line("  RX-nombuf:  %-10" PRIu64 "\n", s.rx_nombuf);
  o += printf_line("  TX-packets: %-10" PRIu64 " TX-errors: %-10" PRIu64 " TX-bytes:  %" PRIu64 "\n", s.tx_packets,
                   s.tx_errors, s.tx_bytes);
  o += "\n  Throughput (since last show)\n";
  o += printf_line("  Rx-pps: %12" PRIu64 "          Rx-bps: %12" PRIu64 "\n", t.rx_pps, t.rx_bps);
  o += printf_line("  Tx-pps: %12" PRIu64 "          Tx-bps: %12" PRIu64 "\n", t.tx_pps, t.tx_bps);
  o += printf_line("  %s############################%s\n", kBorder, kBorder);
  return o;
}

std::string format_stun_stats(const Snapshot& s) {
  std::string o = "  ######## STUN statistics ########\n";
  auto row = [&o](const char* label, uint64_t v) { o += printf_line("  %-28s %16" PRIu64 "\n", label, v); };
  row("requests (RFC 5389/8489):", s.get(Counter::stun_requests));
  row("requests (RFC 3489 classic):", s.get(Counter::stun_classic_requests));
  row("requests total:", s.get(Counter::stun_requests) + s.get(Counter::stun_classic_requests));
  row("success responses:", s.get(Counter::stun_success));
  row("error responses:", s.get(Counter::stun_error));
  row("ARP replies:", s.get(Counter::arp_replies));
  row("NDP adverts:", s.get(Counter::ndp_adverts));
  row("ICMP echo replies:", s.get(Counter::icmp_echo_replies));
  row("ICMPv6 echo replies:", s.get(Counter::icmp6_echo_replies));
  row("to the kernel (exception):", s.get(Counter::exception_to_kernel));
  row("from the kernel (exception):", s.get(Counter::exception_from_kernel));
  row("received:", s.get(Counter::rx_packets));
  row("sent:", s.get(Counter::tx_packets));
  row("drops total:", s.total_drops());
  for (size_t r = 0; r < kDropReasonCount; ++r) {
    const uint64_t v = s.v[kCounterCount + r];
    if (v == 0) continue;
    o += printf_line("    drop %-30s %12" PRIu64 "\n", std::string(kDropReasonNames[r]).c_str(), v);
  }
  return o;
}

std::string format_xstats(size_t port, std::span<const XStat> xstats) {
  std::string o = printf_line("  ###### NIC extended statistics for port %-2zu\n", port);
  for (const XStat& x : xstats) o += printf_line("  %s: %" PRIu64 "\n", x.name.c_str(), x.value);
  o += "  ###########################################\n";
  return o;
}

double busy_percent(uint64_t busy, uint64_t total) {
  if (total == 0) return 0.0;
  return 100.0 * static_cast<double>(busy) / static_cast<double>(total);
}

std::string format_prefix(const SourcePrefix& p) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(p.v6 ? AF_INET6 : AF_INET, p.addr.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(p.len);
}

std::string format_top_sources(std::span<const SourceEntry> top, uint64_t total, size_t workers, size_t asked) {
  std::string o = printf_line("  Top %zu source prefixes of %" PRIu64 " packets recorded (%zu worker sketch%s merged)\n",
                              asked, total, workers, workers == 1 ? "" : "es");
  o += printf_line("  %4s  %-45s %14s %8s %12s\n", "rank", "prefix", "requests", "share%", "error+-");
  size_t rank = 0;
  for (const SourceEntry& e : top) {
    const double share = total == 0 ? 0.0 : 100.0 * static_cast<double>(e.count) / static_cast<double>(total);
    o += printf_line("  %4zu  %-45s %14" PRIu64 " %7.1f%% %12" PRIu64 "\n", ++rank, format_prefix(e.prefix).c_str(),
                     e.count, share, e.error);
  }
  if (top.empty()) o += "  (nothing recorded yet)\n";
  o += "  (estimates: the true count lies within requests +- error, at about 95% confidence when sampled "
       "(stats.top_sources_sample > 1); the sketches refresh every few ms under load)\n";
  return o;
}

}  // namespace stunbox::console
