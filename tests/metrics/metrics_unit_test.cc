// Unit tests of /metrics rendering and serving, the sd_notify datagrams and the health monitor, on a fake backend view.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "console/view.h"
#include "console/metrics.h"
#include "console/notify.h"

namespace stunbox::console {
namespace {

using namespace std::chrono_literals;

class FakeView : public View {
 public:
  FakeView() : counters_(3) {
    queues_ = {{0, 0, 1, &counters_[0]}, {0, 1, 2, &counters_[1]}, {1, 0, 2, &counters_[2]}};
    workers_ = {{1, "0:0"}, {2, "0:1 1:0"}};
    usage_ = {{100, 400, 7}, {0, 0, 9}};
    cfg_.stats.metrics_listen = config::ListenAddress{config::IpAddress{false, {127, 0, 0, 1}}, 0, "127.0.0.1:0"};
  }
  std::string_view mode() const override { return "socket"; }
  size_t port_count() const override { return 2; }
  std::string port_name(size_t port) const override { return port == 0 ? "udp \"a\"\\b" : "udp [::1]:1"; }
  PortStats port_stats(size_t port) const override {
    PortStats s;
    s.rx_packets = 10 + port;
    s.rx_missed = 3;
    s.rx_nombuf = 4;
    s.tx_errors = 5;
    return s;
  }
  LinkState link(size_t port) const override { return {port == 0, port == 0 ? 10000u : 0u, true, port == 0 ? 0u : 3u}; }
  std::string port_info(size_t) const override { return ""; }
  std::vector<XStat> xstats(size_t) const override { return {}; }
  std::vector<XStat> metric_xstats(size_t port) const override {
    if (port != 1) return {};
    return {{"rx_discards_phy", 17}, {"rx_out_of_buffer", 4}};
  }
  std::span<const QueueView> queues() const override { return queues_; }
  std::span<const WorkerInfo> workers() const override { return workers_; }
  WorkerUsage usage(size_t worker) const override { return usage_[worker]; }
  const config::Config& config() const override { return cfg_; }
  std::vector<MempoolView> mempools() const override { return pools_; }
  std::vector<MempoolView> pools_;

  std::vector<WorkerCounters> counters_;
  std::vector<QueueView> queues_;
  std::vector<WorkerInfo> workers_;
  std::vector<WorkerUsage> usage_;
  config::Config cfg_;
};

// name{labels} -> value, and the order families appear in.
struct Parsed {
  std::map<std::string, std::string> samples;
  std::vector<std::string> type_order;
  std::map<std::string, std::string> types;
  std::map<std::string, int> help_count;
  std::vector<std::string> sample_families;  // family of each sample line, in order
};

Parsed parse(const std::string& text) {
  Parsed p;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      p.help_count[name]++;
    } else if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream l(line.substr(7));
      std::string name, type;
      l >> name >> type;
      p.types[name] = type;
      p.type_order.push_back(name);
    } else if (!line.empty()) {
      const size_t sp = line.rfind(' ');
      const std::string key = line.substr(0, sp);
      p.samples[key] = line.substr(sp + 1);
      p.sample_families.push_back(key.substr(0, key.find('{')));
    }
  }
  return p;
}

