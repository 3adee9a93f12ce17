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
#include <string>
#include <system_error>
#include <vector>

#include "frame_builder.h"
#include "stun/message.h"
#include "test_util.h"

namespace {

using stunbox::golden::Bytes;
namespace g = stunbox::golden;
namespace attr = stunbox::stun::attr;
using stunbox::stun::test::MessageBuilder;

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
      m.emplace_back("rfc5769-" + std::to_string(++i), stunbox::stun::test::from_hex(line));
    }
  }

  m.emplace_back("binding", MessageBuilder().bytes());
  m.emplace_back("binding-fp", MessageBuilder().fingerprint().bytes());
  m.emplace_back("classic", MessageBuilder(0x0001, true).bytes());
  m.emplace_back("classic-change-request", MessageBuilder(0x0001, true).attr(attr::kChangeRequest, value(4, 0)).bytes());
  m.emplace_back("classic-response-address",
                 MessageBuilder(0x0001, true).attr(attr::kResponseAddress, Bytes{0, 1, 0x0d, 0x96, 192, 0, 2, 9}).bytes());
  m.emplace_back("classic-source-address",
                 MessageBuilder(0x0001, true).attr(attr::kSourceAddress, Bytes{0, 1, 0, 80, 192, 0, 2, 9}).bytes());

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
    m.emplace_back(name, MessageBuilder().attr(t, value(t % 7 + 1)).bytes());
    m.emplace_back(std::string(name) + "-fp", MessageBuilder().attr(t, value(4)).fingerprint().bytes());
  }

  m.emplace_back("ice-check", MessageBuilder()
                                  .attr(attr::kSoftware, "fuzz client")
                                  .attr(attr::kPriority, value(4))
                                  .attr(attr::kIceControlled, value(8))
                                  .attr(attr::kUsername, "evtj:h6vY")
                                  .attr(attr::kMessageIntegrity, value(20))
                                  .fingerprint()
                                  .bytes());
  // After MESSAGE-INTEGRITY unknown types are ignored (RFC 8489 s14.5).
  m.emplace_back("unknown-after-mi",
                 MessageBuilder().attr(attr::kMessageIntegrity, value(20)).attr(0x0040, value(4)).fingerprint().bytes());
  m.emplace_back("mi-sha256", MessageBuilder().attr(attr::kMessageIntegritySha256, value(32)).bytes());
  {
    MessageBuilder b;
    for (uint16_t t = 0x0040; t < 0x0040 + 18; ++t) b.attr(t, value(0));
    m.emplace_back("eighteen-unknown", b.bytes());
  }
  m.emplace_back("unknown-repeated",
                 MessageBuilder(0x0001, true).attr(0x0041, value(1)).attr(0x0041, value(2)).attr(0x0042, value(3)).bytes());
  m.emplace_back("software-long", MessageBuilder().attr(attr::kSoftware, value(763, 'a')).bytes());

  // Malformed and non-request messages.
  {
    Bytes fp = MessageBuilder().fingerprint().bytes();
    fp.back() ^= 1;
    m.emplace_back("fp-bad", fp);
    m.emplace_back("fp-not-last", MessageBuilder().fingerprint().attr(attr::kPriority, value(4)).bytes());
    Bytes overrun = MessageBuilder().attr(attr::kPriority, value(4)).bytes();
    overrun[23] = 8;  // attribute length past the end
    m.emplace_back("attr-overrun", overrun);
    Bytes odd = MessageBuilder().bytes();
    odd.push_back(0);
    odd[3] = 1;
    m.emplace_back("length-not-4", odd);
    Bytes top = MessageBuilder().bytes();
    top[0] |= 0xC0;
    m.emplace_back("top-bits", top);
    Bytes short19 = MessageBuilder().bytes();
    short19.resize(19);
    m.emplace_back("short-19", short19);
    m.emplace_back("empty", Bytes{});
  }
  m.emplace_back("indication", MessageBuilder(0x0011).bytes());
  m.emplace_back("success-response", MessageBuilder(0x0101).attr(attr::kXorMappedAddress, value(8)).bytes());
  m.emplace_back("error-response", MessageBuilder(0x0111).attr(attr::kErrorCode, value(8)).bytes());
  m.emplace_back("allocate-request", MessageBuilder(0x0003).attr(attr::kRequestedTransport, value(4)).bytes());
  m.emplace_back("classic-indication", MessageBuilder(0x0011, true).bytes());
  return m;
}

