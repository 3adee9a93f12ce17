// CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320), the checksum behind the STUN FINGERPRINT attribute (RFC 8489 s14.7).
#pragma once

#include <cstddef>
#include <cstdint>

namespace stunbox::stun {

// zlib-style running CRC: start with crc = 0, feed chunks in order; the
// pre/post inversion is done inside, so crc32(crc32(0, a), b) == crc32(0, a||b).
// Slicing-by-16 over compile-time tables; no allocation, no state.
uint32_t crc32(uint32_t crc, const uint8_t* data, size_t len) noexcept;

inline uint32_t crc32(const uint8_t* data, size_t len) noexcept { return crc32(0, data, len); }

}  // namespace stunbox::stun