TEST(RenderMetrics, ExactCountersPerQueueAndWellFormedFamilies) {
  FakeView view;
  LocalCounters l;
  l.add(Counter::stun_requests, 5);
  l.add(Counter::stun_classic_requests, 2);
  l.add(Counter::stun_success, 6);
  l.add(Counter::stun_error, 1);
  l.add(Counter::stun_change_ip_port, 2);
  l.add(Counter::rx_packets, 9);
  l.add(Counter::rx_bytes, 900);
  l.drop(DropReason::stun_bad_fingerprint, 2);
  view.counters_[1].publish(l);

  const Parsed p = parse(render_metrics(view, nullptr));
  const std::string q1 = "port=\"0\",queue=\"1\",worker=\"2\"";
  const std::string q0 = "port=\"0\",queue=\"0\",worker=\"1\"";
  EXPECT_EQ(p.samples.at("stunbox_stun_requests_total{kind=\"rfc5389\"," + q1 + "}"), "5");
  EXPECT_EQ(p.samples.at("stunbox_stun_requests_total{kind=\"classic\"," + q1 + "}"), "2");
  EXPECT_EQ(p.samples.at("stunbox_stun_requests_total{kind=\"rfc5389\"," + q0 + "}"), "0");
  EXPECT_EQ(p.samples.at("stunbox_stun_responses_total{result=\"success\"," + q1 + "}"), "6");
  EXPECT_EQ(p.samples.at("stunbox_stun_responses_total{result=\"error\"," + q1 + "}"), "1");
  EXPECT_EQ(p.samples.at("stunbox_stun_rfc5780_total{kind=\"change_ip_port\"," + q1 + "}"), "2");
  EXPECT_EQ(p.samples.at("stunbox_rx_packets_total{" + q1 + "}"), "9");
  EXPECT_EQ(p.samples.at("stunbox_rx_bytes_total{" + q1 + "}"), "900");
  EXPECT_EQ(p.samples.at("stunbox_drops_total{reason=\"stun_bad_fingerprint\"," + q1 + "}"), "2");
  // Every reason for every queue, zero or not, so rate() has a series from the start.
  for (std::string_view r : kDropReasonNames) {
    for (const char* q : {"port=\"0\",queue=\"0\",worker=\"1\"", "port=\"1\",queue=\"0\",worker=\"2\""}) {
      EXPECT_EQ(p.samples.at("stunbox_drops_total{reason=\"" + std::string(r) + "\"," + q + "}"), "0") << r;
    }
  }
  EXPECT_EQ(p.samples.at("stunbox_build_info{version=\"" STUNBOX_VERSION "\",mode=\"socket\"}"), "1");
  EXPECT_EQ(p.samples.at("stunbox_port_rx_missed_total{port=\"0\"}"), "3");
  EXPECT_EQ(p.samples.at("stunbox_port_rx_nombuf_total{port=\"1\"}"), "4");
  EXPECT_EQ(p.samples.at("stunbox_port_rx_packets_total{port=\"1\"}"), "11");
  EXPECT_EQ(p.samples.at("stunbox_port_tx_errors_total{port=\"0\"}"), "5");
  EXPECT_EQ(p.samples.at("stunbox_link_up{port=\"0\"}"), "1");
  EXPECT_EQ(p.samples.at("stunbox_link_up{port=\"1\"}"), "0");
  EXPECT_EQ(p.samples.at("stunbox_link_speed_mbps{port=\"0\"}"), "10000");
  EXPECT_EQ(p.samples.at("stunbox_link_changes_total{port=\"0\"}"), "0");
  EXPECT_EQ(p.samples.at("stunbox_link_changes_total{port=\"1\"}"), "3");
  // The device's drop counters, by their driver names.
  EXPECT_EQ(p.samples.at("stunbox_port_xstat{port=\"1\",name=\"rx_discards_phy\"}"), "17");
  EXPECT_EQ(p.samples.at("stunbox_port_xstat{port=\"1\",name=\"rx_out_of_buffer\"}"), "4");
  // No pools (socket mode): no mempool families at all.
  EXPECT_EQ(p.samples.count("stunbox_mempool_in_use{pool=\"stunbox_pool_0\"}"), 0u);
  // Label values escape quote and backslash.
  EXPECT_EQ(p.samples.at("stunbox_port_info{port=\"0\",name=\"udp \\\"a\\\"\\\\b\"}"), "1");
  EXPECT_EQ(p.samples.at("stunbox_worker_info{worker=\"2\",queues=\"0:1 1:0\"}"), "1");
  EXPECT_EQ(p.samples.at("stunbox_worker_busy_ratio{worker=\"1\"}"), "0.25");
  EXPECT_EQ(p.samples.at("stunbox_worker_busy_ratio{worker=\"2\"}"), "0");
  EXPECT_EQ(p.samples.at("stunbox_worker_progress_total{worker=\"2\"}"), "9");
  EXPECT_EQ(p.samples.at("stunbox_worker_stalled{worker=\"1\"}"), "0");
  EXPECT_GT(std::stod(p.samples.at("stunbox_process_resident_memory_bytes")), 0.0);
  const double start = std::stod(p.samples.at("stunbox_process_start_time_seconds"));
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(start, now - 3600);
  EXPECT_LE(start, now);

  // Format rules: HELP and TYPE once per family; counters end in _total;
  // each family's samples are contiguous and follow its TYPE line.
  std::set<std::string> seen;
  std::string current;
  for (const std::string& f : p.sample_families) {
    if (f != current) {
      EXPECT_TRUE(seen.insert(f).second) << "family " << f << " is split";
      current = f;
    }
    EXPECT_TRUE(p.types.count(f)) << f << " has no TYPE";
  }
  for (const auto& [name, type] : p.types) {
    EXPECT_EQ(p.help_count.at(name), 1) << name;
    const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    EXPECT_EQ(type == "counter", total) << name << " is a " << type;
  }
}

