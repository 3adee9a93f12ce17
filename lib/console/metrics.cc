// Prometheus text exposition of the backend view, served by libmicrohttpd (no HTTP parsing of our own).
#include "console/metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/counters.h"
#include "core/drop_reason.h"

#ifndef STUNBOX_VERSION
#define STUNBOX_VERSION "unknown"
#endif

namespace stunbox::console {

namespace {

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Label values may hold any text; the exposition format escapes \, " and newline.
std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// Writes one metric family at a time: HELP and TYPE once, then its samples
// (the format requires a family's samples to be contiguous).
class Page {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // `labels` already rendered: `port="0",queue="1"` (may be empty).
  void sample(std::string_view name, std::string_view labels, uint64_t value) {
    char num[24];
    std::snprintf(num, sizeof num, "%" PRIu64, value);
    line(name, labels, num);
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    char num[32];
    std::snprintf(num, sizeof num, "%.15g", value);
    line(name, labels, num);
  }
  std::string take() { return std::move(out_); }

 private:
  void line(std::string_view name, std::string_view labels, const char* value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  std::string out_;
};

std::string label(std::string_view key, std::string_view value) {
  return std::string(key) + "=\"" + escape_label(value) + "\"";
}

std::string queue_labels(const QueueView& q) {
  return label("port", std::to_string(q.port)) + "," + label("queue", std::to_string(q.queue)) + "," +
         label("worker", std::to_string(q.worker));
}

// Seconds since the epoch when this process started, taken during static
// initialisation (before main). /proc/self/stat's starttime plus btime was
// tried first: on VMs it disagrees with the wall clock by seconds.
const double kProcessStartTime =
    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

// Resident set size in bytes: /proc/self/statm field 2 (pages). 0 if unreadable.
uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  unsigned long long size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  const long page = sysconf(_SC_PAGESIZE);
  return resident * static_cast<uint64_t>(page > 0 ? page : 4096);
}

MHD_Result send_text(MHD_Connection* conn, unsigned status, const std::string& body, const char* type) {
  MHD_Response* resp =
      MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (resp == nullptr) return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  const MHD_Result r = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return r;
}

MHD_Result handle(void* cls, MHD_Connection* conn, const char* url, const char* method, const char*,
                  const char*, size_t* upload_size, void**) {
  const auto* server = static_cast<const MetricsServer*>(cls);
  // A scrape has no body; refuse anything else rather than buffer it.
  if (*upload_size != 0) return MHD_NO;
  const bool get = std::strcmp(method, MHD_HTTP_METHOD_GET) == 0;
  const bool head = std::strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
  const bool healthz = server->verdict() != nullptr && std::strcmp(url, "/healthz") == 0;
  if (!healthz && std::strcmp(url, "/metrics") != 0) {
    return send_text(conn, MHD_HTTP_NOT_FOUND, "not found\n", "text/plain");
  }
  if (!get && !head) return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n", "text/plain");
  if (healthz) {
    const Health::Verdict v = server->verdict()->check();
    return send_text(conn, v.healthy ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, v.reason + "\n",
                     "text/plain; charset=utf-8");
  }
  return send_text(conn, MHD_HTTP_OK, render_metrics(server->view(), server->health(), server->verdict()),
                   kContentType);
}

}  // namespace

std::string render_metrics(const View& view, const HealthMonitor* health, const Health* verdict) {
  Page p;
  const std::span<const QueueView> queues = view.queues();

  p.family("stunbox_build_info", "gauge", "Always 1; labels carry the version and the backend mode");
  p.sample("stunbox_build_info", label("version", STUNBOX_VERSION) + "," + label("mode", view.mode()), uint64_t{1});
  p.family("stunbox_process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds");
  p.sample("stunbox_process_start_time_seconds", "", kProcessStartTime);
  p.family("stunbox_process_resident_memory_bytes", "gauge", "Resident memory size in bytes (/proc/self/statm)");
  p.sample("stunbox_process_resident_memory_bytes", "", resident_bytes());

  // Per-queue counters, read once so every family of one scrape agrees.
  std::vector<Snapshot> snaps(queues.size());
  std::vector<std::string> labels(queues.size());
  for (size_t i = 0; i < queues.size(); ++i) {
    snaps[i].add(*queues[i].counters);
    labels[i] = queue_labels(queues[i]);
  }

  p.family("stunbox_stun_requests_total", "counter",
           "STUN Binding requests received, by kind (rfc5389: magic cookie; classic: RFC 3489)");
  for (size_t i = 0; i < queues.size(); ++i) {
    p.sample("stunbox_stun_requests_total", "kind=\"rfc5389\"," + labels[i], snaps[i].get(Counter::stun_requests));
    p.sample("stunbox_stun_requests_total", "kind=\"classic\"," + labels[i],
             snaps[i].get(Counter::stun_classic_requests));
  }
  p.family("stunbox_stun_responses_total", "counter",
           "STUN Binding responses built, by result (success; error: 420 Unknown Attribute, 400 Bad Request)");
  for (size_t i = 0; i < queues.size(); ++i) {
    p.sample("stunbox_stun_responses_total", "result=\"success\"," + labels[i], snaps[i].get(Counter::stun_success));
    p.sample("stunbox_stun_responses_total", "result=\"error\"," + labels[i], snaps[i].get(Counter::stun_error));
  }
  p.family("stunbox_stun_rfc5780_total", "counter",
           "RFC 5780 requests honoured, by kind (change_ip, change_port, change_ip_port: CHANGE-REQUEST; "
           "response_port: RESPONSE-PORT)");
  for (size_t i = 0; i < queues.size(); ++i) {
    p.sample("stunbox_stun_rfc5780_total", "kind=\"change_ip\"," + labels[i], snaps[i].get(Counter::stun_change_ip));
    p.sample("stunbox_stun_rfc5780_total", "kind=\"change_port\"," + labels[i],
             snaps[i].get(Counter::stun_change_port));
    p.sample("stunbox_stun_rfc5780_total", "kind=\"change_ip_port\"," + labels[i],
             snaps[i].get(Counter::stun_change_ip_port));
    p.sample("stunbox_stun_rfc5780_total", "kind=\"response_port\"," + labels[i],
             snaps[i].get(Counter::stun_response_port));
  }
  p.family("stunbox_drops_total", "counter", "Packets dropped, by named reason (docs/operations.md lists them)");
  for (size_t i = 0; i < queues.size(); ++i) {
    for (size_t r = 0; r < kDropReasonCount; ++r) {
      p.sample("stunbox_drops_total", label("reason", kDropReasonNames[r]) + "," + labels[i],
               snaps[i].get(static_cast<DropReason>(r)));
    }
  }
  struct Plain {
    const char* metric;
    Counter counter;
    const char* help;
  };
  static constexpr Plain kPlain[] = {
      {"stunbox_rx_packets_total", Counter::rx_packets, "Packets (datagrams in socket mode) received"},
      {"stunbox_rx_bytes_total", Counter::rx_bytes, "Bytes received (L2 frame in dpdk mode, UDP payload in socket mode)"},
      {"stunbox_tx_packets_total", Counter::tx_packets, "Packets (datagrams in socket mode) sent"},
      {"stunbox_tx_bytes_total", Counter::tx_bytes, "Bytes sent"},
  };
  for (const Plain& m : kPlain) {
    p.family(m.metric, "counter", m.help);
    for (size_t i = 0; i < queues.size(); ++i) p.sample(m.metric, labels[i], snaps[i].get(m.counter));
  }
  p.family("stunbox_l3_replies_total", "counter",
           "ARP, neighbor advertisement and ICMP/ICMPv6 echo replies built (dpdk mode)");
  for (size_t i = 0; i < queues.size(); ++i) {
    p.sample("stunbox_l3_replies_total", "kind=\"arp\"," + labels[i], snaps[i].get(Counter::arp_replies));
    p.sample("stunbox_l3_replies_total", "kind=\"ndp\"," + labels[i], snaps[i].get(Counter::ndp_adverts));
    p.sample("stunbox_l3_replies_total", "kind=\"icmp_echo\"," + labels[i], snaps[i].get(Counter::icmp_echo_replies));
    p.sample("stunbox_l3_replies_total", "kind=\"icmp6_echo\"," + labels[i],
             snaps[i].get(Counter::icmp6_echo_replies));
  }

  p.family("stunbox_exception_packets_total", "counter",
           "Frames through a port's exception path (dpdk), by direction: to_kernel (for the box, not answered by "
           "the data path, queued for the kernel), from_kernel (the kernel's frames sent out of the port)");
  for (size_t i = 0; i < queues.size(); ++i) {
    p.sample("stunbox_exception_packets_total", "direction=\"to_kernel\"," + labels[i],
             snaps[i].get(Counter::exception_to_kernel));
    p.sample("stunbox_exception_packets_total", "direction=\"from_kernel\"," + labels[i],
             snaps[i].get(Counter::exception_from_kernel));
  }

  // Ports: ethdev counters in dpdk mode, listen sockets in socket mode.
  const size_t nports = view.port_count();
  std::vector<PortStats> ps(nports);
  std::vector<LinkState> links(nports);
  std::vector<std::string> plabels(nports);
  for (size_t i = 0; i < nports; ++i) {
    ps[i] = view.port_stats(i);
    links[i] = view.link(i);
    plabels[i] = label("port", std::to_string(i));
  }
  p.family("stunbox_port_info", "gauge", "Always 1; maps the port index to its device or listen address");
  for (size_t i = 0; i < nports; ++i) {
    p.sample("stunbox_port_info", plabels[i] + "," + label("name", view.port_name(i)), uint64_t{1});
  }
  struct PortMetric {
    const char* metric;
    uint64_t PortStats::*field;
    const char* help;
  };
  static constexpr PortMetric kPort[] = {
      {"stunbox_port_rx_packets_total", &PortStats::rx_packets, "Packets received by the port"},
      {"stunbox_port_rx_bytes_total", &PortStats::rx_bytes, "Bytes received by the port"},
      {"stunbox_port_rx_missed_total", &PortStats::rx_missed,
       "Packets the NIC dropped because no RX descriptor was free (workers too slow)"},
      {"stunbox_port_rx_errors_total", &PortStats::rx_errors, "Erroneous packets received"},
      {"stunbox_port_rx_nombuf_total", &PortStats::rx_nombuf, "RX mbuf allocation failures (mempool empty)"},
      {"stunbox_port_tx_packets_total", &PortStats::tx_packets, "Packets sent by the port"},
      {"stunbox_port_tx_bytes_total", &PortStats::tx_bytes, "Bytes sent by the port"},
      {"stunbox_port_tx_errors_total", &PortStats::tx_errors, "Packets the port failed to send"},
  };
  for (const PortMetric& m : kPort) {
    p.family(m.metric, "counter", m.help);
    for (size_t i = 0; i < nports; ++i) p.sample(m.metric, plabels[i], ps[i].*m.field);
  }
  p.family("stunbox_link_up", "gauge", "1 when the port's link is up (always 1 for a bound socket)");
  for (size_t i = 0; i < nports; ++i) p.sample("stunbox_link_up", plabels[i], uint64_t{links[i].up ? 1u : 0u});
  p.family("stunbox_link_speed_mbps", "gauge", "Link speed in Mbit/s; 0 when unknown or not applicable");
  for (size_t i = 0; i < nports; ++i) p.sample("stunbox_link_speed_mbps", plabels[i], uint64_t{links[i].speed_mbps});
  p.family("stunbox_link_changes_total", "counter",
           "Link up/down transitions seen since start (dpdk: checked every 250 ms; socket mode: 0)");
  for (size_t i = 0; i < nports; ++i) p.sample("stunbox_link_changes_total", plabels[i], links[i].changes);

  // The device's own drop/error counters (dpdk; an allow-list per driver, or all with stats.port_xstats all).
  bool xstat_family = false;
  for (size_t i = 0; i < nports; ++i) {
    for (const XStat& x : view.metric_xstats(i)) {
      if (!xstat_family) {
        // "untyped": the name the operators asked for has no _total, and the values are the
        // driver's own (counters for every name exported by default).
        p.family("stunbox_port_xstat", "untyped",
                 "The device's extended statistics by driver name (drop and error counters; see docs/deployment.md)");
        xstat_family = true;
      }
      p.sample("stunbox_port_xstat", plabels[i] + "," + label("name", x.name), x.value);
    }
  }

  // DPDK mbuf pools (none in socket mode): a leak shows as in_use creeping up at a steady load.
  const std::vector<MempoolView> pools = view.mempools();
  if (!pools.empty()) {
    p.family("stunbox_mempool_mbufs", "gauge", "mbufs in the pool");
    for (const MempoolView& m : pools) p.sample("stunbox_mempool_mbufs", label("pool", m.name), uint64_t{m.size});
    p.family("stunbox_mempool_in_use", "gauge",
             "mbufs out of the pool (RX/TX descriptors, bursts in flight; per-lcore caches count as free)");
    for (const MempoolView& m : pools) p.sample("stunbox_mempool_in_use", label("pool", m.name), uint64_t{m.in_use});
  }

  // Workers (DPDK lcores or socket worker threads).
  const std::span<const WorkerInfo> workers = view.workers();
  std::vector<WorkerUsage> usage(workers.size());
  std::vector<std::string> wlabels(workers.size());
  for (size_t i = 0; i < workers.size(); ++i) {
    usage[i] = view.usage(i);
    wlabels[i] = label("worker", std::to_string(workers[i].id));
  }
  p.family("stunbox_worker_info", "gauge", "Always 1; the port:queue pairs each worker (lcore id in dpdk mode) serves");
  for (size_t i = 0; i < workers.size(); ++i) {
    p.sample("stunbox_worker_info", wlabels[i] + "," + label("queues", workers[i].queues), uint64_t{1});
  }
  p.family("stunbox_worker_busy_seconds_total", "counter", "Time the worker spent on polls or wakeups that carried packets");
  for (size_t i = 0; i < workers.size(); ++i) {
    p.sample("stunbox_worker_busy_seconds_total", wlabels[i], static_cast<double>(usage[i].busy_ns) / 1e9);
  }
  p.family("stunbox_worker_seconds_total", "counter", "Time the worker spent in its loop (busy plus idle)");
  for (size_t i = 0; i < workers.size(); ++i) {
    p.sample("stunbox_worker_seconds_total", wlabels[i], static_cast<double>(usage[i].total_ns) / 1e9);
  }
  p.family("stunbox_worker_busy_ratio", "gauge",
           "Busy share of the worker's loop time since start (use rate() of the two counters for recent load)");
  for (size_t i = 0; i < workers.size(); ++i) {
    const double ratio =
        usage[i].total_ns == 0 ? 0.0 : static_cast<double>(usage[i].busy_ns) / static_cast<double>(usage[i].total_ns);
    p.sample("stunbox_worker_busy_ratio", wlabels[i], ratio);
  }
  p.family("stunbox_worker_progress_total", "counter", "Loop iterations (wakeups in socket mode) of the worker");
  for (size_t i = 0; i < workers.size(); ++i) p.sample("stunbox_worker_progress_total", wlabels[i], usage[i].progress);
  p.family("stunbox_worker_stalled", "gauge",
           "1 when the worker's progress counter has not moved for a second (systemd watchdog pings stop)");
  for (size_t i = 0; i < workers.size(); ++i) {
    const bool stalled = health != nullptr && health->stalled(i);
    p.sample("stunbox_worker_stalled", wlabels[i], uint64_t{stalled ? 1u : 0u});
  }
  if (health != nullptr) {
    p.family("stunbox_watchdog_pings_total", "counter", "WATCHDOG=1 notifications sent to systemd");
    p.sample("stunbox_watchdog_pings_total", "", health->watchdog_pings());
  }
  if (verdict != nullptr) {
    p.family("stunbox_health", "gauge",
             "1 when the box should get traffic: serving, no worker stalled, every link up, not drained (/healthz)");
    p.sample("stunbox_health", "", uint64_t{verdict->check().healthy ? 1u : 0u});
    p.family("stunbox_drained", "gauge", "1 while drained (stunbox-cli drain on): STUN still answered, health 0");
    p.sample("stunbox_drained", "", uint64_t{verdict->drained() ? 1u : 0u});
  }
  return p.take();
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const config::ListenAddress& where,
                                                            const View& view, const HealthMonitor* health,
                                                            const Health* verdict) {
  const std::string endpoint = config::to_string(where);
  const std::string ctx = "stats.metrics_listen " + endpoint + ": ";
  // We bind the socket ourselves so a failure carries errno's reason;
  // libmicrohttpd then owns it (and closes it at stop).
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (where.ip.v6) {
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(where.port);
    std::memcpy(&s->sin6_addr, where.ip.bytes.data(), 16);
    len = sizeof(sockaddr_in6);
  } else {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(where.port);
    std::memcpy(&s->sin_addr, where.ip.bytes.data(), 4);
    len = sizeof(sockaddr_in);
  }
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{ctx + "socket: " + std::strerror(errno)};
  int one = 1;
  // A restarted daemon must not wait out TIME_WAIT of the previous one's scrapes.
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (where.ip.v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0 || ::listen(fd, 64) != 0) {
    const int err = errno;
    ::close(fd);
    return Error{ctx + "cannot bind: " + std::strerror(err)};
  }
  std::unique_ptr<MetricsServer> server(new MetricsServer(view, health, verdict));
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
  if (where.ip.v6) flags |= MHD_USE_IPv6;
  server->daemon_ = MHD_start_daemon(flags, 0, nullptr, nullptr, &handle, server.get(),
                                     MHD_OPTION_LISTEN_SOCKET, fd,
                                     // A handful of scrapers at most; a stuck client is cut off.
                                     MHD_OPTION_CONNECTION_LIMIT, 32u,
                                     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                                     MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    ::close(fd);
    return Error{ctx + "cannot start the HTTP server (libmicrohttpd)"};
  }
  // Port 0 (tests) means the kernel picked one: report the real one.
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  uint16_t port = where.port;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen) == 0) {
    port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  config::ListenAddress actual = where;
  actual.port = port;
  server->port_ = port;
  server->url_ = "http://" + config::to_string(actual) + "/metrics";
  return server;
}

