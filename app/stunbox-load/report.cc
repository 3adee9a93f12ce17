#include "report.h"

#include <cinttypes>
#include <cstdio>

namespace stunbox::load {

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

double loss_pct(const Stats& s) {
  return s.sent == 0 ? 0.0 : 100.0 * static_cast<double>(s.lost) / static_cast<double>(s.sent);
}

double rps(const RunResult& r) {
  return r.active_s > 0 ? static_cast<double>(r.stats.valid) / r.active_s : 0.0;
}

double send_rate(const RunResult& r) {
  return r.send_s > 0 ? static_cast<double>(r.stats.sent) / r.send_s : 0.0;
}

double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

}  // namespace

Verdict judge(const Options& o, const RunResult& r) {
  const Stats& s = r.stats;
  if (s.sent == 0) return {false, "nothing was sent"};
  if (s.invalid_total() != 0) return {false, "invalid responses"};
  if (loss_pct(s) > o.max_loss_pct) return {false, "loss above --max-loss " + fmt("%g", o.max_loss_pct) + "%"};
  return {true, ""};
}

std::string human_report(const Options& o, const RunResult& r, const std::optional<ServerCpu>& cpu,
                         const Verdict& v) {
  const Stats& s = r.stats;
  std::string out;
  out += "stunbox-load: " + std::to_string(o.servers.size()) + " server(s), " + std::to_string(o.sockets) +
         " sockets, " + std::to_string(o.threads) + " thread(s), " +
         (o.rate > 0 ? "open loop " + fmt("%.0f", o.rate) + " req/s"
                     : "closed loop window " + std::to_string(o.window)) +
         (o.classic ? ", classic" : "") + (o.fingerprint ? ", fingerprint" : "") + (o.legacy ? ", legacy" : "") +
         "\n";
  out += "sent " + std::to_string(s.sent) + "  received " + std::to_string(s.received) + "  valid " +
         std::to_string(s.valid) + "  invalid " + std::to_string(s.invalid_total()) + "  late " +
         std::to_string(s.late) + "  lost " + std::to_string(s.lost) + " (" + fmt("%.3f", loss_pct(s)) + "%)\n";
  if (s.send_errors != 0 || s.recv_errors != 0)
    out += "send errors " + std::to_string(s.send_errors) + "  receive errors " + std::to_string(s.recv_errors) +
           "\n";
  out += "responses/s " + fmt("%.1f", rps(r)) + " over " + fmt("%.3f", r.active_s) + " s (run " +
         fmt("%.3f", r.elapsed_s) + " s); requests/s sent " + fmt("%.1f", send_rate(r)) + "\n";
  const auto& h = s.latency;
  out += "latency us: p50 " + fmt("%.1f", us(h.quantile(0.50))) + "  p90 " + fmt("%.1f", us(h.quantile(0.90))) +
         "  p99 " + fmt("%.1f", us(h.quantile(0.99))) + "  max " + fmt("%.1f", us(h.max())) + "\n";
  if (s.invalid_total() != 0) {
    out += "invalid:";
    for (size_t i = 1; i < kCheckCount; ++i)
      if (s.invalid[i] != 0)
        out += std::string(" ") + check_name(static_cast<Check>(i)) + " " + std::to_string(s.invalid[i]);
    out += "\n";
  }
  if (cpu) {
    out += "server cpu: pid " + std::to_string(cpu->pid) + " used " + fmt("%.3f", static_cast<double>(cpu->ns) * 1e-9) +
           " s (" + cpu->source + ")";
    if (s.valid != 0)
      out += ", " + fmt("%.0f", static_cast<double>(cpu->ns) / static_cast<double>(s.valid)) + " ns/response";
    out += "\n";
  }
  out += v.pass ? "result: PASS\n" : "result: FAIL (" + v.why + ")\n";
  return out;
}

std::string json_report(const Options& o, const RunResult& r, const std::optional<ServerCpu>& cpu,
                        const Verdict& v) {
  const Stats& s = r.stats;
  const auto& h = s.latency;
  std::string j = "{";
  auto num = [&](const char* k, uint64_t n) { j += std::string("\"") + k + "\":" + std::to_string(n) + ","; };
  auto dbl = [&](const char* k, double d, const char* f) { j += std::string("\"") + k + "\":" + fmt(f, d) + ","; };
  num("sent", s.sent);
  num("received", s.received);
  num("valid", s.valid);
  num("invalid", s.invalid_total());
  j += "\"invalid_reasons\":{";
  bool first = true;
  for (size_t i = 1; i < kCheckCount; ++i) {
    if (s.invalid[i] == 0) continue;
    j += std::string(first ? "" : ",") + "\"" + check_name(static_cast<Check>(i)) + "\":" + std::to_string(s.invalid[i]);
    first = false;
  }
  j += "},";
  num("late", s.late);
  num("lost", s.lost);
  dbl("loss_pct", loss_pct(s), "%.4f");
  num("send_errors", s.send_errors);
  num("recv_errors", s.recv_errors);
  dbl("duration_s", r.active_s, "%.6f");
  dbl("elapsed_s", r.elapsed_s, "%.6f");
  dbl("rps", rps(r), "%.1f");
  dbl("send_rate", send_rate(r), "%.1f");
  dbl("p50_us", us(h.quantile(0.50)), "%.1f");
  dbl("p90_us", us(h.quantile(0.90)), "%.1f");
  dbl("p99_us", us(h.quantile(0.99)), "%.1f");
  dbl("max_us", us(h.max()), "%.1f");
  if (cpu && s.valid != 0) {
    dbl("cpu_ns_per_resp", static_cast<double>(cpu->ns) / static_cast<double>(s.valid), "%.1f");
  } else {
    j += "\"cpu_ns_per_resp\":null,";
  }
  num("sockets", o.sockets);
  num("threads", o.threads);
  j += std::string("\"pass\":") + (v.pass ? "true" : "false") + "}";
  return j;
}

}  // namespace stunbox::load
