// The socket backend as the daemon runs it: workers set up and started, live settings applied, and its console view.
#include "sock/socket_backend.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/counters.h"
#include "core/source_sketch.h"
#include "limits/limiter.h"
#include "sock/bind.h"
#include "sock/worker.h"
#include "stun/responder.h"

namespace stunbox::sock {
namespace {

unsigned online_cpus() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

class SocketBackend final : public backend::Backend {
 public:
  explicit SocketBackend(const config::Config& cfg) { config_.store(&cfg, std::memory_order_release); }
  ~SocketBackend() override { stop(); }

  // backend::Backend
  Status setup(backend::Reporter& report) override;
  std::string summary() const override;
  std::string ready_line() const override;
  Status start(backend::Reporter& report, const backend::StallSource* stalls) override;
  void apply(const config::Config& cfg) override;
  void stop() override;

  // backend::View
  std::string_view mode() const override { return "socket"; }
  size_t port_count() const override { return targets_.size(); }
  std::string port_name(size_t port) const override { return "udp " + targets_.at(port).text; }
  backend::PortStats port_stats(size_t port) const override;
  backend::LinkState link(size_t) const override { return backend::LinkState{true, 0, false}; }
  std::string port_info(size_t port) const override;
  std::vector<backend::XStat> xstats(size_t port) const override;
  std::span<const backend::QueueView> queues() const override { return queue_views_; }
  std::span<const backend::WorkerInfo> workers() const override { return worker_infos_; }
  backend::WorkerUsage usage(size_t worker) const override {
    const WorkerUsageCounters& u = usage_.at(worker);
    return backend::WorkerUsage{u.busy_ns.load(std::memory_order_relaxed), u.total_ns.load(std::memory_order_relaxed),
                                u.progress.load(std::memory_order_relaxed)};
  }
  const config::Config& config() const override { return *config_.load(std::memory_order_acquire); }
  std::vector<SourceSketchSnapshot> source_sketches() const override { return read_all(sources_); }

 private:
  Snapshot port_snapshot(size_t port) const;
  // Publishes the responder options and limits of `cfg` to the workers.
  void publish(const config::Config& cfg);

