// Test flows and the reply checker, written from RFC 791/768/8200/8489 directly (independent of lib/frame).
#include "test_frames.h"

#include <rte_byteorder.h>
#include <rte_thash.h>

#include <cstring>
#include <string>

namespace stunbox::dpdk::test {
namespace {

constexpr uint32_t kMagicCookie = 0x2112A442;

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t rd32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

// Internet checksum of an L4 message (RFC 1071); with the pseudo-header for
// UDP and ICMPv6 (RFC 768, RFC 8200 s8.1), without for ICMP (RFC 792).
// 0 = correct when the checksum field is included.
uint16_t l4_sum(bool v6, uint8_t proto, const uint8_t* src, const uint8_t* dst, const uint8_t* l4, size_t len) {
  const uint32_t pseudo = v6 || proto != 1 ? pkt::ref_pseudo(IpAddress::of(v6, src), IpAddress::of(v6, dst), proto, len) : 0;
  return static_cast<uint16_t>(~pkt::ref_fold(pkt::ref_sum(l4, len) + pseudo));
}

}  // namespace

Bytes binding_request(const pkt::Mac& dst_mac, const Flow& f, uint32_t id) {
  const pkt::TxId txid{'S', 'T', 'U', 'N', 't', 'e', 's', 't', static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16),
                       static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)};
  pkt::Packet p = pkt::Packet().eth(dst_mac, kClientMac);
  if (f.v6()) {
    p.ipv6({.src = f.src.ip, .dst = f.dst.ip});
  } else {
    p.ipv4({.src = f.src.ip, .dst = f.dst.ip, .id = static_cast<uint16_t>(id)});
  }
  return p.udp(f.src.port, f.dst.port).stun(pkt::Stun().txid(txid));
}

pkt::Packet from_client(const pkt::Mac& dst_mac, const Flow& f) {
  pkt::Packet p = pkt::Packet().eth(dst_mac, kClientMac);
  if (f.v6()) return p.ipv6({.src = f.src.ip, .dst = f.dst.ip, .hop = 255});
  return p.ipv4({.src = f.src.ip, .dst = f.dst.ip, .ttl = 255, .id = 0});
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

std::string check_binding_success(const uint8_t* frame, size_t len, const pkt::Mac& port_mac, const Flow& f,
                                  uint32_t id) {
  const size_t l3 = f.v6() ? 40 : 20;
  if (len < 14 + l3 + 8 + 20) return "reply too short: " + std::to_string(len);
  if (std::memcmp(frame, kClientMac.data(), 6) != 0) return "destination MAC is not the client's";
  if (std::memcmp(frame + 6, port_mac.data(), 6) != 0) return "source MAC is not the port's";
  if (rd16(frame + 12) != (f.v6() ? 0x86dd : 0x0800)) return "wrong EtherType";
  const uint8_t* ip = frame + 14;
  const uint8_t* udp = ip + l3;
  size_t udp_len;
  const uint8_t *src, *dst;
  if (f.v6()) {
    if ((ip[0] >> 4) != 6 || ip[6] != 17) return "not IPv6/UDP";
    udp_len = rd16(ip + 4);
    src = ip + 8;
    dst = ip + 24;
    if (std::memcmp(src, f.dst.ip.data(), 16) != 0 || std::memcmp(dst, f.src.ip.data(), 16) != 0) return "IPv6 addresses not swapped";
  } else {
    if (ip[0] != 0x45 || ip[9] != 17) return "not option-less IPv4/UDP";
    if (pkt::ref_fold(pkt::ref_sum(ip, 20)) != 0xffff) return "IPv4 header checksum wrong";
    udp_len = rd16(ip + 2) - 20u;
    src = ip + 12;
    dst = ip + 16;
    if (std::memcmp(src, f.dst.ip.data(), 4) != 0 || std::memcmp(dst, f.src.ip.data(), 4) != 0) return "IPv4 addresses not swapped";
  }
  if (14 + l3 + udp_len != len) return "IP length " + std::to_string(udp_len) + " disagrees with frame length";
  if (rd16(udp + 4) != udp_len) return "UDP length wrong";
  if (rd16(udp) != f.dst.port || rd16(udp + 2) != f.src.port) return "UDP ports not swapped";
  if (rd16(udp + 6) == 0) return "UDP checksum zero";
  if (l4_sum(f.v6(), 17, src, dst, udp, udp_len) != 0) return "UDP checksum wrong";
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
      if (v[1] != (f.v6() ? 0x02 : 0x01)) return "XOR-MAPPED-ADDRESS family wrong";
      if ((rd16(v + 2) ^ (kMagicCookie >> 16)) != f.src.port) return "XOR-MAPPED-ADDRESS port wrong";
      for (size_t i = 0; i < (f.v6() ? 16u : 4u); ++i) {
        if ((v[4 + i] ^ stun[4 + i]) != f.src.ip.bytes[i]) return "XOR-MAPPED-ADDRESS address wrong";
      }
      return "";
    }
    off += 4 + ((al + 3u) & ~3u);
  }
  return "no XOR-MAPPED-ADDRESS";
}

uint32_t toeplitz(const Flow& f, const std::vector<uint8_t>& key) {
  rte_thash_tuple t{};
  if (f.v6()) {
    for (size_t j = 0; j < 4; ++j) {
      uint32_t s, d;
      std::memcpy(&s, f.src.ip.data() + 4 * j, 4);
      std::memcpy(&d, f.dst.ip.data() + 4 * j, 4);
      s = rte_be_to_cpu_32(s);
      d = rte_be_to_cpu_32(d);
      std::memcpy(t.v6.src_addr + 4 * j, &s, 4);
      std::memcpy(t.v6.dst_addr + 4 * j, &d, 4);
    }
    t.v6.sport = f.src.port;
    t.v6.dport = f.dst.port;
    return rte_softrss(reinterpret_cast<uint32_t*>(&t), RTE_THASH_V6_L4_LEN, key.data());
  }
  t.v4.src_addr = rd32(f.src.ip.data());
  t.v4.dst_addr = rd32(f.dst.ip.data());
  t.v4.sport = f.src.port;
  t.v4.dport = f.dst.port;
  return rte_softrss(reinterpret_cast<uint32_t*>(&t), RTE_THASH_V4_L4_LEN, key.data());
}

}  // namespace stunbox::dpdk::test
