// RFC 5780 in the responder: every CHANGE-REQUEST from each of the four endpoints, both families, classic and
// RFC 5389 requests, advertised addresses, RESPONSE-PORT, PADDING, and what a non-RFC 5780 address does instead.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>

#include "stun/responder.h"
#include "test_util.h"

namespace stunbox::stun {
namespace {

using test::Bytes;
using test::from_hex;
using test::get16;
using test::Stun;
using test::to_hex;

// 198.18.0.2:3478 (primary) / 198.18.0.3:3479 (alternate), advertised as 203.0.113.2/.3 when asked.
Rfc5780Pair pair_v4(bool advertised = false) {
  Rfc5780Pair p;
  p.local[0] = {198, 18, 0, 2};
  p.local[1] = {198, 18, 0, 3};
  p.advertised = p.local;
  if (advertised) {
    p.advertised[0] = {203, 0, 113, 2};
    p.advertised[1] = {203, 0, 113, 3};
  }
  p.port = {3478, 3479};
  return p;
}
Rfc5780Pair pair_v6() {
  Rfc5780Pair p;
  p.v6 = true;
  const Bytes a = from_hex("2001 0002 0000 0000 0000 0000 0000 0002");
  const Bytes b = from_hex("2001 0002 0000 0000 0000 0000 0000 0003");
  std::copy(a.begin(), a.end(), p.local[0].begin());
  std::copy(b.begin(), b.end(), p.local[1].begin());
  p.advertised = p.local;
  p.port = {3478, 3479};
  return p;
}

Endpoint client_for(bool v6) {
  return {*IpAddress::parse(v6 ? "2001:2::1" : "198.18.0.1"), 40000};
}

struct Result {
  Answer answer;
  Bytes out;
};

Result run(const Bytes& in, const Endpoint& client, Rfc5780Site site, const ResponderConfig& cfg = {}) {
  Bytes buf(in);
  buf.resize(std::max(in.size(), kMaxResponseSize), 0xEE);
  Result r;
  r.answer = respond(cfg, buf.data(), in.size(), buf.size(), client, site);
  if (r.answer.outcome != Outcome::drop) r.out.assign(buf.begin(), buf.begin() + r.answer.length);
  return r;
}

// An address attribute (not XORed): family, port, address.
struct Addr {
  bool v6 = false;
  uint16_t port = 0;
  Bytes ip;
  bool operator==(const Addr&) const = default;
};
std::optional<Addr> address_attr(const Bytes& msg, uint16_t type) {
  auto a = MessageView(msg.data(), msg.size()).find(type);
  if (!a || a->length < 8) return std::nullopt;
  Addr out;
  out.v6 = a->value[1] == kFamilyIpv6;
  out.port = get16(a->value + 2);
  out.ip.assign(a->value + 4, a->value + a->length);
  return out;
}
Addr endpoint_of(const Rfc5780Pair& p, unsigned ip, unsigned port, bool advertised = true) {
  const auto& a = advertised ? p.advertised[ip] : p.local[ip];
  return Addr{p.v6, p.port[port], Bytes(a.begin(), a.begin() + (p.v6 ? 16 : 4))};
}

Bytes change_request(uint8_t flags) { return Bytes{0, 0, 0, flags}; }

// Each of the four endpoints x each CHANGE-REQUEST (none, 0, ip, port, both) x
// both families x classic and RFC 5389: the reply leaves from the endpoint
// the rule picks and says so, and names the diagonal endpoint.
TEST(Rfc5780, EveryChangeFromEveryEndpoint) {
  for (bool v6 : {false, true}) {
    const Rfc5780Pair pair = v6 ? pair_v6() : pair_v4();
    for (bool classic : {false, true}) {
      for (int flags : {-1, 0, 2, 4, 6}) {
        for (uint8_t ip : {0, 1}) {
          for (uint8_t port : {0, 1}) {
            SCOPED_TRACE(std::string(v6 ? "v6" : "v4") + (classic ? " classic" : " rfc5389") + " flags " +
                         std::to_string(flags) + " endpoint " + (ip ? "A" : "P") + (port ? "A" : "P"));
            Stun b = test::classic_or_not(classic);
            if (flags >= 0) b.attr(attr::kChangeRequest, change_request(static_cast<uint8_t>(flags)));
            const Endpoint client = client_for(v6);
            const Result r = run(b.bytes(), client, Rfc5780Site{&pair, ip, port});
            ASSERT_EQ(r.answer.outcome, Outcome::success);
            ASSERT_EQ(MessageView(r.out.data(), r.out.size()).validate(), std::nullopt);
            const bool change_ip = flags > 0 && (flags & 4);
            const bool change_port = flags > 0 && (flags & 2);
            const unsigned from_ip = ip ^ (change_ip ? 1 : 0);
            const unsigned from_port = port ^ (change_port ? 1 : 0);
            EXPECT_EQ((r.answer.rfc5780 & rfc5780::kFromAlternateIp) != 0, from_ip == 1);
            EXPECT_EQ((r.answer.rfc5780 & rfc5780::kFromAlternatePort) != 0, from_port == 1);
            EXPECT_EQ((r.answer.rfc5780 & rfc5780::kAskedChangeIp) != 0, change_ip);
            EXPECT_EQ((r.answer.rfc5780 & rfc5780::kAskedChangePort) != 0, change_port);
            EXPECT_EQ(r.answer.response_port, 0);
            const uint16_t origin = classic ? attr::kSourceAddress : attr::kResponseOrigin;
            const uint16_t other = classic ? attr::kChangedAddress : attr::kOtherAddress;
            EXPECT_EQ(address_attr(r.out, origin), endpoint_of(pair, from_ip, from_port));
            EXPECT_EQ(address_attr(r.out, other), endpoint_of(pair, ip ^ 1, port ^ 1));
            const Addr own{v6, client.port, Bytes(client.ip.data(), client.ip.data() + client.ip.size())};
            if (classic) {
              EXPECT_EQ(address_attr(r.out, attr::kMappedAddress), own);
              EXPECT_FALSE(MessageView(r.out.data(), r.out.size()).find(attr::kXorMappedAddress));
              EXPECT_FALSE(MessageView(r.out.data(), r.out.size()).find(attr::kOtherAddress));
            } else {
              // RFC 5389 replies carry XOR-MAPPED-ADDRESS only (clients fall back to MAPPED-ADDRESS).
              EXPECT_TRUE(MessageView(r.out.data(), r.out.size()).find(attr::kXorMappedAddress));
              EXPECT_FALSE(MessageView(r.out.data(), r.out.size()).find(attr::kMappedAddress));
              EXPECT_FALSE(MessageView(r.out.data(), r.out.size()).find(attr::kChangedAddress));
            }
          }
        }
      }
    }
  }
}

// The whole reply, byte for byte: CHANGE-REQUEST 6 to PP over IPv4.
TEST(Rfc5780, ExactBytesChangeBothFromPrimary) {
  const Rfc5780Pair pair = pair_v4();
  const Bytes req = Stun().attr(attr::kChangeRequest, change_request(6)).bytes();
  const Result r = run(req, client_for(false), Rfc5780Site{&pair, 0, 0});
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  EXPECT_EQ(to_hex(r.out), to_hex(from_hex("0101 0024 2112a442 101112131415161718191a1b"
                                           "0020 0008 0001 bd52 e700a443"     // XOR-MAPPED 198.18.0.1:40000
                                           "802b 0008 0001 0d97 c6120003"     // RESPONSE-ORIGIN 198.18.0.3:3479
                                           "802c 0008 0001 0d97 c6120003")));  // OTHER-ADDRESS 198.18.0.3:3479
}

TEST(Rfc5780, AdvertisedAddressesAreWhatClientsAreTold) {
  const Rfc5780Pair pair = pair_v4(true);
  const Result r = run(Stun().attr(attr::kChangeRequest, change_request(4)).bytes(), client_for(false),
                       Rfc5780Site{&pair, 0, 1});
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  EXPECT_EQ(address_attr(r.out, attr::kResponseOrigin), endpoint_of(pair, 1, 1));
  EXPECT_EQ(address_attr(r.out, attr::kOtherAddress), endpoint_of(pair, 1, 0));
  EXPECT_EQ(address_attr(r.out, attr::kOtherAddress)->ip, from_hex("cb007103"));
  // Where the reply really leaves from is the caller's: local alternate IP, alternate port.
  EXPECT_EQ(r.answer.rfc5780 & (rfc5780::kFromAlternateIp | rfc5780::kFromAlternatePort),
            rfc5780::kFromAlternateIp | rfc5780::kFromAlternatePort);
}

TEST(Rfc5780, ResponsePortIsHonoured) {
  const Rfc5780Pair pair = pair_v4();
  const Bytes req = Stun().attr(attr::kResponsePort, from_hex("1f90 0000")).fingerprint().bytes();
  const Result r = run(req, client_for(false), Rfc5780Site{&pair, 0, 0});
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  EXPECT_EQ(r.answer.response_port, 8080);
  EXPECT_NE(r.answer.rfc5780 & rfc5780::kResponsePort, 0);
  // XOR-MAPPED-ADDRESS still names the port the request came from.
  auto x = MessageView(r.out.data(), r.out.size()).find(attr::kXorMappedAddress);
  ASSERT_TRUE(x);
  EXPECT_EQ(static_cast<uint16_t>(get16(x->value + 2) ^ 0x2112), 40000);
  EXPECT_TRUE(MessageView(r.out.data(), r.out.size()).find(attr::kFingerprint));
}

// RFC 5780 s6.1: PADDING with RESPONSE-PORT is 400, and so is RESPONSE-PORT 0.
TEST(Rfc5780, PaddingWithResponsePortIs400) {
  const Rfc5780Pair pair = pair_v4();
  const Bytes req =
      Stun().attr(attr::kResponsePort, from_hex("1f90 0000")).attr(attr::kPadding, Bytes(64, 0)).bytes();
  const Result r = run(req, client_for(false), Rfc5780Site{&pair, 0, 0});
  ASSERT_EQ(r.answer.outcome, Outcome::error);
  EXPECT_EQ(r.answer.response_port, 0);
  EXPECT_EQ(to_hex(r.out), to_hex(from_hex("0111 0014 2112a442 101112131415161718191a1b"
                                           "0009 000f 00000400 42616420526571756573740" "0")));
  const Result zero =
      run(Stun().attr(attr::kResponsePort, from_hex("0000 0000")).bytes(), client_for(false),
          Rfc5780Site{&pair, 0, 0});
  ASSERT_EQ(zero.answer.outcome, Outcome::error);
  auto ec = MessageView(zero.out.data(), zero.out.size()).find(attr::kErrorCode);
  ASSERT_TRUE(ec);
  EXPECT_EQ(ec->value[2] * 100 + ec->value[3], 400);
}

// PADDING is echoed but never makes the reply longer than the request.
TEST(Rfc5780, PaddingNeverOutgrowsTheRequest) {
  const Rfc5780Pair pair = pair_v4();
  for (size_t n : {0, 4, 8, 36, 40, 100, 400, 1200}) {
    SCOPED_TRACE(n);
    const Bytes req = Stun().attr(attr::kPadding, Bytes(n, 0)).bytes();
    const Result r = run(req, client_for(false), Rfc5780Site{&pair, 0, 0});
    ASSERT_EQ(r.answer.outcome, Outcome::success);
    EXPECT_LE(r.out.size(), std::max<size_t>(req.size(), 56));
    auto pad = MessageView(r.out.data(), r.out.size()).find(attr::kPadding);
    // A 56-byte reply without PADDING: only requests longer than 60 bytes leave room for some.
    if (req.size() >= 56 + 4 + 4) {
      ASSERT_TRUE(pad);
      EXPECT_EQ(r.out.size(), 56 + 4 + pad->length);
      EXPECT_NE(r.answer.rfc5780 & rfc5780::kPadded, 0);
    } else {
      EXPECT_FALSE(pad);
    }
  }
  // Not an RFC 5780 endpoint: PADDING is understood and ignored.
  const Result plain = run(Stun().attr(attr::kPadding, Bytes(400, 0)).bytes(), client_for(false), {});
  ASSERT_EQ(plain.answer.outcome, Outcome::success);
  EXPECT_EQ(plain.out.size(), 32u);
}

// Away from a configured pair nothing changes: a requested change and
// RESPONSE-PORT get 420, and OTHER-ADDRESS is never sent.
TEST(Rfc5780, NotAnEndpointGets420AndNoOtherAddress) {
  for (const Bytes& req : {Stun().attr(attr::kChangeRequest, change_request(4)).bytes(),
                           Stun().attr(attr::kResponsePort, from_hex("1f90 0000")).bytes()}) {
    const Result r = run(req, client_for(false), {});
    ASSERT_EQ(r.answer.outcome, Outcome::error);
    EXPECT_FALSE(MessageView(r.out.data(), r.out.size()).find(attr::kOtherAddress));
    EXPECT_EQ(r.answer.rfc5780, 0);
  }
  const Result plain = run(Stun().bytes(), client_for(false), {});
  ASSERT_EQ(plain.answer.outcome, Outcome::success);
  EXPECT_FALSE(MessageView(plain.out.data(), plain.out.size()).find(attr::kOtherAddress));
  EXPECT_FALSE(MessageView(plain.out.data(), plain.out.size()).find(attr::kResponseOrigin));
}

TEST(Rfc5780, MalformedResponsePortIs420) {
  const Rfc5780Pair pair = pair_v4();
  const Result r = run(Stun().attr(attr::kResponsePort, from_hex("1f90")).bytes(), client_for(false),
                       Rfc5780Site{&pair, 0, 0});
  ASSERT_EQ(r.answer.outcome, Outcome::error);
  auto ua = MessageView(r.out.data(), r.out.size()).find(attr::kUnknownAttributes);
  ASSERT_TRUE(ua);
  EXPECT_EQ(to_hex(ua->value, ua->length), "0027");
}

// The longest reply: IPv6, three address attributes, the longest SOFTWARE, FINGERPRINT.
TEST(Rfc5780, LargestReplyFitsExactly) {
  const Rfc5780Pair pair = pair_v6();
  const std::string sw(kMaxSoftwareBytes, 's');
  ResponderConfig cfg;
  cfg.fingerprint = FingerprintPolicy::always;
  cfg.software = sw;
  Bytes buf = Stun().bytes();
  const size_t len = buf.size();
  buf.resize(kMaxResponseSize);
  Answer a = respond(cfg, buf.data(), len, kMaxResponseSize, client_for(true), Rfc5780Site{&pair, 1, 1});
  ASSERT_EQ(a.outcome, Outcome::success);
  EXPECT_EQ(a.length, kMaxResponseSize);
  buf = Stun().bytes();
  buf.resize(kMaxResponseSize);
  a = respond(cfg, buf.data(), len, kMaxResponseSize - 1, client_for(true), Rfc5780Site{&pair, 1, 1});
  EXPECT_EQ(a.reason, DropReason::stun_no_room);
}

}  // namespace
}  // namespace stunbox::stun
