// Abuse controls: policy construction, ACL matching, the shared GCRA rate table and the global cap.
#include "limits/limiter.h"

#include <time.h>

#include <mutex>
#include <random>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace stunbox::limits {

namespace {

constexpr uint64_t kNsPerSecond = 1000000000;

// Interval between tokens; rounded up so a rate never exceeds what was configured.
uint64_t interval_for(uint64_t pps) { return pps == 0 ? 0 : (kNsPerSecond + pps - 1) / pps; }

// A tenth of a second's worth, at least one: the burst of the caps that have no burst key.
uint64_t tenth_burst(uint64_t pps) { return pps / 10 == 0 ? 1 : pps / 10; }

uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Mask of the top `len` bits of a 64-bit half whose first bit is bit `offset` of the address.
uint64_t half_mask(unsigned len, unsigned offset) {
  if (len <= offset) return 0;
  const unsigned bits = len - offset;
  return bits >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - bits);
}

// splitmix64 finaliser: cheap and well mixed.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSecond + static_cast<uint64_t>(ts.tv_nsec);
}

#if defined(__x86_64__) || defined(__i386__)
// ns = ((tsc - base) * mult) >> 32. Written once (set_tsc_hz or the first
// now_ns), before workers read it; read-only afterwards.
struct TscScale {
  uint64_t base = 0;
  uint64_t base_ns = 0;
  std::atomic<uint64_t> mult{0};  // 0 = not set yet; stored last (release)
};
TscScale g_scale;
std::once_flag g_scale_once;

void set_scale(uint64_t hz) {
  g_scale.base = __rdtsc();
  g_scale.base_ns = monotonic_ns();
  g_scale.mult.store(static_cast<uint64_t>((static_cast<unsigned __int128>(kNsPerSecond) << 32) / hz),
                     std::memory_order_release);
}

// The TSC against CLOCK_MONOTONIC over 10 ms (EAL calibrates the same way without a better source).
uint64_t calibrate_tsc_hz() {
  const uint64_t t0 = monotonic_ns(), c0 = __rdtsc();
  uint64_t t1;
  do t1 = monotonic_ns();
  while (t1 - t0 < 10 * 1000 * 1000);
  const uint64_t c1 = __rdtsc();
  return static_cast<uint64_t>(static_cast<double>(c1 - c0) * 1e9 / static_cast<double>(t1 - t0));
}
#endif

}  // namespace

#if defined(__x86_64__) || defined(__i386__)
void set_tsc_hz(uint64_t hz) {
  std::call_once(g_scale_once, [hz] { set_scale(hz != 0 ? hz : calibrate_tsc_hz()); });
}

uint64_t now_ns() {
  uint64_t mult = g_scale.mult.load(std::memory_order_acquire);  // a plain load on x86
  if (mult == 0) [[unlikely]] {
    set_tsc_hz(0);
    mult = g_scale.mult.load(std::memory_order_acquire);
  }
  // base_ns keeps the values on CLOCK_MONOTONIC's scale (ns since boot), as before.
  return g_scale.base_ns +
         static_cast<uint64_t>((static_cast<unsigned __int128>(__rdtsc() - g_scale.base) * mult) >> 32);
}
uint64_t ns_from_tsc(uint64_t tsc) {
  uint64_t mult = g_scale.mult.load(std::memory_order_acquire);
  if (mult == 0) [[unlikely]] {
    set_tsc_hz(0);
    mult = g_scale.mult.load(std::memory_order_acquire);
  }
  return g_scale.base_ns + static_cast<uint64_t>((static_cast<unsigned __int128>(tsc - g_scale.base) * mult) >> 32);
}
#else
void set_tsc_hz(uint64_t) {}
uint64_t now_ns() { return monotonic_ns(); }
uint64_t ns_from_tsc(uint64_t) { return monotonic_ns(); }
#endif

// ---------------------------------------------------------------------------
// Policy

Policy::Policy(const config::LimitsSection& cfg) : cfg_(cfg) {
  for (uint16_t p : cfg.deny_source_ports) denied_ports_.set(p);
  for (const auto& p : cfg.allow) allow_.push_back(make_cidr(p));
  for (const auto& p : cfg.deny) deny_.push_back(make_cidr(p));
  has_acl_ = !allow_.empty() || !deny_.empty();
  if (cfg.rate.pps != 0) {
    rate_interval_ns_ = interval_for(cfg.rate.pps);
    rate_burst_ = cfg.rate.burst == 0 ? 1 : cfg.rate.burst;
  }
  global_interval_ns_ = interval_for(cfg.global_pps);
  global_burst_ = tenth_burst(cfg.global_pps);
  l3_interval_ns_ = interval_for(cfg.l3_pps);
  l3_burst_ = tenth_burst(cfg.l3_pps);
  nd_interval_ns_ = interval_for(cfg.nd_pps);
  nd_burst_ = tenth_burst(cfg.nd_pps);
  ipv4_prefix_ = cfg.rate.ipv4_prefix;
  ipv6_prefix_ = cfg.rate.ipv6_prefix;
}

