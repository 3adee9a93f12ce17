// CRC-32 (ISO-HDLC), slicing-by-8: eight 256-entry tables built at compile time.
#include "stun/crc32.h"

#include <array>
#include <bit>
#include <cstring>

namespace stunbox::stun {
namespace {

constexpr uint32_t kPolynomial = 0xEDB88320u;  // 0x04C11DB7 bit-reversed

using Table = std::array<std::array<uint32_t, 256>, 8>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC of
// byte b followed by k zero bytes, which lets one step fold 8 input bytes.
constexpr Table make_tables() {
  Table t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1u) ? (c >> 1) ^ kPolynomial : c >> 1;
    t[0][b] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  }
  return t;
}

constexpr Table kTables = make_tables();

constexpr uint32_t crc32_bytewise(uint32_t crc, const char* s, size_t n) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = (crc >> 8) ^ kTables[0][(crc ^ static_cast<uint8_t>(s[i])) & 0xFFu];
  return ~crc;
}

// The standard check value of CRC-32/ISO-HDLC.
static_assert(crc32_bytewise(0, "123456789", 9) == 0xCBF43926u);

inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

}  // namespace

uint32_t crc32(uint32_t crc, const uint8_t* data, size_t len) noexcept {
  crc = ~crc;
  while (len >= 8) {
    const uint32_t lo = load_le32(data) ^ crc;
    const uint32_t hi = load_le32(data + 4);
    crc = kTables[7][lo & 0xFFu] ^ kTables[6][(lo >> 8) & 0xFFu] ^ kTables[5][(lo >> 16) & 0xFFu] ^
          kTables[4][lo >> 24] ^ kTables[3][hi & 0xFFu] ^ kTables[2][(hi >> 8) & 0xFFu] ^
          kTables[1][(hi >> 16) & 0xFFu] ^ kTables[0][hi >> 24];
    data += 8;
    len -= 8;
  }
  while (len-- > 0) crc = (crc >> 8) ^ kTables[0][(crc ^ *data++) & 0xFFu];
  return ~crc;
}

}  // namespace stunbox::stun
