// Unit tests for lib/limits: GCRA bucket math on a synthetic clock, prefix keying, eviction under a flood, threads, ACL and ports.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <thread>
#include <vector>

#include "limits/limiter.h"

#include "alloc_counter.h"

namespace stunbox::limits {
namespace {

constexpr uint64_t kMs = 1000000;

config::IpPrefix cidr(const std::string& text) {
  config::IpPrefix p;
  size_t slash = text.find('/');
  p.ip = *config::parse_ip(text.substr(0, slash));
  p.length = static_cast<uint8_t>(slash == std::string::npos ? (p.ip.v6 ? 128 : 32) : std::stoi(text.substr(slash + 1)));
  p.text = text;
  return p;
}

// An address that hands out source views of itself (the view points into it).
struct Addr : IpAddress {
  Source src(uint16_t port = 40000) const { return {data(), port, v6}; }
};

Addr ip(const std::string& text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return Addr{a.value_or(IpAddress{})};
}

config::LimitsSection rate_cfg(unsigned pps, unsigned burst) {
  config::LimitsSection c;
  c.rate.pps = pps;
  c.rate.burst = burst;
  return c;
}

TEST(RateTable, BurstThenExactRateOnSyntheticClock) {
  Policy p(rate_cfg(100, 5));  // T = 10 ms
  RateTable t(1024, 42);
  Addr a = ip("192.0.2.1");
  const uint64_t t0 = 1000 * kMs;
  int first = 0;
  for (int i = 0; i < 20; ++i) first += t.allow(p, a.src(), t0);
  EXPECT_EQ(first, 5);  // a new source starts with a full bucket
  EXPECT_FALSE(t.allow(p, a.src(), t0 + 9 * kMs));
  EXPECT_TRUE(t.allow(p, a.src(), t0 + 10 * kMs));
  EXPECT_FALSE(t.allow(p, a.src(), t0 + 10 * kMs));
  // One attempt per ms for a second: one more every 10 ms, no more.
  int allowed = 0;
  for (uint64_t ms = 11; ms < 1011; ++ms) allowed += t.allow(p, a.src(), t0 + ms * kMs);
  EXPECT_EQ(allowed, 100);
  // Idle for a long time: the bucket refills to burst, not beyond.
  int refill = 0;
  for (int i = 0; i < 20; ++i) refill += t.allow(p, a.src(), t0 + 100000 * kMs);
  EXPECT_EQ(refill, 5);
}

TEST(RateTable, PrefixKeying) {
  config::LimitsSection c = rate_cfg(1, 1);
  {
    Policy p32(c);
    RateTable t(1024, 7);
    EXPECT_TRUE(t.allow(p32, ip("10.0.0.1").src(), kMs));
    EXPECT_TRUE(t.allow(p32, ip("10.0.0.2").src(), kMs));  // /32: its own bucket
    EXPECT_FALSE(t.allow(p32, ip("10.0.0.1").src(9), kMs));  // any port: same bucket
  }
  c.rate.ipv4_prefix = 24;
  {
    Policy p24(c);
    RateTable t(1024, 7);
    EXPECT_TRUE(t.allow(p24, ip("10.0.0.1").src(), kMs));
    EXPECT_FALSE(t.allow(p24, ip("10.0.0.200").src(), kMs));  // same /24
    EXPECT_TRUE(t.allow(p24, ip("10.0.1.1").src(), kMs));
    EXPECT_EQ(t.key(p24, ip("10.0.0.1").src()), t.key(p24, ip("10.0.0.99").src()));
  }
  Policy p64(rate_cfg(1, 1));  // ipv6_prefix 64 by default
  RateTable t(1024, 7);
  EXPECT_TRUE(t.allow(p64, ip("2001:2::1").src(), kMs));
  EXPECT_FALSE(t.allow(p64, ip("2001:2::ffff:1234:1").src(), kMs));  // same /64
  EXPECT_TRUE(t.allow(p64, ip("2001:2:0:1::1").src(), kMs));        // next /64
  // An IPv4 address and an IPv6 address with the same leading bytes differ.
  EXPECT_NE(t.key(p64, ip("10.0.0.1").src()), t.key(p64, ip("a00:1::").src()));
}

TEST(RateTable, FloodOfDistinctSourcesKeepsMemoryAndHeavySourceLimited) {
  Policy p(rate_cfg(50, 10));  // T = 20 ms
  RateTable t(1024, 99);
  const size_t bytes = t.bytes();
  EXPECT_EQ(t.entries(), 1024u);
  Addr heavy = ip("192.0.2.7");
  Addr spoof;
  int heavy_allowed = 0;
  const uint64_t start = 5000 * kMs;
  const uint64_t before = g_allocations.load();
  // 1,000,000 distinct sources over 10 simulated seconds; the heavy source
  // tries 1000 times a second (every 100th packet) against a limit of 50.
  for (uint32_t i = 0; i < 1000000; ++i) {
    const uint64_t now = start + uint64_t{i} * 10000;  // 10 us apart
    const uint32_t a = 0x0a000000u + i;
    spoof.bytes[0] = static_cast<uint8_t>(a >> 24), spoof.bytes[1] = static_cast<uint8_t>(a >> 16);
    spoof.bytes[2] = static_cast<uint8_t>(a >> 8), spoof.bytes[3] = static_cast<uint8_t>(a);
    t.allow(p, spoof.src(), now);
    if (i % 100 == 0) heavy_allowed += t.allow(p, heavy.src(), now);
  }
  EXPECT_EQ(g_allocations.load(), before) << "the hot path allocated";
  EXPECT_EQ(t.bytes(), bytes);
  // 10 s at 50/s plus the initial burst; evicting it would hand out fresh bursts.
  EXPECT_LE(heavy_allowed, 50 * 10 + 10 + 1);
  EXPECT_GE(heavy_allowed, 450);
}

// Two threads race on one source's bucket. Each walks the same virtual
// 400 ms in 10 us steps (the clock is a parameter, so a busy machine that
// deschedules a thread changes nothing): the racing compare-exchanges must
// neither hand out a token twice nor lose one.
TEST(RateTable, TwoThreadsHoldTheCombinedRate) {
  Policy p(rate_cfg(20000, 100));
  RateTable t(1024, 3);
  Addr a = ip("198.18.0.9");
  std::atomic<int> allowed{0};
  std::atomic<bool> go{false};
  constexpr uint64_t kStepNs = 10000;
  constexpr uint64_t kEndNs = 400000000;
  auto body = [&] {
    while (!go.load()) {
    }
    int mine = 0;
    for (uint64_t ns = kMs; ns <= kMs + kEndNs; ns += kStepNs) mine += t.allow(p, a.src(static_cast<uint16_t>(ns)), ns);
    allowed += mine;
  };
  std::thread x(body), y(body);
  go = true;
  x.join();
  y.join();
  // rate x 0.4 s, plus the burst a new source starts with.
  const int expected = 20000 * 4 / 10 + 100;
  EXPECT_LE(allowed.load(), expected + 1);
  EXPECT_GE(allowed.load(), expected - 2);
}

TEST(GlobalBucket, CapsAllSourcesTogether) {
  config::LimitsSection c;
  c.global_pps = 100;  // burst: a tenth of a second = 10
  Policy p(c);
  Limiter lim(1024, 5);
  int pass = 0, capped = 0;
  for (int i = 0; i < 50; ++i) {
    Addr a = ip("192.0.2." + std::to_string(i + 1));
    auto r = lim.check(p, a.src(), kMs);
    if (!r) ++pass;
    else if (*r == DropReason::global_limited) ++capped;
  }
  EXPECT_EQ(pass, 10);
  EXPECT_EQ(capped, 40);
  EXPECT_FALSE(lim.check(p, ip("192.0.2.1").src(), kMs + 10 * kMs).has_value());
}

// Two workers (lcores) answering together at 90% of limits.global_pps, on
// one shared virtual clock: not one reply may be dropped as global_limited.
// Before, every reply CASed the one shared word and a reply that lost 8
// races in a row was dropped even below the cap; now each worker claims
// kGlobalClaim tokens at a time and retries a lost race for as long as
// tokens remain.
void two_workers_below_the_cap(bool with_credit) {
  config::LimitsSection c;
  c.global_pps = 1000000;  // interval 1000 ns, burst 100000
  Policy p(c);
  Limiter lim(1024, 7);
  std::atomic<uint64_t> clock{kMs};
  std::atomic<uint64_t> dropped{0}, passed{0};
  std::atomic<int> arrived{0};
  std::atomic<bool> go{false};
  constexpr int kPerWorker = 300000;
  auto worker = [&](uint8_t id) {
    GlobalCredit credit;
    Addr a = ip("198.18.1." + std::to_string(id));
    while (!go.load()) {
    }
    uint64_t d = 0, ok = 0;
    for (int i = 0; i < kPerWorker; ++i) {
      // Both workers walk the clock in step (a barrier every 1000 replies): a worker descheduled
      // between reading "now" and its claim would otherwise come back with a time older than the
      // bucket's depth, which real lcores (one clock read per burst of microseconds) never do.
      if (i % 1000 == 0) {
        const int want = 2 * (i / 1000 + 1);
        arrived.fetch_add(1);
        while (arrived.load() < want) std::this_thread::yield();
      }
      // 2 workers x one reply per 2222 ns each = 900000 per second together.
      const uint64_t now = clock.fetch_add(1111, std::memory_order_relaxed);
      auto r = lim.check(p, a.src(), now, with_credit ? &credit : nullptr);
      if (r) ++d;
      else ++ok;
    }
    dropped += d;
    passed += ok;
  };
  std::thread x(worker, 1), y(worker, 2);
  go = true;
  x.join();
  y.join();
  EXPECT_EQ(dropped.load(), 0u) << (with_credit ? "claimed per chunk" : "one CAS per reply");
  EXPECT_EQ(passed.load(), 2u * kPerWorker);
}

TEST(GlobalBucket, TwoWorkersBelowTheCapDropNothing) {
  two_workers_below_the_cap(true);
  two_workers_below_the_cap(false);
}

TEST(GlobalBucket, ClaimsTakeWhatFitsAndHoldTheCap) {
  config::LimitsSection c;
  c.global_pps = 100;  // burst 10
  Policy p(c);
  Limiter lim(1024, 5);
  GlobalCredit a, b;
  int pass = 0;
  for (int i = 0; i < 20; ++i) pass += !lim.check(p, ip("192.0.2.1").src(), kMs, i % 2 ? &a : &b).has_value();
  // The first claim takes all 10 that fit (fewer than kGlobalClaim); the other worker gets none.
  EXPECT_EQ(pass, 10);
  // 100 ms later: ten more tokens, no more.
  pass = 0;
  for (int i = 0; i < 20; ++i) pass += !lim.check(p, ip("192.0.2.1").src(), kMs + 100 * kMs, &b).has_value();
  EXPECT_EQ(pass, 10);
}

// The rate limiter's clock must move between two bursts a fraction of a
// millisecond apart: CLOCK_MONOTONIC_COARSE (used before) moves in kernel
// ticks, 4 ms on Debian's 250 Hz kernels, so most such pairs read equal and
// buckets refill in 4 ms lumps.
TEST(Clock, MovesWithinMicrosecondsNotKernelTicks) {
  int moved = 0;
  for (int i = 0; i < 20; ++i) {
    const uint64_t a = now_ns();
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    while (std::chrono::steady_clock::now() < until) {
    }
    const uint64_t b = now_ns();
    if (b - a >= 150000 && b - a < 50 * kMs) ++moved;
  }
  EXPECT_GE(moved, 18);
}

TEST(Policy, AclDenyAllowAndDenyWins) {
  config::LimitsSection c;
  c.deny = {cidr("198.18.0.0/15")};
  Policy d(c);
  EXPECT_TRUE(d.acl_denied(ip("198.19.1.1").src()));
  EXPECT_FALSE(d.acl_denied(ip("198.20.0.1").src()));
  EXPECT_FALSE(d.acl_denied(ip("2001:2::1").src()));

  c.deny = {cidr("10.9.0.0/16")};
  c.allow = {cidr("10.0.0.0/8"), cidr("2001:2::/48")};
  Policy a(c);
  EXPECT_FALSE(a.acl_denied(ip("10.1.2.3").src()));
  EXPECT_TRUE(a.acl_denied(ip("11.0.0.1").src()));
  EXPECT_TRUE(a.acl_denied(ip("10.9.1.1").src()));  // deny wins
  EXPECT_FALSE(a.acl_denied(ip("2001:2:0:ffff::5").src()));
  EXPECT_TRUE(a.acl_denied(ip("2001:3::1").src()));

  c.allow.clear();
  c.deny = {cidr("0.0.0.0/0")};
  Policy all4(c);
  EXPECT_TRUE(all4.acl_denied(ip("1.2.3.4").src()));
  EXPECT_FALSE(all4.acl_denied(ip("::2").src()));
  c.deny = {cidr("2001:2::5/128")};
  Policy one6(c);
  EXPECT_TRUE(one6.acl_denied(ip("2001:2::5").src()));
  EXPECT_FALSE(one6.acl_denied(ip("2001:2::6").src()));
}

TEST(Policy, SourcePortsAndCheckOrder) {
  config::LimitsSection c;  // default deny_source_ports
  Policy p(c);
  for (uint16_t port : {0, 7, 19, 53, 111, 123, 137, 161, 389, 1900, 5353, 11211}) EXPECT_TRUE(p.port_denied(port)) << port;
  EXPECT_FALSE(p.port_denied(3479));
  EXPECT_FALSE(p.port_denied(40000));
  c.deny_source_ports.clear();
  EXPECT_FALSE(Policy(c).port_denied(53));

  config::LimitsSection o = rate_cfg(1, 1);
  o.deny = {cidr("192.0.2.0/24")};
  Policy q(o);
  Limiter lim(1024, 1);
  // Port first, then ACL, then rate.
  EXPECT_EQ(lim.check(q, ip("192.0.2.1").src(53), kMs), DropReason::source_port_denied);
  EXPECT_EQ(lim.check(q, ip("192.0.2.1").src(4000), kMs), DropReason::acl_denied);
  EXPECT_FALSE(lim.check(q, ip("203.0.113.1").src(4000), kMs).has_value());
  EXPECT_EQ(lim.check(q, ip("203.0.113.1").src(4001), kMs), DropReason::rate_limited);
  // Denied requests spend no tokens.
  EXPECT_EQ(lim.check(q, ip("203.0.113.2").src(53), kMs), DropReason::source_port_denied);
  EXPECT_FALSE(lim.check(q, ip("203.0.113.2").src(4000), kMs).has_value());
}

// Limiter::prefetch (a burst's first pass) reads and changes nothing: the
// key it returns is RateTable::key, 0 without a rate; check() with that key
// gives the same answers, in the same order of checks, as check() without one.
TEST(Limiter, PrefetchChangesNothingAndItsKeyChecksTheSame) {
  config::LimitsSection o = rate_cfg(1, 2);
  o.deny = {cidr("192.0.2.0/24")};
  const Policy q(o);
  const Policy no_rate{config::LimitsSection{}};
  Limiter with_key(1024, 7), without(1024, 7);
  const std::vector<Addr> sources = {ip("203.0.113.1"), ip("192.0.2.1"), ip("2001:db8::1"), ip("203.0.113.1"),
                                     ip("2001:db8::2"), ip("203.0.113.1"), ip("2001:db8::1"), ip("198.51.100.7")};
  for (int i = 0; i < 3; ++i) {
    for (size_t n = 0; n < sources.size(); ++n) {
      const uint16_t port = n == 4 ? 53 : 40000;
      const Source s = sources[n].src(port);
      EXPECT_EQ(with_key.prefetch(no_rate, s), 0u);
      const uint64_t k = with_key.prefetch(q, s);
      EXPECT_EQ(k, with_key.table().key(q, s));
      EXPECT_EQ(with_key.prefetch(q, s), k) << "prefetch changed the table";
      EXPECT_EQ(with_key.check(q, s, kMs, nullptr, k), without.check(q, s, kMs)) << "round " << i << " source " << n;
    }
  }
}

TEST(LocalBucket, BurstThenRate) {
  config::LimitsSection c;
  c.l3_pps = 100;  // burst 10
  Policy p(c);
  LocalBucket b;
  int pass = 0;
  for (int i = 0; i < 30; ++i) pass += b.allow(kMs, p.l3_interval_ns(), p.l3_burst());
  EXPECT_EQ(pass, 10);
  EXPECT_TRUE(b.allow(kMs + 10 * kMs, p.l3_interval_ns(), p.l3_burst()));
  c.l3_pps = 0;
  Policy off(c);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.allow(kMs, off.l3_interval_ns(), off.l3_burst()));
}

// Echo and neighbour replies have a bucket each: a flood of one never spends the other's.
TEST(L3Policer, EchoAndNeighbourBudgetsAreSeparate) {
  config::LimitsSection c;
  c.l3_pps = 100;  // echo burst 10
  c.nd_pps = 50;   // neighbour burst 5
  const Policy p(c);
  L3Policer l3;
  int echo = 0, neighbour = 0;
  for (int i = 0; i < 1000; ++i) echo += !l3.check(p, false, kMs).has_value();
  EXPECT_EQ(echo, 10);
  EXPECT_EQ(l3.check(p, false, kMs), DropReason::l3_policed);
  for (int i = 0; i < 1000; ++i) neighbour += !l3.check(p, true, kMs).has_value();
  EXPECT_EQ(neighbour, 5);
  EXPECT_EQ(l3.check(p, true, kMs), DropReason::nd_policed);
  // Refilled at their own rates: 100 ms gives 10 echo and 5 neighbour tokens.
  echo = neighbour = 0;
  for (int i = 0; i < 100; ++i) {
    echo += !l3.check(p, false, 101 * kMs).has_value();
    neighbour += !l3.check(p, true, 101 * kMs).has_value();
  }
  EXPECT_EQ(echo, 10);
  EXPECT_EQ(neighbour, 5);
  c.nd_pps = 0;
  const Policy nd_off(c);
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(l3.check(nd_off, true, kMs).has_value());
}

}  // namespace
}  // namespace stunbox::limits
