// Unit tests of the source-prefix sketch: exact counts for few prefixes, heavy hitters among noise within the bound, no allocation on the data path, torn-free reads.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <cstdlib>
#include <map>
#include <new>
#include <random>
#include <thread>

#include "core/source_sketch.h"

#include "alloc_counter.h"

namespace stunbox {
namespace {

std::array<uint8_t, 4> v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }

uint64_t count_of(const std::vector<SourceEntry>& top, const SourcePrefix& p, uint64_t* error = nullptr) {
  for (const SourceEntry& e : top) {
    if (e.prefix == p) {
      if (error != nullptr) *error = e.error;
      return e.count;
    }
  }
  return 0;
}

std::vector<SourceEntry> top_of(const SourceSketch& s, size_t n, uint64_t& total) {
  std::vector<SourceSketchSnapshot> snaps{s.read()};
  EXPECT_TRUE(snaps[0].valid);
  return merge_top_sources(snaps, n, total);
}

TEST(SourceSketch, ExactForFewPrefixesAndOrdered) {
  SourceSketch s;
  const auto a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2), c = v4(192, 0, 2, 7);
  for (int i = 0; i < 300; ++i) s.record(a.data(), false);
  for (int i = 0; i < 100; ++i) s.record(b.data(), false);
  for (int i = 0; i < 7; ++i) s.record(c.data(), false);
  uint64_t total = 0;
  // Nothing shows before the owner publishes.
  EXPECT_TRUE(top_of(s, 10, total).empty());
  EXPECT_EQ(total, 0u);
  s.publish();
  const auto top = top_of(s, 10, total);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(total, 407u);
  EXPECT_EQ(top[0].prefix, s.prefix_of(a.data(), false));
  EXPECT_EQ(top[0].count, 300u);
  EXPECT_EQ(top[1].count, 100u);
  EXPECT_EQ(top[2].count, 7u);
  for (const SourceEntry& e : top) EXPECT_EQ(e.error, 0u);
  EXPECT_EQ(top_of(s, 2, total).size(), 2u);
}

TEST(SourceSketch, GroupsByPrefixLength) {
  SourceSketch s(16, 24, 48);
  const auto a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 200), c = v4(10, 0, 1, 1);
  std::array<uint8_t, 16> x{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0xaa, 0xbb, 1, 2, 3, 4, 5, 6, 7, 8};
  std::array<uint8_t, 16> y = x;
  y[6] = 0x11;  // same /48, different /64
  s.record(a.data(), false);
  s.record(b.data(), false);
  s.record(c.data(), false);
  s.record(x.data(), true);
  s.record(y.data(), true);
  s.publish();
  uint64_t total = 0;
  const auto top = top_of(s, 10, total);
  ASSERT_EQ(top.size(), 3u);
  const SourcePrefix p24 = s.prefix_of(a.data(), false);
  EXPECT_EQ(p24.len, 24);
  EXPECT_EQ(p24.addr[3], 0);
  EXPECT_EQ(count_of(top, p24), 2u);
  const SourcePrefix p48 = s.prefix_of(x.data(), true);
  EXPECT_EQ(p48.len, 48);
  EXPECT_TRUE(p48.v6);
  EXPECT_EQ(p48.addr[6], 0);
  EXPECT_EQ(count_of(top, p48), 2u);
  // An IPv4 prefix never equals an IPv6 one with the same leading bytes.
  std::array<uint8_t, 16> a16{};
  std::memcpy(a16.data(), a.data(), 4);
  EXPECT_FALSE(s.prefix_of(a16.data(), false) == s.prefix_of(a16.data(), true));
}

TEST(SourceSketch, HeavyHittersFoundAmongRandomNoiseWithinBound) {
  constexpr unsigned kBuckets = 16;
  SourceSketch s(kBuckets);
  std::mt19937 rng(12345);
  std::map<uint32_t, uint64_t> truth;
  // 5 heavy sources with 10% of the packets each, the rest spread over
  // 50000 random addresses: no heavy one may be missed (each has more than
  // the bucket bound N_bucket/8 <= N/8 even if all of them share a bucket).
  const uint32_t heavy[5] = {0x0A000001, 0x0A000002, 0xC0000201, 0xC6120001, 0x7F000001};
  constexpr uint64_t kPackets = 200000;
  for (uint64_t i = 0; i < kPackets; ++i) {
    uint32_t addr = (i % 10) < 5 ? heavy[i % 10] : 0x64000000u + rng() % 50000;
    const auto b = v4(static_cast<uint8_t>(addr >> 24), static_cast<uint8_t>(addr >> 16),
                      static_cast<uint8_t>(addr >> 8), static_cast<uint8_t>(addr));
    s.record(b.data(), false);
    ++truth[addr];
  }
  s.publish();
  uint64_t total = 0;
  const auto top = top_of(s, 5, total);
  EXPECT_EQ(total, kPackets);
  ASSERT_EQ(top.size(), 5u);
  for (uint32_t h : heavy) {
    const auto b = v4(static_cast<uint8_t>(h >> 24), static_cast<uint8_t>(h >> 16), static_cast<uint8_t>(h >> 8),
                      static_cast<uint8_t>(h));
    uint64_t error = 0;
    const uint64_t est = count_of(top, s.prefix_of(b.data(), false), &error);
    ASSERT_NE(est, 0u) << std::hex << h << " missing from the top 5";
    const uint64_t real = truth[h];
    EXPECT_LE(real, est + error);
    EXPECT_GE(real + error, est);
    // Space-Saving never underestimates a tracked key: est >= real, and the
    // error is bounded by the packets of its bucket over the bucket size.
    EXPECT_GE(est, real);
    EXPECT_LE(error, kPackets / SourceSketch::kBucketSize);
  }
}

