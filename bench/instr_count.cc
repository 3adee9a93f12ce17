// Instructions per packet that do not depend on a noisy machine: N calls of respond() or reflect() on one request,
// to run under callgrind (scripts/instr-count.sh divides the total by N and subtracts the harness's own loop).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <ctime>

#include "bench_frames.h"
#include "core/source_sketch.h"
#include "limits/limiter.h"

using namespace stunbox;
using namespace stunbox::bench;

namespace {

constexpr size_t kRoom = 2048;
alignas(64) uint8_t g_buf[kRoom];

int usage() {
  std::fprintf(stderr,
               "usage: stunbox-instr-count WHAT N\n"
               "  WHAT: empty | respond_v4 | respond_v6 | respond_fp_v4 | reflect_sw_v4 | reflect_sw_v6 |\n"
               "        reflect_offload_v4 | reflect_sw_fp_v4 |\n"
               "        per_reply_base | sketch_every | sketch_sample64 | global_cas | global_claim |\n"
               "        clock_base | clock_coarse | clock_tsc\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return usage();
  const std::string_view what = argv[1];
  const long n = std::atol(argv[2]);
  if (n <= 0) return usage();
  const Lab lab;
  const stun::ResponderConfig cfg;
  const frame::PortIdentity port = port_identity(lab);
  stun::Endpoint client{lab.client_v4, 40000};  // respond_v6 reads the same 16 bytes as IPv6
  unsigned long sink = 0;

  auto run_respond = [&](const Bytes& req, bool v6) {
    client.ip.v6 = v6;
    for (long i = 0; i < n; ++i) {
      std::memcpy(g_buf, req.data(), req.size());
      sink += stun::respond(cfg, g_buf, req.size(), kRoom, client).length;
    }
  };
  auto run_reflect = [&](const Bytes& frame, bool offload) {
    for (long i = 0; i < n; ++i) {
      std::memcpy(g_buf, frame.data(), frame.size());
      const frame::Verdict v = offload ? frame::reflect<true>(g_buf, frame.size(), kRoom, port, cfg, {})
                                       : frame::reflect<false>(g_buf, frame.size(), kRoom, port, cfg, {});
      if (!v.tx) {
        std::fprintf(stderr, "stunbox-instr-count: %s was not answered\n", argv[1]);
        return false;
      }
      sink += v.length;
    }
    return true;
  };

  if (what == "empty") {
    // The harness alone: the copy of a request per call, what the others add to it.
    const Bytes req = stun_request(StunKind::plain);
    for (long i = 0; i < n; ++i) {
      std::memcpy(g_buf, req.data(), req.size());
      sink += g_buf[0];
    }
  } else if (what == "respond_v4") {
    run_respond(stun_request(StunKind::plain), false);
  } else if (what == "respond_v6") {
    run_respond(stun_request(StunKind::plain), true);
  } else if (what == "respond_fp_v4") {
    run_respond(stun_request(StunKind::fingerprint), false);
  } else if (what == "reflect_sw_v4") {
    if (!run_reflect(udp4_frame(lab, 40000, stun_request(StunKind::plain)), false)) return 1;
  } else if (what == "reflect_sw_v6") {
    if (!run_reflect(udp6_frame(lab, 40000, stun_request(StunKind::plain)), false)) return 1;
  } else if (what == "reflect_offload_v4") {
    if (!run_reflect(udp4_frame(lab, 40000, stun_request(StunKind::plain)), true)) return 1;
  } else if (what == "reflect_sw_fp_v4") {
    if (!run_reflect(udp4_frame(lab, 40000, stun_request(StunKind::fingerprint)), false)) return 1;
  } else if (what == "per_reply_base" || what == "sketch_every" || what == "sketch_sample64" ||
             what == "global_cas" || what == "global_claim") {
    // Issue 14 item 7, per answered request: "show top sources" recording one of 1024 sources
    // (every packet, as before, or 1 in 64, the default), and limits.global_pps checked with one
    // CAS per reply (before) or against the worker's claimed tokens (after). per_reply_base is the
    // loop alone.
    static uint8_t addrs[1024][4];
    for (unsigned i = 0; i < 1024; ++i) {
      addrs[i][0] = 198, addrs[i][1] = 18, addrs[i][2] = static_cast<uint8_t>(i >> 8), addrs[i][3] = static_cast<uint8_t>(i);
    }
    SourceSketch sketch(16, 32, 64, what == "sketch_sample64" ? 6 : 0);
    config::LimitsSection lc;
    lc.global_pps = 1000000000;
    const limits::Policy policy(lc);
    limits::Limiter limiter(1024, 1);
    limits::GlobalCredit credit;
    const bool sk = what.starts_with("sketch"), cap = what.starts_with("global");
    for (long i = 0; i < n; ++i) {
      const uint8_t* a = addrs[i & 1023];
      if (sk) sketch.record(a, false);
      if (cap) sink += limiter.check(policy, {a, 40000, false}, static_cast<uint64_t>(i) * 2, what == "global_claim" ? &credit : nullptr).has_value();
      sink += a[3];
    }
  } else if (what == "clock_base" || what == "clock_coarse" || what == "clock_tsc") {
    // The limiter's clock, read once per burst: CLOCK_MONOTONIC_COARSE (before) or the TSC (after).
    if (what == "clock_tsc") limits::set_tsc_hz(2000000000);  // a fixed scale: no calibration in the count
    for (long i = 0; i < n; ++i) {
      if (what == "clock_coarse") {
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        sink += static_cast<unsigned long>(ts.tv_nsec);
      } else if (what == "clock_tsc") {
        sink += limits::now_ns();
      } else {
        sink += static_cast<unsigned long>(i);
      }
    }
  } else {
    return usage();
  }
  std::printf("%lu\n", sink);
  return 0;
}