TEST(RenderMetrics, MempoolGauges) {
  FakeView view;
  view.pools_ = {{"stunbox_pool_0", 16383, 1056}, {"stunbox_pool_1", 8191, 0}};
  const Parsed p = parse(render_metrics(view, nullptr));
  EXPECT_EQ(p.samples.at("stunbox_mempool_mbufs{pool=\"stunbox_pool_0\"}"), "16383");
  EXPECT_EQ(p.samples.at("stunbox_mempool_in_use{pool=\"stunbox_pool_0\"}"), "1056");
  EXPECT_EQ(p.samples.at("stunbox_mempool_mbufs{pool=\"stunbox_pool_1\"}"), "8191");
  EXPECT_EQ(p.samples.at("stunbox_mempool_in_use{pool=\"stunbox_pool_1\"}"), "0");
  EXPECT_EQ(p.types.at("stunbox_mempool_in_use"), "gauge");
}

TEST(RenderMetrics, StalledWorkerFromTheHealthMonitor) {
  FakeView view;
  std::atomic<uint64_t> p0{0};
  ProgressSource src{[] { return size_t{2}; }, [&p0](size_t i) { return i == 0 ? p0.load() : uint64_t{42}; }};
  HealthMonitor health(src, Notifier{}, 150ms);
  health.start();
  // Worker 0 keeps moving, worker 1 (index 1, lcore id 2) never does.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!health.stalled(1) && std::chrono::steady_clock::now() < deadline) {
    p0++;
    std::this_thread::sleep_for(10ms);
  }
  p0++;
  ASSERT_TRUE(health.stalled(1));
  EXPECT_FALSE(health.stalled(0));
  EXPECT_FALSE(health.all_healthy());
  const Parsed p = parse(render_metrics(view, &health));
  EXPECT_EQ(p.samples.at("stunbox_worker_stalled{worker=\"2\"}"), "1");
  EXPECT_EQ(p.samples.at("stunbox_worker_stalled{worker=\"1\"}"), "0");
  health.stop();
}

// A datagram socket standing in for systemd's notify socket.
class NotifySink {
 public:
  explicit NotifySink(bool abstract) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    const std::string name = "stunbox-notify-test-" + std::to_string(getpid()) + (abstract ? "-a" : "-p");
    socklen_t len;
    if (abstract) {
      a.sun_path[0] = '\0';
      std::memcpy(a.sun_path + 1, name.data(), name.size());
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
      env_ = "@" + name;
    } else {
      path_ = "/tmp/" + name;
      ::unlink(path_.c_str());
      std::memcpy(a.sun_path, path_.data(), path_.size());
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
      env_ = path_;
    }
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), len), 0) << std::strerror(errno);
  }
  ~NotifySink() {
    ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& env() const { return env_; }
  // Next datagram within timeout, or "" on timeout.
  std::string next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
    char buf[512];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  int fd_ = -1;
  std::string path_;
  std::string env_;
};

class EnvGuard {
 public:
  ~EnvGuard() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }
};

TEST(Notifier, InactiveWithoutNotifySocket) {
  EnvGuard g;
  unsetenv("NOTIFY_SOCKET");
  setenv("WATCHDOG_USEC", "1000000", 1);
  const Notifier n = Notifier::from_environment();
  EXPECT_FALSE(n.active());
  EXPECT_TRUE(n.ready("x").is_ok());
}

TEST(Notifier, SendsToPathAndAbstractSockets) {
  EnvGuard g;
  for (bool abstract : {false, true}) {
    NotifySink sink(abstract);
    setenv("NOTIFY_SOCKET", sink.env().c_str(), 1);
    unsetenv("WATCHDOG_USEC");
    const Notifier n = Notifier::from_environment();
    ASSERT_TRUE(n.active());
    EXPECT_EQ(n.watchdog_usec().count(), 0);
    ASSERT_TRUE(n.ready("serving").is_ok());
    EXPECT_EQ(sink.next(2s), "READY=1\nSTATUS=serving");
    ASSERT_TRUE(n.stopping().is_ok());
    EXPECT_EQ(sink.next(2s), "STOPPING=1\nSTATUS=stopping");
  }
}

