// Abuse controls: source-port deny list, CIDR allow/deny, per-source-prefix rate limit, global cap, L3 policers.
//
// Design (docs/security.md has the long form):
// - Policy is immutable, built once per (re)load from config::LimitsSection;
//   the backends swap a pointer to it, so reload applies live.
// - RateTable is ONE table shared by every worker/lcore, allocated once and
//   kept across reloads (table_size needs a restart). A source is keyed by
//   its prefix (IPv4 /ipv4_prefix, IPv6 /ipv6_prefix; v4-mapped IPv6 counts
//   as IPv4), so it is held to its rate however RSS or SO_REUSEPORT spread
//   its 4-tuples over queues and workers.
// - Each entry is a GCRA ("virtual scheduling" form of a token bucket): one
//   64-bit theoretical arrival time (TAT, ns). A request is allowed when
//   max(TAT, now) + T - now <= burst * T (T = 1e9 / pps); then TAT advances
//   by T with a compare-exchange. Over-limit requests only read the entry.
//   After kCasRetries lost races the request is treated as limited (a source
//   that contends for its own entry from several cores is flooding).
// - 4-way set-associative, 4 entries per 64-byte line; keys are a seeded
//   64-bit hash (the seed is random per process, so sets cannot be aimed at).
//   A new source evicts the way with the smallest TAT: the entry with the
//   most tokens, i.e. idle or short-lived sources; sources held at their limit
//   have TAT ahead of now and stay. A new source starts with a full bucket.
// - Clock: the caller reads now_ns() once per batch: the TSC scaled to
//   nanoseconds (x86; ~10 cycles, exact to the cycle). CLOCK_MONOTONIC_COARSE,
//   used before, moves in kernel ticks (4 ms on Debian's 250 Hz kernels), so
//   a bucket refilled in 4 ms steps: nothing for 4 ms, then a tick's worth at
//   once. Elsewhere CLOCK_MONOTONIC.
// - The global cap is claimed in chunks: each worker holds a GlobalCredit and
//   takes up to kGlobalClaim tokens with one CAS when it runs out, so the
//   shared cache line moves once per chunk, not once per reply; a lost race
//   is retried for as long as tokens remain (every loss means another worker
//   got tokens), so nothing below the cap is dropped for losing races.
// - No allocation, lock or syscall in check(); policy lists are scanned
//   linearly (meant for tens of entries).
#pragma once

#include <atomic>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "config/config.h"
#include "core/address.h"
#include "core/drop_reason.h"

namespace stunbox::limits {

// Monotonic nanoseconds from the TSC (x86), cheap enough to read once per
// batch; before the first call, set_tsc_hz (dpdk: rte_get_tsc_hz) or a
// calibration against CLOCK_MONOTONIC fixes the scale once.
uint64_t now_ns();
// The TSC's frequency, when the caller knows it better than a 10 ms calibration. Call before any
// worker reads the clock.
void set_tsc_hz(uint64_t hz);
// now_ns() for a TSC value the caller already read (the DPDK lcore loop reads
// one after every poll): the same scale without a second rdtsc. x86 only;
// elsewhere it returns now_ns().
uint64_t ns_from_tsc(uint64_t tsc);

// A source as the checks see it: a view of its address (4 or 16 bytes,
// network order) and port (host order), read from the frame or datagram
// without a copy (core/address.h).
using Source = EndpointRef;

// GCRA state of one non-shared bucket (per-lcore L3 policers).
class LocalBucket {
 public:
  // Returns true when a packet may pass at `now`; pps 0 = unlimited.
  bool allow(uint64_t now, uint64_t interval_ns, uint64_t burst) {
    if (interval_ns == 0) return true;
    const uint64_t base = tat_ > now ? tat_ : now;
    const uint64_t next = base + interval_ns;
    if (next - now > burst * interval_ns) return false;
    tat_ = next;
    return true;
  }

