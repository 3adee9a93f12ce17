// Internet checksum (RFC 1071) with 64-bit accumulation, IPv4/IPv6 pseudo-header sums and RFC 1624 incremental update.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/be.h"

namespace stunbox::frame::csum {

// Sums are carried as uint32_t holding the ones' complement sum of big-endian
// 16-bit words as host integers, not yet folded: partial results add with +,
// and fold() reduces them at the end.

// Folds carries back in: the non-complemented 16-bit sum. 64 -> 32 bits
// with an end-around carry (an add and an adc), then 32 -> 16 as the sum of
// the value and itself rotated by 16, whose top half is hi + lo + carry (the
// Linux csum_fold idiom): 0 only for 0, else in [1, 0xFFFF].
[[gnu::always_inline]] inline uint16_t fold(uint64_t s) noexcept {
  const uint32_t hi = static_cast<uint32_t>(s >> 32);
  uint32_t t = static_cast<uint32_t>(s) + hi;
  t += t < hi ? 1u : 0u;
  return static_cast<uint16_t>((t + ((t << 16) | (t >> 16))) >> 16);
}

// ---- Raw-domain sums -------------------------------------------------------
// The Internet checksum is byte-order independent (RFC 1071 s2(B)): words
// loaded natively, exactly as they lie in memory, and summed give the
// byte-swapped sum on a little-endian host, whose fold complemented is the
// checksum field already in network order (store it with memcpy), and a
// received region is valid when its raw sum folds to 0xFFFF in either order.
// The hot UDP path stays in this domain end to end: no byte swaps, one fold
// per checksum. Host-order values (lengths, ports, protocol) enter through
// raw16(). Raw sums are 64-bit and unfolded; they add with +.

// Native 32-bit words of p[0, n) into two independent 64-bit accumulators
// (no carry handling: under 2^32 words cannot overflow them). p must start
// at an even offset of the checksummed region; an odd n pads with a zero byte.
inline uint64_t raw_sum(const uint8_t* p, size_t n, uint64_t acc = 0) noexcept {
  uint64_t b = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint32_t w0, w1;
    std::memcpy(&w0, p, 4);
    std::memcpy(&w1, p + 4, 4);
    acc += w0;
    b += w1;
  }
  if (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    acc += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    b += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    // The odd byte is the high-order byte of a zero-padded word: first in memory.
    const uint8_t w[2] = {p[0], 0};
    uint16_t v;
    std::memcpy(&v, w, 2);
    b += v;
  }
  return acc + b;
}

// A 16-bit network-order field holding `host`, as it sums in the raw domain.
inline constexpr uint64_t raw16(uint16_t host) noexcept { return bswap16(host); }

// An IPv4 / IPv6 address as it sums in the raw domain.
inline uint64_t raw_addr_v4(const uint8_t* a) noexcept {
  uint32_t w;
  std::memcpy(&w, a, 4);
  return w;
}
inline uint64_t raw_addr_v6(const uint8_t* a) noexcept {
  uint32_t w[4];
  std::memcpy(w, a, 16);
  return (uint64_t{w[0]} + w[1]) + (uint64_t{w[2]} + w[3]);
}

// Sum of bytes p[0, n) as a host-order partial sum (see above); `initial`
// is another host-order partial sum. Inline so the fixed-size header sums
// unroll.
inline uint32_t sum(const uint8_t* p, size_t n, uint32_t initial = 0) noexcept {
  return initial + bswap16(fold(raw_sum(p, n)));
}

// The checksum field value (host order): complement of the folded sum.
inline uint16_t finish(uint64_t s) noexcept { return static_cast<uint16_t>(~fold(s)); }

// True when a received region (including its checksum field) sums to 0xFFFF.
inline bool verify(uint64_t s) noexcept { return fold(s) == 0xFFFF; }

// Raw domain: true when a received region's raw sum is valid; the checksum
// field (network order, store with memcpy) for a region whose raw sum is
// `s` with the field itself counted as 0.
[[gnu::always_inline]] inline bool raw_verify(uint64_t s) noexcept { return fold(s) == 0xFFFF; }
[[gnu::always_inline]] inline uint16_t raw_field(uint64_t s) noexcept { return static_cast<uint16_t>(~fold(s)); }

// Pseudo-header sums: RFC 768 (IPv4: src, dst, zero, protocol, length) and
// RFC 8200 s8.1 (IPv6: src, dst, 32-bit length, zeros, next header).
inline uint32_t pseudo_v4(const uint8_t* src4, const uint8_t* dst4, uint8_t proto, uint16_t l4_len) noexcept {
  // Both addresses in one 64-bit add and one fold (cheaper than two sum() calls).
  uint32_t s, d;
  std::memcpy(&s, src4, 4);
  std::memcpy(&d, dst4, 4);
  uint16_t folded = fold(uint64_t{s} + d);
  if constexpr (std::endian::native == std::endian::little) folded = bswap16(folded);
  return uint32_t{folded} + proto + l4_len;
}
inline uint32_t pseudo_v6(const uint8_t* src16, const uint8_t* dst16, uint8_t next, uint32_t l4_len) noexcept {
  return sum(dst16, 16, sum(src16, 16)) + (l4_len >> 16) + (l4_len & 0xFFFF) + next;
}

// RFC 1624 eqn. 3: the new checksum field after a 16-bit word of the
// covered data changes from old_word to new_word: HC' = ~(~HC + ~m + m').
// Exact whenever some covered word is non-zero; if every covered word is zero
// it yields 0x0000 instead of 0xFFFF, so only use it where a fixed non-zero
// word (version, address, type) is covered.
inline uint16_t update16(uint16_t old_csum, uint16_t old_word, uint16_t new_word) noexcept {
  uint32_t s = static_cast<uint16_t>(~old_csum);
  s += static_cast<uint16_t>(~old_word);
  s += new_word;
  return static_cast<uint16_t>(~fold(s));
}

// The checksum field value for a whole region that has its checksum field
// zeroed, starting from `initial` (a pseudo-header sum or 0). Out of line:
// for the cold paths (ICMP, NDP, announcements).
uint16_t compute(const uint8_t* p, size_t n, uint32_t initial = 0) noexcept;

}  // namespace stunbox::frame::csum
