// The DPDK data path: per-queue contexts and the lcore poll loop (rx -> reflect in place -> tx on the same queue).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "config/config.h"
#include "core/counters.h"
#include "core/source_sketch.h"
#include "frame/reflect.h"
#include "stun/responder.h"
#include "limits/limiter.h"

struct rte_ring;

namespace stunbox::dpdk {

// A port's exception path (dpdk.ports[i].exception): frames for the box that
// the data path does not answer (frame::for_kernel) go to a kernel TAP
// (net_tap), and what the kernel sends there leaves through the port. Every
// lcore serving the port enqueues its kernel frames on `to_kernel`
// (multi-producer, never blocking: a full ring drops and counts); the lcore
// owning the port's queue 0 alone dequeues them onto the TAP and sends the
// TAP's frames on its own TX queue 0, so no TX queue ever has two owners.
struct ExceptionPath {
  // setup: wo, dataplane: ro
  uint16_t tap_port_id = 0;
  rte_ring* to_kernel = nullptr;  // producers: the port's lcores; consumer: the owner of queue 0
  uint64_t interval_ns = 0;       // 1e9 / exception.pps
  uint64_t burst = 1;             // a tenth of a second's worth, at least 1
  // Frames to the kernel: one GCRA word shared by the port's lcores.
  limits::GlobalBucket to_kernel_bucket;
  // Frames from the kernel: the owner's alone.
  limits::LocalBucket from_kernel_bucket;
};

struct QueueContext;
// One poll of one queue; the variant (RX checksum hints, TX checksum offload)
// is chosen once per port at setup, never per packet.
using PollFn = uint16_t (*)(QueueContext&);

// Everything one (port, queue) pair needs on the data path. Owned by exactly
// one lcore; `counters` is read by the main lcore.
struct alignas(64) QueueContext {
  // setup: wo, dataplane: ro
  uint16_t port_id = 0;
  uint16_t queue_id = 0;
  unsigned port_index = 0;  // index in cfg.dpdk.ports
  unsigned lcore = 0;
  uint16_t burst = 32;
  const frame::PortIdentity* port = nullptr;
  PollFn poll = nullptr;
  // Source prefixes of answered STUN requests ("show top sources"); shared
  // by the queues of one lcore, nullptr = not recorded.
  // setup: wo; dataplane: record (owner lcore), publish in lcore_main.
  SourceSketch* sources = nullptr;
  // The STUN options. reload: wo (release; the old options stay alive until
  // exit), dataplane: loaded once per burst (acquire).
  std::atomic<const stun::ResponderConfig*> stun{nullptr};
  // Abuse controls (lib/limits); nullptr = none. reload: wo (release; old
  // policies stay alive until exit), dataplane: loaded once per burst (acquire).
  std::atomic<const limits::Policy*> limits{nullptr};
  // setup: wo, dataplane: ro. The buckets shared by every lcore (per-source
  // rate, global cap), and this lcore's policers of ARP/NDP and echo replies
  // (shared by the queues of one lcore, so touched by that lcore only).
  // nullptr = unchecked.
  limits::Limiter* limiter = nullptr;
  limits::L3Policer* l3 = nullptr;
  // The lcore's claimed tokens of limits.global_pps (shared by its queues); nullptr = one CAS per reply.
  limits::GlobalCredit* global_credit = nullptr;
  // The TSC the lcore loop read after its last poll (lcore_main: wo, this lcore's polls: ro), the
  // limiter's clock without a second rdtsc per burst; nullptr = read the TSC (tests).
  const uint64_t* lcore_tsc = nullptr;
  // setup: wo, dataplane: ro. The port's exception path (nullptr = none:
  // frames for the kernel are dropped by reason); this queue moves its
  // frames (ring -> TAP, TAP -> this TX queue) when exception_owner.
  ExceptionPath* exception = nullptr;
  bool exception_owner = false;
  // dataplane: rw (owner lcore only)
  LocalCounters local;
  // dataplane: wo (publish once per burst), main lcore: ro
  WorkerCounters counters;
};

// Which per-packet path a poll variant runs: the fast path for the common
// frame with the general path behind it (what stunbox runs), or the general
// path alone (tests and benchmarks compare the two; frame/fast_path.h).
enum class FramePath : uint8_t { fast, general_only };

// Picks the poll variant for a port's offload choice.
PollFn select_poll(bool rx_csum_hints, bool tx_csum_offload, FramePath path = FramePath::fast);

// Runs one poll (one rx_burst and its tx) of q on the calling thread; returns
// the number of packets received. Tests drive the loop with this.
inline uint16_t poll_queue(QueueContext& q) { return q.poll(q); }

// The exception path's owner work, called by the lcore that owns q (queue 0
// of a port with an exception path) every kPollsPerStopCheck polls: frames
// queued for the kernel onto the TAP, the kernel's frames out of q's TX
// queue. Returns the frames moved. Tests call it directly.
unsigned service_exception(QueueContext& q);

// An lcore's cycle accounting, as testpmd's record-core-cycles: TSC cycles
// of polls that received packets (busy) and of every poll (total), and a
// loop counter that keeps moving while the lcore is alive (stall detection).
// worker lcore: wo (relaxed stores every kPollsPerStopCheck polls), readers: ro.
struct alignas(64) LcoreUsage {
  std::atomic<uint64_t> busy_cycles{0};
  std::atomic<uint64_t> total_cycles{0};
  std::atomic<uint64_t> loops{0};
};

// What one worker lcore runs.
struct LcoreWork {
  unsigned lcore = 0;
  std::vector<QueueContext*> queues;
  config::Idle idle = config::Idle::poll;
  const std::atomic<bool>* stop = nullptr;  // main: wo, worker: ro
  LcoreUsage* usage = nullptr;              // optional: nullptr = not recorded
  SourceSketch* sources = nullptr;          // optional: the lcore's sketch, published every kPollsPerStopCheck polls
  // Frames the main lcore hands over for sending (announcements after a
  // link-up), mbuf->port = the port. Single producer (main), single consumer
  // (this lcore): the lcore sends them on its own TX queue of that port, so
  // no TX queue is ever used by two threads. nullptr = none.
  rte_ring* control = nullptr;
  // Where lcore_main keeps the TSC it read after each poll (the queues' lcore_tsc points here).
  uint64_t* tsc = nullptr;
};

// Sends what the main lcore put on work.control, each on the first queue the
// lcore owns of the frame's port (counted as announcements there; a frame for
// a port it does not serve, or that the TX ring refuses, is freed). Returns
// the frames sent. lcore_main calls it every kPollsPerStopCheck polls.
unsigned drain_control(const LcoreWork& work);

// The worker lcore's main loop (rte_eal_remote_launch entry point; arg is a
// LcoreWork*). Returns 0 when *stop becomes true.
int lcore_main(void* arg);

// How many TX attempts a burst gets before the rest is freed (tx_ring_full).
inline constexpr int kTxTries = 3;

}  // namespace stunbox::dpdk
