// Benchmark inputs: requests built by hand from the RFCs; checksums and CRC from the library (reflect re-verifies them).
#include "bench_frames.h"

#include <cstring>

#include "core/be.h"
#include "frame/checksum.h"
#include "frame/headers.h"
#include "stun/crc32.h"
#include "stun/message.h"

namespace stunbox::bench {
namespace {

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
void put(Bytes& b, const uint8_t* p, size_t n) { b.insert(b.end(), p, p + n); }

Bytes from_hex(const char* hex) {
  Bytes b;
  auto nib = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10); };
  for (; hex[0] != 0 && hex[1] != 0; hex += 2) b.push_back(static_cast<uint8_t>(nib(hex[0]) << 4 | nib(hex[1])));
  return b;
}

// RFC 5769 s2.1 sample request (108 bytes).
constexpr char kRfc5769Request[] =
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e0001ff80290008"
    "932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004"
    "e57a3bcf";

void set_length(Bytes& m) { store_be16(m.data() + 2, static_cast<uint16_t>(m.size() - stun::kHeaderSize)); }

void add_fingerprint(Bytes& m) {
  const size_t off = m.size();
  put16(m, stun::attr::kFingerprint);
  put16(m, 4);
  put32(m, 0);
  set_length(m);  // RFC 8489 s14.7: the length already counts FINGERPRINT
  store_be32(m.data() + off + 4, stun::crc32(m.data(), off) ^ stun::kFingerprintXor);
}

void ether(Bytes& f, const Lab& lab, const std::array<uint8_t, 6>& dst, uint16_t type) {
  f.reserve(256);  // one allocation per frame (and no GCC 12 -Wstringop-overflow false positive)
  put(f, dst.data(), 6);
  put(f, lab.client_mac.data(), 6);
  put16(f, type);
}

}  // namespace

Bytes stun_request(StunKind kind, uint32_t seq) {
  if (kind == StunKind::ice) {
    Bytes m = from_hex(kRfc5769Request);
    if (seq != 0) {
      // A new transaction id invalidates the sample's MESSAGE-INTEGRITY, which
      // the responder ignores anyway; FINGERPRINT is recomputed.
      store_be32(m.data() + 16, seq);
      m.resize(m.size() - 8);
      add_fingerprint(m);
    }
    return m;
  }
  Bytes m;
  put16(m, stun::kBindingRequest);
  put16(m, 0);
  if (kind == StunKind::classic) {
    put32(m, 0x0BADF00D);  // anything but the magic cookie: RFC 3489
  } else {
    put32(m, stun::kMagicCookie);
  }
  put32(m, 0x11223344);
  put32(m, 0x55667788);
  put32(m, seq);
  if (kind == StunKind::unknown_attr) {
    put16(m, 0x0031);  // unassigned, comprehension-required
    put16(m, 4);
    put32(m, 0);
  }
  set_length(m);
  if (kind == StunKind::fingerprint) add_fingerprint(m);
  return m;
}

Bytes udp4_frame(const Lab& lab, uint16_t client_port, const Bytes& payload) {
  Bytes f;
  ether(f, lab, lab.server_mac, frame::kEtherTypeIpv4);
  const size_t ip = f.size();
  const auto udp_len = static_cast<uint16_t>(8 + payload.size());
  put16(f, 0x4500);
  put16(f, static_cast<uint16_t>(20 + udp_len));
  put16(f, 0x1234);  // id
  put16(f, 0x4000);  // DF
  put16(f, 0x4011);  // TTL 64, UDP
  put16(f, 0);       // checksum, below
  put(f, lab.client_v4.data(), 4);
  put(f, lab.server_v4.data(), 4);
  store_be16(f.data() + ip + 10, frame::csum::finish(frame::csum::sum(f.data() + ip, 20)));
  const size_t udp = f.size();
  put16(f, client_port);
  put16(f, lab.server_port);
  put16(f, udp_len);
  put16(f, 0);
  put(f, payload.data(), payload.size());
  const uint32_t ph = frame::csum::pseudo_v4(lab.client_v4.data(), lab.server_v4.data(), frame::kProtoUdp, udp_len);
  uint16_t c = frame::csum::finish(frame::csum::sum(f.data() + udp, udp_len, ph));
  store_be16(f.data() + udp + 6, c == 0 ? 0xFFFF : c);
  return f;
}

Bytes udp6_frame(const Lab& lab, uint16_t client_port, const Bytes& payload) {
  Bytes f;
  ether(f, lab, lab.server_mac, frame::kEtherTypeIpv6);
  const auto udp_len = static_cast<uint16_t>(8 + payload.size());
  put32(f, 0x60000000u);
  put16(f, udp_len);
  f.push_back(frame::kProtoUdp);
  f.push_back(64);
  put(f, lab.client_v6.data(), 16);
  put(f, lab.server_v6.data(), 16);
  const size_t udp = f.size();
  put16(f, client_port);
  put16(f, lab.server_port);
  put16(f, udp_len);
  put16(f, 0);
  put(f, payload.data(), payload.size());
  const uint32_t ph = frame::csum::pseudo_v6(lab.client_v6.data(), lab.server_v6.data(), frame::kProtoUdp, udp_len);
  uint16_t c = frame::csum::finish(frame::csum::sum(f.data() + udp, udp_len, ph));
  store_be16(f.data() + udp + 6, c == 0 ? 0xFFFF : c);
  return f;
}

Bytes arp_request(const Lab& lab) {
  Bytes f;
  ether(f, lab, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, frame::kEtherTypeArp);
  put16(f, 1);       // Ethernet
  put16(f, 0x0800);  // IPv4
  f.push_back(6);
  f.push_back(4);
  put16(f, 1);       // request
  put(f, lab.client_mac.data(), 6);
  put(f, lab.client_v4.data(), 4);
  f.insert(f.end(), 6, 0);
  put(f, lab.server_v4.data(), 4);
  return f;
}

frame::PortIdentity port_identity(const Lab& lab) {
  frame::PortIdentity p;
  p.mac = lab.server_mac;
  p.add_v4(lab.server_v4);
  p.add_v6(lab.server_v6);
  p.stun_ports.set(lab.server_port);
  return p;
}

}  // namespace stunbox::bench
