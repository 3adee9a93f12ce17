// Fixed-size log-linear latency histogram: 16 sub-buckets per power of two (<= 6.25% error), no allocation when recording.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace stunbox::load {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 4;
  static constexpr uint64_t kSub = 1u << kSubBits;
  static constexpr unsigned kMaxExp = 44;  // 2^44 ns is ~4.9 hours; larger values share the top bucket
  static constexpr size_t kBuckets = kSub + (kMaxExp - kSubBits) * kSub;

  void record(uint64_t ns) noexcept {
    ++counts_[index(ns)];
    ++count_;
    max_ = std::max(max_, ns);
  }

  void merge(const LatencyHistogram& o) noexcept {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    max_ = std::max(max_, o.max_);
  }

  uint64_t count() const noexcept { return count_; }
  uint64_t max() const noexcept { return max_; }

  // Value at quantile q in [0, 1]: the midpoint of the bucket holding the
  // ceil(q * count)-th sample, never above the exact maximum. 0 when empty.
  uint64_t quantile(double q) const noexcept {
    if (count_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.999999);
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(max_, lower(i) + width(i) / 2);
    }
    return max_;
  }

  static size_t index(uint64_t v) noexcept {
    if (v < kSub) return static_cast<size_t>(v);
    const unsigned e = 63 - static_cast<unsigned>(std::countl_zero(v));  // e >= kSubBits
    if (e >= kMaxExp) return kBuckets - 1;
    const uint64_t sub = (v >> (e - kSubBits)) & (kSub - 1);
    return static_cast<size_t>(kSub + (e - kSubBits) * kSub + sub);
  }
  static uint64_t lower(size_t i) noexcept {
    if (i < kSub) return i;
    const unsigned e = static_cast<unsigned>((i - kSub) / kSub) + kSubBits;
    const uint64_t sub = (i - kSub) % kSub;
    return (uint64_t{1} << e) + (sub << (e - kSubBits));
  }
  static uint64_t width(size_t i) noexcept {
    if (i < kSub) return 1;
    const unsigned e = static_cast<unsigned>((i - kSub) / kSub) + kSubBits;
    return uint64_t{1} << (e - kSubBits);
  }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace stunbox::load
