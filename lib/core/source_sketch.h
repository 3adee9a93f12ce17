// A per-worker heavy-hitter sketch of request source prefixes (bucketed Space-Saving), published to readers via a seqlock.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace stunbox {

// A source prefix: the address masked to the sketch's prefix length.
// IPv4 addresses sit in the first 4 bytes of `addr`.
struct SourcePrefix {
  std::array<uint8_t, 16> addr{};
  bool v6 = false;
  uint8_t len = 0;  // prefix length in bits
  bool operator==(const SourcePrefix&) const = default;
};

// One tracked prefix. The prefix's true count lies in [count - error, count]
// (Space-Saving's guarantee, Metwally et al. 2005): error is the count the
// entry inherited when it took over a slot.
struct SourceEntry {
  SourcePrefix prefix;
  uint64_t count = 0;
  uint64_t error = 0;
};

// What a reader gets: a consistent copy of one worker's sketch (possibly a
// little stale: the owner publishes every so often, see SourceSketch::publish).
struct SourceSketchSnapshot {
  bool valid = false;        // false: the reader kept colliding with the writer (retry later)
  uint64_t total = 0;        // sampled packets recorded since start (unscaled)
  unsigned sample_shift = 0; // each recorded packet stands for 2^sample_shift packets
  unsigned bucket_size = 0;
  std::vector<SourceEntry> slots;  // bucket-major; count 0 = empty slot

  // Upper bound on the (unscaled) count of a prefix not found in the sketch:
  // the smallest count of its bucket when the bucket is full, else 0 (a
  // prefix with any count would be present). `bucket` from SourceSketch::bucket_of.
  uint64_t absent_bound(size_t bucket) const {
    uint64_t m = UINT64_MAX;
    for (size_t i = bucket * bucket_size; i < (bucket + 1) * bucket_size && i < slots.size(); ++i) {
      if (slots[i].count == 0) return 0;
      m = std::min(m, slots[i].count);
    }
    return m == UINT64_MAX ? 0 : m;
  }
};

// Space-Saving split into buckets of kBucketSize slots chosen by a hash of
// the prefix: a packet costs one hash and at most kBucketSize compares (no
// global min search, no hash table to delete from). Guarantees per bucket:
// count - error <= true <= count, error <= (packets hashed to the bucket) /
// kBucketSize, and every prefix with more than that many packets is present.
//
// Writer: the owning worker only (record(), publish()); no allocation, no
// locks, no syscalls after construction. Readers: any thread, read() copies
// the last published state under a sequence counter (seqlock), so they never
// see a half-written table and never block the owner.
class SourceSketch {
 public:
  static constexpr unsigned kBucketSize = 8;

  // buckets: rounded up to a power of two (>= 1); total slots = buckets * 8.
  // v4_len / v6_len: prefix lengths the sources are grouped by.
  // sample_shift: record one packet in N = 2^sample_shift (0 = every
  // packet); readers scale counts back up by N and widen the bound by the
  // sampling error (merge_top_sources).
  explicit SourceSketch(unsigned buckets = 16, unsigned v4_len = 32, unsigned v6_len = 64, unsigned sample_shift = 0)
      : v4_len_(static_cast<uint8_t>(std::min(v4_len, 32u))),
        v6_len_(static_cast<uint8_t>(std::min(v6_len, 128u))),
        sample_shift_(std::min(sample_shift, 20u)) {
    rng_ = 0x9E3779B97F4A7C15ull ^ reinterpret_cast<uintptr_t>(this);
    countdown_ = next_gap();
    unsigned b = 1;
    while (b < buckets) b <<= 1;
    bucket_mask_ = b - 1;
    slots_ = std::make_unique<Slot[]>(static_cast<size_t>(b) * kBucketSize);
    published_ = std::make_unique<PublishedSlot[]>(static_cast<size_t>(b) * kBucketSize);
  }

  SourceSketch(const SourceSketch&) = delete;
  SourceSketch& operator=(const SourceSketch&) = delete;

  size_t slot_count() const { return (static_cast<size_t>(bucket_mask_) + 1) * kBucketSize; }
  size_t bucket_count() const { return static_cast<size_t>(bucket_mask_) + 1; }
  unsigned sample_shift() const { return sample_shift_; }

  // The masked prefix of an address (network order bytes, 4 or 16 of them).
  SourcePrefix prefix_of(const uint8_t* addr, bool v6) const {
    SourcePrefix p;
    p.v6 = v6;
    p.len = v6 ? v6_len_ : v4_len_;
    const unsigned n = v6 ? 16 : 4;
    std::memcpy(p.addr.data(), addr, n);
    const unsigned full = p.len / 8;
    const unsigned rest = p.len % 8;
    for (unsigned i = full; i < n; ++i) {
      p.addr[i] = i == full && rest != 0 ? static_cast<uint8_t>(p.addr[i] & (0xFF << (8 - rest))) : uint8_t{0};
    }
    return p;
  }

