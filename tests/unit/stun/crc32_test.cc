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

// crc32_fixed<N> (the fast path's straight-line CRC) equals the reference
// for each length it is instantiated with, from a zero and a running CRC, at
// every alignment.
template <size_t N>
void expect_fixed_matches(const std::vector<uint8_t>& data) {
  for (size_t shift = 0; shift < 8; ++shift) {
    const uint8_t* p = data.data() + shift;
    ASSERT_EQ(crc32_fixed<N>(0, p), test::reference_crc32(p, N)) << "length " << N << " shift " << shift;
    const uint32_t head = crc32(p, 4);
    ASSERT_EQ(crc32_fixed<N>(head, p + 4), crc32(head, p + 4, N)) << "length " << N << " shift " << shift;
  }
}

TEST(Crc32, FixedLengthMatchesReference) {
  std::mt19937 rng(777);
  std::vector<uint8_t> data(128);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  expect_fixed_matches<4>(data);
  expect_fixed_matches<8>(data);
  expect_fixed_matches<12>(data);
  expect_fixed_matches<16>(data);
  expect_fixed_matches<20>(data);  // a STUN header
  expect_fixed_matches<24>(data);  // XOR-MAPPED-ADDRESS, IPv6
  expect_fixed_matches<32>(data);  // header + XOR-MAPPED-ADDRESS, IPv4
  expect_fixed_matches<44>(data);  // header + XOR-MAPPED-ADDRESS, IPv6
  expect_fixed_matches<92>(data);
}

}  // namespace
}  // namespace stunbox::stun
