// Writes the fuzz seed corpora from the test tables: RFC 5769 vectors, Binding requests with each attribute kind, and the golden frames (IPv4/IPv6/VLAN/ARP/NS/echo).
//
// Usage: seed_gen OUTDIR [RFC5769_VECTORS_FILE [STAMP_FILE]]
// (Re)creates OUTDIR/stun, OUTDIR/stun_planted and OUTDIR/frame, one file per
// seed, and writes the seed count to STAMP_FILE (the build's output). Seeds each prefixed with the control bytes the targets read (see the
// comments at the top of stun_fuzz.cc and frame_fuzz.cc).
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "packet.h"
#include "stun/message.h"

namespace {

using stunbox::IpAddress;
using stunbox::pkt::Bytes;
using stunbox::pkt::Packet;
using stunbox::pkt::Stun;
using stunbox::pkt::Vlan;
namespace pkt = stunbox::pkt;
namespace attr = stunbox::stun::attr;

class Writer {
 public:
  explicit Writer(std::filesystem::path dir) : dir_(std::move(dir)) {}
  bool ok() const { return ok_; }
  size_t count() const { return n_; }

  void put(const std::string& target, const std::string& name, const Bytes& prefix, const Bytes& body) {
    const std::filesystem::path d = dir_ / target;
    std::error_code ec;
    std::filesystem::create_directories(d, ec);
    char idx[16];
    std::snprintf(idx, sizeof idx, "%04zu-", n_++);
    std::ofstream out(d / (idx + name), std::ios::binary);
    out.write(reinterpret_cast<const char*>(prefix.data()), static_cast<std::streamsize>(prefix.size()));
    out.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
    if (!out) {
      std::fprintf(stderr, "seed_gen: cannot write %s\n", (d / (idx + name)).c_str());
      ok_ = false;
    }
  }

 private:
  std::filesystem::path dir_;
  size_t n_ = 0;
  bool ok_ = true;
};

Bytes value(size_t n, uint8_t fill = 0x11) { return Bytes(n, fill); }

// STUN messages, each with a name. The RFC 5769 vectors come first.
std::vector<std::pair<std::string, Bytes>> stun_messages(const char* vectors_path) {
  std::vector<std::pair<std::string, Bytes>> m;
  if (vectors_path != nullptr) {
    std::ifstream in(vectors_path);
    std::string line;
    int i = 0;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      m.emplace_back("rfc5769-" + std::to_string(++i), pkt::from_hex(line));
    }
  }

  m.emplace_back("binding", Stun());
  m.emplace_back("binding-fp", Stun().fingerprint());
  m.emplace_back("classic", Stun().classic());
  m.emplace_back("classic-change-request", Stun().classic().attr(attr::kChangeRequest, value(4, 0)));
  m.emplace_back("classic-response-address",
                 Stun().classic().attr(attr::kResponseAddress, Bytes{0, 1, 0x0d, 0x96, 192, 0, 2, 9}));
  m.emplace_back("classic-source-address",
                 Stun().classic().attr(attr::kSourceAddress, Bytes{0, 1, 0, 80, 192, 0, 2, 9}));

  // Every understood type, the classic extras, the deliberately refused ones,
  // unknown comprehension-required and comprehension-optional types.
  std::vector<uint16_t> types(std::begin(stunbox::stun::kUnderstoodTypes), std::end(stunbox::stun::kUnderstoodTypes));
  for (uint16_t t : stunbox::stun::kClassicExtraUnderstoodTypes) types.push_back(t);
  for (uint16_t t : {attr::kResponseAddress, attr::kChangeRequest, attr::kResponsePort, uint16_t{0x0010},
                     uint16_t{0x0021}, uint16_t{0x003F}, uint16_t{0x0040}, uint16_t{0x7FFF}, attr::kSoftware,
                     attr::kAlternateServer, attr::kIceControlled, attr::kIceControlling, attr::kResponseOrigin,
                     attr::kOtherAddress, uint16_t{0x8000}, uint16_t{0xFFFF}})
    types.push_back(t);
  for (uint16_t t : types) {
    char name[32];
    std::snprintf(name, sizeof name, "attr-%04x", t);
    // Odd value lengths exercise the padding.
    m.emplace_back(name, Stun().attr(t, value(t % 7 + 1)));
    m.emplace_back(std::string(name) + "-fp", Stun().attr(t, value(4)).fingerprint());
  }

