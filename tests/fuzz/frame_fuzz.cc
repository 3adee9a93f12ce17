// Fuzz target for frame::reflect<false> and reflect<true> over arbitrary frames on a heap buffer of exactly the capacity; the fast path against the general path.
//
// Input layout:
//   byte 0   bit 0 port is VLAN-tagged (id 100), bits 1-2 RxHints.ip and
//            bits 3-4 RxHints.udp (0,3 unknown, 1 good, 2 bad), bit 5
//            FINGERPRINT always (else mirror), bit 6 SOFTWARE set, bit 7
//            classic disabled
//   byte 1   capacity slack: capacity = frame length + 8 * byte
//   rest     the frame, from the destination MAC on
// The port (MAC 02:00:00:00:00:01, 198.18.0.2, 198.18.1.2, 2001:2::2,
// 2001:2::abcd:3, UDP 3478 and 3479) matches tests/golden, so the seeds built
// from the golden recipes reach every reply.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "frame/reflect.h"
#include "packet.h"
#include "fuzz_common.h"
#include "stun/message.h"

namespace stunbox::frame {
namespace {

using fuzz::rd16;

constexpr uint16_t kVlan = 100;

PortIdentity make_port(bool tagged) {
  PortIdentity p;
  p.mac = {0x02, 0, 0, 0, 0, 0x01};
  p.vlan = tagged ? kVlan : -1;
  p.ttl = 77;
  p.add_v4({198, 18, 0, 2});
  p.add_v4({198, 18, 1, 2});
  p.add_v6({0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02});
  p.add_v6({0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 0x03});
  p.stun_ports.set(3478);
  p.stun_ports.set(3479);
  if (tagged) {
    // The tagged port's addresses are RFC 5780 pairs (replies from the other
    // address and port, RESPONSE-PORT); the untagged port's stay plain STUN.
    for (size_t v6 = 0; v6 < 2; ++v6) {
      stun::Rfc5780Pair pair;
      pair.v6 = v6 != 0;
      for (size_t i = 0; i < 2; ++i) {
        if (v6) {
          pair.local[i] = p.v6[i];
        } else {
          std::copy(p.v4[i].begin(), p.v4[i].end(), pair.local[i].begin());
        }
      }
      pair.advertised = pair.local;
      pair.port = {3478, 3479};
      p.rfc5780[v6] = pair;
    }
  }
  return p;
}

const PortIdentity& port_for(bool tagged) {
  static const PortIdentity untagged = make_port(false);
  static const PortIdentity vlan = make_port(true);
  return tagged ? vlan : untagged;
}

CsumState csum_state(unsigned bits) {
  switch (bits & 3u) {
    case 1: return CsumState::good;
    case 2: return CsumState::bad;
    default: return CsumState::unknown;
  }
}

bool owns_v4(const PortIdentity& p, const uint8_t* a) {
  for (size_t i = 0; i < p.n_v4; ++i)
    if (std::memcmp(p.v4[i].data(), a, 4) == 0) return true;
  return false;
}
bool owns_v6(const PortIdentity& p, const uint8_t* a) {
  for (size_t i = 0; i < p.n_v6; ++i)
    if (std::memcmp(p.v6[i].data(), a, 16) == 0) return true;
  return false;
}

struct Run {
  Verdict v;
  std::vector<uint8_t> reply;
};

// One call on a fresh guarded buffer whose bytes past the frame hold `fill`;
// `general`: reflect_general (never the fast path) instead of reflect.
template <bool kOffload>
Run run(const std::vector<uint8_t>& in, size_t capacity, uint8_t fill, const PortIdentity& port,
        const stun::ResponderConfig& cfg, RxHints hints, bool general = false) {
  fuzz::GuardedBuffer buf(capacity);
  if (!in.empty()) std::memcpy(buf.data(), in.data(), in.size());
  std::memset(buf.data() + in.size(), fill, capacity - in.size());
  Run r;
  r.v = general ? reflect_general<kOffload>(buf.data(), in.size(), capacity, port, cfg, hints)
                : reflect<kOffload>(buf.data(), in.size(), capacity, port, cfg, hints);
  FUZZ_CHECK(buf.guard_intact());
  if (r.v.tx) {
    FUZZ_CHECK(r.v.length <= capacity);
    r.reply.assign(buf.data(), buf.data() + r.v.length);
  }
  return r;
}

bool same_verdict(const Verdict& a, const Verdict& b) {
  if (a.tx != b.tx || a.request != b.request) return false;
  if (!a.tx) return a.reason == b.reason;
  return a.kind == b.kind && a.length == b.length && a.l2_len == b.l2_len && a.l3_len == b.l3_len &&
         a.ipv6() == b.ipv6();
}

bool is_udp(ReplyKind k) { return k == ReplyKind::stun_success || k == ReplyKind::stun_error; }

// What every reply frame must satisfy, whatever the request was.
void check_reply(const Run& r, const PortIdentity& port) {
  const Verdict& v = r.v;
  const uint8_t* f = r.reply.data();
  const size_t len = r.reply.size();
  const size_t l2 = v.l2_len;
  FUZZ_CHECK(len >= l2 + v.l3_len);
  // Our MAC as the source; the port's VLAN tag exactly when the port has one, else untagged or a
  // priority tag (VID 0) kept from the request.
  FUZZ_CHECK(std::memcmp(f + 6, port.mac.data(), 6) == 0);
  if (port.vlan >= 0) {
    FUZZ_CHECK(l2 == 18 && rd16(f + 12) == 0x8100 && (rd16(f + 14) & 0x0FFF) == port.vlan);
  } else if (l2 == 18) {
    FUZZ_CHECK(rd16(f + 12) == 0x8100 && (rd16(f + 14) & 0x0FFF) == 0);
  } else {
    FUZZ_CHECK(l2 == 14 && rd16(f + 12) != 0x8100);
  }
  const uint16_t type = rd16(f + l2 - 2);

  if (v.kind == ReplyKind::arp_reply) {
    // RFC 826: a reply from our hardware address for an address we own.
    FUZZ_CHECK(type == 0x0806 && !v.ipv6() && len == l2 + 28);
    FUZZ_CHECK(rd16(f + l2 + 6) == 2);
    FUZZ_CHECK(std::memcmp(f + l2 + 8, port.mac.data(), 6) == 0);
    FUZZ_CHECK(owns_v4(port, f + l2 + 14));
    return;
  }

  // Software checksums are all valid (an independent oracle checks them),
  // whatever the hints said: a lying hint never carries a bad sum through
  // (ICMPv6 echo, the one incremental update, takes no hint).
  const std::string bad = pkt::check_checksums(f, len);
  FUZZ_CHECK(bad.empty());

  size_t l4;
  if (v.ipv6()) {
    FUZZ_CHECK(type == 0x86DD && v.l3_len == 40);
    const uint8_t* src = f + l2 + 8;
    const uint8_t* dst = f + l2 + 24;
    if (v.kind == ReplyKind::mld_report) {
      // RFC 3810 s5.2: from the port's link-local address to ff02::16, hop limit 1, Hop-by-Hop Router Alert.
      static constexpr uint8_t kMldRouters[16] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16};
      FUZZ_CHECK(std::memcmp(src, link_local_of(port.mac).data(), 16) == 0 && std::memcmp(dst, kMldRouters, 16) == 0);
      FUZZ_CHECK(f[l2 + 6] == 0 && f[l2 + 7] == 1 && f[l2 + 40] == 58 && f[l2 + 48] == 143);
      FUZZ_CHECK(l2 + 40 + rd16(f + l2 + 4) == len);
      return;
    }
    // From an address we own; never to multicast (but a DAD answer to
    // all-nodes, RFC 4861 s7.2.4), loopback, unspecified or ourselves.
    FUZZ_CHECK(owns_v6(port, src));
    static constexpr uint8_t kAllNodes[16] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
    static constexpr uint8_t kZero[16] = {};
    static constexpr uint8_t kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (dst[0] == 0xFF) {
      FUZZ_CHECK(v.kind == ReplyKind::ndp_advert && std::memcmp(dst, kAllNodes, 16) == 0);
    } else {
      FUZZ_CHECK(std::memcmp(dst, kZero, 16) != 0 && std::memcmp(dst, kLoop, 16) != 0 && !owns_v6(port, dst));
    }
    FUZZ_CHECK(l2 + 40 + rd16(f + l2 + 4) == len);
    l4 = l2 + 40;
    const uint8_t next = f[l2 + 6];
    FUZZ_CHECK(next == (is_udp(v.kind) ? 17 : 58));
    if (v.kind == ReplyKind::ndp_advert) FUZZ_CHECK(f[l4] == 136 && f[l2 + 7] == 255);
    if (v.kind == ReplyKind::icmp6_echo_reply) FUZZ_CHECK(f[l4] == 129);
  } else {
    FUZZ_CHECK(type == 0x0800 && v.l3_len == 20 && f[l2] == 0x45);
    const uint8_t* src = f + l2 + 12;
    const uint8_t* dst = f + l2 + 16;
    // RFC 1122 s3.2.1.3: never to 0/8, 127/8, multicast or broadcast.
    FUZZ_CHECK(owns_v4(port, src));
    FUZZ_CHECK(dst[0] != 0 && dst[0] != 127 && dst[0] < 224 && !owns_v4(port, dst));
    FUZZ_CHECK(l2 + rd16(f + l2 + 2) == len);
    FUZZ_CHECK((rd16(f + l2 + 6) & 0x3FFF) == 0);  // not a fragment
    l4 = l2 + 20;
    FUZZ_CHECK(f[l2 + 9] == (is_udp(v.kind) ? 17 : 1));
    if (v.kind == ReplyKind::icmp_echo_reply) FUZZ_CHECK(f[l4] == 0 && f[l4 + 1] == 0);
    FUZZ_CHECK(v.kind == ReplyKind::icmp_echo_reply || is_udp(v.kind));
  }

