// The Binding responder: drop table (every stun_* reason), exact success / 420 bytes, policies, classic, capacity, and a random-input property.
#include "stun/responder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <set>

#include "test_util.h"

namespace stunbox::stun {
namespace {

using test::Bytes;
using test::from_hex;
using test::Stun;
using test::to_hex;

constexpr size_t kGuard = 32;
constexpr uint8_t kCanary = 0xEE;

struct Trial {
  Answer answer;
  Bytes out;               // response bytes when not dropped
  bool untouched = false;  // buf[0, capacity) identical to before
  bool guard_ok = false;   // nothing written at or past capacity
};

// Runs respond() on a copy of `in` in a buffer of `capacity` bytes followed
// by a guard zone, so writes past capacity are caught.
Trial run(const Bytes& in, const ResponderConfig& cfg = {}, const Endpoint& client = {},
        size_t capacity = kMaxResponseSize) {
  Bytes buf(in);
  buf.resize(std::max(capacity, in.size()) + kGuard, kCanary);
  const Bytes before = buf;
  Trial r;
  r.answer = respond(cfg, buf.data(), in.size(), capacity, client);
  r.untouched = std::equal(buf.begin(), buf.begin() + static_cast<long>(capacity), before.begin());
  r.guard_ok = std::all_of(buf.begin() + static_cast<long>(capacity), buf.end(), [](uint8_t b) { return b == kCanary; });
  if (r.answer.outcome != Outcome::drop) r.out.assign(buf.begin(), buf.begin() + r.answer.length);
  return r;
}

Endpoint v4_client() { return {*IpAddress::parse("198.18.0.1"), 54321}; }
Endpoint v6_client() { return {*IpAddress::parse("2001:2::1"), 3479}; }

ResponderConfig config(FingerprintPolicy fp = FingerprintPolicy::mirror, bool classic = true,
                       std::string_view software = {}) {
  ResponderConfig c;
  c.fingerprint = fp;
  c.classic = classic;
  c.software = software;
  return c;
}

Bytes with_byte(Bytes b, size_t i, uint8_t v) {
  b[i] = v;
  return b;
}
Bytes with_length_field(Bytes b, uint16_t len) {
  b[2] = static_cast<uint8_t>(len >> 8);
  b[3] = static_cast<uint8_t>(len);
  return b;
}
Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Bytes kRequest = Stun().bytes();
const Bytes kClassicRequest = Stun().classic().bytes();
const Bytes kRequestFp = Stun().attr(attr::kUsername, "abcd").fingerprint().bytes();

// --- drops -----------------------------------------------------------------

struct DropCase {
  const char* name;
  Bytes input;
  DropReason reason;
  RequestKind kind;
  ResponderConfig cfg;
  size_t capacity;
};

std::vector<DropCase> drop_cases() {
  const ResponderConfig def = config();
  const size_t cap = kMaxResponseSize;
  std::vector<DropCase> t = {
      {"empty datagram", {}, DropReason::stun_too_short, RequestKind::none, def, cap},
      {"19 bytes", Bytes(kRequest.begin(), kRequest.begin() + 19), DropReason::stun_too_short, RequestKind::none, def, cap},
      {"top bit 0x80", with_byte(kRequest, 0, 0x80), DropReason::stun_bad_top_bits, RequestKind::none, def, cap},
      {"top bit 0x40", with_byte(kRequest, 0, 0x40), DropReason::stun_bad_top_bits, RequestKind::none, def, cap},
      {"length not a multiple of 4", with_length_field(concat(kRequest, Bytes(5, 0)), 5), DropReason::stun_bad_length, RequestKind::none, def, cap},
      {"length beyond datagram", with_length_field(kRequest, 8), DropReason::stun_bad_length, RequestKind::none, def, cap},
      {"trailing bytes not counted", concat(kRequest, Bytes(4, 0)), DropReason::stun_bad_length, RequestKind::none, def, cap},
      {"length field of a 64 KiB datagram wraps", with_length_field(concat(kRequest, Bytes(65536, 0)), 0), DropReason::stun_bad_length, RequestKind::none, def, 65556 + 4},
      {"attribute runs past the end", with_length_field(concat(kRequest, from_hex("0006 0008 61626364")), 8),
       DropReason::stun_bad_attribute, RequestKind::rfc5389, def, cap},
      {"attribute padding missing", with_length_field(concat(kRequest, from_hex("0006 0005 61626364")), 8),
       DropReason::stun_bad_attribute, RequestKind::rfc5389, def, cap},
      {"classic attribute runs past the end", with_length_field(concat(kClassicRequest, from_hex("0001 0010 00010001 c6120001")), 12),
       DropReason::stun_bad_attribute, RequestKind::classic, def, cap},
      {"fingerprint value wrong", with_byte(kRequestFp, kRequestFp.size() - 1, kRequestFp.back() ^ 0x01),
       DropReason::stun_bad_fingerprint, RequestKind::rfc5389, def, cap},
      {"fingerprint over a modified body", with_byte(kRequestFp, 24, 'X'), DropReason::stun_bad_fingerprint, RequestKind::rfc5389, def, cap},
      {"fingerprint of length 8", Stun().attr(attr::kFingerprint, Bytes(8, 0)).bytes(), DropReason::stun_bad_fingerprint, RequestKind::rfc5389, def, cap},
      {"fingerprint before SOFTWARE", Stun().fingerprint().attr(attr::kSoftware, "x").bytes(),
       DropReason::stun_fingerprint_not_last, RequestKind::rfc5389, def, cap},
      {"fingerprint before MESSAGE-INTEGRITY", Stun().fingerprint().attr(attr::kMessageIntegrity, Bytes(20, 0)).bytes(),
       DropReason::stun_fingerprint_not_last, RequestKind::rfc5389, def, cap},
      {"Binding indication", Stun(0x0011).bytes(), DropReason::stun_indication, RequestKind::none, def, cap},
      {"Binding success response", Stun(0x0101).bytes(), DropReason::stun_response, RequestKind::none, def, cap},
      {"Binding error response", Stun(0x0111).bytes(), DropReason::stun_response, RequestKind::none, def, cap},
      {"classic Binding response", Stun(0x0101).classic().bytes(), DropReason::stun_response, RequestKind::none, def, cap},
      {"Allocate request", Stun(0x0003).bytes(), DropReason::stun_not_binding, RequestKind::none, def, cap},
      {"classic Shared Secret request", Stun(0x0002).classic().bytes(), DropReason::stun_not_binding, RequestKind::none, def, cap},
      {"GOOG-PING request", Stun(message_type(0x080, MessageClass::request)).bytes(), DropReason::stun_not_binding, RequestKind::none, def, cap},
      {"Send indication", Stun(0x0016).bytes(), DropReason::stun_indication, RequestKind::none, def, cap},
      {"classic request, classic off", kClassicRequest, DropReason::stun_classic_disabled, RequestKind::classic, config(FingerprintPolicy::mirror, false), cap},
      {"no room for the success", kRequest, DropReason::stun_no_room, RequestKind::rfc5389, def, 31},
      {"no room for FINGERPRINT", kRequestFp, DropReason::stun_no_room, RequestKind::rfc5389, def, 39},
      {"no room for SOFTWARE", kRequest, DropReason::stun_no_room, RequestKind::rfc5389, config(FingerprintPolicy::never, true, "abcde"), 43},
      {"no room for the 420", Stun().attr(0x0040, Bytes{}).bytes(), DropReason::stun_no_room, RequestKind::rfc5389, def, 55},
      {"classic: no room", kClassicRequest, DropReason::stun_no_room, RequestKind::classic, def, 31},
  };
  return t;
}

TEST(ResponderDrops, Table) {
  for (const DropCase& c : drop_cases()) {
    SCOPED_TRACE(c.name);
    const Trial r = run(c.input, c.cfg, v4_client(), c.capacity);
    EXPECT_EQ(r.answer.outcome, Outcome::drop);
    EXPECT_EQ(name(r.answer.reason), name(c.reason));
    EXPECT_EQ(r.answer.kind, c.kind);
    EXPECT_TRUE(r.untouched) << "a drop must not modify the buffer";
    EXPECT_TRUE(r.guard_ok);
  }
}

TEST(ResponderDrops, TableCoversEveryStunReason) {
  std::set<std::string_view> covered;
  for (const DropCase& c : drop_cases()) covered.insert(name(c.reason));
  for (std::string_view n : kDropReasonNames) {
    if (n.starts_with("stun_")) {
      EXPECT_TRUE(covered.count(n)) << n << " has no test case";
    }
  }
}

TEST(ResponderDrops, ResponsesWeBuildAreNeverAnswered) {
  // Feeding our own success and 420 back in must not produce a reply (no loops).
  for (const Bytes& req : {kRequest, kRequestFp, Stun().attr(0x0040, Bytes{}).bytes(), kClassicRequest}) {
    const Trial first = run(req, config(FingerprintPolicy::always, true, "sbx"), v4_client());
    ASSERT_NE(first.answer.outcome, Outcome::drop);
    const Trial second = run(first.out, config(FingerprintPolicy::always, true, "sbx"), v4_client());
    EXPECT_EQ(second.answer.outcome, Outcome::drop);
    EXPECT_EQ(second.answer.reason, DropReason::stun_response);
  }
}

// --- success ---------------------------------------------------------------

TEST(ResponderSuccess, Ipv4ExactBytes) {
  const Trial r = run(kRequest, config(), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  EXPECT_EQ(r.answer.kind, RequestKind::rfc5389);
  // 54321 ^ 0x2112 = 0xf523; 198.18.0.1 ^ 2112a442 = e700a443 (RFC 8489 s14.2).
  EXPECT_EQ(to_hex(r.out), to_hex(from_hex("0101 000c 2112a442 101112131415161718191a1b"
                                           "0020 0008 0001 f523 e700a443")));
  EXPECT_TRUE(r.guard_ok);
}

TEST(ResponderSuccess, Ipv6ExactBytes) {
  const Trial r = run(kRequest, config(), v6_client());
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  // Address XOR cookie||transaction id; 3479 ^ 0x2112 = 0x2c85.
  EXPECT_EQ(to_hex(r.out), to_hex(from_hex("0101 0018 2112a442 101112131415161718191a1b"
                                           "0020 0014 0002 2c85 0113a440 10111213 14151617 18191a1a")));
}

TEST(ResponderSuccess, IgnoresUnderstoodAndOptionalAttributes) {
  Stun b;
  for (uint16_t t : kUnderstoodTypes) {
    if (t != attr::kMessageIntegrity && t != attr::kMessageIntegritySha256) b.attr(t, Bytes{1, 2, 3});
  }
  b.attr(attr::kIceControlling, Bytes(8, 1)).attr(attr::kOtherAddress, Bytes(8, 0)).attr(0xFFFF, Bytes{}).attr(0x8000, Bytes{9});
  const Trial r = run(b.bytes(), config(), v4_client());
  EXPECT_EQ(r.answer.outcome, Outcome::success);
  EXPECT_EQ(r.answer.length, 32);
}

TEST(ResponderSuccess, UnknownAfterIntegrityIsIgnored) {
  for (uint16_t mi : {attr::kMessageIntegrity, attr::kMessageIntegritySha256}) {
    const Bytes req = Stun().attr(mi, Bytes(mi == attr::kMessageIntegrity ? 20 : 32, 7)).attr(0x0040, Bytes{}).attr(attr::kChangeRequest, Bytes(4, 0)).fingerprint().bytes();
    const Trial r = run(req, config(), v4_client());
    EXPECT_EQ(r.answer.outcome, Outcome::success) << mi;
    EXPECT_EQ(r.answer.length, 40) << mi;  // FINGERPRINT mirrored
  }
}

TEST(ResponderSuccess, FingerprintPolicy) {
  struct Case {
    FingerprintPolicy policy;
    bool request_has_fp;
    bool want_fp;
  };
  const Case cases[] = {
      {FingerprintPolicy::mirror, true, true},  {FingerprintPolicy::mirror, false, false},
      {FingerprintPolicy::always, true, true},  {FingerprintPolicy::always, false, true},
      {FingerprintPolicy::never, true, false},  {FingerprintPolicy::never, false, false},
  };
  for (const Case& c : cases) {
    for (bool error : {false, true}) {
      SCOPED_TRACE(testing::Message() << "policy " << int(c.policy) << " request fp " << c.request_has_fp << " error " << error);
      Stun b;
      if (error) b.attr(0x0040, Bytes{});
      if (c.request_has_fp) b.fingerprint();
      const Trial r = run(b.bytes(), config(c.policy), v6_client());
      ASSERT_EQ(r.answer.outcome, error ? Outcome::error : Outcome::success);
      MessageView v(r.out.data(), r.out.size());
      EXPECT_EQ(v.validate(), std::nullopt);
      auto fp = v.find(attr::kFingerprint);
      EXPECT_EQ(fp.has_value(), c.want_fp);
      if (fp) {
        EXPECT_EQ(fp->offset + 8, r.out.size());
        EXPECT_EQ(test::get32(fp->value), test::reference_crc32(r.out.data(), fp->offset) ^ kFingerprintXor);
      }
    }
  }
}

TEST(ResponderSuccess, SoftwareOnlyWhenConfiguredAndPadded) {
  const Trial none = run(kRequest, config(FingerprintPolicy::never), v4_client());
  EXPECT_FALSE(MessageView(none.out.data(), none.out.size()).find(attr::kSoftware).has_value());

  const Trial r = run(kRequest, config(FingerprintPolicy::always, true, "abcde"), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  ASSERT_EQ(r.answer.length, 20 + 12 + 12 + 8);
  EXPECT_EQ(to_hex(r.out.data() + 32, 12), "8022000561626364650000" "00");
  EXPECT_EQ(MessageView(r.out.data(), r.out.size()).validate(), std::nullopt);

  // Multiple of 4: no padding.
  const Trial r4 = run(kRequest, config(FingerprintPolicy::never, true, "sbx1"), v4_client());
  EXPECT_EQ(to_hex(r4.out.data() + 32, 8), "8022000473627831");
  EXPECT_EQ(r4.answer.length, 40);
}

// --- classic ---------------------------------------------------------------

TEST(ResponderClassic, Ipv4MappedAddressExactBytes) {
  // FINGERPRINT policy "always" must still not add one for RFC 3489.
  const Trial r = run(kClassicRequest, config(FingerprintPolicy::always), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  EXPECT_EQ(r.answer.kind, RequestKind::classic);
  EXPECT_EQ(to_hex(r.out), to_hex(from_hex("0101 000c a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
                                           "0001 0008 0001 d431 c6120001")));
}

TEST(ResponderClassic, Ipv6MappedAddressFamily2) {
  const Trial r = run(kClassicRequest, config(), v6_client());
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  EXPECT_EQ(to_hex(r.out), to_hex(from_hex("0101 0018 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
                                           "0001 0014 0002 0d97 20010002000000000000000000000001")));
}

TEST(ResponderClassic, SoftwarePaddedWithSpacesInsideLength) {
  const Trial r = run(kClassicRequest, config(FingerprintPolicy::mirror, true, "abcde"), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  ASSERT_EQ(r.answer.length, 44);
  EXPECT_EQ(to_hex(r.out.data() + 32, 12), "80220008616263646520" "2020");
}

TEST(ResponderClassic, RequestWithFingerprintGetsNone) {
  const Bytes req = Stun().classic().fingerprint().bytes();
  const Trial r = run(req, config(FingerprintPolicy::mirror), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  EXPECT_EQ(r.answer.length, 32);
}

TEST(ResponderClassic, Rfc3489ResponseOnlyTypesAreIgnored) {
  const Bytes req = Stun().classic().attr(attr::kSourceAddress, Bytes(8, 0)).attr(attr::kReflectedFrom, Bytes(8, 0)).bytes();
  EXPECT_EQ(run(req, config(), v4_client()).answer.outcome, Outcome::success);
  // ...but they are reserved in RFC 5389+ requests.
  const Bytes modern = Stun().attr(attr::kSourceAddress, Bytes(8, 0)).bytes();
  EXPECT_EQ(run(modern, config(), v4_client()).answer.outcome, Outcome::error);
}

// --- 420 -------------------------------------------------------------------

// "Unknown Attribute" = 556e6b6e6f776e20417474726962757465 (17 bytes).
TEST(Responder420, UnknownRequiredAttributeExactBytes) {
  const Trial r = run(Stun().attr(0x0040, Bytes{}).bytes(), config(), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::error);
  EXPECT_EQ(r.answer.kind, RequestKind::rfc5389);
  EXPECT_EQ(to_hex(r.out), to_hex(from_hex("0111 0024 2112a442 101112131415161718191a1b"
                                           "0009 0015 00000414 556e6b6e6f776e20417474726962757465 000000"
                                           "000a 0002 0040 0000")));
}

TEST(Responder420, ChangeRequestResponseAddressResponsePort) {
  struct Case {
    uint16_t type;
    Bytes value;
  };
  const Case cases[] = {{attr::kChangeRequest, from_hex("00000006")},
                        {attr::kResponseAddress, from_hex("0001 1234 c6120002")},
                        {attr::kResponsePort, from_hex("1234 0000")}};
  for (const Case& c : cases) {
    const Trial r = run(Stun().attr(c.type, c.value).bytes(), config(), v4_client());
    ASSERT_EQ(r.answer.outcome, Outcome::error) << c.type;
    const Bytes want = {0x00, 0x0a, 0x00, 0x02, static_cast<uint8_t>(c.type >> 8), static_cast<uint8_t>(c.type), 0, 0};
    EXPECT_EQ(to_hex(r.out.data() + 48, 8), to_hex(want));
  }
}

TEST(Responder420, ListsEachUnknownOnceInOrder) {
  const Bytes req = Stun()
                        .attr(attr::kChangeRequest, from_hex("00000004"))
                        .attr(0x7FFF, Bytes{})
                        .attr(attr::kChangeRequest, from_hex("00000002"))
                        .attr(attr::kResponseAddress, Bytes(8, 0))
                        .attr(0x8123, Bytes{})  // optional: not listed
                        .bytes();
  const Trial r = run(req, config(FingerprintPolicy::never, true, "sbx"), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::error);
  // UNKNOWN-ATTRIBUTES: 3 types = 6 bytes, padded to 8; then SOFTWARE.
  EXPECT_EQ(to_hex(r.out.data() + 48, 12), to_hex(from_hex("000a 0006 0003 7fff 0002 0000")));
  EXPECT_EQ(to_hex(r.out.data() + 60, 8), to_hex(from_hex("8022 0003 736278 00")));
  EXPECT_EQ(r.answer.length, 68);
  EXPECT_EQ(MessageView(r.out.data(), r.out.size()).validate(), std::nullopt);
}

TEST(Responder420, UnknownBeforeIntegrityCounts) {
  const Bytes req = Stun().attr(0x0040, Bytes{}).attr(attr::kMessageIntegrity, Bytes(20, 0)).fingerprint().bytes();
  const Trial r = run(req, config(), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::error);
  EXPECT_TRUE(MessageView(r.out.data(), r.out.size()).find(attr::kFingerprint).has_value());
}

TEST(Responder420, ListCappedAndLargestResponseFitsExactly) {
  Stun b;
  for (uint16_t t = 0x1000; t < 0x1000 + 3 * kMaxUnknownAttributes; ++t) b.attr(t, Bytes{});
  const Bytes req = b.bytes();
  const std::string sw(kMaxSoftwareBytes, 's');
  const ResponderConfig cfg = config(FingerprintPolicy::always, true, sw);
  // ERROR-CODE 28, UNKNOWN-ATTRIBUTES 4 + 32, SOFTWARE 4 + 508, FINGERPRINT 8.
  constexpr size_t kLargest420 = kHeaderSize + 28 + 36 + 512 + 8;
  static_assert(kLargest420 <= kMaxResponseSize);
  const Trial r = run(req, cfg, v6_client(), kLargest420);
  ASSERT_EQ(r.answer.outcome, Outcome::error);
  EXPECT_EQ(r.answer.length, kLargest420);
  MessageView v(r.out.data(), r.out.size());
  EXPECT_EQ(v.validate(), std::nullopt);
  auto ua = v.find(attr::kUnknownAttributes);
  ASSERT_TRUE(ua.has_value());
  EXPECT_EQ(ua->length, 2 * kMaxUnknownAttributes);
  EXPECT_TRUE(r.guard_ok);
  const Trial tight = run(req, cfg, v6_client(), kLargest420 - 1);
  EXPECT_EQ(tight.answer.reason, DropReason::stun_no_room);
  EXPECT_TRUE(tight.untouched);
}

TEST(Responder420, ClassicChangeRequestExactBytes) {
  // RFC 3489 s11.2.9/s11.2.10: phrase padded with spaces inside the length,
  // an odd list repeats one type; never FINGERPRINT.
  const Bytes req = Stun().classic().attr(attr::kChangeRequest, from_hex("00000006")).bytes();
  const Trial r = run(req, config(FingerprintPolicy::always), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::error);
  EXPECT_EQ(r.answer.kind, RequestKind::classic);
  EXPECT_EQ(to_hex(r.out), to_hex(from_hex("0111 0024 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
                                           "0009 0018 00000414 556e6b6e6f776e20417474726962757465 202020"
                                           "000a 0004 0003 0003")));
}

TEST(Responder420, ClassicEvenListNotRepeated) {
  const Bytes req = Stun().classic().attr(attr::kChangeRequest, from_hex("00000004")).attr(attr::kResponseAddress, Bytes(8, 0)).bytes();
  const Trial r = run(req, config(), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::error);
  EXPECT_EQ(to_hex(r.out.data() + 48, 8), to_hex(from_hex("000a 0004 0003 0002")));
}

// --- CHANGE-REQUEST (RFC 5780 s7.2) -----------------------------------------

// All flags clear asks for no change: stuntman's stunclient (RFC 5389 header,
// no FINGERPRINT) and Debian's `stun` (classic header) send one in every
// plain Binding request, and get exactly the answer of a request without it.
TEST(ResponderChangeRequest, NoFlagsIsAPlainBindingRequest) {
  struct Case {
    const char* name;
    Bytes with;     // carries CHANGE-REQUEST with no flag set
    Bytes without;  // the same request without it
    Endpoint client;
  };
  const Bytes zero = from_hex("00000000");
  const Case cases[] = {
      {"RFC 5389, IPv4", Stun().attr(attr::kChangeRequest, zero).bytes(), kRequest, v4_client()},
      {"RFC 5389, IPv6", Stun().attr(attr::kChangeRequest, zero).bytes(), kRequest, v6_client()},
      {"with FINGERPRINT", Stun().attr(attr::kChangeRequest, zero).fingerprint().bytes(),
       Stun().fingerprint().bytes(), v4_client()},
      {"classic", Stun().classic().attr(attr::kChangeRequest, zero).bytes(), kClassicRequest,
       v4_client()},
      {"unused bits set", Stun().attr(attr::kChangeRequest, from_hex("fffffff9")).bytes(), kRequest,
       v4_client()},
      {"twice", Stun().attr(attr::kChangeRequest, zero).attr(attr::kChangeRequest, zero).bytes(), kRequest,
       v4_client()},
  };
  for (const Case& c : cases) {
    const Trial got = run(c.with, config(), c.client);
    const Trial want = run(c.without, config(), c.client);
    ASSERT_EQ(got.answer.outcome, Outcome::success) << c.name;
    EXPECT_EQ(got.answer.kind, want.answer.kind) << c.name;
    // FINGERPRINT covers the whole response, so compare it separately.
    EXPECT_EQ(to_hex(got.out), to_hex(want.out)) << c.name;
  }
}

TEST(ResponderChangeRequest, ClassicNoFlagsExactBytes) {
  // RFC 3489 s11.2.1: MAPPED-ADDRESS 198.18.0.1:54321, the 16-byte id echoed.
  const Bytes req = Stun().classic().attr(attr::kChangeRequest, from_hex("00000000")).bytes();
  const Trial r = run(req, config(FingerprintPolicy::always), v4_client());
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  EXPECT_EQ(to_hex(r.out), to_hex(from_hex("0101 000c a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
                                           "0001 0008 0001 d431 c6120001")));
}

TEST(ResponderChangeRequest, RequestedChangeIs420ListingChangeRequest) {
  struct Case {
    const char* value;
    bool classic;
    bool fingerprint;
  };
  const Case cases[] = {{"00000002", false, false}, {"00000004", false, false}, {"00000006", false, false},
                        {"00000006", false, true},  {"00000002", true, false},  {"00000004", true, false},
                        {"00000006", true, false},  {"0000000000000000", false, false}};
  for (const Case& c : cases) {
    Stun b = test::classic_or_not(c.classic);
    b.attr(attr::kChangeRequest, from_hex(c.value));
    if (c.fingerprint) b.fingerprint();
    const Trial r = run(b.bytes(), config(), v4_client());
    ASSERT_EQ(r.answer.outcome, Outcome::error) << c.value;
    MessageView v(r.out.data(), r.out.size());
    EXPECT_EQ(v.validate(), std::nullopt) << c.value;
    auto ua = v.find(attr::kUnknownAttributes);
    ASSERT_TRUE(ua.has_value()) << c.value;
    // Classic lists repeat an odd entry (RFC 3489 s11.2.10).
    EXPECT_EQ(to_hex(ua->value, ua->length), c.classic ? "00030003" : "0003") << c.value;
    EXPECT_EQ(v.find(attr::kFingerprint).has_value(), c.fingerprint) << c.value;
  }
}

// --- capacity --------------------------------------------------------------

TEST(ResponderCapacity, ExactFitSucceedsOneLessDrops) {
  struct Case {
    Bytes req;
    ResponderConfig cfg;
    Endpoint client;
    size_t need;
  };
  const Case cases[] = {
      {kRequest, config(), v4_client(), 32},
      {kRequest, config(), v6_client(), 44},
      {kRequestFp, config(), v4_client(), 40},
      {kRequest, config(FingerprintPolicy::always, true, "abcde"), v6_client(), 64},
      {kClassicRequest, config(FingerprintPolicy::always, true, "x"), v4_client(), 40},
  };
  for (const Case& c : cases) {
    // The request itself may be longer than the response: capacity >= len.
    const size_t cap = std::max(c.need, c.req.size());
    const Trial ok = run(c.req, c.cfg, c.client, cap);
    ASSERT_EQ(ok.answer.outcome, Outcome::success);
    EXPECT_EQ(ok.answer.length, c.need);
    EXPECT_TRUE(ok.guard_ok);
    if (c.need > c.req.size()) {
      const Trial no = run(c.req, c.cfg, c.client, c.need - 1);
      EXPECT_EQ(no.answer.outcome, Outcome::drop);
      EXPECT_EQ(no.answer.reason, DropReason::stun_no_room);
      EXPECT_TRUE(no.untouched);
      EXPECT_TRUE(no.guard_ok);
    }
  }
}

TEST(ResponderCapacity, ResponseShorterThanRequestInPlace) {
  // A long ICE-style request shrinks into a short response over the same bytes.
  const Bytes req = Stun().attr(attr::kUsername, std::string(200, 'u')).attr(attr::kMessageIntegrity, Bytes(20, 1)).fingerprint().bytes();
  const Trial r = run(req, config(), v4_client(), req.size());
  ASSERT_EQ(r.answer.outcome, Outcome::success);
  EXPECT_EQ(r.answer.length, 40);
  EXPECT_EQ(MessageView(r.out.data(), r.out.size()).validate(), std::nullopt);
  EXPECT_EQ(to_hex(r.out.data() + 4, 16), to_hex(req.data() + 4, 16));
}

// --- property ----------------------------------------------------------------

// Random attribute soup behind a valid header with the magic cookie planted,
// so the input gets past the header: never a crash, never a write past
// capacity, and every response produced is itself a valid STUN response.
TEST(ResponderProperty, RandomInputsWithCookie) {
  std::mt19937 rng(20261127);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  size_t answered = 0, errors = 0;
  for (int i = 0; i < 200000 && std::chrono::steady_clock::now() < deadline; ++i) {
    Bytes m(20 + 4 * (rng() % 24));
    for (auto& b : m) b = static_cast<uint8_t>(rng());
    m[0] &= (rng() % 8) ? 0x01 : 0xFF;  // mostly plausible types
    if (rng() % 2) m[1] = 0x01;
    if (rng() % 8) m = with_length_field(m, static_cast<uint16_t>(m.size() - 20));
    const uint32_t cookie = (rng() % 8) ? kMagicCookie : static_cast<uint32_t>(rng());
    m[4] = static_cast<uint8_t>(cookie >> 24);
    m[5] = static_cast<uint8_t>(cookie >> 16);
    m[6] = static_cast<uint8_t>(cookie >> 8);
    m[7] = static_cast<uint8_t>(cookie);
    // Plant plausible attribute headers now and then.
    for (size_t off = 20; off + 4 <= m.size(); off += 4) {
      if (rng() % 3 == 0) {
        m[off] = static_cast<uint8_t>(rng() % 2 ? 0x00 : 0x80);
        m[off + 2] = 0;
        m[off + 3] = static_cast<uint8_t>(4 * (rng() % 4));
      }
    }
    if (rng() % 4 == 0 && m.size() >= 28) {  // sometimes a correct FINGERPRINT
      const size_t off = m.size() - 8;
      m[off] = 0x80, m[off + 1] = 0x28, m[off + 2] = 0, m[off + 3] = 4;
      const uint32_t crc = test::reference_crc32(m.data(), off) ^ kFingerprintXor;
      m[off + 4] = static_cast<uint8_t>(crc >> 24), m[off + 5] = static_cast<uint8_t>(crc >> 16);
      m[off + 6] = static_cast<uint8_t>(crc >> 8), m[off + 7] = static_cast<uint8_t>(crc);
    }
    const size_t cap = std::max<size_t>(m.size(), 20 + rng() % 120);
    const ResponderConfig cfg = config(static_cast<FingerprintPolicy>(rng() % 3), rng() % 2, rng() % 2 ? "sw" : "");
    const Trial r = run(m, cfg, (rng() % 2) ? v4_client() : v6_client(), cap);
    ASSERT_TRUE(r.guard_ok) << to_hex(m);
    if (r.answer.outcome == Outcome::drop) {
      ASSERT_TRUE(r.untouched) << to_hex(m);
      continue;
    }
    ++answered;
    errors += r.answer.outcome == Outcome::error;
    ASSERT_LE(r.answer.length, cap);
    ASSERT_NE(r.answer.kind, RequestKind::none);
    MessageView v(r.out.data(), r.out.size());
    ASSERT_EQ(v.validate(), std::nullopt) << to_hex(m);
    ASSERT_EQ(v.type(), r.answer.outcome == Outcome::success ? kBindingSuccess : kBindingError);
  }
  // The generator must actually reach both answer paths, or it proves nothing.
  EXPECT_GT(answered, 100u);
  EXPECT_GT(errors, 10u);
}

}  // namespace
}  // namespace stunbox::stun
