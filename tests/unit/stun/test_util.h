// Helpers shared by the STUN unit tests: hex, an independent CRC-32, a request builder and the RFC 5769 vectors file.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace stunbox::stun::test {

using Bytes = std::vector<uint8_t>;

inline Bytes from_hex(std::string_view hex) {
  Bytes out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else continue;  // spaces and separators allowed for readability
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

inline std::string to_hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}
inline std::string to_hex(const Bytes& b) { return to_hex(b.data(), b.size()); }

// Bit-at-a-time CRC-32/ISO-HDLC, deliberately unlike the library's
// slicing-by-8, so the tests do not check the library against itself.
inline uint32_t reference_crc32(const uint8_t* p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
inline uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t get32(const uint8_t* p) { return uint32_t{get16(p)} << 16 | get16(p + 2); }

// Builds STUN messages attribute by attribute; the length field is fixed up
// by bytes()/fingerprint().
class MessageBuilder {
 public:
  explicit MessageBuilder(uint16_t type = 0x0001, bool classic = false) {
    put16(b_, type);
    put16(b_, 0);
    if (classic) {
      for (int i = 0; i < 16; ++i) b_.push_back(static_cast<uint8_t>(0xA0 + i));
    } else {
      put32(b_, 0x2112A442u);
      for (int i = 0; i < 12; ++i) b_.push_back(static_cast<uint8_t>(0x10 + i));
    }
  }
  MessageBuilder& transaction_id(const uint8_t* id12) {
    for (int i = 0; i < 12; ++i) b_[8 + i] = id12[i];
    return *this;
  }
  // Value padded with zeros to 4 bytes; length field = value size.
  MessageBuilder& attr(uint16_t type, const Bytes& value) {
    put16(b_, type);
    put16(b_, static_cast<uint16_t>(value.size()));
    b_.insert(b_.end(), value.begin(), value.end());
    while (b_.size() % 4) b_.push_back(0);
    return *this;
  }
  MessageBuilder& attr(uint16_t type, std::string_view value) {
    return attr(type, Bytes(value.begin(), value.end()));
  }
  // Appends a correct FINGERPRINT (length field updated first, s14.7).
  MessageBuilder& fingerprint() {
    put16(b_, 0x8028);
    put16(b_, 4);
    fix_length(4);
    put32(b_, reference_crc32(b_.data(), b_.size() - 4) ^ 0x5354554Eu);
    return *this;
  }
  Bytes bytes() const {
    Bytes out = b_;
    const size_t n = out.size() - 20;
    out[2] = static_cast<uint8_t>(n >> 8);
    out[3] = static_cast<uint8_t>(n);
    return out;
  }

 private:
  void fix_length(size_t extra) {
    const size_t n = b_.size() + extra - 20;
    b_[2] = static_cast<uint8_t>(n >> 8);
    b_[3] = static_cast<uint8_t>(n);
  }
  Bytes b_;
};

// The RFC 5769 vectors: the repo's copy (tests/data) first, else shared/.
inline std::vector<Bytes> load_rfc5769_vectors(std::string* used_path = nullptr) {
  for (const char* var : {"STUNBOX_RFC5769_VECTORS", "STUNBOX_RFC5769_VECTORS_SHARED"}) {
    const char* path = std::getenv(var);
    if (path == nullptr) continue;
    std::ifstream in(path);
    if (!in) continue;
    std::vector<Bytes> out;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      out.push_back(from_hex(line));
    }
    if (used_path) *used_path = path;
    return out;
  }
  return {};
}

}  // namespace stunbox::stun::test
