// Benchmark inputs, built with tests/support/packet.h (reflect re-verifies every checksum and CRC).
#include "bench_frames.h"

namespace stunbox::bench {
namespace {

// RFC 5769 s2.1 sample request (108 bytes).
constexpr char kRfc5769Request[] =
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e0001ff80290008"
    "932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004"
    "e57a3bcf";

}  // namespace

Bytes stun_request(StunKind kind, uint32_t seq) {
  const auto s = [seq](int i) { return static_cast<uint8_t>(seq >> (24 - 8 * i)); };
  switch (kind) {
    case StunKind::ice: {
      Bytes m = pkt::from_hex(kRfc5769Request);
      if (seq == 0) return m;
      // A new transaction id invalidates the sample's MESSAGE-INTEGRITY, which
      // the responder ignores anyway; FINGERPRINT is recomputed.
      m.resize(m.size() - 8);
      const uint8_t* id = m.data() + 8;
      return pkt::Stun(m).txid({id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], s(0), s(1), s(2), s(3)}).fingerprint();
    }
    case StunKind::classic:  // anything but the magic cookie: RFC 3489
      return pkt::Stun().classic({0x0B, 0xAD, 0xF0, 0x0D, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, s(0), s(1), s(2), s(3)});
    default: break;
  }
  pkt::Stun m = pkt::Stun().txid({0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, s(0), s(1), s(2), s(3)});
  if (kind == StunKind::unknown_attr) m.attr(0x0031, Bytes(4, 0));  // unassigned, comprehension-required
  if (kind == StunKind::fingerprint) m.fingerprint();
  return m;
}

Bytes udp4_frame(const Lab& lab, uint16_t client_port, const Bytes& payload) {
  return pkt::Packet()
      .eth(lab.server_mac, lab.client_mac)
      .ipv4({.src = lab.client_v4, .dst = lab.server_v4, .frag = 0x4000})
      .udp(client_port, lab.server_port)
      .payload(payload);
}

Bytes udp6_frame(const Lab& lab, uint16_t client_port, const Bytes& payload) {
  return pkt::Packet()
      .eth(lab.server_mac, lab.client_mac)
      .ipv6({.src = lab.client_v6, .dst = lab.server_v6})
      .udp(client_port, lab.server_port)
      .payload(payload);
}

Bytes arp_request(const Lab& lab) {
  return pkt::Packet()
      .eth({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, lab.client_mac)
      .arp(1, lab.client_mac, lab.client_v4, {}, lab.server_v4);
}

frame::PortIdentity port_identity(const Lab& lab) {
  frame::PortIdentity p;
  p.mac = lab.server_mac;
  p.add_v4(lab.server_v4.v4_bytes());
  p.add_v6(lab.server_v6.bytes);
  p.stun_ports.set(lab.server_port);
  return p;
}

}  // namespace stunbox::bench