TEST(Notifier, WatchdogOnlyForThisPid) {
  EnvGuard g;
  setenv("NOTIFY_SOCKET", "/tmp/nonexistent-stunbox-test", 1);
  setenv("WATCHDOG_USEC", "250000", 1);
  EXPECT_EQ(Notifier::from_environment().watchdog_usec().count(), 250000);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(Notifier::from_environment().watchdog_usec().count(), 250000);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_EQ(Notifier::from_environment().watchdog_usec().count(), 0);
  // A send to a socket nobody listens on is an error, not a crash.
  EXPECT_FALSE(Notifier::from_environment().ready("x").is_ok());
}

TEST(HealthMonitor, PingsWhileHealthyAndStopsWhenAWorkerStalls) {
  EnvGuard g;
  NotifySink sink(false);
  setenv("NOTIFY_SOCKET", sink.env().c_str(), 1);
  setenv("WATCHDOG_USEC", "100000", 1);  // pings every 50 ms
  std::atomic<uint64_t> progress{0};
  std::atomic<bool> frozen{false};
  ProgressSource src{[] { return size_t{1}; }, [&progress](size_t) { return progress.load(); }};
  HealthMonitor health(src, Notifier::from_environment(), 300ms);
  std::atomic<bool> done{false};
  std::thread worker([&] {
    while (!done) {
      if (!frozen) progress++;
      std::this_thread::sleep_for(5ms);
    }
  });
  health.start();
  int pings = 0;
  for (int i = 0; i < 3; ++i) {
    if (sink.next(2s) == "WATCHDOG=1") ++pings;
  }
  EXPECT_EQ(pings, 3);
  frozen = true;
  // Once the stall is noticed no further ping may arrive.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!health.stalled(0) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(health.stalled(0));
  while (!sink.next(0ms).empty()) {
  }  // drain pings sent before the stall was seen
  EXPECT_EQ(sink.next(400ms), "");
  // Recovery: progress again, pings again.
  frozen = false;
  EXPECT_EQ(sink.next(3s), "WATCHDOG=1");
  EXPECT_FALSE(health.stalled(0));
  health.stop();
  done = true;
  worker.join();
}

// Minimal HTTP/1.0 client: returns the whole response.
std::string http(uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  [[maybe_unused]] ssize_t w = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// The status code of an HTTP response ("HTTP/1.1 404 Not Found" -> 404), 0 if none.
int status(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

TEST(MetricsServer, ServesMetricsAnd404AndReportsBindFailure) {
  FakeView view;
  LocalCounters l;
  l.add(Counter::stun_requests, 17);
  view.counters_[0].publish(l);
  auto server = MetricsServer::start(*view.cfg_.stats.metrics_listen, view, nullptr);
  ASSERT_TRUE(server.is_ok()) << server.message();
  const uint16_t port = (*server)->port();
  ASSERT_NE(port, 0);
  EXPECT_EQ((*server)->url(), "http://127.0.0.1:" + std::to_string(port) + "/metrics");

  const std::string ok = http(port, "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(status(ok), 200) << ok.substr(0, 100);
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(ok.find("\nstunbox_stun_requests_total{kind=\"rfc5389\",port=\"0\",queue=\"0\",worker=\"1\"} 17\n"),
            std::string::npos);
  EXPECT_EQ(status(http(port, "GET / HTTP/1.0\r\n\r\n")), 404);
  EXPECT_EQ(status(http(port, "GET /metricsx HTTP/1.0\r\n\r\n")), 404);
  EXPECT_EQ(status(http(port, "DELETE /metrics HTTP/1.0\r\n\r\n")), 405);
  const std::string head = http(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(status(head), 200);
  EXPECT_EQ(head.find("stunbox_"), std::string::npos);

  config::ListenAddress same = *view.cfg_.stats.metrics_listen;
  same.port = port;
  auto clash = MetricsServer::start(same, view, nullptr);
  ASSERT_FALSE(clash.is_ok());
  EXPECT_EQ(clash.message(), "stats.metrics_listen 127.0.0.1:" + std::to_string(port) +
                                 ": cannot bind: Address already in use");
}

}  // namespace
}  // namespace stunbox::console