// ---- frames: the golden tests' port and peers ----------------------------

const g::Mac kOurMac{0x02, 0, 0, 0, 0, 0x01};
const g::Mac kPeerMac{0x02, 0, 0, 0, 0, 0xAA};
const g::Mac kBroadcast{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
const g::Ip4 kOur4{198, 18, 0, 2};
const g::Ip4 kOur4b{198, 18, 1, 2};
const g::Ip4 kPeer4{198, 18, 0, 1};
const g::Ip6 kOur6 = g::ip6("2001:2::2");
const g::Ip6 kPeer6 = g::ip6("2001:2::1");
const g::Ip6 kPeerLl = g::ip6("fe80::1");
const g::Ip6 kUnspec = g::ip6("::");
constexpr uint16_t kVlan = 100;
constexpr uint16_t kPeerPort = 40000;

Bytes v4_udp(const Bytes& payload, int vlan = -1, const g::Ip4Opts& o = {}, uint16_t dport = 3478, int csum = -1) {
  return g::eth(kOurMac, kPeerMac, 0x0800, g::ipv4(kPeer4, kOur4, 17, g::udp4(kPeer4, kOur4, kPeerPort, dport, payload, csum), o),
                vlan);
}
Bytes v6_udp(const Bytes& payload, int vlan = -1, uint16_t dport = 3478) {
  return g::eth(kOurMac, kPeerMac, 0x86DD, g::ipv6(kPeer6, kOur6, 17, g::udp6(kPeer6, kOur6, kPeerPort, dport, payload)), vlan);
}
Bytes v6_icmp(const g::Ip6& src, const g::Ip6& dst, uint8_t type, const Bytes& body, const g::Mac& dmac, int vlan = -1) {
  g::Ip6Opts o;
  o.hop = 255;
  return g::eth(dmac, kPeerMac, 0x86DD, g::ipv6(src, dst, 58, g::icmp6(src, dst, type, 0, body), o), vlan);
}

std::vector<std::pair<std::string, Bytes>> frames(int vlan) {
  std::vector<std::pair<std::string, Bytes>> f;
  const std::array<uint8_t, 12> txid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::array<uint8_t, 16> ctxid{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const Bytes req = g::stun_request(txid, false);
  const Bytes req_fp = g::stun_request(txid, true);
  const Bytes classic = g::stun_classic_request(ctxid);
  const Bytes unknown = MessageBuilder().attr(0x0040, value(4)).fingerprint().bytes();
  const Bytes echo{0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g', '!', 0x00, 0xFF};

  f.emplace_back("v4-stun", v4_udp(req, vlan));
  f.emplace_back("v4-stun-fp", v4_udp(req_fp, vlan));
  f.emplace_back("v4-stun-classic", v4_udp(classic, vlan));
  f.emplace_back("v4-stun-420", v4_udp(unknown, vlan));
  f.emplace_back("v4-stun-port-3479", v4_udp(req, vlan, {}, 3479));
  f.emplace_back("v4-stun-port-unserved", v4_udp(req, vlan, {}, 53));
  f.emplace_back("v4-stun-udp-csum-0", v4_udp(req, vlan, {}, 3478, 0));
  f.emplace_back("v4-stun-udp-csum-bad", v4_udp(req, vlan, {}, 3478, 0x1234));
  {
    g::Ip4Opts o;
    o.options = {0x01, 0x01, 0x01, 0x00, 0x94, 0x04, 0x00, 0x00};
    f.emplace_back("v4-stun-options", v4_udp(req_fp, vlan, o));
    o.options.assign(40, 0x01);
    f.emplace_back("v4-stun-options-40", v4_udp(req, vlan, o));
  }
  {
    g::Ip4Opts o;
    o.frag = 0x2000;
    f.emplace_back("v4-fragment", v4_udp(req, vlan, o));
    g::Ip4Opts c;
    c.bad_csum = true;
    f.emplace_back("v4-bad-header-csum", v4_udp(req, vlan, c));
  }
  {
    Bytes padded = g::eth(kOurMac, kPeerMac, 0x0800,
                          g::ipv4(kPeer4, kOur4, 17, g::udp4(kPeer4, kOur4, kPeerPort, 3478, req)), vlan);
    padded.resize(padded.size() + 12, 0);
    f.emplace_back("v4-stun-eth-padding", padded);
  }
  f.emplace_back("v6-stun", v6_udp(req, vlan));
  f.emplace_back("v6-stun-fp", v6_udp(req_fp, vlan));
  f.emplace_back("v6-stun-classic", v6_udp(classic, vlan));
  f.emplace_back("v6-stun-420", v6_udp(unknown, vlan));
  f.emplace_back("v6-extension-header",
                 g::eth(kOurMac, kPeerMac, 0x86DD, g::ipv6(kPeer6, kOur6, 0, Bytes(16, 0)), vlan));

  f.emplace_back("v4-echo", g::eth(kOurMac, kPeerMac, 0x0800, g::ipv4(kPeer4, kOur4, 1, g::icmp4(8, 0, echo)), vlan));
  {
    g::Ip4Opts o;
    o.options = {0x01, 0x01, 0x01, 0x00};
    f.emplace_back("v4-echo-options",
                   g::eth(kOurMac, kPeerMac, 0x0800, g::ipv4(kPeer4, kOur4b, 1, g::icmp4(8, 0, echo), o), vlan));
  }
  f.emplace_back("v4-echo-empty", g::eth(kOurMac, kPeerMac, 0x0800, g::ipv4(kPeer4, kOur4, 1, g::icmp4(8, 0, Bytes(4, 0))), vlan));
  f.emplace_back("v6-echo", v6_icmp(kPeer6, kOur6, 128, echo, kOurMac, vlan));

  f.emplace_back("arp-request", g::eth(kBroadcast, kPeerMac, 0x0806, g::arp(1, kPeerMac, kPeer4, g::Mac{}, kOur4), vlan));
  f.emplace_back("arp-request-unicast", g::eth(kOurMac, kPeerMac, 0x0806, g::arp(1, kPeerMac, kPeer4, g::Mac{}, kOur4b), vlan));
  f.emplace_back("arp-gratuitous", g::eth(kBroadcast, kPeerMac, 0x0806, g::arp(1, kPeerMac, kPeer4, g::Mac{}, kPeer4), vlan));

  const Bytes slla = g::lla_option(1, kPeerMac);
  f.emplace_back("ns-unicast", v6_icmp(kPeer6, kOur6, 135, g::ns_body(kOur6, slla), kOurMac, vlan));
  f.emplace_back("ns-multicast", v6_icmp(kPeerLl, g::solicited_node(kOur6), 135, g::ns_body(kOur6, slla),
                                         g::multicast_mac(g::solicited_node(kOur6)), vlan));
  f.emplace_back("ns-dad", v6_icmp(kUnspec, g::solicited_node(kOur6), 135, g::ns_body(kOur6),
                                   g::multicast_mac(g::solicited_node(kOur6)), vlan));
  f.emplace_back("na-unsolicited", v6_icmp(kPeer6, g::ip6("ff02::1"), 136, g::na_body(0x20000000, kPeer6, kPeerMac),
                                           g::Mac{0x33, 0x33, 0, 0, 0, 1}, vlan));
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
    const auto fs = frames(tagged ? kVlan : -1);
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
