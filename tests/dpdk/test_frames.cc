// Test frame builder and reply checker, written from RFC 791/768/8200/8489 directly (independent of lib/frame).
#include "test_frames.h"

#include <rte_byteorder.h>
#include <rte_thash.h>

#include <cstring>

namespace stunbox::dpdk::test {
namespace {

constexpr uint32_t kMagicCookie = 0x2112A442;

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t rd32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }
void wr16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void wr32(uint8_t* p, uint32_t v) {
  wr16(p, static_cast<uint16_t>(v >> 16));
  wr16(p + 2, static_cast<uint16_t>(v));
}

uint32_t sum_words(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += rd16(p + i);
  if (n % 2) acc += uint32_t{p[n - 1]} << 8;
  return acc;
}
uint16_t fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
// Internet checksum of an L4 message (RFC 1071); with the pseudo-header for
// UDP and ICMPv6 (RFC 768, RFC 8200 s8.1), without for ICMP (RFC 792).
// 0 = correct when the checksum field is included.
uint16_t l4_sum(bool v6, uint8_t proto, const uint8_t* src, const uint8_t* dst, const uint8_t* l4, size_t len) {
  uint32_t acc = 0;
  if (v6 || proto != 1) {
    const size_t alen = v6 ? 16 : 4;
    acc = sum_words(dst, alen, sum_words(src, alen));
    acc += proto;
    acc += static_cast<uint32_t>(len);
  }
  return static_cast<uint16_t>(~fold(sum_words(l4, len, acc)));
}

// Ethernet + IPv4/IPv6 header from the client to f.dst carrying `proto`,
// with room for an l4_len-byte message (zeros) at the returned offset.
size_t ip_frame(std::vector<uint8_t>& b, const std::array<uint8_t, 6>& dst_mac, const Flow& f, uint8_t proto,
                size_t l4_len, uint16_t id, uint8_t hop_limit) {
  const size_t l3 = f.v6 ? 40 : 20;
  b.assign(14 + l3 + l4_len, 0);
  std::memcpy(b.data(), dst_mac.data(), 6);
  std::memcpy(b.data() + 6, kClientMac.data(), 6);
  wr16(b.data() + 12, f.v6 ? 0x86dd : 0x0800);
  uint8_t* ip = b.data() + 14;
  if (f.v6) {
    ip[0] = 0x60;
    wr16(ip + 4, static_cast<uint16_t>(l4_len));
    ip[6] = proto;
    ip[7] = hop_limit;
    std::memcpy(ip + 8, f.src.data(), 16);
    std::memcpy(ip + 24, f.dst.data(), 16);
  } else {
    ip[0] = 0x45;
    wr16(ip + 2, static_cast<uint16_t>(l3 + l4_len));
    wr16(ip + 4, id);
    ip[8] = hop_limit;
    ip[9] = proto;
    std::memcpy(ip + 12, f.src.data(), 4);
    std::memcpy(ip + 16, f.dst.data(), 4);
    wr16(ip + 10, static_cast<uint16_t>(~fold(sum_words(ip, 20))));
  }
  return 14 + l3;
}

// The checksum of the message at `l4` (its field zero) written at l4 + at.
void put_l4_sum(std::vector<uint8_t>& b, const Flow& f, uint8_t proto, size_t l4, size_t at) {
  const uint8_t* ip = b.data() + 14;
  const uint8_t* src = f.v6 ? ip + 8 : ip + 12;
  const uint8_t* dst = f.v6 ? ip + 24 : ip + 16;
  const uint16_t c = l4_sum(f.v6, proto, src, dst, b.data() + l4, b.size() - l4);
  wr16(b.data() + l4 + at, proto == 17 && c == 0 ? 0xffff : c);  // RFC 768: a computed 0 is sent as all ones
}

}  // namespace

std::vector<uint8_t> binding_request(const std::array<uint8_t, 6>& dst_mac, const Flow& f, uint32_t id) {
  constexpr size_t kUdpLen = 8 + 20;
  std::vector<uint8_t> b;
  const size_t l4 = ip_frame(b, dst_mac, f, 17, kUdpLen, static_cast<uint16_t>(id), 64);
  uint8_t* udp = b.data() + l4;
  wr16(udp, f.sport);
  wr16(udp + 2, f.dport);
  wr16(udp + 4, static_cast<uint16_t>(kUdpLen));
  uint8_t* stun = udp + 8;
  wr16(stun, 0x0001);  // Binding request
  wr16(stun + 2, 0);
  wr32(stun + 4, kMagicCookie);
  wr32(stun + 8, 0x5354554e);  // "STUN"
  wr32(stun + 12, 0x74657374);  // "test"
  wr32(stun + 16, id);
  put_l4_sum(b, f, 17, l4, 6);
  return b;
}

std::vector<uint8_t> icmp_message(const std::array<uint8_t, 6>& dst_mac, const Flow& f, uint8_t type,
                                  const std::vector<uint8_t>& body) {
  const uint8_t proto = f.v6 ? 58 : 1;
  std::vector<uint8_t> b;
  const size_t l4 = ip_frame(b, dst_mac, f, proto, 4 + body.size(), 0, 255);
  b[l4] = type;
  std::copy(body.begin(), body.end(), b.begin() + static_cast<std::ptrdiff_t>(l4 + 4));
  put_l4_sum(b, f, proto, l4, 2);
  return b;
}

