// A read-only view of a running backend (ports, queues, workers, config in effect) for the console, metrics and telemetry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/counters.h"
#include "core/source_sketch.h"

namespace stunbox::backend {

// testpmd's port counters ("show port stats"). dpdk mode: rte_eth_stats of
// the ethdev. socket mode: summed from the workers' counters of one listen
// address (errors = sock_truncated / sock_send_failed, missed/nombuf 0).
struct PortStats {
  uint64_t rx_packets = 0;
  uint64_t rx_missed = 0;
  uint64_t rx_bytes = 0;
  uint64_t rx_errors = 0;
  uint64_t rx_nombuf = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_errors = 0;
  uint64_t tx_bytes = 0;
};

struct LinkState {
  bool up = false;
  uint32_t speed_mbps = 0;  // 0 = unknown / not applicable (socket mode)
  bool full_duplex = false;
  uint64_t changes = 0;  // up/down transitions seen since start (dpdk: the link watcher's count; socket: 0)
};

struct XStat {
  std::string name;
  uint64_t value = 0;
};

// One (port, queue) pair served by one worker, with its counters. In socket
// mode: port = listen address index, queue = worker index.
struct QueueView {
  unsigned port = 0;
  unsigned queue = 0;
  unsigned worker = 0;                      // lcore id (dpdk) or worker index (socket)
  const WorkerCounters* counters = nullptr;  // live, relaxed reads; lives as long as the view
};

// A worker's time accounting, read with relaxed loads. busy: time spent on
// polls/wakeups that carried packets; total: time in the loop since start
// (busy + idle). progress: incremented on every loop iteration (dpdk: every
// few polls; socket: every wakeup, and the epoll wait times out at least every
// 100 ms), so a value that stops moving means a stalled worker, traffic or not.
struct WorkerUsage {
  uint64_t busy_ns = 0;
  uint64_t total_ns = 0;
  uint64_t progress = 0;
};

// A worker lcore (dpdk) or worker thread (socket); fixed for the view's life.
struct WorkerInfo {
  unsigned id = 0;     // lcore id (dpdk) or worker index (socket)
  std::string queues;  // the "port:queue" pairs it serves, space separated, e.g. "0:0 1:0"
};

// A DPDK mbuf pool: its size and how many mbufs are out of it (in RX/TX
// descriptors, in bursts being answered; per-lcore caches count as free).
struct MempoolView {
  std::string name;
  unsigned size = 0;
  unsigned in_use = 0;
};

// Implemented by each backend. Every method may be called from any thread
// other than the data path's, concurrently (counters are relaxed atomics).
// Nothing here ever blocks a worker.
class View {
 public:
  virtual ~View() = default;

  virtual std::string_view mode() const = 0;  // "socket" or "dpdk"

  // Ports: dpdk ethdev ports in cfg.dpdk.ports order; socket: listen addresses.
  virtual size_t port_count() const = 0;
  virtual std::string port_name(size_t port) const = 0;  // ethdev name or "udp 127.0.0.1:3478"
  virtual PortStats port_stats(size_t port) const = 0;
  virtual LinkState link(size_t port) const = 0;
  // Multi-line "key: value" text: driver, MAC, link, queues, RSS types and
  // key, offloads (hardware or software), addresses. No trailing newline needed.
  virtual std::string port_info(size_t port) const = 0;
  virtual std::vector<XStat> xstats(size_t port) const = 0;
  // The extended statistics /metrics exports as stunbox_port_xstat: the
  // device's drop and error counters (a per-driver allow-list, since
  // rte_eth_stats' imissed misses the PHY's drops), or every xstat with
  // stats.port_xstats all. Socket mode: none.
  virtual std::vector<XStat> metric_xstats(size_t) const { return {}; }

  // Every (port, queue) pair; fixed for the view's life.
  virtual std::span<const QueueView> queues() const = 0;
  // Every worker; fixed for the view's life. usage(i) is workers()[i]'s.
  virtual std::span<const WorkerInfo> workers() const = 0;
  virtual WorkerUsage usage(size_t worker) const = 0;

  // The configuration in effect: what the backend was set up with, with the
  // live settings of the last apply(). The reference stays valid for the
  // view's life (the daemon keeps every generation).
  virtual const config::Config& config() const = 0;

  // "show top sources": a snapshot of every worker's source-prefix sketch
  // (readers copy the last published state; they never block a worker).
  // Empty when the backend records none.
  virtual std::vector<SourceSketchSnapshot> source_sketches() const { return {}; }

  // dpdk: every mbuf pool (rte_mempool_in_use_count, a racy but safe read
  // while lcores run); socket mode: none.
  virtual std::vector<MempoolView> mempools() const { return {}; }

  // Sum of every queue's counters.
  Snapshot totals() const {
    Snapshot s;
    for (const QueueView& q : queues()) s.add(*q.counters);
    return s;
  }
};

}  // namespace stunbox::backend
