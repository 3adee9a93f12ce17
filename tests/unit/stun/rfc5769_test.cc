// RFC 5769 test vectors: decode, FINGERPRINT, MESSAGE-INTEGRITY (HMAC-SHA1 via OpenSSL), and the responder's XOR-MAPPED-ADDRESS bytes.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stun/message.h"
#include "stun/responder.h"
#include "test_util.h"

namespace stunbox::stun {
namespace {

using test::Bytes;

// Indices into the vectors file, in RFC 5769 section order.
enum Vector : size_t { kRequest21 = 0, kResponse22 = 1, kResponse23 = 2, kRequest24 = 3 };

class Rfc5769 : public ::testing::Test {
 protected:
  void SetUp() override {
    vectors_ = test::load_rfc5769_vectors(&path_);
    ASSERT_EQ(vectors_.size(), 4u) << "vectors file not found or incomplete (STUNBOX_RFC5769_VECTORS=" << path_ << ")";
  }
  std::vector<Bytes> vectors_;
  std::string path_;
};

std::string utf8(std::initializer_list<char32_t> cps) {
  std::string s;
  for (char32_t c : cps) {
    if (c < 0x80) {
      s += static_cast<char>(c);
    } else if (c < 0x800) {
      s += static_cast<char>(0xC0 | (c >> 6));
      s += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      s += static_cast<char>(0xE0 | (c >> 12));
      s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return s;
}

// RFC 8489 s14.5: HMAC over the message up to MESSAGE-INTEGRITY, with the
// length field pointing at the end of MESSAGE-INTEGRITY.
bool integrity_ok(const Bytes& msg, const Bytes& key) {
  MessageView v(msg.data(), msg.size());
  auto mi = v.find(attr::kMessageIntegrity);
  if (!mi || mi->length != 20) return false;
  Bytes covered(msg.begin(), msg.begin() + static_cast<long>(mi->offset));
  const size_t length = mi->offset + 24 - kHeaderSize;
  covered[2] = static_cast<uint8_t>(length >> 8);
  covered[3] = static_cast<uint8_t>(length);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), covered.data(), covered.size(), mac, &mac_len);
  return mac_len == 20 && std::equal(mac, mac + 20, mi->value);
}

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes md5(std::string_view s) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), out, &n, EVP_md5(), nullptr);
  return Bytes(out, out + n);
}

TEST_F(Rfc5769, AllVectorsValidate) {
  for (size_t i = 0; i < vectors_.size(); ++i) {
    MessageView v(vectors_[i].data(), vectors_[i].size());
    EXPECT_EQ(v.validate(), std::nullopt) << "vector " << i;
    EXPECT_FALSE(v.classic());
  }
  EXPECT_EQ(MessageView(vectors_[kRequest21].data(), vectors_[kRequest21].size()).type(), kBindingRequest);
  EXPECT_EQ(MessageView(vectors_[kResponse22].data(), vectors_[kResponse22].size()).type(), kBindingSuccess);
  EXPECT_EQ(MessageView(vectors_[kResponse23].data(), vectors_[kResponse23].size()).type(), kBindingSuccess);
  EXPECT_EQ(MessageView(vectors_[kRequest24].data(), vectors_[kRequest24].size()).type(), kBindingRequest);
}

TEST_F(Rfc5769, FingerprintsVerify) {
  for (size_t i : {kRequest21, kResponse22, kResponse23}) {
    const Bytes& m = vectors_[i];
    HeaderInfo h;
    ASSERT_EQ(check_header(m.data(), m.size(), h), std::nullopt);
    AttributeScan s;
    ASSERT_EQ(scan_attributes(m.data(), m.size(), h.classic, s), std::nullopt) << "vector " << i;
    EXPECT_TRUE(s.fingerprint) << "vector " << i;
    EXPECT_TRUE(s.integrity) << "vector " << i;
    EXPECT_EQ(s.n_unknown, 0) << "vector " << i;
    // Independently of the library: CRC of everything before FINGERPRINT.
    EXPECT_EQ(test::get32(m.data() + m.size() - 4),
              test::reference_crc32(m.data(), m.size() - 8) ^ kFingerprintXor);
    // One flipped bit anywhere before the CRC is caught.
    Bytes bad = m;
    bad[m.size() / 2] ^= 0x01;
    EXPECT_EQ(MessageView(bad.data(), bad.size()).validate(), DropReason::stun_bad_fingerprint) << "vector " << i;
  }
}

TEST_F(Rfc5769, ShortTermIntegrityVerifies) {
  const Bytes key = bytes_of("VOkJxbRl1RmTxUk/WvJxBt");
  for (size_t i : {kRequest21, kResponse22, kResponse23}) {
    EXPECT_TRUE(integrity_ok(vectors_[i], key)) << "vector " << i;
    EXPECT_FALSE(integrity_ok(vectors_[i], bytes_of("wrong password"))) << "vector " << i;
  }
  MessageView v(vectors_[kRequest21].data(), vectors_[kRequest21].size());
  auto user = v.find(attr::kUsername);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(user->value), user->length), "evtj:h6vY");
}

