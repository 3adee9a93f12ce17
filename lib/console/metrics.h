// Prometheus /metrics (text exposition 0.0.4) over a View, served by libmicrohttpd on its own thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "console/health.h"
#include "console/notify.h"
#include "console/view.h"
#include "core/result.h"

struct MHD_Daemon;

namespace stunbox::console {

// The whole /metrics page: build and process info, STUN requests/responses
// and drops per (port, queue, worker), rx/tx per queue, port counters, link
// state, worker busy time and stall state, and (with `verdict`) the box's
// health and drain gauges. `health` may be null (then no worker is reported
// stalled); `verdict` may be null (then no stunbox_health/stunbox_drained).
// Reads counters only; never blocks a worker.
std::string render_metrics(const View& view, const HealthMonitor* health, const Health* verdict = nullptr);

// GET /metrics on one address, and GET /healthz (with a Health): 200 "ok"
// or 503 and the one-line reason, for load balancers and health checkers;
// every other path is 404. Runs in libmicrohttpd's internal polling thread,
// never on the data path.
class MetricsServer {
 public:
  // Binds `where` (error: "stats.metrics_listen 127.0.0.1:9478: cannot bind: Address already in use").
  // `view` and `health` must outlive the server.
  static Result<std::unique_ptr<MetricsServer>> start(const config::ListenAddress& where, const View& view,
                                                      const HealthMonitor* health, const Health* verdict = nullptr);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // "http://127.0.0.1:9478/metrics"
  const std::string& url() const { return url_; }
  // The bound TCP port (the kernel's pick when `where` said 0).
  uint16_t port() const { return port_; }

  // Used by the libmicrohttpd callback.
  const View& view() const { return view_; }
  const HealthMonitor* health() const { return health_; }
  const Health* verdict() const { return verdict_; }

 private:
  MetricsServer(const View& view, const HealthMonitor* health, const Health* verdict)
      : view_(view), health_(health), verdict_(verdict) {}

  const View& view_;
  const HealthMonitor* health_;
  const Health* verdict_;
  MHD_Daemon* daemon_ = nullptr;
  std::string url_;
  uint16_t port_ = 0;
};

// What a backend runs for operators besides the console: the health monitor,
// systemd notify and the optional /metrics server, started and stopped together.
class Operations {
 public:
  // Before the ready line: binds stats.metrics_listen if set (the error is
  // one line and the caller exits 1). `view` must outlive the returned object.
  static Result<std::unique_ptr<Operations>> start(const View& view);
  ~Operations();
  Operations(const Operations&) = delete;
  Operations& operator=(const Operations&) = delete;

  // Right after the ready line: READY=1 with `status` as STATUS=, then the
  // health monitor starts (and with it the watchdog pings).
  void ready(std::string_view status);
  // SIGHUP handling: RELOADING=1 before, READY=1 after (systemd.service(5)).
  void reloading();
  void reloaded();
  // At SIGINT/SIGTERM, before the workers are stopped: STOPPING=1; then
  // stops /metrics and the monitor (so no scrape sees a half-torn backend).
  // health() stays valid until destruction. Idempotent; the destructor calls it.
  void stopping();

  const HealthMonitor& health() const { return *health_; }
  // The box's health verdict and drain flag (/healthz, the console).
  Health& verdict() { return *verdict_; }
  const MetricsServer* metrics() const { return metrics_.get(); }

 private:
  explicit Operations(const View& view);

  const View& view_;
  Notifier notifier_;
  std::unique_ptr<HealthMonitor> health_;
  std::unique_ptr<Health> verdict_;
  std::unique_ptr<MetricsServer> metrics_;
  bool stopped_ = false;
};

}  // namespace stunbox::console
