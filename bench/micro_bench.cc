// Google Benchmark microbenchmarks of the per-packet code: STUN responder, frame reflect, checksums, CRC-32 (ns and TSC cycles per packet).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <cstring>
#include <vector>
#include <string>
#include <x86intrin.h>

#include "bench_frames.h"
#include "core/source_sketch.h"
#include "frame/checksum.h"
#include "limits/limiter.h"
#include "frame/reflect.h"
#include "stun/crc32.h"
#include "stun/responder.h"

namespace stunbox::bench {
namespace {

// Packet benchmarks work like the lcore loop: one iteration restores a
// burst of kBurst requests (the responder rewrites in place), then answers
// them all, so the reads do not wait on the stores just made. Per-op
// benchmarks (checksums, CRC) run kBurst ops per iteration.
constexpr size_t kBurst = 32;

// Adds two per-item counters: "ns", Google Benchmark's CPU time per packet
// or op, and "cycles", TSC cycles (as DPDK counts them) per item taken from
// the median iteration. The median, not the total: on a shared machine a
// preempted burst would inflate a mean while the median burst ran
// undisturbed. The two rdtsc per burst add under one cycle per item.
template <typename F>
void run_with_cycles(benchmark::State& state, size_t per_iteration, F&& body) {
  static std::vector<uint64_t> deltas(size_t{1} << 16);  // latest bursts; allocated before timing
  size_t n_iter = 0;
  for (auto _ : state) {
    const uint64_t t0 = __rdtsc();
    body();
    deltas[n_iter++ & (deltas.size() - 1)] = __rdtsc() - t0;
  }
  const size_t kept = std::min(n_iter, deltas.size());
  const auto mid = deltas.begin() + static_cast<std::ptrdiff_t>(kept / 2);
  std::nth_element(deltas.begin(), mid, deltas.begin() + static_cast<std::ptrdiff_t>(kept));
  const double per = static_cast<double>(per_iteration);
  state.counters["cycles"] = benchmark::Counter(kept == 0 ? 0 : static_cast<double>(*mid) / per);
  state.counters["ns"] = benchmark::Counter(static_cast<double>(state.iterations()) * per,
                                            benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

struct Buffer {
  alignas(64) uint8_t data[2048];
};

void BM_restore(benchmark::State& state) {
  const Bytes req = udp4_frame(Lab{}, 40000, stun_request(StunKind::fingerprint));
  static Buffer buf[kBurst];
  run_with_cycles(state, kBurst, [&] {
    for (auto& b : buf) std::memcpy(b.data, req.data(), req.size());
    benchmark::DoNotOptimize(buf);
    benchmark::ClobberMemory();
  });
}
BENCHMARK(BM_restore);

void BM_respond(benchmark::State& state, StunKind kind, bool v6) {
  const Bytes req = stun_request(kind);
  stun::ResponderConfig cfg;
  stun::Endpoint client;
  client.ip.v6 = v6;
  for (size_t i = 0; i < client.ip.bytes.size(); ++i) client.ip.bytes[i] = static_cast<uint8_t>(0x20 + i);
  client.port = 40000;
  Buffer buf;
  std::memcpy(buf.data, req.data(), req.size());
  const stun::Answer check = stun::respond(cfg, buf.data, req.size(), sizeof buf.data, client);
  const bool want_error = kind == StunKind::unknown_attr;
  if (check.outcome != (want_error ? stun::Outcome::error : stun::Outcome::success)) {
    state.SkipWithError("respond did not answer the benchmark request");
    return;
  }
  static Buffer bufs[kBurst];
  run_with_cycles(state, kBurst, [&] {
    for (auto& b : bufs) std::memcpy(b.data, req.data(), req.size());
    for (auto& b : bufs) benchmark::DoNotOptimize(stun::respond(cfg, b.data, req.size(), sizeof b.data, client));
    benchmark::ClobberMemory();
  });
}
BENCHMARK_CAPTURE(BM_respond, plain_v4, StunKind::plain, false);
BENCHMARK_CAPTURE(BM_respond, plain_v6, StunKind::plain, true);
BENCHMARK_CAPTURE(BM_respond, fingerprint_v4, StunKind::fingerprint, false);
BENCHMARK_CAPTURE(BM_respond, ice_rfc5769_v4, StunKind::ice, false);
BENCHMARK_CAPTURE(BM_respond, classic_v4, StunKind::classic, false);
BENCHMARK_CAPTURE(BM_respond, error_420_v4, StunKind::unknown_attr, false);

enum class FrameKind : uint8_t { v4_plain, v4_fingerprint, v6_plain, v6_fingerprint, arp };

Bytes make_frame(FrameKind k) {
  const Lab lab;
  switch (k) {
    case FrameKind::v4_plain: return udp4_frame(lab, 40000, stun_request(StunKind::plain));
    case FrameKind::v4_fingerprint: return udp4_frame(lab, 40000, stun_request(StunKind::fingerprint));
    case FrameKind::v6_plain: return udp6_frame(lab, 40000, stun_request(StunKind::plain));
    case FrameKind::v6_fingerprint: return udp6_frame(lab, 40000, stun_request(StunKind::fingerprint));
    case FrameKind::arp: return arp_request(lab);
  }
  return {};
}

template <bool kTxOffload>
void BM_reflect(benchmark::State& state, FrameKind kind, bool rx_hints_good) {
  const Bytes req = make_frame(kind);
  const frame::PortIdentity port = port_identity(Lab{});
  const stun::ResponderConfig cfg;
  frame::RxHints hints;
  if (rx_hints_good) hints = {frame::CsumState::good, frame::CsumState::good};
  Buffer buf;
  std::memcpy(buf.data, req.data(), req.size());
  if (!frame::reflect<kTxOffload>(buf.data, req.size(), sizeof buf.data, port, cfg, hints).tx) {
    state.SkipWithError("reflect did not answer the benchmark frame");
    return;
  }
  static Buffer bufs[kBurst];
  run_with_cycles(state, kBurst, [&] {
    for (auto& b : bufs) std::memcpy(b.data, req.data(), req.size());
    for (auto& b : bufs)
      benchmark::DoNotOptimize(frame::reflect<kTxOffload>(b.data, req.size(), sizeof b.data, port, cfg, hints));
    benchmark::ClobberMemory();
  });
}
void BM_reflect_sw(benchmark::State& state, FrameKind kind) { BM_reflect<false>(state, kind, false); }
void BM_reflect_offload(benchmark::State& state, FrameKind kind) { BM_reflect<true>(state, kind, true); }

// <false>: software checksums both ways (vdevs, NICs without offloads).
// <true> + RX hints: a NIC that verifies and fills checksums.
BENCHMARK_CAPTURE(BM_reflect_sw, v4_plain, FrameKind::v4_plain);
BENCHMARK_CAPTURE(BM_reflect_sw, v4_fingerprint, FrameKind::v4_fingerprint);
BENCHMARK_CAPTURE(BM_reflect_sw, v6_plain, FrameKind::v6_plain);
BENCHMARK_CAPTURE(BM_reflect_sw, v6_fingerprint, FrameKind::v6_fingerprint);
BENCHMARK_CAPTURE(BM_reflect_sw, arp, FrameKind::arp);
BENCHMARK_CAPTURE(BM_reflect_offload, v4_plain, FrameKind::v4_plain);
BENCHMARK_CAPTURE(BM_reflect_offload, v4_fingerprint, FrameKind::v4_fingerprint);
BENCHMARK_CAPTURE(BM_reflect_offload, v6_plain, FrameKind::v6_plain);

void BM_csum_sum(benchmark::State& state) {
  const Bytes f = make_frame(FrameKind::v4_fingerprint);
  const size_t n = static_cast<size_t>(state.range(0));
  Buffer buf;
  std::memcpy(buf.data, f.data(), f.size());
  run_with_cycles(state, kBurst, [&] {
    for (size_t i = 0; i < kBurst; ++i) {
      benchmark::DoNotOptimize(buf.data);
      benchmark::DoNotOptimize(frame::csum::sum(buf.data + 14, n));
    }
  });
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBurst * n));
}
// 20: an IPv4 header; 36/44: UDP + STUN request without/with FINGERPRINT.
BENCHMARK(BM_csum_sum)->Arg(20)->Arg(36)->Arg(44)->Arg(1500);

void BM_csum_pseudo_v4(benchmark::State& state) {
  const Lab lab;
  run_with_cycles(state, kBurst, [&] {
    for (size_t i = 0; i < kBurst; ++i) {
      benchmark::DoNotOptimize(lab);
      benchmark::DoNotOptimize(frame::csum::pseudo_v4(lab.client_v4.data(), lab.server_v4.data(), 17, 40));
    }
  });
}
BENCHMARK(BM_csum_pseudo_v4);

void BM_csum_pseudo_v6(benchmark::State& state) {
  const Lab lab;
  run_with_cycles(state, kBurst, [&] {
    for (size_t i = 0; i < kBurst; ++i) {
      benchmark::DoNotOptimize(lab);
      benchmark::DoNotOptimize(frame::csum::pseudo_v6(lab.client_v6.data(), lab.server_v6.data(), 17, 40));
    }
  });
}
BENCHMARK(BM_csum_pseudo_v6);

void BM_csum_update16(benchmark::State& state) {
  uint16_t c = 0x1234, w = 0x0800;
  run_with_cycles(state, kBurst, [&] {
    for (size_t i = 0; i < kBurst; ++i) {
      benchmark::DoNotOptimize(c);
      benchmark::DoNotOptimize(w);
      benchmark::DoNotOptimize(frame::csum::update16(c, w, 0x0000));
    }
  });
}
BENCHMARK(BM_csum_update16);

void BM_crc32(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  Buffer buf;
  for (size_t i = 0; i < sizeof buf.data; ++i) buf.data[i] = static_cast<uint8_t>(i * 7 + 1);
  run_with_cycles(state, kBurst, [&] {
    for (size_t i = 0; i < kBurst; ++i) {
      benchmark::DoNotOptimize(buf.data);
      benchmark::DoNotOptimize(stun::crc32(buf.data, n));
    }
  });
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBurst * n));
}
// 20: a bare request; 32: the response before FINGERPRINT; 100: the RFC 5769
// s2.1 request; 1400: a large message.
BENCHMARK(BM_crc32)->Arg(20)->Arg(32)->Arg(44)->Arg(100)->Arg(1400);