  size_t bucket_of(const SourcePrefix& p) const { return static_cast<size_t>(hash(pack(p)) & bucket_mask_); }

  // Data path: one packet from `addr` (network order; 4 bytes when !v6).
  // Sampled, one packet in N: a countdown per packet (a decrement and a
  // predictable branch), the hash and the bucket scan only for the sampled
  // ones. The gaps are random, uniform in 1..2N-1 (mean N), so a source
  // whose packets arrive in step with N (two sources alternating, N even) is
  // sampled as often as any other; every packet's chance is 1/N in the long run.
  void record(const uint8_t* addr, bool v6) {
    if (--countdown_ != 0) [[likely]] return;
    countdown_ = next_gap();
    const Key k = pack(prefix_of(addr, v6));
    Slot* b = &slots_[static_cast<size_t>(hash(k) & bucket_mask_) * kBucketSize];
    ++total_;
    dirty_ = true;
    Slot* min = b;
    for (unsigned i = 0; i < kBucketSize; ++i) {
      if (b[i].count != 0 && b[i].key == k) {
        ++b[i].count;
        return;
      }
      if (b[i].count < min->count) min = &b[i];
    }
    // Not tracked: take over the least-counted slot (an empty one has count 0).
    min->error = min->count;
    min->count += 1;
    min->key = k;
  }

  // Data path, every so often (not per packet): copies the table to the
  // readers' side when something changed. O(slots) relaxed stores.
  void publish() {
    if (!dirty_) return;
    dirty_ = false;
    const uint64_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);  // odd: writing
    std::atomic_thread_fence(std::memory_order_release);
    for (size_t i = 0; i < slot_count(); ++i) {
      const Slot& from = slots_[i];
      PublishedSlot& to = published_[i];
      to.w[0].store(from.key.a, std::memory_order_relaxed);
      to.w[1].store(from.key.b, std::memory_order_relaxed);
      to.w[2].store(from.key.meta, std::memory_order_relaxed);
      to.w[3].store(from.count, std::memory_order_relaxed);
      to.w[4].store(from.error, std::memory_order_relaxed);
    }
    published_total_.store(total_, std::memory_order_relaxed);
    seq_.store(s + 2, std::memory_order_release);
  }

  // Any thread: the last published table. Allocates (reader side only).
  SourceSketchSnapshot read(unsigned max_tries = 1000) const {
    SourceSketchSnapshot out;
    out.sample_shift = sample_shift_;
    out.bucket_size = kBucketSize;
    out.slots.resize(slot_count());
    for (unsigned attempt = 0; attempt < max_tries; ++attempt) {
      const uint64_t before = seq_.load(std::memory_order_acquire);
      if ((before & 1) != 0) continue;
      for (size_t i = 0; i < slot_count(); ++i) {
        const PublishedSlot& from = published_[i];
        Key k{from.w[0].load(std::memory_order_relaxed), from.w[1].load(std::memory_order_relaxed),
              from.w[2].load(std::memory_order_relaxed)};
        out.slots[i].prefix = unpack(k);
        out.slots[i].count = from.w[3].load(std::memory_order_relaxed);
        out.slots[i].error = from.w[4].load(std::memory_order_relaxed);
      }
      out.total = published_total_.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == before) {
        out.valid = true;
        return out;
      }
    }
    out.slots.clear();
    return out;
  }

 private:
  // A prefix packed into words for cheap compares: a, b = the 16 address
  // bytes; meta = v6 flag and prefix length.
  struct Key {
    uint64_t a = 0, b = 0, meta = 0;
    bool operator==(const Key&) const = default;
  };
  struct Slot {
    Key key;
    uint64_t count = 0;
    uint64_t error = 0;
  };
  struct PublishedSlot {
    std::array<std::atomic<uint64_t>, 5> w{};
  };

  static Key pack(const SourcePrefix& p) {
    Key k;
    std::memcpy(&k.a, p.addr.data(), 8);
    std::memcpy(&k.b, p.addr.data() + 8, 8);
    k.meta = (p.v6 ? 0x100u : 0u) | p.len;
    return k;
  }
  static SourcePrefix unpack(const Key& k) {
    SourcePrefix p;
    std::memcpy(p.addr.data(), &k.a, 8);
    std::memcpy(p.addr.data() + 8, &k.b, 8);
    p.v6 = (k.meta & 0x100u) != 0;
    p.len = static_cast<uint8_t>(k.meta & 0xFFu);
    return p;
  }
  // A multiply-xorshift mix (constants from splitmix64): cheap and spreads
  // neighbouring addresses over the buckets.
  static uint64_t hash(const Key& k) {
    uint64_t h = k.a * 0x9E3779B97F4A7C15ull ^ (k.b + k.meta) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    h *= 0x94D049BB133111EBull;
    return h ^ (h >> 29);
  }

  // setup: wo; owner: ro
  uint8_t v4_len_;
  uint8_t v6_len_;
  unsigned sample_shift_;
  uint64_t bucket_mask_ = 0;
  // The next sampling gap: 1 without sampling, else uniform in 1..2N-1 (xorshift64).
  uint64_t next_gap() {
    if (sample_shift_ == 0) return 1;
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    const uint64_t span = (uint64_t{2} << sample_shift_) - 1;
    return 1 + rng_ % span;
  }

  // owner: rw
  std::unique_ptr<Slot[]> slots_;
  uint64_t total_ = 0;
  uint64_t countdown_ = 1;
  uint64_t rng_ = 0;
  bool dirty_ = false;
  // owner: wo (publish), readers: ro (read)
  alignas(64) std::atomic<uint64_t> seq_{0};
  std::atomic<uint64_t> published_total_{0};
  std::unique_ptr<PublishedSlot[]> published_;
};