Policy::Cidr Policy::make_cidr(const config::IpPrefix& p) {
  Cidr c{};
  c.v6 = p.ip.v6;
  if (c.v6) {
    c.mask_hi = half_mask(p.length, 0);
    c.mask_lo = half_mask(p.length, 64);
    c.hi = load_be64(p.ip.bytes.data()) & c.mask_hi;
    c.lo = load_be64(p.ip.bytes.data() + 8) & c.mask_lo;
  } else {
    c.mask_lo = p.length == 0 ? 0 : (0xffffffffull << (32 - p.length)) & 0xffffffffull;
    c.lo = load_be32(p.ip.bytes.data()) & c.mask_lo;
  }
  return c;
}

bool Policy::match(const std::vector<Cidr>& list, const Source& s) {
  if (s.v6) {
    const uint64_t hi = load_be64(s.addr), lo = load_be64(s.addr + 8);
    for (const Cidr& c : list)
      if (c.v6 && (hi & c.mask_hi) == c.hi && (lo & c.mask_lo) == c.lo) return true;
  } else {
    const uint64_t a = load_be32(s.addr);
    for (const Cidr& c : list)
      if (!c.v6 && (a & c.mask_lo) == c.lo) return true;
  }
  return false;
}

bool Policy::acl_lists_deny(const Source& s) const {
  if (!deny_.empty() && match(deny_, s)) return true;
  return !allow_.empty() && !match(allow_, s);
}

// ---------------------------------------------------------------------------
// RateTable

RateTable::RateTable(size_t entries, uint64_t seed) {
  if (entries < kWays) entries = kWays;
  sets_count_ = entries / kWays;
  // value-initialised: every tag 0 (empty), every TAT 0. The only allocation.
  sets_ = std::make_unique<Set[]>(sets_count_);
  if (seed == 0) {
    std::random_device rd;
    seed = (uint64_t{rd()} << 32) | rd();
  }
  seed_ = seed | 1;
  v4_seed_mix_ = mix(seed_);  // an IPv4 key's first round: its high half is always 0
}

uint64_t RateTable::key(const Policy& p, const Source& s) const {
  uint64_t hi = 0, lo = 0;
  if (s.v6) {
    const unsigned len = p.ipv6_prefix();
    hi = load_be64(s.addr) & half_mask(len, 0);
    lo = load_be64(s.addr + 8) & half_mask(len, 64);
  } else {
    const unsigned len = p.ipv4_prefix();
    lo = load_be32(s.addr) & ((0xffffffffull << (32 - len)) & 0xffffffffull);
  }
  // For IPv4 (hi 0) the first round is the same for every source: computed once.
  const uint64_t h = s.v6 ? mix(mix(hi ^ seed_) ^ lo ^ 0x9e3779b97f4a7c15ull) : mix(v4_seed_mix_ ^ lo);
  return h == 0 ? 1 : h;  // 0 marks an empty way
}

bool RateTable::allow_key(const Policy& p, uint64_t tag, uint64_t now) {
  const uint64_t t = p.rate_interval_ns();
  const uint64_t limit = p.rate_burst() * t;  // how far ahead of now the TAT may run
  Set& set = set_of(tag);
  for (unsigned attempt = 0; attempt < kCasRetries; ++attempt) {
    unsigned way = kWays;
    for (unsigned w = 0; w < kWays; ++w)
      if (set.tag[w].load(std::memory_order_acquire) == tag) {
        way = w;
        break;
      }
    if (way != kWays) {
      uint64_t tat = set.tat[way].load(std::memory_order_acquire);
      const uint64_t next = (tat > now ? tat : now) + t;
      if (next - now > limit) return false;
      if (set.tat[way].compare_exchange_weak(tat, next, std::memory_order_acq_rel)) return true;
      continue;  // lost a race (or the way was evicted): look again
    }
    // Not present: evict the way with the most tokens (smallest TAT; empty ways have 0).
    unsigned victim = 0;
    uint64_t best = ~uint64_t{0};
    for (unsigned w = 0; w < kWays; ++w) {
      const uint64_t v = set.tat[w].load(std::memory_order_relaxed);
      if (v < best) best = v, victim = w;
    }
    uint64_t old_tag = set.tag[victim].load(std::memory_order_relaxed);
    if (!set.tag[victim].compare_exchange_strong(old_tag, tag, std::memory_order_acq_rel)) continue;
    // A new source starts with a full bucket and spends one token now.
    set.tat[victim].store(now + t, std::memory_order_release);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// GlobalBucket

uint64_t GlobalBucket::claim(uint64_t interval_ns, uint64_t burst, uint64_t now, uint64_t want) {
  const uint64_t limit = burst * interval_ns;
  uint64_t tat = tat_.load(std::memory_order_relaxed);
  // No retry limit: a failed CAS means another worker took tokens, so the
  // loop ends when the claim lands or the bucket is empty (lock-free).
  for (;;) {
    const uint64_t base = tat > now ? tat : now;
    const uint64_t ahead = base - now;  // how far the bucket is already spent
    if (ahead + interval_ns > limit) return 0;
    const uint64_t fit = (limit - ahead) / interval_ns;
    const uint64_t n = want < fit ? want : fit;
    if (tat_.compare_exchange_weak(tat, base + n * interval_ns, std::memory_order_relaxed)) return n;
  }
}

}  // namespace stunbox::limits
