// Helpers shared by the STUN unit tests: the packet vocabulary (tests/support) under short names and the RFC 5769 vectors file.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "packet.h"

namespace stunbox::stun::test {

// The packet vocabulary of every test (tests/support/packet.h): hex, the
// bit-at-a-time CRC-32 oracle (deliberately unlike the library's
// slicing-by-8), the STUN message builder.
using pkt::Bytes;
using pkt::from_hex;
using pkt::get16;
using pkt::get32;
using pkt::put16;
using pkt::put32;
using pkt::Stun;
using pkt::to_hex;
inline uint32_t reference_crc32(const uint8_t* p, size_t n) { return pkt::ref_crc32(p, n); }

// A Binding request with the RFC 3489 header or the RFC 8489 one.
inline Stun classic_or_not(bool classic) { return classic ? Stun().classic() : Stun(); }

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
