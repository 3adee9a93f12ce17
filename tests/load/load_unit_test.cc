// Unit tests of stunbox-load's validator, histogram and option parsing (no sockets).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "histogram.h"
#include "options.h"
#include "stun_check.h"

namespace stunbox::load {
namespace {

std::vector<uint8_t> from_hex(const std::string& h) {
  std::vector<uint8_t> v;
  for (size_t i = 0; i + 1 < h.size(); i += 2) v.push_back(static_cast<uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return v;
}

// RFC 5769 s2.2 and s2.3 sample responses (SOFTWARE, XOR-MAPPED-ADDRESS,
// MESSAGE-INTEGRITY, FINGERPRINT).
const char* const kResponseV4 =
    "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96";
const char* const kResponseV6 =
    "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000140002a1470113a9fa"
    "a5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c";

Endpoint v4(const char* ip, uint16_t port) { return {IpAddress::parse(ip).value(), port}; }
Endpoint v6(const char* ip, uint16_t port) { return {IpAddress::parse(ip).value(), port}; }

TEST(StunCheck, Rfc5769ResponsesAreValidForTheirClient) {
  const Expect e;
  auto r4 = from_hex(kResponseV4);
  auto r6 = from_hex(kResponseV6);
  EXPECT_EQ(check_body(r4.data(), r4.size(), e, v4("192.0.2.1", 32853)), Check::ok);
  EXPECT_EQ(check_body(r6.data(), r6.size(), e, v6("2001:db8:1234:5678:11:2233:4455:6677", 32853)), Check::ok);
  // Anyone else is told the wrong address.
  EXPECT_EQ(check_body(r4.data(), r4.size(), e, v4("192.0.2.1", 32854)), Check::wrong_address);
  EXPECT_EQ(check_body(r4.data(), r4.size(), e, v4("192.0.2.2", 32853)), Check::wrong_address);
  EXPECT_EQ(check_body(r6.data(), r6.size(), e, v4("192.0.2.1", 32853)), Check::wrong_address);
}

TEST(StunCheck, FingerprintMustBeRightAndLast) {
  const Expect e;
  auto r = from_hex(kResponseV4);
  r.back() ^= 1;
  EXPECT_EQ(check_body(r.data(), r.size(), e, v4("192.0.2.1", 32853)), Check::bad_fingerprint);
  // A 4-byte attribute after FINGERPRINT.
  r = from_hex(kResponseV4);
  const uint8_t extra[] = {0x80, 0x22, 0x00, 0x04, 'a', 'b', 'c', 'd'};
  r.insert(r.end(), extra, extra + 8);
  r[3] = static_cast<uint8_t>(r[3] + 8);
  EXPECT_EQ(check_body(r.data(), r.size(), e, v4("192.0.2.1", 32853)), Check::fingerprint_not_last);
}

TEST(StunCheck, HeaderChecks) {
  Expect e;
  e.run_nonce = 0x01020304;
  uint8_t buf[kMaxRequestSize];
  TxId id{kMagicCookie, e.run_nonce, 7, 99};
  const size_t n = build_request(buf, id, true);
  ASSERT_EQ(n, 28u);
  TxId got;
  // A request parses as far as the header goes, ids intact.
  ASSERT_EQ(check_header(buf, n, e, &got), Check::ok);
  EXPECT_EQ(got.socket_index, 7u);
  EXPECT_EQ(got.seq, 99u);
  // The request's own FINGERPRINT is what an RFC 8489 peer computes.
  EXPECT_EQ(crc32(buf, 20) ^ kFingerprintXor, (uint32_t{buf[24]} << 24 | uint32_t{buf[25]} << 16 |
                                              uint32_t{buf[26]} << 8 | buf[27]));
  EXPECT_EQ(check_header(buf, 19, e, &got), Check::too_short);
  EXPECT_EQ(check_header(buf, 24, e, &got), Check::bad_length);
  uint8_t bad[28];
  std::memcpy(bad, buf, n);
  bad[0] |= 0x80;
  EXPECT_EQ(check_header(bad, n, e, &got), Check::not_stun);
  std::memcpy(bad, buf, n);
  bad[4] ^= 1;
  EXPECT_EQ(check_header(bad, n, e, &got), Check::bad_cookie);
  std::memcpy(bad, buf, n);
  bad[9] ^= 1;
  EXPECT_EQ(check_header(bad, n, e, &got), Check::unknown_txid);
  // Message types: a request is neither success nor error.
  EXPECT_EQ(check_body(buf, n, e, v4("127.0.0.1", 1)), Check::bad_type);
}

// Builds a success response for `self` from header bytes of `req` with the given attributes.
std::vector<uint8_t> response(const uint8_t* req, const std::vector<std::vector<uint8_t>>& attrs) {
  std::vector<uint8_t> r(req, req + 20);
  r[0] = 0x01;
  r[1] = 0x01;
  for (const auto& a : attrs) r.insert(r.end(), a.begin(), a.end());
  const size_t body = r.size() - 20;
  r[2] = static_cast<uint8_t>(body >> 8);
  r[3] = static_cast<uint8_t>(body);
  return r;
}

std::vector<uint8_t> addr_attr(uint16_t type, const Endpoint& ep, const uint8_t* key) {
  std::vector<uint8_t> a = {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 8, 0, 1,
                            static_cast<uint8_t>(ep.port >> 8), static_cast<uint8_t>(ep.port)};
  for (int i = 0; i < 4; ++i) a.push_back(ep.ip.bytes[i]);
  if (key != nullptr) {
    a[6] ^= key[0];
    a[7] ^= key[1];
    for (int i = 0; i < 4; ++i) a[8 + i] ^= key[i];
  }
  return a;
}

TEST(StunCheck, AddressForms) {
  const Endpoint self = v4("127.0.0.5", 40000);
  uint8_t req[kMaxRequestSize];
  build_request(req, TxId{kMagicCookie, 1, 2, 3}, false);
  const uint8_t* key = req + 4;
  const auto xored = addr_attr(kAttrXorMappedAddress, self, key);
  const auto draft = addr_attr(kAttrXorMappedDraft, self, key);
  const auto plain = addr_attr(kAttrMappedAddress, self, nullptr);
  Expect modern;
  Expect legacy;
  legacy.legacy = true;

  auto r = response(req, {xored});
  EXPECT_EQ(check_body(r.data(), r.size(), modern, self), Check::ok);
  r = response(req, {plain, xored});
  EXPECT_EQ(check_body(r.data(), r.size(), modern, self), Check::ok);
  r = response(req, {plain});
  EXPECT_EQ(check_body(r.data(), r.size(), modern, self), Check::legacy_address);
  EXPECT_EQ(check_body(r.data(), r.size(), legacy, self), Check::ok);
  r = response(req, {draft});
  EXPECT_EQ(check_body(r.data(), r.size(), modern, self), Check::legacy_address);
  EXPECT_EQ(check_body(r.data(), r.size(), legacy, self), Check::ok);
  r = response(req, {});
  EXPECT_EQ(check_body(r.data(), r.size(), legacy, self), Check::no_mapped_address);
  // A plain MAPPED-ADDRESS that is wrong spoils a right XOR-MAPPED-ADDRESS.
  r = response(req, {addr_attr(kAttrMappedAddress, v4("127.0.0.6", 40000), nullptr), xored});
  EXPECT_EQ(check_body(r.data(), r.size(), modern, self), Check::wrong_address);
  // An attribute whose length runs past the end.
  r = response(req, {xored});
  r[23] = 12;
  EXPECT_EQ(check_body(r.data(), r.size(), modern, self), Check::bad_attribute);

  // Classic: MAPPED-ADDRESS expected; XOR forms only with --legacy.
  Expect classic;
  classic.classic = true;
  classic.prefix = 0x11223344;
  build_request(req, TxId{classic.prefix, 1, 2, 3}, false);
  r = response(req, {plain});
  EXPECT_EQ(check_body(r.data(), r.size(), classic, self), Check::ok);
  r = response(req, {addr_attr(kAttrXorMappedAddress, self, req + 4)});
  EXPECT_EQ(check_body(r.data(), r.size(), classic, self), Check::no_mapped_address);
  classic.legacy = true;
  EXPECT_EQ(check_body(r.data(), r.size(), classic, self), Check::ok);
}

TEST(StunCheck, ErrorResponse) {
  uint8_t req[kMaxRequestSize];
  build_request(req, TxId{kMagicCookie, 1, 2, 3}, false);
  auto r = response(req, {});
  r[1] = 0x11;
  EXPECT_EQ(check_body(r.data(), r.size(), Expect{}, v4("127.0.0.1", 1)), Check::error_response);
}

TEST(Histogram, BucketsCoverValuesWithBoundedError) {
  for (uint64_t v : {0ull, 1ull, 15ull, 16ull, 17ull, 1000ull, 123456ull, 999999999ull, 1ull << 43}) {
    const size_t i = LatencyHistogram::index(v);
    ASSERT_LT(i, LatencyHistogram::kBuckets);
    EXPECT_LE(LatencyHistogram::lower(i), v) << v;
    EXPECT_GT(LatencyHistogram::lower(i) + LatencyHistogram::width(i), v) << v;
    EXPECT_LE(LatencyHistogram::width(i) * 16, std::max<uint64_t>(v, 16)) << v;
  }
  EXPECT_EQ(LatencyHistogram::index(UINT64_MAX), LatencyHistogram::kBuckets - 1);
}

TEST(Histogram, Quantiles) {
  LatencyHistogram h;
  EXPECT_EQ(h.quantile(0.5), 0u);
  for (uint64_t v = 1; v <= 10000; ++v) h.record(v * 1000);  // 1 us .. 10 ms
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.max(), 10000000u);
  auto near = [](uint64_t got, double want) { return std::abs(static_cast<double>(got) - want) <= want * 0.07; };
  EXPECT_TRUE(near(h.quantile(0.50), 5e6)) << h.quantile(0.50);
  EXPECT_TRUE(near(h.quantile(0.90), 9e6)) << h.quantile(0.90);
  EXPECT_TRUE(near(h.quantile(0.99), 9.9e6)) << h.quantile(0.99);
  EXPECT_LE(h.quantile(1.0), h.max());
  LatencyHistogram other;
  other.record(50000000);
  h.merge(other);
  EXPECT_EQ(h.count(), 10001u);
  EXPECT_EQ(h.max(), 50000000u);
}

Result<Options> parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string prog = "stunbox-load";
  argv.push_back(prog.data());
  for (auto& a : args) argv.push_back(a.data());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(Options, TargetsAndBounds) {
  auto o = parse({"--server", "127.0.0.1:4000", "--server=[::1]:4000", "--count", "10"});
  ASSERT_TRUE(o) << o.message();
  EXPECT_EQ(o->servers.size(), 2u);
  EXPECT_TRUE(parse({"--server", "198.19.255.1:1", "--duration", "1"}));
  EXPECT_TRUE(parse({"--server", "[2001:2::9]:1", "--duration", "1"}));
  EXPECT_FALSE(parse({"--server", "198.20.0.1:1", "--duration", "1"}));
  EXPECT_FALSE(parse({"--server", "[2001:3::1]:1", "--duration", "1"}));
  EXPECT_FALSE(parse({"--server", "10.0.0.1:1", "--duration", "1"}));
  EXPECT_TRUE(parse({"--server", "10.0.0.1:1", "--duration", "1", "--allow-any-target"}));
  EXPECT_FALSE(parse({"--server", "127.0.0.1:1"}));                              // unbounded
  EXPECT_FALSE(parse({"--server", "127.0.0.1:1", "--duration", "601"}));         // over the cap
  EXPECT_FALSE(parse({"--server", "127.0.0.1:0", "--count", "1"}));              // port 0
  EXPECT_FALSE(parse({"--server", "::1:4000", "--count", "1"}));                 // v6 needs brackets
  EXPECT_FALSE(parse({"--server", "localhost:4000", "--count", "1"}));           // numeric only
  EXPECT_FALSE(parse({"--server", "127.0.0.1:1", "--count", "1", "--rate", "5", "--window", "2"}));
  EXPECT_FALSE(parse({"--server", "[::1]:1", "--count", "1", "--bind", "127.0.0.2"}));  // no v6 bind
  EXPECT_FALSE(parse({"--server", "127.0.0.1:1", "--count", "x"}));
  EXPECT_FALSE(parse({"--server", "127.0.0.1:1", "--count", "1", "--bogus"}));
  EXPECT_FALSE(parse({"--server", "127.0.0.1:1", "--count"}));
}

}  // namespace
}  // namespace stunbox::load
