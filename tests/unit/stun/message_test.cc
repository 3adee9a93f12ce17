// The message view: type encoding, header checks, attribute walk and validation rules (RFC 8489 s5-6, s14).
#include "stun/message.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace stunbox::stun {
namespace {

using test::Bytes;
using test::Stun;

TEST(MessageType, MethodAndClassRoundTrip) {
  // RFC 8489 s5 examples: Binding request 0x0001, success 0x0101, error 0x0111, indication 0x0011.
  EXPECT_EQ(message_type(kMethodBinding, MessageClass::indication), 0x0011);
  for (uint16_t method = 0; method < 0x1000; method += 37) {
    for (auto c : {MessageClass::request, MessageClass::indication, MessageClass::success, MessageClass::error}) {
      const uint16_t t = message_type(method, c);
      EXPECT_EQ(t & 0xC000, 0);
      EXPECT_EQ(method_of(t), method);
      EXPECT_EQ(class_of(t), c);
    }
  }
  EXPECT_EQ(method_of(0x0003), 0x003);  // Allocate request
  EXPECT_EQ(class_of(0x0111), MessageClass::error);
}

TEST(MessageView, AccessorsAndFind) {
  const Bytes m = Stun().attr(attr::kUsername, "user").attr(attr::kPriority, Bytes{1, 2, 3, 4}).fingerprint().bytes();
  MessageView v(m.data(), m.size());
  ASSERT_EQ(v.validate(), std::nullopt);
  EXPECT_EQ(v.type(), kBindingRequest);
  EXPECT_FALSE(v.classic());
  EXPECT_EQ(v.transaction_id_size(), 12u);
  EXPECT_EQ(v.transaction_id(), m.data() + 8);
  EXPECT_EQ(v.length_field(), m.size() - 20);
  auto u = v.find(attr::kUsername);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->length, 4);
  EXPECT_EQ(u->offset, 20u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(u->value), 4), "user");
  auto p = v.find(attr::kPriority);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->offset, 28u);
  EXPECT_FALSE(v.find(attr::kSoftware).has_value());
  int n = 0;
  v.for_each_attribute([&](const Attribute&) { ++n; });
  EXPECT_EQ(n, 3);
}

TEST(MessageView, ClassicTransactionIdIs16Bytes) {
  const Bytes m = Stun().classic().bytes();
  MessageView v(m.data(), m.size());
  ASSERT_EQ(v.validate(), std::nullopt);
  EXPECT_TRUE(v.classic());
  EXPECT_EQ(v.transaction_id(), m.data() + 4);
  EXPECT_EQ(v.transaction_id_size(), 16u);
}

TEST(ScanAttributes, RecordsUnknownOnceAndStopsAtIntegrity) {
  const Bytes m = Stun()
                      .attr(0x0040, Bytes{})
                      .attr(0x7FFF, Bytes{1})
                      .attr(0x0040, Bytes{2, 2})
                      .attr(0xC001, Bytes{3})          // optional: ignored
                      .attr(attr::kMessageIntegrity, Bytes(20, 0))
                      .attr(0x0041, Bytes{})           // after MI: ignored (s14.5)
                      .fingerprint()
                      .bytes();
  HeaderInfo h;
  ASSERT_EQ(check_header(m.data(), m.size(), h), std::nullopt);
  AttributeScan s;
  ASSERT_EQ(scan_attributes(m.data(), m.size(), h.classic, s), std::nullopt);
  EXPECT_TRUE(s.fingerprint);
  EXPECT_TRUE(s.integrity);
  ASSERT_EQ(s.n_unknown, 2);
  EXPECT_EQ(s.unknown[0], 0x0040);
  EXPECT_EQ(s.unknown[1], 0x7FFF);
}

TEST(ScanAttributes, CapsUnknownList) {
  Stun b;
  for (uint16_t t = 0x100; t < 0x100 + 40; ++t) b.attr(t, Bytes{});
  const Bytes m = b.bytes();
  AttributeScan s;
  ASSERT_EQ(scan_attributes(m.data(), m.size(), false, s), std::nullopt);
  ASSERT_EQ(s.n_unknown, kMaxUnknownAttributes);
  EXPECT_EQ(s.unknown[kMaxUnknownAttributes - 1], 0x100 + kMaxUnknownAttributes - 1);
}

TEST(ScanAttributes, ChangeRequestUnderstoodOnlyWithoutFlags) {
  struct Case {
    const char* value;
    bool understood;
  };
  const Case cases[] = {{"00000000", true},  {"fffffff9", true},  {"00000002", false},
                        {"00000004", false}, {"00000006", false}, {"0000000000000000", false},
                        {"", false}};
  for (const Case& c : cases) {
    for (bool classic : {false, true}) {
      const Bytes m = test::classic_or_not(classic).attr(attr::kChangeRequest, test::from_hex(c.value)).bytes();
      AttributeScan s;
      ASSERT_EQ(scan_attributes(m.data(), m.size(), classic, s), std::nullopt) << c.value;
      EXPECT_EQ(s.change_request, c.understood) << c.value;
      EXPECT_EQ(s.n_unknown, c.understood ? 0 : 1) << c.value;
      if (!c.understood) {
        EXPECT_EQ(s.unknown[0], attr::kChangeRequest) << c.value;
      }
    }
  }
}

TEST(ScanAttributes, UnderstoodTableMatchesRegistryChoices) {
  // Each listed type is accepted, and the three "reply elsewhere" attributes are not.
  for (uint16_t t : kUnderstoodTypes) EXPECT_TRUE(understood(t, false)) << t;
  for (uint16_t t : {attr::kResponseAddress, attr::kChangeRequest, attr::kResponsePort}) {
    EXPECT_FALSE(understood(t, false)) << t;
    EXPECT_FALSE(understood(t, true)) << t;
  }
  EXPECT_TRUE(understood(0x8000, false));
  EXPECT_TRUE(understood(0xFFFF, false));
  EXPECT_FALSE(understood(0x0000, false));
  EXPECT_FALSE(understood(0x7FFF, false));
}

}  // namespace
}  // namespace stunbox::stun
