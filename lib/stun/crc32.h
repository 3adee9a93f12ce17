// CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320), the checksum behind the STUN FINGERPRINT attribute (RFC 8489 s14.7).
//
// Why slicing-by-16 and not PCLMUL folding or the SSE4.2 crc32 instruction:
// the instruction computes CRC-32C (Castagnoli), the wrong polynomial for
// STUN; PCLMUL folding only pays off past a few hundred bytes (its setup and
// Barrett reduction cost about what a whole 40-100 byte STUN message costs
// here), and it needs a runtime CPU check. Sixteen independent table lookups
// per 16 bytes halve the dependency chain of slicing-by-8 on the 20-100 byte
// messages STUN sees, portably (16 KiB of tables, L1-resident on the hot path).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace stunbox::stun {

// zlib-style running CRC: start with crc = 0, feed chunks in order; the
// pre/post inversion is done inside, so crc32(crc32(0, a), b) == crc32(0, a||b).
// Slicing-by-16 over compile-time tables; no allocation, no state.
uint32_t crc32(uint32_t crc, const uint8_t* data, size_t len) noexcept;

inline uint32_t crc32(const uint8_t* data, size_t len) noexcept { return crc32(0, data, len); }

namespace crc32_detail {

inline constexpr uint32_t kPolynomial = 0xEDB88320u;  // 0x04C11DB7 bit-reversed

using Table = std::array<std::array<uint32_t, 256>, 16>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC of
// byte b followed by k zero bytes, which lets one step fold 16 input bytes.
constexpr Table make_tables() {
  Table t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1u) ? (c >> 1) ^ kPolynomial : c >> 1;
    t[0][b] = c;
  }
  for (size_t k = 1; k < 16; ++k) {
    for (size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  }
  return t;
}

inline constexpr Table kTables = make_tables();

inline uint32_t load_le32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

// One slicing step over 4, 8 or 16 bytes; `crc` is the running (inverted) state.
[[gnu::always_inline]] inline uint32_t step4(uint32_t crc, const uint8_t* p) noexcept {
  const uint32_t a = load_le32(p) ^ crc;
  return kTables[3][a & 0xFFu] ^ kTables[2][(a >> 8) & 0xFFu] ^ kTables[1][(a >> 16) & 0xFFu] ^ kTables[0][a >> 24];
}
[[gnu::always_inline]] inline uint32_t step8(uint32_t crc, const uint8_t* p) noexcept {
  const uint32_t lo = load_le32(p) ^ crc;
  const uint32_t hi = load_le32(p + 4);
  return kTables[7][lo & 0xFFu] ^ kTables[6][(lo >> 8) & 0xFFu] ^ kTables[5][(lo >> 16) & 0xFFu] ^
         kTables[4][lo >> 24] ^ kTables[3][hi & 0xFFu] ^ kTables[2][(hi >> 8) & 0xFFu] ^
         kTables[1][(hi >> 16) & 0xFFu] ^ kTables[0][hi >> 24];
}
[[gnu::always_inline]] inline uint32_t step16(uint32_t crc, const uint8_t* p) noexcept {
  const uint32_t a = load_le32(p) ^ crc;
  const uint32_t b = load_le32(p + 4);
  const uint32_t c = load_le32(p + 8);
  const uint32_t d = load_le32(p + 12);
  return kTables[15][a & 0xFFu] ^ kTables[14][(a >> 8) & 0xFFu] ^ kTables[13][(a >> 16) & 0xFFu] ^
         kTables[12][a >> 24] ^ kTables[11][b & 0xFFu] ^ kTables[10][(b >> 8) & 0xFFu] ^
         kTables[9][(b >> 16) & 0xFFu] ^ kTables[8][b >> 24] ^ kTables[7][c & 0xFFu] ^
         kTables[6][(c >> 8) & 0xFFu] ^ kTables[5][(c >> 16) & 0xFFu] ^ kTables[4][c >> 24] ^
         kTables[3][d & 0xFFu] ^ kTables[2][(d >> 8) & 0xFFu] ^ kTables[1][(d >> 16) & 0xFFu] ^
         kTables[0][d >> 24];
}

}  // namespace crc32_detail

// crc32(crc, data, N) for a length known at compile time (a multiple of 4),
// inlined as straight-line slicing steps: the fast path's FINGERPRINT, with
// no call in the lcore loop (a call there makes the compiler save the loop's
// live values around it, on every packet's path).
template <size_t N>
[[gnu::always_inline]] inline uint32_t crc32_fixed(uint32_t crc, const uint8_t* data) noexcept {
  static_assert(N % 4 == 0, "STUN lengths are multiples of 4");
  crc = ~crc;
  size_t off = 0;
  for (; off + 16 <= N; off += 16) crc = crc32_detail::step16(crc, data + off);
  if constexpr (N % 16 >= 8) {
    crc = crc32_detail::step8(crc, data + off);
    off += 8;
  }
  if constexpr (N % 8 >= 4) crc = crc32_detail::step4(crc, data + off);
  return ~crc;
}

}  // namespace stunbox::stun
