// Internet checksum, pseudo-header and RFC 1624 incremental update against known values and a naive oracle.
#include "frame/checksum.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "packet.h"

namespace stunbox::frame {
namespace {

using pkt::Bytes;

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 s3: the sum of 0001 f203 f4f5 f6f7 folds to ddf2.
  const Bytes b{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(csum::fold(csum::sum(b.data(), b.size())), 0xddf2);
  EXPECT_EQ(csum::finish(csum::sum(b.data(), b.size())), 0x220d);
}

TEST(Checksum, KnownIpv4Header) {
  // 192.168.0.1 -> 192.168.0.199, UDP, TTL 64, DF: checksum 0xb861.
  Bytes h{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
          0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(csum::finish(csum::sum(h.data(), h.size())), 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  EXPECT_TRUE(csum::verify(csum::sum(h.data(), h.size())));
  h[11] = 0x62;
  EXPECT_FALSE(csum::verify(csum::sum(h.data(), h.size())));
}

TEST(Checksum, MatchesNaiveOracleForEveryLengthAndAlignment) {
  std::mt19937 rng(1);
  Bytes buf(600);
  for (int round = 0; round < 4; ++round) {
    for (auto& x : buf) x = static_cast<uint8_t>(rng());
    if (round == 3) std::fill(buf.begin(), buf.end(), 0xFF);  // worst case for carries
    for (size_t start = 0; start < 8; ++start) {
      for (size_t n = 0; n + start <= 540; ++n) {
        Bytes slice(buf.begin() + static_cast<long>(start), buf.begin() + static_cast<long>(start + n));
        ASSERT_EQ(csum::finish(csum::sum(buf.data() + start, n)), pkt::ref_checksum(slice))
            << "start " << start << " n " << n;
      }
    }
  }
}

// The raw domain (native loads, no swaps): the field it yields, stored with
// memcpy, is the oracle's checksum in network order; raw16 values and raw
// address sums enter like the bytes they stand for; a filled-in region verifies.
TEST(Checksum, RawDomainMatchesOracle) {
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    const size_t n = rng() % 200;
    Bytes b(n + 4);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    if (i % 7 == 0) std::fill(b.begin(), b.end(), i % 14 == 0 ? 0x00 : 0xFF);  // carry and zero edges
    const uint16_t host = static_cast<uint16_t>(rng());
    // Oracle: the region followed by `host` as a big-endian word.
    Bytes with(b.begin(), b.begin() + static_cast<long>(n));
    if (n % 2 == 1) with.push_back(0);  // the raw sum pads an odd region; keep the word aligned
    with.push_back(static_cast<uint8_t>(host >> 8));
    with.push_back(static_cast<uint8_t>(host));
    const uint64_t raw = csum::raw_sum(b.data(), n, csum::raw16(host));
    const uint16_t field = csum::raw_field(raw);
    uint8_t stored[2];
    std::memcpy(stored, &field, 2);
    ASSERT_EQ(static_cast<uint16_t>(stored[0] << 8 | stored[1]), pkt::ref_checksum(with)) << "n " << n;
    // Filled in, the region verifies; one flipped bit does not.
    Bytes region = with;
    region.push_back(stored[0]);
    region.push_back(stored[1]);
    EXPECT_TRUE(csum::raw_verify(csum::raw_sum(region.data(), region.size())));
    region[rng() % region.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    EXPECT_FALSE(csum::raw_verify(csum::raw_sum(region.data(), region.size())));
  }
  const IpAddress s = pkt::ip("198.18.0.1"), d = pkt::ip("198.18.0.2");
  const IpAddress s6 = pkt::ip("2001:2::1"), d6 = pkt::ip("ff02::1:ff00:2");
  EXPECT_EQ(csum::fold(csum::raw_addr_v4(s.data()) + csum::raw_addr_v4(d.data())),
            bswap16(csum::fold(csum::sum(s.data(), 4) + csum::sum(d.data(), 4))));
  EXPECT_EQ(csum::fold(csum::raw_addr_v6(s6.data()) + csum::raw_addr_v6(d6.data())),
            bswap16(csum::fold(csum::sum(s6.data(), 16) + csum::sum(d6.data(), 16))));
}

TEST(Checksum, InitialValueCarries) {
  const Bytes b{0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(csum::finish(csum::sum(b.data(), b.size(), 0x1FFFE)), pkt::ref_checksum(b, 0x1FFFE));
}

TEST(Checksum, PseudoHeaders) {
  const IpAddress s = pkt::ip("198.18.0.1"), d = pkt::ip("198.18.0.2");
  EXPECT_EQ(csum::fold(csum::pseudo_v4(s.data(), d.data(), 17, 36)),
            csum::fold(pkt::ref_pseudo(s, d, 17, 36)));
  const IpAddress s6 = pkt::ip("2001:2::1"), d6 = pkt::ip("ff02::1:ff00:2");
  EXPECT_EQ(csum::fold(csum::pseudo_v6(s6.data(), d6.data(), 58, 0x10020)),
            csum::fold(pkt::ref_pseudo(s6, d6, 58, 0x10020)));
}

TEST(Checksum, IncrementalUpdateMatchesRecompute) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    Bytes b(20);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    if (i % 5 == 0) std::fill(b.begin(), b.end(), 0);  // mostly-zero data: the 0x0000/0xFFFF edge
    b[0] = 0x45;  // a fixed non-zero word, as in every header the update is used on
    b[10] = b[11] = 0;
    const uint16_t c = csum::finish(csum::sum(b.data(), b.size()));
    b[10] = static_cast<uint8_t>(c >> 8);
    b[11] = static_cast<uint8_t>(c);
    const size_t w = 2 + (rng() % 8) * 2;  // any word but the first and the checksum
    const size_t word = w >= 10 ? w + 2 : w;
    const uint16_t old_word = static_cast<uint16_t>(b[word] << 8 | b[word + 1]);
    const uint16_t new_word = static_cast<uint16_t>(i % 7 == 0 ? 0 : rng());
    b[word] = static_cast<uint8_t>(new_word >> 8);
    b[word + 1] = static_cast<uint8_t>(new_word);
    const uint16_t upd = csum::update16(c, old_word, new_word);
    b[10] = static_cast<uint8_t>(upd >> 8);
    b[11] = static_cast<uint8_t>(upd);
    ASSERT_TRUE(csum::verify(csum::sum(b.data(), b.size()))) << i;
  }
}

}  // namespace
}  // namespace stunbox::frame