TEST_F(Rfc5769, LongTermIntegrityVerifies) {
  const std::string username = utf8({0x30DE, 0x30C8, 0x30EA, 0x30C3, 0x30AF, 0x30B9});
  const Bytes& m = vectors_[kRequest24];
  MessageView v(m.data(), m.size());
  auto user = v.find(attr::kUsername);
  auto realm = v.find(attr::kRealm);
  auto nonce = v.find(attr::kNonce);
  ASSERT_TRUE(user && realm && nonce);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(user->value), user->length), username);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(realm->value), realm->length), "example.org");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(nonce->value), nonce->length), "f//499k954d6OL34oL9FSTvy64sA");
  // RFC 8489 s9.2.2: key = MD5(username ":" realm ":" SASLprep(password)).
  EXPECT_TRUE(integrity_ok(m, md5(username + ":example.org:TheMatrIX")));
  EXPECT_FALSE(integrity_ok(m, md5(username + ":example.org:thematrix")));
}

// Builds a Binding request with the vector's transaction id, answers it for
// `client`, and returns the response.
Bytes answer_for(const Bytes& vector, const Endpoint& client, const ResponderConfig& cfg = {}) {
  Bytes buf = test::Stun().txid(vector.data() + 8).bytes();
  buf.resize(kMaxResponseSize);
  const Answer a = respond(cfg, buf.data(), 20, buf.size(), client);
  EXPECT_EQ(a.outcome, Outcome::success);
  buf.resize(a.length);
  return buf;
}

void expect_same_attribute(const Bytes& ours, const Bytes& theirs, uint16_t type) {
  auto a = MessageView(ours.data(), ours.size()).find(type);
  auto b = MessageView(theirs.data(), theirs.size()).find(type);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(test::to_hex(ours.data() + a->offset, 4 + a->length),
            test::to_hex(theirs.data() + b->offset, 4 + b->length));
}

TEST_F(Rfc5769, XorMappedAddressIpv4MatchesVector) {
  Endpoint c;
  c.ip = IpAddress::v4({192, 0, 2, 1});
  c.port = 32853;
  const Bytes resp = answer_for(vectors_[kResponse22], c);
  expect_same_attribute(resp, vectors_[kResponse22], attr::kXorMappedAddress);
  // The response echoes the vector's transaction id.
  EXPECT_EQ(test::to_hex(resp.data() + 4, 16), test::to_hex(vectors_[kResponse22].data() + 4, 16));
}

TEST_F(Rfc5769, XorMappedAddressIpv6MatchesVector) {
  const Endpoint c{*IpAddress::parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853};
  const Bytes resp = answer_for(vectors_[kResponse23], c);
  expect_same_attribute(resp, vectors_[kResponse23], attr::kXorMappedAddress);
}

TEST_F(Rfc5769, SoftwareMatchesVector) {
  // The vectors' SOFTWARE is "test vector" (11 bytes + 1 padding byte).
  ResponderConfig cfg;
  cfg.software = "test vector";
  Endpoint c;
  c.ip = IpAddress::v4({192, 0, 2, 1});
  c.port = 32853;
  const Bytes resp = answer_for(vectors_[kResponse22], c, cfg);
  auto ours = MessageView(resp.data(), resp.size()).find(attr::kSoftware);
  auto theirs = MessageView(vectors_[kResponse22].data(), vectors_[kResponse22].size()).find(attr::kSoftware);
  ASSERT_TRUE(ours && theirs);
  EXPECT_EQ(test::to_hex(resp.data() + ours->offset, 4 + ours->length),
            test::to_hex(vectors_[kResponse22].data() + theirs->offset, 4 + theirs->length));
}

TEST_F(Rfc5769, IceRequestGetsNormalAnswer) {
  // 2.1: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT.
  Bytes buf = vectors_[kRequest21];
  const size_t len = buf.size();
  buf.resize(kMaxResponseSize);
  Endpoint c;
  c.ip = IpAddress::v4({198, 18, 0, 1});
  c.port = 4242;
  const Answer a = respond(ResponderConfig{}, buf.data(), len, buf.size(), c);
  ASSERT_EQ(a.outcome, Outcome::success);
  EXPECT_EQ(a.kind, RequestKind::rfc5389);
  buf.resize(a.length);
  MessageView v(buf.data(), buf.size());
  EXPECT_EQ(v.validate(), std::nullopt);
  EXPECT_EQ(v.type(), kBindingSuccess);
  EXPECT_TRUE(v.find(attr::kFingerprint).has_value());  // mirrored
  EXPECT_EQ(test::to_hex(buf.data() + 4, 16), test::to_hex(vectors_[kRequest21].data() + 4, 16));
  // 20 header + 12 XOR-MAPPED-ADDRESS + 8 FINGERPRINT.
  EXPECT_EQ(a.length, 40);
}

TEST_F(Rfc5769, LongTermRequestGetsNormalAnswer) {
  Bytes buf = vectors_[kRequest24];
  const size_t len = buf.size();
  buf.resize(kMaxResponseSize);
  const Answer a = respond(ResponderConfig{}, buf.data(), len, buf.size(), Endpoint{});
  EXPECT_EQ(a.outcome, Outcome::success);
  EXPECT_EQ(a.length, 32);  // no FINGERPRINT in the request: none mirrored
}

TEST_F(Rfc5769, ResponsesAreNeverAnswered) {
  for (size_t i : {kResponse22, kResponse23}) {
    Bytes buf = vectors_[i];
    const Bytes before = buf;
    const Answer a = respond(ResponderConfig{}, buf.data(), buf.size(), buf.size(), Endpoint{});
    EXPECT_EQ(a.outcome, Outcome::drop);
    EXPECT_EQ(a.reason, DropReason::stun_response);
    EXPECT_EQ(a.kind, RequestKind::none);
    EXPECT_EQ(buf, before);
  }
}

}  // namespace
}  // namespace stunbox::stun