 private:
  uint64_t tat_ = 0;
};

// Immutable settings derived from config::LimitsSection.
class Policy {
 public:
  explicit Policy(const config::LimitsSection& cfg);

  bool port_denied(uint16_t port) const { return denied_ports_.test(port); }
  // ACL: deny wins; a non-empty allow list admits only its members. Inline
  // for the common case of no ACL at all (one test per reply, no call).
  bool acl_denied(const Source& s) const { return has_acl_ && acl_lists_deny(s); }
  uint64_t rate_interval_ns() const { return rate_interval_ns_; }   // 0 = off
  uint64_t rate_burst() const { return rate_burst_; }
  uint64_t global_interval_ns() const { return global_interval_ns_; }  // 0 = off
  uint64_t global_burst() const { return global_burst_; }
  uint64_t l3_interval_ns() const { return l3_interval_ns_; }  // echo replies; 0 = off
  uint64_t l3_burst() const { return l3_burst_; }
  uint64_t nd_interval_ns() const { return nd_interval_ns_; }  // ARP replies, neighbour adverts; 0 = off
  uint64_t nd_burst() const { return nd_burst_; }
  uint8_t ipv4_prefix() const { return ipv4_prefix_; }
  uint8_t ipv6_prefix() const { return ipv6_prefix_; }
  const config::LimitsSection& config() const { return cfg_; }

 private:
  struct Cidr {
    bool v6;
    uint64_t hi, lo;            // address (IPv4 in lo's low 32 bits)
    uint64_t mask_hi, mask_lo;
  };
  static Cidr make_cidr(const config::IpPrefix& p);
  static bool match(const std::vector<Cidr>& list, const Source& s);
  bool acl_lists_deny(const Source& s) const;

  config::LimitsSection cfg_;
  std::bitset<65536> denied_ports_;
  std::vector<Cidr> allow_, deny_;
  bool has_acl_ = false;  // !allow_.empty() || !deny_.empty()
  uint64_t rate_interval_ns_ = 0, rate_burst_ = 0;
  uint64_t global_interval_ns_ = 0, global_burst_ = 0;
  uint64_t l3_interval_ns_ = 0, l3_burst_ = 0;
  uint64_t nd_interval_ns_ = 0, nd_burst_ = 0;
  uint8_t ipv4_prefix_ = 32, ipv6_prefix_ = 64;
};

// One lcore's policers of the replies the box originates besides STUN
// (dpdk). Neighbour resolution (ARP replies, neighbour advertisements) has a
// bucket of its own that echo replies never spend: a ping flood over
// limits.l3_pps must not starve the answers the upstream router needs to
// reach the box. Touched by its lcore only.
class L3Policer {
 public:
  // nullopt = send the reply. neighbour: an ARP reply or NA, else an echo reply.
  std::optional<DropReason> check(const Policy& p, bool neighbour, uint64_t now) {
    if (neighbour) {
      if (neighbour_.allow(now, p.nd_interval_ns(), p.nd_burst())) return std::nullopt;
      return DropReason::nd_policed;
    }
    if (echo_.allow(now, p.l3_interval_ns(), p.l3_burst())) return std::nullopt;
    return DropReason::l3_policed;
  }

 private:
  LocalBucket neighbour_;
  LocalBucket echo_;
};

// Shared per-source-prefix buckets; see the header comment.
class RateTable {
 public:
  static constexpr unsigned kWays = 4;
  static constexpr unsigned kCasRetries = 8;

  // entries: power of two >= kWays. seed 0 = random.
  explicit RateTable(size_t entries, uint64_t seed = 0);

