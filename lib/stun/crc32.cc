// CRC-32 (ISO-HDLC), slicing-by-16 over the compile-time tables of crc32.h (which says why this method).
#include "stun/crc32.h"

namespace stunbox::stun {
namespace {

using crc32_detail::kTables;

constexpr uint32_t crc32_bytewise(uint32_t crc, const char* s, size_t n) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = (crc >> 8) ^ kTables[0][(crc ^ static_cast<uint8_t>(s[i])) & 0xFFu];
  return ~crc;
}

// The standard check value of CRC-32/ISO-HDLC.
static_assert(crc32_bytewise(0, "123456789", 9) == 0xCBF43926u);

}  // namespace

uint32_t crc32(uint32_t crc, const uint8_t* data, size_t len) noexcept {
  crc = ~crc;
  while (len >= 16) {
    crc = crc32_detail::step16(crc, data);
    data += 16;
    len -= 16;
  }
  // STUN lengths are multiples of 4, so at most one 8-byte and one 4-byte step remain.
  if (len >= 8) {
    crc = crc32_detail::step8(crc, data);
    data += 8;
    len -= 8;
  }
  if (len >= 4) {
    crc = crc32_detail::step4(crc, data);
    data += 4;
    len -= 4;
  }
  while (len-- > 0) crc = (crc >> 8) ^ kTables[0][(crc ^ *data++) & 0xFFu];
  return ~crc;
}

}  // namespace stunbox::stun