MetricsServer::~MetricsServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

Operations::Operations(const View& view) : view_(view), notifier_(Notifier::from_environment()) {}

Result<std::unique_ptr<Operations>> Operations::start(const View& view) {
  std::unique_ptr<Operations> ops(new Operations(view));
  ProgressSource source{[&view] { return view.workers().size(); },
                        [&view](size_t i) { return view.usage(i).progress; }};
  const config::HealthSection& hc = view.config().health;
  ops->health_ = std::make_unique<HealthMonitor>(std::move(source), ops->notifier_,
                                                 std::chrono::milliseconds(hc.stall_ms));
  ops->verdict_ = std::make_unique<Health>(view, ops->health_.get(), hc.start_drained);
  if (const auto& where = view.config().stats.metrics_listen) {
    auto server = MetricsServer::start(*where, view, ops->health_.get(), ops->verdict_.get());
    if (!server) return server.error();
    ops->metrics_ = std::move(*server);
  }
  return ops;
}

Operations::~Operations() { stopping(); }

// Notification failures are not fatal: the daemon serves without systemd.
void Operations::ready(std::string_view status) {
  verdict_->set_phase(Health::Phase::serving);
  (void)notifier_.ready(status);
  // Watchdog pings only after READY=1: systemd arms the watchdog from there.
  if (!stopped_) health_->start();
}
void Operations::reloading() { (void)notifier_.reloading(); }
void Operations::reloaded() { (void)notifier_.send("READY=1"); }

void Operations::stopping() {
  if (stopped_) return;
  stopped_ = true;
  verdict_->set_phase(Health::Phase::stopping);
  (void)notifier_.stopping();
  metrics_.reset();
  // Stopped but kept: telemetry may still read its (now frozen) stall flags.
  health_->stop();
}

}  // namespace stunbox::console
