// CRC-32 against the standard check value and a bit-at-a-time reference, over every length and split.
#include "stun/crc32.h"

#include <gtest/gtest.h>

#include <random>

#include "test_util.h"

namespace stunbox::stun {
namespace {

TEST(Crc32, CheckValue) {
  const std::string_view s = "123456789";
  EXPECT_EQ(crc32(reinterpret_cast<const uint8_t*>(s.data()), s.size()), 0xCBF43926u);
  EXPECT_EQ(crc32(nullptr, 0), 0u);
}

TEST(Crc32, MatchesReferenceForEveryLengthAndSplit) {
  std::mt19937 rng(12345);
  std::vector<uint8_t> data(300);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t n = 0; n <= data.size(); ++n) {
    const uint32_t want = test::reference_crc32(data.data(), n);
    ASSERT_EQ(crc32(data.data(), n), want) << "length " << n;
    // Chaining over an arbitrary split gives the same value.
    const size_t cut = n / 3;
    ASSERT_EQ(crc32(crc32(data.data(), cut), data.data() + cut, n - cut), want) << "length " << n;
  }
}

TEST(Crc32, UnalignedInput) {
  std::vector<uint8_t> data(64 + 8);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  for (size_t shift = 0; shift < 8; ++shift) {
    EXPECT_EQ(crc32(data.data() + shift, 64), test::reference_crc32(data.data() + shift, 64));
  }
}

}  // namespace
}  // namespace stunbox::stun