  m.emplace_back("ice-check", Stun()
                                  .attr(attr::kSoftware, "fuzz client")
                                  .attr(attr::kPriority, value(4))
                                  .attr(attr::kIceControlled, value(8))
                                  .attr(attr::kUsername, "evtj:h6vY")
                                  .attr(attr::kMessageIntegrity, value(20))
                                  .fingerprint()
                                  );
  // After MESSAGE-INTEGRITY unknown types are ignored (RFC 8489 s14.5).
  m.emplace_back("unknown-after-mi",
                 Stun().attr(attr::kMessageIntegrity, value(20)).attr(0x0040, value(4)).fingerprint());
  m.emplace_back("mi-sha256", Stun().attr(attr::kMessageIntegritySha256, value(32)));
  {
    Stun b;
    for (uint16_t t = 0x0040; t < 0x0040 + 18; ++t) b.attr(t, value(0));
    m.emplace_back("eighteen-unknown", b);
  }
  m.emplace_back("unknown-repeated",
                 Stun().classic().attr(0x0041, value(1)).attr(0x0041, value(2)).attr(0x0042, value(3)));
  m.emplace_back("software-long", Stun().attr(attr::kSoftware, value(763, 'a')));

  // Malformed and non-request messages.
  {
    Bytes fp = Stun().fingerprint();
    fp.back() ^= 1;
    m.emplace_back("fp-bad", fp);
    m.emplace_back("fp-not-last", Stun().fingerprint().attr(attr::kPriority, value(4)));
    Bytes overrun = Stun().attr(attr::kPriority, value(4));
    overrun[23] = 8;  // attribute length past the end
    m.emplace_back("attr-overrun", overrun);
    Bytes odd = Stun();
    odd.push_back(0);
    odd[3] = 1;
    m.emplace_back("length-not-4", odd);
    Bytes top = Stun();
    top[0] |= 0xC0;
    m.emplace_back("top-bits", top);
    Bytes short19 = Stun();
    short19.resize(19);
    m.emplace_back("short-19", short19);
    m.emplace_back("empty", Bytes{});
  }
  m.emplace_back("indication", Stun(0x0011));
  m.emplace_back("success-response", Stun(0x0101).attr(attr::kXorMappedAddress, value(8)));
  m.emplace_back("error-response", Stun(0x0111).attr(attr::kErrorCode, value(8)));
  m.emplace_back("allocate-request", Stun(0x0003).attr(attr::kRequestedTransport, value(4)));
  m.emplace_back("classic-indication", Stun(0x0011).classic());
  return m;
}

// ---- frames: the golden tests' port and peers ----------------------------

