// The health verdict, from the view (links), the health monitor (stalls), the daemon's phase and the drain flag.
#include "console/health.h"

#include <vector>

namespace stunbox::console {
namespace {

const char* phase_name(Health::Phase p) {
  switch (p) {
    case Health::Phase::starting: return "starting";
    case Health::Phase::serving: return "serving";
    case Health::Phase::stopping: return "stopping";
  }
  return "?";
}

std::string worker_name(const View& view, size_t i) {
  const bool dpdk = view.mode() == "dpdk";
  return std::string(dpdk ? "lcore " : "worker ") + std::to_string(view.workers()[i].id);
}

}  // namespace

Health::Verdict Health::check() const {
  std::vector<std::string> why;
  const Phase p = phase();
  if (p != Phase::serving) why.emplace_back(phase_name(p));
  const size_t nworkers = view_.workers().size();
  for (size_t i = 0; stalls_ != nullptr && i < nworkers; ++i) {
    if (stalls_->stalled(i)) why.push_back(worker_name(view_, i) + " stalled");
  }
  for (size_t port = 0; port < view_.port_count(); ++port) {
    if (!view_.link(port).up) why.push_back("port " + std::to_string(port) + " link down");
  }
  if (drained()) why.emplace_back("drained");
  Verdict v;
  v.healthy = why.empty();
  if (v.healthy) {
    v.reason = "ok";
    return v;
  }
  for (const std::string& w : why) v.reason += (v.reason.empty() ? "" : "; ") + w;
  return v;
}

std::string Health::details() const {
  const Verdict v = check();
  std::string o = std::string("  Health: ") + (v.healthy ? "healthy" : "unhealthy: " + v.reason) + "\n";
  o += std::string("  Phase: ") + phase_name(phase()) + "\n";
  o += std::string("  Drain: ") + (drained() ? "on (STUN still answered; routes should be withdrawn)" : "off") + "\n";
  const size_t nworkers = view_.workers().size();
  size_t stalled = 0;
  for (size_t i = 0; stalls_ != nullptr && i < nworkers; ++i) stalled += stalls_->stalled(i) ? 1 : 0;
  o += "  Workers: " + std::to_string(nworkers - stalled) + " of " + std::to_string(nworkers) + " progressing (stall after " +
       std::to_string(view_.config().health.stall_ms) + " ms)\n";
  for (size_t port = 0; port < view_.port_count(); ++port) {
    o += "  Port " + std::to_string(port) + " link: " + (view_.link(port).up ? "up" : "down") + "\n";
  }
  return o;
}

}  // namespace stunbox::console