// Issue 14 item 7: what "show top sources" and the global cap cost per
// answered request. The sketch records a burst of kBurst sources from 1024
// distinct /32s (arg: sample shift; 0 = every packet, as before issue 14;
// 6 = the default 1 in 64).
void BM_sketch_record(benchmark::State& state) {
  SourceSketch sketch(16, 32, 64, state.range(0) < 0 ? 0u : static_cast<unsigned>(state.range(0)));
  static uint8_t addrs[1024][4];
  for (unsigned i = 0; i < 1024; ++i) {
    addrs[i][0] = 198;
    addrs[i][1] = 18;
    addrs[i][2] = static_cast<uint8_t>(i >> 8);
    addrs[i][3] = static_cast<uint8_t>(i);
  }
  unsigned next = 0;
  run_with_cycles(state, kBurst, [&] {
    if (state.range(0) < 0) {  // the loop alone: what the other two add to it is the sketch
      for (size_t i = 0; i < kBurst; ++i) benchmark::DoNotOptimize(addrs[next++ & 1023]);
    } else {
      for (size_t i = 0; i < kBurst; ++i) sketch.record(addrs[next++ & 1023], false);
    }
    benchmark::ClobberMemory();
  });
}
BENCHMARK(BM_sketch_record)->Arg(-1)->Arg(0)->Arg(6);

