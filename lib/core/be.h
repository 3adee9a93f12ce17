// Big-endian integer types: byte order lives in the type, so mixing orders does not compile.
#pragma once

#include <cstdint>
#include <cstring>

namespace stunbox {

inline constexpr uint16_t bswap16(uint16_t v) { return __builtin_bswap16(v); }
inline constexpr uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }

// A 16-bit value stored in network byte order. Trivially copyable, no alignment
// requirement beyond 1 when read through load_be16/store_be16.
struct Be16 {
  uint16_t raw;  // network order
  static constexpr Be16 from_host(uint16_t v) { return Be16{bswap16(v)}; }
  constexpr uint16_t host() const { return bswap16(raw); }
  friend constexpr bool operator==(Be16 a, Be16 b) { return a.raw == b.raw; }
};

struct Be32 {
  uint32_t raw;  // network order
  static constexpr Be32 from_host(uint32_t v) { return Be32{bswap32(v)}; }
  constexpr uint32_t host() const { return bswap32(raw); }
  friend constexpr bool operator==(Be32 a, Be32 b) { return a.raw == b.raw; }
};

static_assert(sizeof(Be16) == 2 && sizeof(Be32) == 4);

// Unaligned accessors over raw bytes (packet buffers are not aligned).
inline uint16_t load_be16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return bswap16(v);
}
inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return bswap32(v);
}
inline void store_be16(uint8_t* p, uint16_t v) {
  v = bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  v = bswap32(v);
  std::memcpy(p, &v, 4);
}

}  // namespace stunbox
