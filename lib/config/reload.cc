// The reload diff: which keys may change while serving, which need a restart.
#include "config/reload.h"

namespace stunbox::config {

ReloadPlan plan_reload(const Config& running, const Config& next) {
  ReloadPlan plan{running, {}, {}};
  Config& eff = plan.effective;
  // Live: the STUN options and limits the workers load once per batch, and
  // the console's stats period.
  auto live = [&](const char* key, auto Config::*section, auto member) {
    if (running.*section.*member == next.*section.*member) return;
    eff.*section.*member = next.*section.*member;
    plan.applied.emplace_back(key);
  };
  auto restart = [&](const char* key, bool same) {
    if (!same) plan.restart.emplace_back(key);
  };
  restart("mode", running.mode == next.mode);
  restart("stun.ports", running.stun.ports == next.stun.ports);
  live("stun.software", &Config::stun, &StunSection::software);
  live("stun.fingerprint", &Config::stun, &StunSection::fingerprint);
  live("stun.classic", &Config::stun, &StunSection::classic);
  restart("socket.listen", running.socket.listen == next.socket.listen);
  restart("socket.workers", running.socket.workers == next.socket.workers);
  restart("socket.batch", running.socket.batch == next.socket.batch);
  restart("socket.pin", running.socket.pin == next.socket.pin);
  restart("socket.rcvbuf", running.socket.rcvbuf == next.socket.rcvbuf);
  restart("socket.sndbuf", running.socket.sndbuf == next.socket.sndbuf);
  restart("socket.user", running.socket.user == next.socket.user);
  restart("socket.group", running.socket.group == next.socket.group);
  restart("dpdk", running.dpdk == next.dpdk);
  live("stats.period", &Config::stats, &StatsSection::period);
  restart("stats.metrics_listen", running.stats.metrics_listen == next.stats.metrics_listen);
  restart("control.socket", running.control.socket == next.control.socket);
  if (!(running.limits.rate.pps == next.limits.rate.pps)) {
    eff.limits.rate.pps = next.limits.rate.pps;
    plan.applied.emplace_back("limits.rate.pps");
  }
  if (running.limits.rate.burst != next.limits.rate.burst) {
    eff.limits.rate.burst = next.limits.rate.burst;
    plan.applied.emplace_back("limits.rate.burst");
  }
  if (running.limits.rate.ipv4_prefix != next.limits.rate.ipv4_prefix) {
    eff.limits.rate.ipv4_prefix = next.limits.rate.ipv4_prefix;
    plan.applied.emplace_back("limits.rate.ipv4_prefix");
  }
  if (running.limits.rate.ipv6_prefix != next.limits.rate.ipv6_prefix) {
    eff.limits.rate.ipv6_prefix = next.limits.rate.ipv6_prefix;
    plan.applied.emplace_back("limits.rate.ipv6_prefix");
  }
  restart("limits.rate.table_size", running.limits.rate.table_size == next.limits.rate.table_size);
  live("limits.global_pps", &Config::limits, &LimitsSection::global_pps);
  live("limits.allow", &Config::limits, &LimitsSection::allow);
  live("limits.deny", &Config::limits, &LimitsSection::deny);
  live("limits.deny_source_ports", &Config::limits, &LimitsSection::deny_source_ports);
  live("limits.l3_pps", &Config::limits, &LimitsSection::l3_pps);
  return plan;
}

}  // namespace stunbox::config