// limits.global_pps on one worker: one CAS on the shared word per reply
// (arg 0, as before issue 14) or a claim of kGlobalClaim tokens (arg 1).
// Uncontended here: with several lcores the per-reply CAS also moves the
// cache line between cores every reply.
void BM_global_cap(benchmark::State& state) {
  config::LimitsSection c;
  c.global_pps = 1000000000;
  limits::Policy p(c);
  limits::Limiter lim(1024, 1);
  limits::GlobalCredit credit;
  limits::GlobalCredit* cr = state.range(0) != 0 ? &credit : nullptr;
  const uint8_t a[4] = {198, 18, 0, 1};
  uint64_t now = 1000000;
  run_with_cycles(state, kBurst, [&] {
    now += 1000;
    for (size_t i = 0; i < kBurst; ++i) benchmark::DoNotOptimize(lim.check(p, {a, 40000, false}, now, cr));
  });
}
BENCHMARK(BM_global_cap)->Arg(0)->Arg(1);

// The same from 2 threads (two lcores) on one shared Limiter: here the
// per-reply CAS moves the cap's cache line between the cores on every reply.
// Reported as ns per check (items); wall time, so run it on an idle machine.
void BM_global_cap_shared(benchmark::State& state) {
  static config::LimitsSection c = [] {
    config::LimitsSection l;
    l.global_pps = 1000000000;
    return l;
  }();
  static limits::Policy p(c);
  static limits::Limiter lim(1024, 1);
  limits::GlobalCredit credit;
  limits::GlobalCredit* cr = state.range(0) != 0 ? &credit : nullptr;
  const uint8_t a[4] = {198, 18, 0, static_cast<uint8_t>(state.thread_index() + 1)};
  uint64_t dropped = 0;
  for (auto _ : state) {
    const uint64_t now = limits::now_ns();  // one clock read per burst, as the lcores do
    for (size_t i = 0; i < kBurst; ++i) dropped += lim.check(p, {a, 40000, false}, now, cr).has_value();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBurst));
  state.counters["dropped"] = benchmark::Counter(static_cast<double>(dropped), benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_global_cap_shared)->Arg(0)->Arg(1)->Threads(2)->UseRealTime();

// The limiter's clock, read once per burst: CLOCK_MONOTONIC_COARSE (before) and the TSC (now).
void BM_clock(benchmark::State& state) {
  run_with_cycles(state, 1, [&] {
    if (state.range(0) == 0) {
      timespec ts;
      clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
      benchmark::DoNotOptimize(ts);
    } else {
      benchmark::DoNotOptimize(limits::now_ns());
    }
  });
}
BENCHMARK(BM_clock)->Arg(0)->Arg(1);

}  // namespace
}  // namespace stunbox::bench

BENCHMARK_MAIN();