// Several workers' snapshots (of sketches with the same bucket count)
// merged into one list, heaviest first. A prefix's count is the sum of the
// workers' counts; its error sums the workers' errors plus, for a worker
// whose sketch lacks it, that worker's absent bound, so the true number lies
// within count +- error (count - error <= true <= count + error). Counts are
// scaled by the sampling (x N), and so are those bounds; with sampling the
// error also carries the sampling's own: two standard deviations of a
// 1-in-N Bernoulli sample, 2 N sqrt(sampled + 1) (the random-gap sampler
// varies less than that), so "true within count +- error" holds with about
// 95% confidence instead of always. `total` receives the (scaled) recorded
// packets.
inline std::vector<SourceEntry> merge_top_sources(const std::vector<SourceSketchSnapshot>& sketches, size_t top,
                                                  uint64_t& total) {
  std::vector<SourceEntry> merged;
  total = 0;
  for (const SourceSketchSnapshot& s : sketches) total += s.total << s.sample_shift;
  for (size_t w = 0; w < sketches.size(); ++w) {
    const SourceSketchSnapshot& sw = sketches[w];
    for (size_t i = 0; i < sw.slots.size(); ++i) {
      const SourceEntry& e = sw.slots[i];
      if (e.count == 0) continue;
      // Counted already when met in an earlier worker's sketch.
      bool earlier = false;
      const size_t bucket = sw.bucket_size == 0 ? 0 : i / sw.bucket_size;
      auto find_in = [&](const SourceSketchSnapshot& s) -> const SourceEntry* {
        const bool same_shape = s.slots.size() == sw.slots.size() && s.bucket_size == sw.bucket_size;
        const size_t from = same_shape ? bucket * s.bucket_size : 0;
        const size_t to = same_shape ? from + s.bucket_size : s.slots.size();
        for (size_t k = from; k < to && k < s.slots.size(); ++k) {
          if (s.slots[k].count != 0 && s.slots[k].prefix == e.prefix) return &s.slots[k];
        }
        return nullptr;
      };
      for (size_t v = 0; v < w && !earlier; ++v) earlier = find_in(sketches[v]) != nullptr;
      if (earlier) continue;
      SourceEntry sum{e.prefix, 0, 0};
      double sampling_var = 0;  // of the scaled count, summed over the sampled sketches
      for (const SourceSketchSnapshot& s : sketches) {
        uint64_t sampled = 0;
        if (const SourceEntry* f = find_in(s)) {
          sum.count += f->count << s.sample_shift;
          sum.error += f->error << s.sample_shift;
          sampled = f->count;
        } else if (s.slots.size() == sw.slots.size() && s.bucket_size == sw.bucket_size) {
          sum.error += s.absent_bound(bucket) << s.sample_shift;
          sampled = s.absent_bound(bucket);
        }
        if (s.sample_shift != 0) {
          const double n = static_cast<double>(uint64_t{1} << s.sample_shift);
          sampling_var += n * n * static_cast<double>(sampled + 1);
        }
      }
      if (sampling_var > 0) sum.error += static_cast<uint64_t>(std::ceil(2.0 * std::sqrt(sampling_var)));
      merged.push_back(sum);
    }
  }
  std::sort(merged.begin(), merged.end(), [](const SourceEntry& x, const SourceEntry& y) {
    if (x.count != y.count) return x.count > y.count;
    return x.error < y.error;
  });
  if (merged.size() > top) merged.resize(top);
  return merged;
}

// A snapshot of each sketch, in order (what "show top sources" merges).
inline std::vector<SourceSketchSnapshot> read_all(const std::vector<std::unique_ptr<SourceSketch>>& sketches) {
  std::vector<SourceSketchSnapshot> out;
  for (const auto& s : sketches) out.push_back(s->read());
  return out;
}

}  // namespace stunbox