const pkt::Mac kOurMac{0x02, 0, 0, 0, 0, 0x01};
const pkt::Mac kPeerMac{0x02, 0, 0, 0, 0, 0xAA};
const pkt::Mac kBroadcast{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
const IpAddress kOur4 = pkt::ip("198.18.0.2");
const IpAddress kOur4b = pkt::ip("198.18.1.2");
const IpAddress kPeer4 = pkt::ip("198.18.0.1");
const IpAddress kOur6 = pkt::ip("2001:2::2");
const IpAddress kPeer6 = pkt::ip("2001:2::1");
const IpAddress kPeerLl = pkt::ip("fe80::1");
const IpAddress kUnspec = pkt::ip("::");
constexpr uint16_t kVlan = 100;
constexpr uint16_t kPeerPort = 40000;

// Frames from the peer to the port, tagged (PCP 1) or not.
Packet to_us(std::optional<Vlan> vlan, const pkt::Mac& dmac = kOurMac) { return Packet().eth(dmac, kPeerMac, vlan); }
Bytes v4_udp(const Bytes& payload, std::optional<Vlan> vlan, pkt::Ip4 ip = {}, uint16_t dport = 3478, int csum = -1) {
  ip.src = kPeer4;
  ip.dst = kOur4;
  return to_us(vlan).ipv4(ip).udp(kPeerPort, dport, {.csum = csum}).payload(payload);
}
Bytes v6_udp(const Bytes& payload, std::optional<Vlan> vlan, uint16_t dport = 3478) {
  return to_us(vlan).ipv6({.src = kPeer6, .dst = kOur6}).udp(kPeerPort, dport).payload(payload);
}
Packet v6_icmp(const IpAddress& src, const IpAddress& dst, const pkt::Mac& dmac, std::optional<Vlan> vlan) {
  return to_us(vlan, dmac).ipv6({.src = src, .dst = dst, .hop = 255});
}

std::vector<std::pair<std::string, Bytes>> frames(std::optional<Vlan> vlan) {
  std::vector<std::pair<std::string, Bytes>> f;
  const pkt::TxId txid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const pkt::ClassicTxId ctxid{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const Bytes req = Stun().txid(txid);
  const Bytes req_fp = Stun().txid(txid).fingerprint();
  const Bytes classic = Stun().classic(ctxid);
  const Bytes unknown = Stun().attr(0x0040, value(4)).fingerprint();
  const Bytes echo{0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g', '!', 0x00, 0xFF};

  f.emplace_back("v4-stun", v4_udp(req, vlan));
  f.emplace_back("v4-stun-fp", v4_udp(req_fp, vlan));
  f.emplace_back("v4-stun-classic", v4_udp(classic, vlan));
  f.emplace_back("v4-stun-420", v4_udp(unknown, vlan));
  f.emplace_back("v4-stun-port-3479", v4_udp(req, vlan, {}, 3479));
  f.emplace_back("v4-stun-port-unserved", v4_udp(req, vlan, {}, 53));
  f.emplace_back("v4-stun-udp-csum-0", v4_udp(req, vlan, {}, 3478, 0));
  f.emplace_back("v4-stun-udp-csum-bad", v4_udp(req, vlan, {}, 3478, 0x1234));
  f.emplace_back("v4-stun-options", v4_udp(req_fp, vlan, {.options = {0x01, 0x01, 0x01, 0x00, 0x94, 0x04, 0x00, 0x00}}));
  f.emplace_back("v4-stun-options-40", v4_udp(req, vlan, {.options = Bytes(40, 0x01)}));
  f.emplace_back("v4-fragment", v4_udp(req, vlan, {.frag = 0x2000}));
  f.emplace_back("v4-bad-header-csum", v4_udp(req, vlan, {.bad_csum = true}));
  f.emplace_back("v4-stun-eth-padding",
                 to_us(vlan).ipv4({.src = kPeer4, .dst = kOur4}).udp(kPeerPort, 3478).payload(req).pad(Bytes(12, 0)));
  f.emplace_back("v6-stun", v6_udp(req, vlan));
  f.emplace_back("v6-stun-fp", v6_udp(req_fp, vlan));
  f.emplace_back("v6-stun-classic", v6_udp(classic, vlan));
  f.emplace_back("v6-stun-420", v6_udp(unknown, vlan));
  f.emplace_back("v6-extension-header", to_us(vlan).ipv6({.src = kPeer6, .dst = kOur6, .next = 0}).payload(Bytes(16, 0)));

  f.emplace_back("v4-echo", to_us(vlan).ipv4({.src = kPeer4, .dst = kOur4}).icmp(8, 0, echo));
  f.emplace_back("v4-echo-options",
                 to_us(vlan).ipv4({.src = kPeer4, .dst = kOur4b, .options = {0x01, 0x01, 0x01, 0x00}}).icmp(8, 0, echo));
  f.emplace_back("v4-echo-empty", to_us(vlan).ipv4({.src = kPeer4, .dst = kOur4}).icmp(8, 0, Bytes(4, 0)));
  f.emplace_back("v6-echo", v6_icmp(kPeer6, kOur6, kOurMac, vlan).icmp(128, 0, echo));

  f.emplace_back("arp-request", to_us(vlan, kBroadcast).arp(1, kPeerMac, kPeer4, pkt::Mac{}, kOur4));
  f.emplace_back("arp-request-unicast", to_us(vlan).arp(1, kPeerMac, kPeer4, pkt::Mac{}, kOur4b));
  f.emplace_back("arp-gratuitous", to_us(vlan, kBroadcast).arp(1, kPeerMac, kPeer4, pkt::Mac{}, kPeer4));

  const Bytes slla = pkt::lla_option(1, kPeerMac);
  const IpAddress sn = pkt::solicited_node(kOur6);
  f.emplace_back("ns-unicast", v6_icmp(kPeer6, kOur6, kOurMac, vlan).ns(kOur6, slla));
  f.emplace_back("ns-multicast", v6_icmp(kPeerLl, sn, pkt::multicast_mac(sn), vlan).ns(kOur6, slla));
  f.emplace_back("ns-dad", v6_icmp(kUnspec, sn, pkt::multicast_mac(sn), vlan).ns(kOur6));
  f.emplace_back("na-unsolicited",
                 v6_icmp(kPeer6, pkt::ip("ff02::1"), pkt::Mac{0x33, 0x33, 0, 0, 0, 1}, vlan).na(0x20000000, kPeer6, kPeerMac));
  return f;
}

const Bytes& by_name(const std::vector<std::pair<std::string, Bytes>>& v, const std::string& name) {
  for (const auto& [n, b] : v)
    if (n == name) return b;
  std::fprintf(stderr, "seed_gen: no seed named %s\n", name.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: seed_gen OUTDIR [RFC5769_VECTORS_FILE [STAMP_FILE]]\n");
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::error_code ec;
  for (const char* t : {"stun", "stun_planted", "frame"}) std::filesystem::remove_all(dir / t, ec);
  Writer w{dir};
  const auto msgs = stun_messages(argc >= 3 ? argv[2] : nullptr);
  if (argc >= 3 && msgs.front().first != "rfc5769-1") {
    std::fprintf(stderr, "seed_gen: no RFC 5769 vectors read from %s\n", argv[2]);
    return 1;
  }

  // stun: every message with mirror policy and a roomy buffer; the first
  // request under every config byte; and tight buffers for stun_no_room.
  for (const auto& [name, body] : msgs) w.put("stun", name, {0x00, 0xFF}, body);
  const Bytes& binding = by_name(msgs, "binding");
  for (unsigned c = 0; c < 64; ++c) w.put("stun", "config-" + std::to_string(c), {static_cast<uint8_t>(c), 0xFF}, binding);
  for (uint8_t slack : {0, 4, 12}) w.put("stun", "tight-" + std::to_string(slack), {0x1A, slack}, binding);

  // stun_planted: the same messages; planting keeps a sound header as is.
  // Control bits: classic header for classic messages, and a planted
  // FINGERPRINT on those that have none.
  for (const auto& [name, body] : msgs) {
    stunbox::stun::HeaderInfo h;
    const bool sound = !stunbox::stun::check_header(body.data(), body.size(), h);
    const uint8_t how = static_cast<uint8_t>(sound && h.classic ? 1 : 0);
    w.put("stun_planted", name, {0x00, 0xFF, how}, body);
    if (sound && !h.classic) w.put("stun_planted", name + "-plant-fp", {0x00, 0xFF, 2}, body);
  }

  // frame: the golden recipes on an untagged and on a tagged port, a few
  // under each RX checksum hint, config and capacity.
  for (int tagged = 0; tagged < 2; ++tagged) {
    const auto fs = frames(tagged ? std::optional(Vlan{kVlan, 1}) : std::nullopt);
    const std::string tag = tagged ? "vlan-" : "";
    for (const auto& [name, body] : fs) w.put("frame", tag + name, {static_cast<uint8_t>(tagged), 0x20}, body);
    for (unsigned sel = 0; sel < 256; sel += 2)
      w.put("frame", tag + "v4-stun-sel-" + std::to_string(sel), {static_cast<uint8_t>(sel | tagged), 0x20},
            by_name(fs, "v4-stun"));
    w.put("frame", tag + "v6-echo-l4-good", {static_cast<uint8_t>(tagged | 0x08), 0x20}, by_name(fs, "v6-echo"));
    w.put("frame", tag + "v4-stun-no-room", {static_cast<uint8_t>(tagged), 0x00}, by_name(fs, "v4-stun"));
  }
  if (!w.ok()) return 1;
  if (argc == 4) {
    std::ofstream stamp(argv[3]);
    stamp << w.count() << " seeds in " << argv[1] << "\n";
    if (!stamp) return 1;
  }
  std::printf("seed_gen: %zu seeds in %s\n", w.count(), argv[1]);
  return 0;
}
