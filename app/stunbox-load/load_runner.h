// The load engine: sockets, threads, pacing, transaction tracking and per-thread statistics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "core/result.h"
#include "histogram.h"
#include "options.h"
#include "stun_check.h"

namespace stunbox::load {

// Counted by one thread, summed after the threads have joined.
struct Stats {
  uint64_t sent = 0;
  uint64_t received = 0;   // every datagram read
  uint64_t valid = 0;
  uint64_t late = 0;       // answer to a request already counted lost
  uint64_t lost = 0;       // no answer within --timeout
  uint64_t send_errors = 0;
  uint64_t recv_errors = 0;
  std::array<uint64_t, kCheckCount> invalid{};  // indexed by Check; [ok] unused
  uint64_t first_send_ns = 0;  // monotonic
  uint64_t last_send_ns = 0;   // monotonic
  uint64_t last_valid_ns = 0;  // monotonic
  LatencyHistogram latency;

  uint64_t invalid_total() const {
    uint64_t n = 0;
    for (size_t i = 1; i < kCheckCount; ++i) n += invalid[i];
    return n;
  }
  void merge(const Stats& o);
};

struct RunResult {
  Stats stats;
  double elapsed_s = 0;   // first send to end of the drain
  double active_s = 0;    // first send to last valid answer (the rps basis)
  double send_s = 0;      // first send to last send (the send_rate basis)
};

// Opens and connects every socket, runs the threads until the bounds are
// reached (or *stop is set), waits up to --timeout for the last answers.
// Errors are setup failures (socket, bind, connect, thread).
Result<RunResult> run_load(const Options& o, const std::atomic<bool>* stop);

uint64_t mono_ns();

}  // namespace stunbox::load