  // main: wo (setup, apply); readers: ro. Every generation outlives the backend (the daemon keeps them).
  std::atomic<const config::Config*> config_{nullptr};
  unsigned workers_ = 0;
  std::vector<BindTarget> targets_;
  std::vector<SocketRole> roles_;  // roles_[a]: what targets_[a] is for
  std::vector<std::unique_ptr<stun::Rfc5780Pair>> pairs_;  // stun.rfc5780, as the responder reads them
  Shared shared_;
  std::unique_ptr<limits::Limiter> limiter_;  // sized once; reloads keep the buckets
  // One per apply (and setup): kept until the backend dies, since a worker may
  // still be in a batch with an older one.
  std::vector<std::unique_ptr<stun::ResponderConfig>> responders_;
  std::vector<std::unique_ptr<limits::Policy>> policies_;
  // counters_[w * targets + a]: worker w's counters for listen address a.
  std::vector<WorkerCounters> counters_;
  std::vector<WorkerUsageCounters> usage_;
  // One source-prefix sketch per worker ("show top sources"): /32 and /64.
  std::vector<std::unique_ptr<SourceSketch>> sources_;
  std::vector<std::unique_ptr<Worker>> pool_;
  std::vector<std::thread> threads_;
  std::vector<backend::QueueView> queue_views_;
  std::vector<backend::WorkerInfo> worker_infos_;
};

Status SocketBackend::setup(backend::Reporter&) {
  const config::SocketSection& sc = config().socket;
  if (sc.listen.empty()) return Error{"socket.listen: no address to listen on"};
  workers_ = sc.workers != 0 ? sc.workers : online_cpus();
  const unsigned batch = sc.batch != 0 ? sc.batch : 32;

  for (const auto& la : sc.listen) targets_.push_back(make_target(la));
  roles_.resize(targets_.size());
  for (size_t a = 0; a < targets_.size(); ++a) roles_[a].v6 = targets_[a].v6;
  // RFC 5780: every worker binds the four endpoints of each pair too; an
  // endpoint also in socket.listen is bound once.
  for (const config::Rfc5780Section& r : config().stun.rfc5780) {
    pairs_.push_back(std::make_unique<stun::Rfc5780Pair>(r.responder()));
    const stun::Rfc5780Pair& pair = *pairs_.back();
    std::array<uint32_t, 4> sockets{};
    for (uint8_t ip = 0; ip < 2; ++ip) {
      for (uint8_t port = 0; port < 2; ++port) {
        const config::IpAddress& addr = ip == 0 ? r.primary.ip : r.alternate.ip;
        const config::ListenAddress la{addr, pair.port[port], ""};
        auto same = std::find(sc.listen.begin(), sc.listen.end(), la);
        size_t a = static_cast<size_t>(same - sc.listen.begin());
        if (same == sc.listen.end()) {
          a = targets_.size();
          targets_.push_back(make_target(la));
          roles_.push_back(SocketRole{la.ip.v6, {}, {}});
        }
        roles_[a].site = stun::Rfc5780Site{&pair, ip, port};
        sockets[ip * 2 + port] = static_cast<uint32_t>(a);
      }
    }
    for (uint32_t a : sockets) roles_[a].endpoint_socket = sockets;
  }
  auto sockets = bind_workers(targets_, workers_, sc);
  if (!sockets) return sockets.error();

  if (Status st = shared_.init(); !st) return st;
  if (const char* stall = std::getenv("STUNBOX_TEST_STALL_AFTER_PACKETS")) {
    shared_.test_stall_after.store(std::strtoull(stall, nullptr, 10), std::memory_order_relaxed);
  }
  limits::set_tsc_hz(0);  // calibrate the limiter's clock now, not in a worker's first batch
  limiter_ = std::make_unique<limits::Limiter>(config().limits.rate.table_size);
  shared_.limiter = limiter_.get();
  publish(config());

  const size_t n = targets_.size();
  counters_ = std::vector<WorkerCounters>(static_cast<size_t>(workers_) * n);
  usage_ = std::vector<WorkerUsageCounters>(workers_);
  for (unsigned w = 0; w < workers_; ++w) {
    sources_.push_back(std::make_unique<SourceSketch>(16, 32, 64, config::log2_of(config().stats.top_sources_sample)));
    pool_.push_back(std::make_unique<Worker>(std::move((*sockets)[w]), roles_, batch, shared_,
                                             &counters_[static_cast<size_t>(w) * n], usage_[w], *sources_.back()));
    if (Status st = pool_.back()->prepare(); !st) return st;
    backend::WorkerInfo info;
    info.id = w;
    for (size_t a = 0; a < n; ++a) {
      queue_views_.push_back(backend::QueueView{static_cast<unsigned>(a), w, w, &counters_[w * n + a]});
      if (a != 0) info.queues += ' ';
      info.queues += std::to_string(a) + ":" + std::to_string(w);
    }
    worker_infos_.push_back(std::move(info));
  }
  return Status::ok();
}

std::string SocketBackend::summary() const {
  std::string out;
  for (const BindTarget& t : targets_) {
    out += "stunbox: listening on udp " + t.text + " (" + std::to_string(workers_) + " SO_REUSEPORT sockets)\n";
  }
  return out;
}

std::string SocketBackend::ready_line() const {
  std::string all;
  for (const BindTarget& t : targets_) all += " " + t.text;
  return "socket mode, " + std::to_string(workers_) + (workers_ == 1 ? " worker" : " workers") + ", listening on" +
         all;
}

Status SocketBackend::start(backend::Reporter& report, const backend::StallSource*) {
  const unsigned ncpu = online_cpus();
  bool pin_warned = false;
  for (unsigned w = 0; w < workers_; ++w) {
    threads_.emplace_back([this, w] { pool_[w]->serve(); });
    // Named so ps/top (and tests) tell workers from the control and metrics threads.
    pthread_setname_np(threads_.back().native_handle(), ("sbx-worker-" + std::to_string(w)).substr(0, 15).c_str());
    if (config().socket.pin) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(w % ncpu, &set);
      const int rc = pthread_setaffinity_np(threads_.back().native_handle(), sizeof set, &set);
      if (rc != 0 && !pin_warned) {
        report.warn("cannot pin worker " + std::to_string(w) + ": " + std::strerror(rc));
        pin_warned = true;
      }
    }
  }
  return Status::ok();
}

void SocketBackend::publish(const config::Config& cfg) {
  responders_.push_back(std::make_unique<stun::ResponderConfig>(cfg.stun.responder()));
  policies_.push_back(std::make_unique<limits::Policy>(cfg.limits));
  // Workers pick the new options up at their next batch; nothing is lost.
  shared_.responder.store(responders_.back().get(), std::memory_order_release);
  shared_.policy.store(policies_.back().get(), std::memory_order_release);
}

void SocketBackend::apply(const config::Config& cfg) {
  publish(cfg);
  config_.store(&cfg, std::memory_order_release);
}

void SocketBackend::stop() {
  if (threads_.empty()) return;
  shared_.request_stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

Snapshot SocketBackend::port_snapshot(size_t port) const {
  Snapshot s;
  for (const backend::QueueView& q : queue_views_)
    if (q.port == port) s.add(*q.counters);
  return s;
}

backend::PortStats SocketBackend::port_stats(size_t port) const {
  const Snapshot s = port_snapshot(port);
  backend::PortStats p;
  p.rx_packets = s.get(Counter::rx_packets);
  p.rx_bytes = s.get(Counter::rx_bytes);
  p.rx_errors = s.get(DropReason::sock_truncated);
  p.tx_packets = s.get(Counter::tx_packets);
  p.tx_bytes = s.get(Counter::tx_bytes);
  p.tx_errors = s.get(DropReason::sock_send_failed);
  return p;
}

std::string SocketBackend::port_info(size_t port) const {
  const config::SocketSection& sc = config().socket;
  const bool v6 = targets_.at(port).v6;
  auto bytes_or_default = [](unsigned v) { return v == 0 ? std::string("kernel default") : std::to_string(v) + " bytes"; };
  std::string o;
  o += "Driver: kernel UDP sockets (socket mode)\n";
  o += "Listen address: " + targets_.at(port).text + " (" + (v6 ? "IPv6" : "IPv4") + ")\n";
  o += "Workers: " + std::to_string(worker_infos_.size()) + " (one SO_REUSEPORT socket each; the kernel spreads flows)\n";
  o += "Batch: " + std::to_string(sc.batch) + " datagrams per recvmmsg/sendmmsg\n";
  o += "Reply source: the request's destination address (" + std::string(v6 ? "IPV6_PKTINFO" : "IP_PKTINFO") + ")\n";
  o += "SO_RCVBUF: " + bytes_or_default(sc.rcvbuf) + ", SO_SNDBUF: " + bytes_or_default(sc.sndbuf) + "\n";
  o += "Checksums: kernel\n";
  o += std::string("Pinned workers: ") + (sc.pin ? "yes" : "no") + "\n";
  if (const stun::Rfc5780Site& site = roles_.at(port).site; site.pair != nullptr) {
    static constexpr const char* kNames[2][2] = {{"PP", "PA"}, {"AP", "AA"}};
    o += std::string("RFC 5780 endpoint: ") + kNames[site.ip][site.port] + " (change requests answered from the "
         "pair's other endpoints, OTHER-ADDRESS and RESPONSE-ORIGIN in every answer)\n";
  }
  return o;
}

// Socket mode has no device counters: every counter of this listen address.
std::vector<backend::XStat> SocketBackend::xstats(size_t port) const {
  const Snapshot s = port_snapshot(port);
  std::vector<backend::XStat> out;
  for (size_t i = 0; i < kCounterCount; ++i) out.push_back({std::string(kCounterNames[i]), s.v[i]});
  for (size_t r = 0; r < kDropReasonCount; ++r)
    out.push_back({"drop_" + std::string(kDropReasonNames[r]), s.v[kCounterCount + r]});
  return out;
}

}  // namespace

std::unique_ptr<backend::Backend> make_backend(const config::Config& cfg) {
  return std::make_unique<SocketBackend>(cfg);
}

}  // namespace stunbox::sock