  if (is_udp(v.kind)) {
    // From a served port to a non-zero one, carrying a valid STUN response.
    FUZZ_CHECK(port.stun_ports.test(rd16(f + l4)));
    FUZZ_CHECK(rd16(f + l4 + 2) != 0);
    const size_t udp_len = rd16(f + l4 + 4);
    FUZZ_CHECK(udp_len >= 8 + stun::kHeaderSize && l4 + udp_len == len);
    const stun::MessageView m(f + l4 + 8, udp_len - 8);
    FUZZ_CHECK(!m.validate());
    FUZZ_CHECK(m.type() == (v.kind == ReplyKind::stun_success ? stun::kBindingSuccess : stun::kBindingError));
    FUZZ_CHECK(v.request != stun::RequestKind::none);
  }
}

void run_one(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const uint8_t sel = in.byte();
  const uint8_t slack = in.byte();
  // A single-segment mbuf holds at most 65535 bytes.
  if (in.rest_size() > 0xFFFF) return;
  const std::vector<uint8_t> frame(in.rest(), in.rest() + in.rest_size());
  const size_t capacity = frame.size() + 8 * size_t{slack};

  const PortIdentity& port = port_for(sel & 1);
  RxHints hints;
  hints.ip = csum_state(sel >> 1);
  hints.udp = csum_state(sel >> 3);
  stun::ResponderConfig cfg;
  cfg.fingerprint = (sel & 0x20) ? stun::FingerprintPolicy::always : stun::FingerprintPolicy::mirror;
  cfg.software = (sel & 0x40) ? "stunbox" : "";
  cfg.classic = !(sel & 0x80);

  // Two software runs with different bytes past the frame: identical results
  // mean nothing beyond [0, len) was read before being written.
  const Run sw = run<false>(frame, capacity, 0x00, port, cfg, hints);
  const Run sw2 = run<false>(frame, capacity, 0xA5, port, cfg, hints);
  const Run hw = run<true>(frame, capacity, 0x5A, port, cfg, hints);

  FUZZ_CHECK(same_verdict(sw.v, sw2.v) && sw.reply == sw2.reply);
  // The fast path (frame/fast_path.h) answers exactly as the general path
  // would, byte for byte, and declines everything else to it: the two agree
  // on every input, drops and their reasons included.
  const Run sw_general = run<false>(frame, capacity, 0x3C, port, cfg, hints, true);
  const Run hw_general = run<true>(frame, capacity, 0xC3, port, cfg, hints, true);
  FUZZ_CHECK(std::bit_cast<uint64_t>(sw.v) == std::bit_cast<uint64_t>(sw_general.v) && sw.reply == sw_general.reply);
  // The variants classify identically; only the TX checksums differ.
  FUZZ_CHECK(same_verdict(sw.v, hw.v));
  FUZZ_CHECK(std::bit_cast<uint64_t>(hw.v) == std::bit_cast<uint64_t>(hw_general.v) && hw.reply == hw_general.reply);
  if (!sw.v.tx) {
    FUZZ_CHECK(static_cast<size_t>(sw.v.reason) < kDropReasonCount);
    return;
  }
  FUZZ_CHECK(hw.v.udp() == is_udp(sw.v.kind));
  if (hw.v.udp()) {
    // IPv4 header checksum 0 and the pseudo-header seed in the UDP checksum.
    FUZZ_CHECK(hw.reply == pkt::to_offload_form(sw.reply));
  } else {
    FUZZ_CHECK(hw.reply == sw.reply);
  }
  check_reply(sw, port);
}

}  // namespace
}  // namespace stunbox::frame

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stunbox::frame::run_one(data, size);
  return 0;
}
