// Golden table for frame::reflect: the rows of rows.cc ({name, input frame, expected reply frame or drop reason, options}) in both checksum variants, every truncation, random mutations.
#include "frame/reflect.h"

#include "frame/fast_path.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <ostream>
#include <random>
#include <set>

#include "packet.h"
#include "rows.h"

namespace stunbox::golden {

// gtest prints a failing parameter with this instead of a byte dump.
void PrintTo(const Row& r, std::ostream* os) { *os << r.name; }

}  // namespace stunbox::golden

namespace stunbox::frame {
namespace {

using namespace golden;  // NOLINT: the rows, the port and its constants
using pkt::check_checksums;
using pkt::complete_offload;
using pkt::hex_dump;


struct Reflected {
  Verdict v;
  Bytes out;
};

// The frame lives in a heap buffer of exactly `capacity` bytes, so ASan
// catches any access past it.
template <bool kOffload>
Reflected run(const Bytes& in, size_t capacity, const PortIdentity& port, const stun::ResponderConfig& cfg, RxHints hints) {
  // (The capacity-below-length case still needs the bytes themselves.)
  std::unique_ptr<uint8_t[]> buf(new uint8_t[std::max({capacity, in.size(), size_t{1}})]);
  std::copy(in.begin(), in.end(), buf.get());
  Reflected r;
  r.v = reflect<kOffload>(buf.get(), in.size(), capacity, port, cfg, hints);
  if (r.v.tx) r.out.assign(buf.get(), buf.get() + std::min<size_t>(r.v.length, capacity));
  return r;
}

size_t capacity_of(const Row& c) { return c.room == kBelowLength ? c.in.size() - 1 : c.in.size() + c.room; }

class Golden : public ::testing::TestWithParam<Row> {};

template <bool kOffload>
void check_case(const Row& c) {
  const PortIdentity port = port_identity(c.tagged);
  const Reflected r = run<kOffload>(c.in, capacity_of(c), port, c.cfg, c.hints);
  if (const auto* reason = c.drop()) {
    EXPECT_FALSE(r.v.tx) << "expected drop " << name(*reason) << ", got a reply:\n" << hex_dump(r.out.data(), r.out.size());
    if (!r.v.tx) {
      EXPECT_EQ(name(r.v.reason), name(*reason));
    }
    return;
  }
  const Bytes& want_sw = c.reply()->frame;
  const ReplyKind kind = c.reply()->kind;
  ASSERT_TRUE(r.v.tx) << "expected a reply, dropped: " << name(r.v.reason);
  EXPECT_EQ(r.v.kind, kind);
  const bool udp = is_udp_reply(kind);
  const Bytes want = expected_frame(*c.reply(), kOffload);
  EXPECT_EQ(r.out, want) << "got:\n" << hex_dump(r.out.data(), r.out.size()) << "\nwant:\n" << hex_dump(want.data(), want.size());
  EXPECT_EQ(r.v.l2_len, l2_len_of(c.in));
  const bool v6 = want_sw[r.v.l2_len - 2] == 0x86;
  EXPECT_EQ(r.v.ipv6(), v6);
  if (kind != ReplyKind::arp_reply) {
    EXPECT_EQ(r.v.l3_len, v6 ? 40 : 20);
  }
  EXPECT_EQ(r.v.udp(), udp);  // in the offload variant: the checksums are the NIC's
  if (udp) {
    EXPECT_NE(r.v.request, stun::RequestKind::none);
  }
  if (kOffload && udp) {
    // What the NIC would put on the wire must equal the software reply.
    EXPECT_EQ(complete_offload(r.out, r.v.l2_len, r.v.l3_len, r.v.ipv6()), want_sw);
  } else {
    EXPECT_EQ(check_checksums(r.out.data(), r.out.size()), "");
  }
}

TEST_P(Golden, Software) { check_case<false>(GetParam()); }
TEST_P(Golden, Offload) { check_case<true>(GetParam()); }

// Which rows the fast path (frame/fast_path.h) must take, judged from the
// row itself, independently of the fast path's code: an answered plain
// RFC 5389 Binding request (no attribute, or FINGERPRINT alone) in an
// untagged IPv4 (IHL 5) or IPv6 (UDP next) frame, no SOFTWARE, no NIC hint
// saying "bad", not to an RFC 5780 endpoint.
bool fast_eligible(const Row& c, const PortIdentity& port) {
  const Reply* r = c.reply();
  if (r == nullptr || r->kind != ReplyKind::stun_success || c.tagged || !c.cfg.software.empty() ||
      c.hints.ip == CsumState::bad || c.hints.udp == CsumState::bad || l2_len_of(c.in) != 14)
    return false;
  const uint8_t* f = c.in.data();
  const bool v6 = f[12] == 0x86;
  if (v6 ? f[14 + 6] != 17 : f[14] != 0x45) return false;
  const size_t l4 = v6 ? 54 : 34;
  const uint8_t* dst = f + (v6 ? 14 + 24 : 14 + 16);
  if (const auto& pair = port.rfc5780[v6 ? 1 : 0]) {
    const uint16_t dport = pkt::get16(f + l4 + 2);
    const size_t n = v6 ? 16 : 4;
    if ((dport == pair->port[0] || dport == pair->port[1]) &&
        (std::equal(dst, dst + n, pair->local[0].data()) || std::equal(dst, dst + n, pair->local[1].data())))
      return false;
  }
  const uint8_t* msg = f + l4 + 8;
  const size_t msg_len = pkt::get16(f + l4 + 4) - 8u;
  if (pkt::get32(msg + 4) != stun::kMagicCookie) return false;  // classic
  return msg_len == 20 || (msg_len == 28 && pkt::get16(msg + 20) == stun::attr::kFingerprint);
}

uint64_t bits(Verdict v) { return std::bit_cast<uint64_t>(v); }

// Both paths give the same verdict and bytes for every row: reflect (fast
// path first), reflect_general (never the fast path), and the fast path
// alone, which takes exactly the eligible rows and leaves every other frame
// untouched.
template <bool kOffload>
void check_both_paths(const Row& c) {
  const PortIdentity port = port_identity(c.tagged);
  const size_t cap = capacity_of(c);
  const Reflected full = run<kOffload>(c.in, cap, port, c.cfg, c.hints);
  std::unique_ptr<uint8_t[]> g(new uint8_t[std::max({cap, c.in.size(), size_t{1}})]);
  std::copy(c.in.begin(), c.in.end(), g.get());
  const Verdict general = reflect_general<kOffload>(g.get(), c.in.size(), cap, port, c.cfg, c.hints);
  EXPECT_EQ(bits(general), bits(full.v));
  if (general.tx) {
    EXPECT_EQ(Bytes(g.get(), g.get() + general.length), full.out);
  }
  std::unique_ptr<uint8_t[]> b(new uint8_t[std::max({cap, c.in.size(), size_t{1}})]);
  std::copy(c.in.begin(), c.in.end(), b.get());
  Verdict fast_v;
  const bool took = fast::reflect_fast<kOffload>(b.get(), c.in.size(), cap, port, c.cfg, c.hints, fast_v);
  EXPECT_EQ(took, fast_eligible(c, port)) << (took ? "took" : "declined") << " the fast path";
  if (took) {
    EXPECT_EQ(bits(fast_v), bits(general));
    EXPECT_EQ(Bytes(b.get(), b.get() + fast_v.length), Bytes(g.get(), g.get() + general.length));
  } else {
    EXPECT_EQ(Bytes(b.get(), b.get() + c.in.size()), c.in) << "a declined frame must be left untouched";
  }
}

TEST_P(Golden, BothPathsSoftware) { check_both_paths<false>(GetParam()); }
TEST_P(Golden, BothPathsOffload) { check_both_paths<true>(GetParam()); }

// The fast path is not a corner case of the table: enough rows take it, of both families and both request shapes.
TEST(GoldenTable, FastPathRows) {
  size_t v4 = 0, v6 = 0, fp = 0;
  for (const Row& c : rows()) {
    if (!fast_eligible(c, port_identity(c.tagged))) continue;
    const bool is_v6 = c.in[12] == 0x86;
    (is_v6 ? v6 : v4)++;
    if (pkt::get16(c.in.data() + (is_v6 ? 54 : 34) + 4) == 8 + 28) ++fp;  // UDP length: FINGERPRINT-only request
  }
  std::printf("golden rows on the fast path: %zu IPv4, %zu IPv6 (%zu with FINGERPRINT)\n", v4, v6, fp);
  EXPECT_GE(v4, 5u);
  EXPECT_GE(v6, 3u);
  EXPECT_GE(fp, 1u);
}

// Every proper prefix of a frame that is answered must be dropped, on a
// buffer exactly its size and on one with room, in both variants.
TEST(GoldenTable, EveryTruncationOfAnAnsweredFrameDrops) {
  size_t frames = 0;
  for (const Row& c : rows()) {
    if (!c.answered() || !c.truncatable) continue;
    ++frames;
    const PortIdentity port = port_identity(c.tagged);
    for (size_t n = 0; n < c.in.size(); ++n) {
      const Bytes cut(c.in.begin(), c.in.begin() + static_cast<long>(n));
      for (size_t room : {size_t{0}, size_t{512}}) {
        ASSERT_FALSE((run<false>(cut, n + room, port, c.cfg, c.hints).v.tx)) << c.name << ": prefix " << n << " answered";
        ASSERT_FALSE((run<true>(cut, n + room, port, c.cfg, c.hints).v.tx)) << c.name << ": prefix " << n << " answered";
      }
    }
  }
  EXPECT_GT(frames, 20u);
}

// The expected replies the test builds are themselves valid frames (guards
// the oracle).
TEST(GoldenTable, ExpectedRepliesAreValid) {
  for (const Row& c : rows()) {
    if (const auto* want = c.reply()) {
      EXPECT_EQ(check_checksums(want->frame.data(), want->frame.size()), "") << c.name;
    }
  }
}

// The rows for RFC 768 / RFC 8200 s8.1's "a computed 0 is sent as 0xFFFF"
// really have a reply whose checksum computes to 0 (their transaction ids
// were found by search).
TEST(GoldenTable, ZeroChecksumRowsReallyComputeToZero) {
  size_t found = 0;
  for (const Row& c : rows()) {
    if (c.name.find("checksum computing to 0") == std::string::npos) continue;
    ++found;
    const Bytes& f = c.reply()->frame;
    const size_t udp = f[12] == 0x86 ? 14 + 40 : 14 + 20;
    EXPECT_EQ(pkt::get16(f.data() + udp + 6), 0xFFFF) << c.name;
  }
  EXPECT_EQ(found, 2u);
}

// The table is data (rows.cc) shared with tests/dpdk: it must not shrink.
// PortSet: the served-port map the fast and general paths test.
TEST(PortSet, SetTestNoneAndRange) {
  PortSet s;
  EXPECT_TRUE(s.none());
  for (size_t p : {0u, 63u, 64u, 3478u, 65535u}) {
    EXPECT_FALSE(s.test(p));
    s.set(p);
    EXPECT_TRUE(s.test(p)) << p;
  }
  EXPECT_FALSE(s.none());
  size_t n = 0;
  for (size_t p = 0; p < s.size(); ++p) n += s.test(p) ? 1 : 0;
  EXPECT_EQ(n, 5u);
  EXPECT_FALSE(s.test(65536));  // out of range: not served
  EXPECT_THROW(s.set(65536), std::out_of_range);
}

TEST(GoldenTable, RowCount) { EXPECT_GE(rows().size(), 179u); }

std::string case_name(const ::testing::TestParamInfo<Row>& info) {
  std::string s;
  for (char ch : info.param.name) s += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return std::to_string(info.index) + "_" + s;
}

INSTANTIATE_TEST_SUITE_P(Table, Golden, ::testing::ValuesIn(rows()), case_name);

// Every reason the frame layer itself can produce appears in the table.
TEST(GoldenTable, CoversEveryFrameDropReason) {
  std::set<DropReason> seen;
  for (const Row& c : rows())
    if (const auto* r = c.drop()) seen.insert(*r);
  std::vector<DropReason> frame_reasons;
  for (size_t i = static_cast<size_t>(DropReason::eth_too_short); i <= static_cast<size_t>(DropReason::ndp_not_ours); ++i)
    frame_reasons.push_back(static_cast<DropReason>(i));
  frame_reasons.push_back(DropReason::mbuf_no_tailroom);
  frame_reasons.push_back(DropReason::mld_not_query);
  frame_reasons.push_back(DropReason::mld_invalid);
  for (DropReason r : frame_reasons) EXPECT_TRUE(seen.count(r)) << "no golden case for " << name(r);
}

// Random byte mutations of every answered frame: never a crash or an access
// outside the exact-size buffer; any reply still has valid checksums and
// stays within capacity.
TEST(GoldenTable, MutatedFramesStaySafe) {
  std::mt19937 rng(12345);
  const PortIdentity untagged = port_identity(false);
  const PortIdentity tagged = port_identity(true);
  size_t replies = 0;
  for (const Row& c : rows()) {
    if (!c.answered()) continue;
    const PortIdentity& port = c.tagged ? tagged : untagged;
    for (int i = 0; i < 300; ++i) {
      Bytes m = c.in;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; ++k) m[rng() % m.size()] = static_cast<uint8_t>(rng());
      const size_t cap = m.size() + (i % 2 ? 0 : 64);
      const Reflected r = run<false>(m, cap, port, c.cfg, c.hints);
      if (r.v.tx) {
        ++replies;
        ASSERT_LE(r.v.length, cap);
        ASSERT_EQ(check_checksums(r.out.data(), r.out.size()), "") << c.name << " mutation " << i;
      }
      (void)run<true>(m, cap, port, c.cfg, c.hints);
    }
  }
  EXPECT_GT(replies, 0u);  // some mutations (payload bytes, ports) still get answers
}

// The exception path's classification (frame::route of the verdict): what
// the kernel needs goes to it, what the fast path answers never does, and
// nothing malformed, foreign or over a limit is handed on.
TEST(Route, KernelGetsWhatTheBoxDoesNotAnswer) {
  const PortIdentity port = port_identity(false);
  const stun::ResponderConfig cfg{};
  for (const RouteRow& c : route_rows()) {
    const Verdict v = run<false>(c.in, c.in.size() + 256, port, cfg, RxHints{}).v;
    EXPECT_EQ(static_cast<int>(route(v)), static_cast<int>(c.want))
        << c.name << ": " << (v.tx ? std::string("reply") : std::string(name(v.reason)));
  }
  EXPECT_GE(route_rows().size(), 19u);
  // No reason produced outside lib/frame goes to the kernel (limits, TX, STUN).
  for (DropReason r : {DropReason::rate_limited, DropReason::l3_policed, DropReason::nd_policed,
                       DropReason::tx_ring_full, DropReason::stun_bad_fingerprint, DropReason::exception_policed})
    EXPECT_FALSE(for_kernel(r)) << name(r);
}

// A port shared with the kernel by steering (xdp, flow; PortIdentity::stun_only):
// every STUN row is answered byte for byte as on a port that takes everything;
// ARP, NDP and echo are the kernel's and are dropped as steering_not_stun,
// never answered; other drops keep their reason unless it is an ARP/ICMP one.
TEST(Steering, StunOnlyPortAnswersStunAndLeavesTheRestToTheKernel) {
  size_t stun = 0, left = 0;
  for (const Row& c : rows()) {
    SCOPED_TRACE(c.name);
    PortIdentity port = port_identity(c.tagged);
    const Reflected all = run<false>(c.in, capacity_of(c), port, c.cfg, c.hints);
    port.stun_only = true;
    const Reflected only = run<false>(c.in, capacity_of(c), port, c.cfg, c.hints);
    if (all.v.tx && all.v.udp()) {
      ++stun;
      EXPECT_TRUE(only.v.tx && only.v.udp());
      EXPECT_EQ(only.out, all.out);
    } else if (all.v.tx) {
      ++left;
      EXPECT_FALSE(only.v.tx);
      EXPECT_EQ(name(only.v.reason), name(DropReason::steering_not_stun));
    } else {
      EXPECT_FALSE(only.v.tx);
      EXPECT_TRUE(only.v.reason == all.v.reason || only.v.reason == DropReason::steering_not_stun)
          << name(all.v.reason) << " became " << name(only.v.reason);
    }
  }
  EXPECT_GT(stun, 20u);
  EXPECT_GT(left, 5u);  // ARP, NS, both echoes, tagged and not
  EXPECT_FALSE(for_kernel(DropReason::steering_not_stun));  // there is no exception path on such a port
}

TEST(Announce, GratuitousArp) {
  for (bool tagged : {false, true}) {
    const PortIdentity port = port_identity(tagged);
    uint8_t out[64];
    const size_t n = build_gratuitous_arp(out, sizeof out, port, 1);
    // The tag we originate carries PCP 0.
    const std::optional<pkt::Vlan> vlan = tagged ? std::optional(pkt::Vlan{kVlan, 0}) : std::nullopt;
    const Bytes want = pkt::Packet().eth(kBroadcast, kOurMac, vlan).arp(1, kOurMac, kOur4b, Mac{}, kOur4b);
    ASSERT_EQ(n, want.size());
    EXPECT_EQ(Bytes(out, out + n), want);
    EXPECT_EQ(build_gratuitous_arp(out, want.size() - 1, port, 0), 0u);
    EXPECT_EQ(build_gratuitous_arp(out, sizeof out, port, port.n_v4), 0u);  // past the last owned address
  }
}

TEST(Announce, UnsolicitedNa) {
  for (bool tagged : {false, true}) {
    const PortIdentity port = port_identity(tagged);
    uint8_t out[128];
    const size_t n = build_unsolicited_na(out, sizeof out, port, 0);
    const std::optional<pkt::Vlan> vlan = tagged ? std::optional(pkt::Vlan{kVlan, 0}) : std::nullopt;  // PCP 0
    const Bytes want = pkt::Packet()
                           .eth(kAllNodesMac, kOurMac, vlan)
                           .ipv6({.src = kOur6, .dst = kAllNodes, .hop = 255})
                           .na(0x20000000, kOur6, kOurMac);
    ASSERT_EQ(n, want.size());
    EXPECT_EQ(Bytes(out, out + n), want) << hex_dump(out, n);
    EXPECT_EQ(check_checksums(out, n), "");
    EXPECT_EQ(build_unsolicited_na(out, want.size() - 1, port, 0), 0u);
    EXPECT_EQ(build_unsolicited_na(out, sizeof out, port, port.n_v6), 0u);
  }
}

// The unsolicited report sent at start and on every link-up (RFC 3810 s6.1).
TEST(Announce, MldReport) {
  for (bool tagged : {false, true}) {
    const PortIdentity port = port_identity(tagged);
    uint8_t out[512];
    const size_t n = build_mld_report(out, sizeof out, port);
    const std::optional<pkt::Vlan> vlan = tagged ? std::optional(pkt::Vlan{kVlan, 0}) : std::nullopt;  // PCP 0
    const Bytes want = mld_report(our_groups(), 4, vlan).frame;
    ASSERT_EQ(n, want.size());
    EXPECT_EQ(Bytes(out, out + n), want) << hex_dump(out, n);
    EXPECT_EQ(check_checksums(out, n), "");
    EXPECT_EQ(build_mld_report(out, want.size() - 1, port), 0u);
  }
  PortIdentity v4_only;
  v4_only.mac = kOurMac;
  uint8_t out[512];
  EXPECT_EQ(build_mld_report(out, sizeof out, v4_only), 0u) << "no IPv6 address, no group to report";
}

TEST(PortIdentityTest, AddressTablesFill) {
  PortIdentity p;
  for (size_t i = 0; i < kMaxPortAddresses; ++i) {
    EXPECT_TRUE(p.add_v4({10, 0, 0, static_cast<uint8_t>(i)}));
    EXPECT_TRUE(p.add_v6({}));
  }
  EXPECT_FALSE(p.add_v4({10, 0, 1, 0}));
  EXPECT_FALSE(p.add_v6({}));
  EXPECT_EQ(p.n_v4, kMaxPortAddresses);
  EXPECT_EQ(p.n_v6, kMaxPortAddresses);
}

}  // namespace
}  // namespace stunbox::frame