int64_t reply_id(const uint8_t* frame, size_t len) {
  if (len < 14) return -1;
  const uint16_t type = rd16(frame + 12);
  size_t off = 14;
  if (type == 0x0800) off += (frame[14] & 0x0f) * 4u;
  else if (type == 0x86dd) off += 40;
  else return -1;
  off += 8;
  if (len < off + 20) return -1;
  return rd32(frame + off + 16);
}

std::string check_binding_success(const uint8_t* frame, size_t len, const std::array<uint8_t, 6>& port_mac,
                                  const Flow& f, uint32_t id) {
  const size_t l3 = f.v6 ? 40 : 20;
  if (len < 14 + l3 + 8 + 20) return "reply too short: " + std::to_string(len);
  if (std::memcmp(frame, kClientMac.data(), 6) != 0) return "destination MAC is not the client's";
  if (std::memcmp(frame + 6, port_mac.data(), 6) != 0) return "source MAC is not the port's";
  if (rd16(frame + 12) != (f.v6 ? 0x86dd : 0x0800)) return "wrong EtherType";
  const uint8_t* ip = frame + 14;
  const uint8_t* udp = ip + l3;
  size_t udp_len;
  const uint8_t *src, *dst;
  if (f.v6) {
    if ((ip[0] >> 4) != 6 || ip[6] != 17) return "not IPv6/UDP";
    udp_len = rd16(ip + 4);
    src = ip + 8;
    dst = ip + 24;
    if (std::memcmp(src, f.dst.data(), 16) != 0 || std::memcmp(dst, f.src.data(), 16) != 0) return "IPv6 addresses not swapped";
  } else {
    if (ip[0] != 0x45 || ip[9] != 17) return "not option-less IPv4/UDP";
    if (fold(sum_words(ip, 20)) != 0xffff) return "IPv4 header checksum wrong";
    udp_len = rd16(ip + 2) - 20u;
    src = ip + 12;
    dst = ip + 16;
    if (std::memcmp(src, f.dst.data(), 4) != 0 || std::memcmp(dst, f.src.data(), 4) != 0) return "IPv4 addresses not swapped";
  }
  if (14 + l3 + udp_len != len) return "IP length " + std::to_string(udp_len) + " disagrees with frame length";
  if (rd16(udp + 4) != udp_len) return "UDP length wrong";
  if (rd16(udp) != f.dport || rd16(udp + 2) != f.sport) return "UDP ports not swapped";
  if (rd16(udp + 6) == 0) return "UDP checksum zero";
  if (l4_sum(f.v6, 17, src, dst, udp, udp_len) != 0) return "UDP checksum wrong";
  const uint8_t* stun = udp + 8;
  const size_t stun_len = udp_len - 8;
  if (rd16(stun) != 0x0101) return "not a Binding success response";
  if (rd16(stun + 2) + 20u != stun_len) return "STUN length wrong";
  if (rd32(stun + 4) != kMagicCookie || rd32(stun + 16) != id) return "transaction id not echoed";
  for (size_t off = 20; off + 4 <= stun_len;) {
    const uint16_t at = rd16(stun + off), al = rd16(stun + off + 2);
    if (off + 4 + al > stun_len) return "attribute overruns the message";
    if (at == 0x0020) {  // XOR-MAPPED-ADDRESS (RFC 8489 s14.2)
      const uint8_t* v = stun + off + 4;
      if (v[1] != (f.v6 ? 0x02 : 0x01)) return "XOR-MAPPED-ADDRESS family wrong";
      if ((rd16(v + 2) ^ (kMagicCookie >> 16)) != f.sport) return "XOR-MAPPED-ADDRESS port wrong";
      for (size_t i = 0; i < (f.v6 ? 16u : 4u); ++i) {
        if ((v[4 + i] ^ stun[4 + i]) != f.src[i]) return "XOR-MAPPED-ADDRESS address wrong";
      }
      return "";
    }
    off += 4 + ((al + 3u) & ~3u);
  }
  return "no XOR-MAPPED-ADDRESS";
}

uint32_t toeplitz(const Flow& f, const std::vector<uint8_t>& key) {
  rte_thash_tuple t{};
  if (f.v6) {
    for (size_t j = 0; j < 4; ++j) {
      uint32_t s, d;
      std::memcpy(&s, f.src.data() + 4 * j, 4);
      std::memcpy(&d, f.dst.data() + 4 * j, 4);
      s = rte_be_to_cpu_32(s);
      d = rte_be_to_cpu_32(d);
      std::memcpy(t.v6.src_addr + 4 * j, &s, 4);
      std::memcpy(t.v6.dst_addr + 4 * j, &d, 4);
    }
    t.v6.sport = f.sport;
    t.v6.dport = f.dport;
    return rte_softrss(reinterpret_cast<uint32_t*>(&t), RTE_THASH_V6_L4_LEN, key.data());
  }
  t.v4.src_addr = rd32(f.src.data());
  t.v4.dst_addr = rd32(f.dst.data());
  t.v4.sport = f.sport;
  t.v4.dport = f.dport;
  return rte_softrss(reinterpret_cast<uint32_t*>(&t), RTE_THASH_V4_L4_LEN, key.data());
}

}  // namespace stunbox::dpdk::test