  // True when the source prefix may be answered at `now` (consumes a token).
  bool allow(const Policy& p, const Source& s, uint64_t now) { return allow_key(p, key(p, s), now); }
  // allow() for a key computed before (key(), under the same policy).
  bool allow_key(const Policy& p, uint64_t tag, uint64_t now);
  // Key of a source under a policy's prefix lengths (never 0).
  uint64_t key(const Policy& p, const Source& s) const;
  // Asks for the cache line of the key's set, for writing (allow_key CASes it),
  // without reading or changing the table: the caller looks a burst's sources up
  // before checking any of them, so the misses overlap.
  void prefetch(uint64_t tag) const { __builtin_prefetch(&set_of(tag), 1, 3); }

  size_t entries() const { return sets_count_ * kWays; }
  size_t bytes() const { return sets_count_ * sizeof(Set); }

 private:
  struct alignas(64) Set {
    std::atomic<uint64_t> tag[kWays];  // 0 = empty
    std::atomic<uint64_t> tat[kWays];
  };
  Set& set_of(uint64_t tag) const { return sets_[(tag >> 32) & (sets_count_ - 1)]; }
  std::unique_ptr<Set[]> sets_;
  size_t sets_count_;
  uint64_t seed_;
  uint64_t v4_seed_mix_;  // mix(seed_): the first round of every IPv4 key
};

// A whole-process answer cap shared by every worker: one GCRA word.
class GlobalBucket {
 public:
  // Takes up to `want` tokens at `now`; returns how many it got (0 = over the cap).
  uint64_t claim(uint64_t interval_ns, uint64_t burst, uint64_t now, uint64_t want);
  bool allow(uint64_t interval_ns, uint64_t burst, uint64_t now) { return claim(interval_ns, burst, now, 1) == 1; }

 private:
  alignas(64) std::atomic<uint64_t> tat_{0};
};

// Tokens of the global cap a worker claimed and has not spent yet. Owned by
// one worker (lcore or socket thread); at most kGlobalClaim are held, and
// they were counted against the cap when claimed.
struct GlobalCredit {
  uint64_t tokens = 0;
};
inline constexpr uint64_t kGlobalClaim = 16;

// Everything a backend shares between its workers (created once per run).
class Limiter {
 public:
  explicit Limiter(size_t table_entries, uint64_t seed = 0) : table_(table_entries, seed) {}

  // The checks in order for a request that would be answered: source port,
  // ACL, per-source rate, global cap. nullopt = answer it. `credit`: the
  // calling worker's claimed global tokens (nullptr: one token per call).
  // `rate_key`: what prefetch() returned for this source under the same
  // policy, or 0 (computed here).
  std::optional<DropReason> check(const Policy& p, const Source& s, uint64_t now, GlobalCredit* credit = nullptr,
                                  uint64_t rate_key = 0) {
    if (p.port_denied(s.port)) return DropReason::source_port_denied;
    if (p.acl_denied(s)) return DropReason::acl_denied;
    if (p.rate_interval_ns() != 0 && !table_.allow_key(p, rate_key != 0 ? rate_key : table_.key(p, s), now))
      return DropReason::rate_limited;
    if (p.global_interval_ns() != 0) {
      if (credit == nullptr) {
        if (!global_.allow(p.global_interval_ns(), p.global_burst(), now)) return DropReason::global_limited;
      } else {
        if (credit->tokens == 0)
          credit->tokens = global_.claim(p.global_interval_ns(), p.global_burst(), now, kGlobalClaim);
        if (credit->tokens == 0) return DropReason::global_limited;
        --credit->tokens;
      }
    }
    return std::nullopt;
  }

  // A burst's first pass, per request that would be answered: the source's
  // rate-table key, its set prefetched for writing; 0 when the policy has no
  // per-source rate (nothing to fetch). Reads and changes no state: check()
  // still runs every check, in order, in the second pass.
  uint64_t prefetch(const Policy& p, const Source& s) const {
    if (p.rate_interval_ns() == 0) return 0;
    const uint64_t k = table_.key(p, s);
    table_.prefetch(k);
    return k;
  }

  RateTable& table() { return table_; }

 private:
  RateTable table_;
  GlobalBucket global_;
};

}  // namespace stunbox::limits
