// The console's commands: each reads the view (published counters only) and renders text.
#include "console/console.h"

#include <cinttypes>
#include <cstdio>

#include "config/config.h"
#include "console/format.h"
#include "core/report.h"

namespace stunbox::console {
namespace {

std::string fmt(const char* f, auto... args) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, f, args...);
  if (n < 0) return {};
  return std::string(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

Snapshot worker_totals(const View& view, unsigned worker) {
  Snapshot s;
  for (const QueueView& q : view.queues())
    if (q.worker == worker) s.add(*q.counters);
  return s;
}

}  // namespace

Console::Console(const View& view, Reload reload, Health* health)
    : view_(view), reload_(std::move(reload)), health_(health), port_baseline_(view.port_count()) {
  sync_config_period();
  periodic_prev_ = view_.totals();
  periodic_prev_time_ = Clock::now();
}

void Console::sync_config_period() {
  const config::Config* now = &view_.config();
  if (now == period_source_) return;
  if (period_source_ == nullptr || now->stats.period != period_source_->stats.period) period_ = now->stats.period;
  period_source_ = now;
}

unsigned Console::stats_period() const {
  const config::Config* now = &view_.config();
  if (now != period_source_ && period_source_ != nullptr && now->stats.period != period_source_->stats.period) {
    return now->stats.period;
  }
  return period_;
}

Response Console::execute(std::string_view line, Session& session) {
  ParseResult p = parse_command(line);
  if (!p.error.empty()) return Response{p.error + "\n", Response::Status::error};
  if (!p.command) return Response{};
  return execute(*p.command, session);
}

Response Console::execute(const Command& c, Session& session) {
  sync_config_period();
  const size_t nports = view_.port_count();
  auto port_arg = [&](size_t& out) -> std::string {
    if (c.number >= nports) {
      return nports == 0 ? "no port " + std::to_string(c.number) + " (no ports)"
                         : "no port " + std::to_string(c.number) + " (ports: 0.." + std::to_string(nports - 1) + ")";
    }
    out = static_cast<size_t>(c.number);
    return {};
  };
  Response r;
  size_t port = 0;
  switch (c.id) {
    case CommandId::help:
      r.text = help_text();
      break;
    case CommandId::show_port_stats:
      if (c.all) {
        for (size_t p = 0; p < nports; ++p) r.text += port_stats(p, session);
      } else if (std::string e = port_arg(port); !e.empty()) {
        return Response{e + "\n", Response::Status::error};
      } else {
        r.text = port_stats(port, session);
      }
      break;
    case CommandId::show_port_xstats: {
      if (std::string e = port_arg(port); !e.empty()) return Response{e + "\n", Response::Status::error};
      const std::vector<XStat> xs = view_.xstats(port);
      r.text = format_xstats(port, xs);
      break;
    }
    case CommandId::show_port_info:
      if (std::string e = port_arg(port); !e.empty()) return Response{e + "\n", Response::Status::error};
      r.text = port_info(port);
      break;
    case CommandId::show_queue_stats:
      r.text = queue_stats();
      break;
    case CommandId::show_lcore_stats:
      r.text = lcore_stats(session);
      break;
    case CommandId::show_stun_stats:
      r.text = format_stun_stats(minus(view_.totals(), stun_baseline_));
      break;
    case CommandId::show_top_sources: {
      const std::vector<SourceSketchSnapshot> sketches = view_.source_sketches();
      if (sketches.empty()) {
        r.text = "source prefixes are not recorded by this backend\n";
        break;
      }
      uint64_t total = 0;
      const std::vector<SourceEntry> top = merge_top_sources(sketches, static_cast<size_t>(c.number), total);
      r.text = format_top_sources(top, total, sketches.size(), static_cast<size_t>(c.number));
      break;
    }
    case CommandId::show_config:
      r.text = config::to_yaml(view_.config());
      break;
    case CommandId::show_health:
    case CommandId::health:
    case CommandId::drain: {
      if (health_ == nullptr) return Response{"health is not tracked by this server\n", Response::Status::error};
      if (c.id == CommandId::show_health) {
        r.text = health_->details();
        break;
      }
      if (c.id == CommandId::drain) {
        const bool on = c.number != 0;
        const bool was = health_->set_drained(on);
        r.text = on ? (was ? "drain was already on\n"
                           : "drain on: reporting unhealthy (drained) so routes are withdrawn; STUN still answered\n")
                    : (was ? "drain off: healthy again when every other check passes\n" : "drain was already off\n");
        break;
      }
      const Health::Verdict v = health_->check();
      if (!v.healthy) return Response{"unhealthy: " + v.reason + "\n", Response::Status::error};
      r.text = "healthy\n";
      break;
    }
    case CommandId::clear_port_stats:
      if (c.all) {
        for (size_t p = 0; p < nports; ++p) port_baseline_[p] = view_.port_stats(p);
        r.text = "port statistics cleared for all ports\n";
      } else if (std::string e = port_arg(port); !e.empty()) {
        return Response{e + "\n", Response::Status::error};
      } else {
        port_baseline_[port] = view_.port_stats(port);
        r.text = "port statistics cleared for port " + std::to_string(port) + "\n";
      }
      break;
    case CommandId::clear_stun_stats:
      stun_baseline_ = view_.totals();
      r.text = "STUN statistics cleared (shown by this console from now; the counters themselves keep counting)\n";
      break;
    case CommandId::set_stats_period:
      period_ = static_cast<unsigned>(c.number);
      r.text = period_ == 0 ? std::string("periodic stats off\n")
                            : "periodic stats every " + std::to_string(period_) + " s on stdout\n";
      periodic_prev_ = view_.totals();
      periodic_prev_time_ = Clock::now();
      break;
    case CommandId::reload:
      r.text = reload_() + "\n";
      sync_config_period();
      break;
    case CommandId::quit:
      r.text = "bye\n";
      r.status = Response::Status::quit;
      break;
  }
  return r;
}

std::string Console::port_stats(size_t port, Session& session) {
  const size_t nports = view_.port_count();
  if (session.last_ports.size() != nports) {
    session.last_ports.assign(nports, PortStats{});
    session.last_port_time.assign(nports, Clock::time_point{});
  }
  const Clock::time_point now = Clock::now();
  const PortStats raw = view_.port_stats(port);
  Throughput t;
  if (session.last_port_time[port] != Clock::time_point{}) {
    t = throughput(session.last_ports[port], raw,
                   std::chrono::duration<double>(now - session.last_port_time[port]).count());
  }
  session.last_ports[port] = raw;
  session.last_port_time[port] = now;
  std::string o = format_port_block(port, minus(raw, port_baseline_[port]), t);
  return o;
}

std::string Console::lcore_stats(Session& session) {
  const auto workers = view_.workers();
  const bool dpdk = view_.mode() == "dpdk";
  if (session.last_usage.size() != workers.size()) session.last_usage.assign(workers.size(), WorkerUsage{});
  std::string o = fmt("  %-7s %-16s %14s %14s %12s %8s %8s %12s\n", dpdk ? "lcore" : "worker", "port:queues",
                      "packets", "responses", "drops", "busy%", "busy%all", "loops");
  for (size_t i = 0; i < workers.size(); ++i) {
    const WorkerUsage u = view_.usage(i);
    const WorkerUsage& last = session.last_usage[i];
    const Snapshot s = worker_totals(view_, workers[i].id);
    const double recent = busy_percent(u.busy_ns - last.busy_ns, u.total_ns - last.total_ns);
    const double all = busy_percent(u.busy_ns, u.total_ns);
    o += fmt("  %-7u %-16s %14" PRIu64 " %14" PRIu64 " %12" PRIu64 " %7.1f%% %7.1f%% %12" PRIu64 "\n", workers[i].id,
             workers[i].queues.c_str(), s.get(Counter::rx_packets), s.get(Counter::tx_packets), s.total_drops(),
             recent, all, u.progress);
    session.last_usage[i] = u;
  }
  o += "  (packets received; responses = replies sent; busy% since your last show, busy%all since start;\n"
       "   loops = poll loops (dpdk) or wakeups (socket): it stops moving when the worker stalls)\n";
  return o;
}

std::string Console::queue_stats() {
  const bool dpdk = view_.mode() == "dpdk";
  std::string o = fmt("  %-5s %-6s %-7s %14s %14s %14s %14s %12s\n", "port", dpdk ? "queue" : "worker",
                      dpdk ? "lcore" : "thread", "rx-packets", "tx-packets", "stun-req", "stun-resp", "drops");
  for (const QueueView& q : view_.queues()) {
    Snapshot s;
    s.add(*q.counters);
    o += fmt("  %-5u %-6u %-7u %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %12" PRIu64 "\n", q.port, q.queue,
             q.worker, s.get(Counter::rx_packets), s.get(Counter::tx_packets),
             s.get(Counter::stun_requests) + s.get(Counter::stun_classic_requests),
             s.get(Counter::stun_success) + s.get(Counter::stun_error), s.total_drops());
  }
  return o;
}

std::string Console::port_info(size_t port) {
  const LinkState l = view_.link(port);
  std::string o = fmt("\n  ********************* Infos for port %-2zu *********************\n", port);
  o += "  Name: " + view_.port_name(port) + "\n";
  o += "  Link status: " + std::string(l.up ? "up" : "down") + "\n";
  if (l.speed_mbps != 0) {
    o += "  Link speed: " + std::to_string(l.speed_mbps) + " Mbps\n";
    o += "  Link duplex: " + std::string(l.full_duplex ? "full-duplex" : "half-duplex") + "\n";
  }
  std::string info = view_.port_info(port);
  size_t start = 0;
  while (start < info.size()) {
    size_t end = info.find('\n', start);
    if (end == std::string::npos) end = info.size();
    o += "  " + info.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return o;
}

std::string Console::periodic_block(Session& session) {
  sync_config_period();
  const Clock::time_point now = Clock::now();
  const Snapshot s = view_.totals();
  const double dt = std::chrono::duration<double>(now - periodic_prev_time_).count();
  std::string o = "stunbox: stats (" + std::string(view_.mode()) + " mode, " + std::to_string(view_.workers().size()) +
                  (view_.mode() == "dpdk" ? " lcores)\n" : " workers)\n");
  for (size_t p = 0; p < view_.port_count(); ++p) o += port_stats(p, session);
  o += format_stats(s, &periodic_prev_, dt);
  periodic_prev_ = s;
  periodic_prev_time_ = now;
  return o;
}

}  // namespace stunbox::console