TEST(SourceSketch, SamplingScalesCountsWithinTheShownBound) {
  SourceSketch s(16, 32, 64, 3);  // one packet in 8
  const auto a = v4(10, 0, 0, 1);
  constexpr uint64_t kPackets = 8000;
  for (uint64_t i = 0; i < kPackets; ++i) s.record(a.data(), false);
  s.publish();
  uint64_t total = 0;
  const auto top = top_of(s, 1, total);
  ASSERT_EQ(top.size(), 1u);
  // Scaled by 8; the bound carries the sampling's two standard deviations.
  EXPECT_EQ(top[0].count % 8, 0u);
  EXPECT_GT(top[0].error, 0u) << "a sampled count is never shown as exact";
  EXPECT_LE(top[0].count > kPackets ? top[0].count - kPackets : kPackets - top[0].count, top[0].error)
      << "count " << top[0].count << " error " << top[0].error;
  EXPECT_EQ(total, top[0].count);
}

// Sources whose packets come in step with N (two alternating, N = 2): a
// sampler that takes every Nth packet sees only one of them. Random gaps
// sample both about equally.
TEST(SourceSketch, SamplingSeesSourcesThatAlternateInStepWithN) {
  SourceSketch s(16, 32, 64, 1);  // one packet in 2
  const auto a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
  constexpr int kEach = 5000;
  for (int i = 0; i < kEach; ++i) {
    s.record(a.data(), false);
    s.record(b.data(), false);
  }
  s.publish();
  uint64_t total = 0;
  const auto top = top_of(s, 2, total);
  ASSERT_EQ(top.size(), 2u);
  for (const auto& e : top) {
    EXPECT_LE(e.count > kEach ? e.count - kEach : kEach - e.count, e.error) << e.count << " +- " << e.error;
    EXPECT_GT(e.count, kEach / 2) << "one source is starved by the sampling";
  }
}

TEST(SourceSketch, MergesWorkersAndBoundsAbsentOnes) {
  SourceSketch w0(1), w1(1);  // one bucket each: 8 slots
  const auto a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2);
  for (int i = 0; i < 30; ++i) w0.record(a.data(), false);
  for (int i = 0; i < 10; ++i) w1.record(a.data(), false);
  for (int i = 0; i < 25; ++i) w1.record(b.data(), false);
  w0.publish();
  w1.publish();
  uint64_t total = 0;
  auto top = merge_top_sources({w0.read(), w1.read()}, 10, total);
  EXPECT_EQ(total, 65u);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].count, 40u);  // a: summed over both workers
  EXPECT_EQ(top[0].error, 0u);
  EXPECT_EQ(top[1].count, 25u);
  EXPECT_EQ(top[1].error, 0u);  // w0's bucket is not full: b certainly absent there
  // Fill w0's bucket with other sources: b's absence in w0 now only means
  // "at most the bucket minimum".
  for (uint8_t k = 10; k < 20; ++k) {
    const auto o = v4(10, 1, 0, k);
    w0.record(o.data(), false);
  }
  w0.publish();
  top = merge_top_sources({w0.read(), w1.read()}, 10, total);
  uint64_t error = 0;
  EXPECT_EQ(count_of(top, w1.prefix_of(b.data(), false), &error), 25u);
  EXPECT_GE(error, 1u);
}

TEST(SourceSketch, RecordAndPublishDoNotAllocate) {
  SourceSketch s(32);
  std::mt19937 rng(7);
  const size_t before = g_allocations.load();
  for (int i = 0; i < 100000; ++i) {
    const uint32_t r = rng();
    std::array<uint8_t, 16> addr{};
    std::memcpy(addr.data(), &r, 4);
    s.record(addr.data(), (r & 1) != 0);
    if (i % 64 == 0) s.publish();
  }
  EXPECT_EQ(g_allocations.load(), before);
  // The instrument works: a read (reader side) allocates.
  const SourceSketchSnapshot snap = s.read();
  EXPECT_GT(g_allocations.load(), before);
  EXPECT_TRUE(snap.valid);
}

TEST(SourceSketch, ReadersNeverSeeATornTable) {
  // The owner keeps one source's count equal to the total; a reader that saw
  // a half-published table would see them differ.
  SourceSketch s(4);
  std::atomic<bool> done{false};
  std::thread owner([&] {
    const auto a = v4(10, 9, 8, 7);
    for (int i = 0; i < 200000; ++i) {
      s.record(a.data(), false);
      s.publish();
    }
    done.store(true);
  });
  uint64_t reads = 0;
  while (!done.load() || reads == 0) {
    const SourceSketchSnapshot snap = s.read();
    if (!snap.valid) continue;
    ++reads;
    uint64_t sum = 0;
    for (const SourceEntry& e : snap.slots) sum += e.count;
    ASSERT_EQ(sum, snap.total);
  }
  owner.join();
  EXPECT_GT(reads, 0u);
}

}  // namespace
}  // namespace stunbox
