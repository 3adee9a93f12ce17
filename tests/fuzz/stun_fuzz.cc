// Fuzz target for stun::respond and stun::MessageView over arbitrary bytes; built with -DSTUNBOX_FUZZ_PLANT it first plants a sound header so the fuzzer reaches the attributes.
//
// Input layout:
//   byte 0   responder config: bits 0-1 FINGERPRINT policy (0,3 mirror, 1 always,
//            2 never), bit 2 classic disabled, bits 3-4 SOFTWARE (none, short,
//            127 ASCII, kMaxSoftwareBytes of UTF-8), bit 5 IPv6 client
//   byte 1   capacity slack: capacity = message length + 3 * byte
//   byte 2   (planted variant only) bit 0 classic header (no cookie), bit 1
//            append a correct FINGERPRINT, bit 2 force type Binding request,
//            bit 3 keep the two top bits as given
//   rest     the message
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "stun/message.h"
#include "stun/responder.h"

namespace stunbox::stun {
namespace {

using fuzz::rd16;
using fuzz::rd32;

constexpr uint8_t kTailFill = 0xA5;

#ifdef STUNBOX_FUZZ_PLANT
// Table-driven CRC-32/ISO-HDLC, independent of lib/stun/crc32.cc, used only
// to plant FINGERPRINTs (so a library CRC bug cannot plant its own match).
uint32_t ref_crc32(const uint8_t* p, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  put16(b, at, static_cast<uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<uint16_t>(v));
}
#endif

const std::string& software_value(unsigned which) {
  static const std::string kNone;
  static const std::string kShort = "stunbox fuzz";
  static const std::string kAscii(127, 'x');
  // 127 four-byte UTF-8 characters (U+1F600): kMaxSoftwareBytes bytes.
  static const std::string kUtf8 = [] {
    std::string s;
    for (int i = 0; i < 127; ++i) s += "\xF0\x9F\x98\x80";
    return s;
  }();
  static_assert(kMaxSoftwareBytes == 127 * 4);
  switch (which & 3u) {
    case 1: return kShort;
    case 2: return kAscii;
    case 3: return kUtf8;
    default: return kNone;
  }
}

// RFC 5769 s2.2 / s2.3 client addresses.
Endpoint client_for(bool v6) {
  return {*IpAddress::parse(v6 ? "2001:db8:1234:5678:11:2233:4455:6677" : "192.0.2.1"), 32853};
}

#ifdef STUNBOX_FUZZ_PLANT
// Turns arbitrary bytes into a message with a sound header: at least 20
// bytes, attribute area a multiple of 4, the length field matching, the magic
// cookie present (or absent for classic), optionally a correct FINGERPRINT.
std::vector<uint8_t> plant(const uint8_t* data, size_t size, uint8_t how) {
  std::vector<uint8_t> m(data, data + size);
  if (m.size() < kHeaderSize) m.resize(kHeaderSize, 0);
  const bool classic = how & 1;
  const bool fingerprint = how & 2;
  size_t body = (m.size() - kHeaderSize) & ~size_t{3};
  const size_t max_body = 0xFFFC - (fingerprint ? 8 : 0);
  body = std::min(body, max_body);
  m.resize(kHeaderSize + body);
  if (how & 4) put16(m, 0, kBindingRequest);
  if (!(how & 8)) m[0] &= 0x3F;
  if (classic) {
    if (rd32(m.data() + 4) == kMagicCookie) m[7] ^= 0x01;
  } else {
    put32(m, 4, kMagicCookie);
  }
  if (fingerprint) {
    const size_t off = m.size();
    m.resize(off + 8);
    put16(m, off, attr::kFingerprint);
    put16(m, off + 2, 4);
    put16(m, 2, static_cast<uint16_t>(m.size() - kHeaderSize));
    put32(m, off + 4, ref_crc32(m.data(), off) ^ kFingerprintXor);
  } else {
    put16(m, 2, static_cast<uint16_t>(m.size() - kHeaderSize));
  }
  return m;
}
#endif

// MessageView over the request: the attribute walk and validate() agree.
void check_view(const std::vector<uint8_t>& m, const std::optional<DropReason>& verdict) {
  const MessageView view(m.data(), m.size());
  HeaderInfo h;
  const auto header = check_header(m.data(), m.size(), h);
  if (header) {
    FUZZ_CHECK(verdict == header);
    return;
  }
  FUZZ_CHECK(view.length_field() + kHeaderSize == m.size());
  FUZZ_CHECK(view.classic() == h.classic);
  FUZZ_CHECK(view.transaction_id_size() == (h.classic ? 16u : 12u));
  size_t expect = kHeaderSize;
  size_t n = 0;
  uint16_t first_type = 0;
  size_t first_offset = 0;
  view.for_each_attribute([&](const Attribute& a) {
    FUZZ_CHECK(a.offset == expect);
    FUZZ_CHECK(a.value == m.data() + a.offset + 4);
    FUZZ_CHECK(a.offset + 4 + a.length <= m.size());
    if (n++ == 0) {
      first_type = a.type;
      first_offset = a.offset;
    }
    expect = a.offset + 4 + ((size_t{a.length} + 3) & ~size_t{3});
  });
  // A valid message is tiled exactly by its padded attributes (RFC 8489 s14).
  if (!verdict) FUZZ_CHECK(expect == m.size());
  if (n > 0) {
    const auto f = view.find(first_type);
    FUZZ_CHECK(f && f->offset == first_offset);
  }
}

// What a success or error response must look like.
void check_response(const uint8_t* r, size_t rlen, Outcome outcome, const std::vector<uint8_t>& req,
                    const ResponderConfig& cfg, const Endpoint& client, const Rfc5780Site& site) {
  const MessageView resp(r, rlen);
  FUZZ_CHECK(!resp.validate());  // itself a valid STUN message
  const MessageView rq(req.data(), req.size());
  const bool classic = rq.classic();
  FUZZ_CHECK(resp.classic() == classic);
  FUZZ_CHECK(resp.type() == (outcome == Outcome::success ? kBindingSuccess : kBindingError));
  // RFC 8489 s6.3.1: the transaction id (and cookie) echoed.
  FUZZ_CHECK(std::memcmp(r + 4, req.data() + 4, 16) == 0);

  const bool request_fp = rq.find(attr::kFingerprint).has_value();
  const bool want_fp = !classic && (cfg.fingerprint == FingerprintPolicy::always ||
                                    (cfg.fingerprint == FingerprintPolicy::mirror && request_fp));
  const auto fp = resp.find(attr::kFingerprint);
  FUZZ_CHECK(fp.has_value() == want_fp);
  if (fp) FUZZ_CHECK(fp->offset + 8 == rlen);

  const auto sw = resp.find(attr::kSoftware);
  FUZZ_CHECK(sw.has_value() == !cfg.software.empty());
  if (sw) {
    FUZZ_CHECK(sw->length >= cfg.software.size());
    FUZZ_CHECK(std::memcmp(sw->value, cfg.software.data(), cfg.software.size()) == 0);
  }
  // Never an address or attribute that would send traffic elsewhere; RFC 5780
  // endpoints alone name themselves and the diagonal endpoint (s7.3-4).
  FUZZ_CHECK(!resp.find(attr::kAlternateServer));
  const bool names = site.pair != nullptr && outcome == Outcome::success;
  FUZZ_CHECK(resp.find(attr::kOtherAddress).has_value() == (names && !classic));
  FUZZ_CHECK(resp.find(attr::kResponseOrigin).has_value() == (names && !classic));
  FUZZ_CHECK(resp.find(attr::kChangedAddress).has_value() == (names && classic));
  FUZZ_CHECK(resp.find(attr::kSourceAddress).has_value() == (names && classic));
  if (names) {
    const auto other = resp.find(classic ? attr::kChangedAddress : attr::kOtherAddress);
    const Rfc5780Pair& p = *site.pair;
    FUZZ_CHECK(other && rd16(other->value + 2) == p.port[site.port ^ 1]);
    FUZZ_CHECK(std::memcmp(other->value + 4, p.advertised[site.ip ^ 1].data(), p.v6 ? 16 : 4) == 0);
  }
  // PADDING never makes a reply longer than its request (no amplification).
  if (resp.find(attr::kPadding)) FUZZ_CHECK(rlen <= req.size());

  if (outcome == Outcome::success) {
    FUZZ_CHECK(!resp.find(attr::kErrorCode));
    const size_t alen = client.ip.v6 ? 16 : 4;
    if (classic) {
      // RFC 3489 s11.2.1: MAPPED-ADDRESS in the clear.
      const auto ma = resp.find(attr::kMappedAddress);
      FUZZ_CHECK(ma && ma->length == 4 + alen);
      FUZZ_CHECK(ma->value[1] == (client.ip.v6 ? kFamilyIpv6 : kFamilyIpv4));
      FUZZ_CHECK(rd16(ma->value + 2) == client.port);
      FUZZ_CHECK(std::memcmp(ma->value + 4, client.ip.data(), alen) == 0);
      FUZZ_CHECK(!resp.find(attr::kXorMappedAddress));
    } else {
      // RFC 8489 s14.2: X-Port = port ^ cookie>>16, X-Address ^ cookie||txid.
      const auto xa = resp.find(attr::kXorMappedAddress);
      FUZZ_CHECK(xa && xa->length == 4 + alen);
      FUZZ_CHECK(xa->value[1] == (client.ip.v6 ? kFamilyIpv6 : kFamilyIpv4));
      FUZZ_CHECK((rd16(xa->value + 2) ^ (kMagicCookie >> 16)) == client.port);
      for (size_t i = 0; i < alen; ++i) FUZZ_CHECK((xa->value[4 + i] ^ r[4 + i]) == client.ip.bytes[i]);
      FUZZ_CHECK(!resp.find(attr::kMappedAddress));
    }
  } else {
    // RFC 8489 s6.3.1.1: 420 with UNKNOWN-ATTRIBUTES naming types the request
    // carried that are comprehension-required and not understood; or, from an
    // RFC 5780 endpoint, 400 for RESPONSE-PORT with PADDING or port 0 (s6.1).
    const auto ec = resp.find(attr::kErrorCode);
    FUZZ_CHECK(ec && ec->length >= 4);
    if ((ec->value[2] & 7) == 4 && ec->value[3] == 0) {
      FUZZ_CHECK(site.pair != nullptr && rq.find(attr::kResponsePort).has_value());
      FUZZ_CHECK(!resp.find(attr::kUnknownAttributes));
      return;
    }
    FUZZ_CHECK((ec->value[2] & 7) == 4 && ec->value[3] == 20);
    const auto ua = resp.find(attr::kUnknownAttributes);
    FUZZ_CHECK(ua && ua->length >= 2 && ua->length % 2 == 0);
    FUZZ_CHECK(ua->length <= 2 * (kMaxUnknownAttributes + 1));
    for (size_t i = 0; i < ua->length; i += 2) {
      const uint16_t t = rd16(ua->value + i);
      FUZZ_CHECK(!understood(t, classic));
      bool carried = false;
      rq.for_each_attribute([&](const Attribute& a) { carried |= a.type == t; });
      FUZZ_CHECK(carried);
    }
    FUZZ_CHECK(!resp.find(attr::kXorMappedAddress) && !resp.find(attr::kMappedAddress));
  }
}

void run_one(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const uint8_t c = in.byte();
  const uint8_t slack = in.byte();
  ResponderConfig cfg;
  switch (c & 3u) {
    case 1: cfg.fingerprint = FingerprintPolicy::always; break;
    case 2: cfg.fingerprint = FingerprintPolicy::never; break;
    default: cfg.fingerprint = FingerprintPolicy::mirror; break;
  }
  cfg.classic = !(c & 4);
  cfg.software = software_value(c >> 3);
  const Endpoint client = client_for(c & 0x20);
  // Bit 6: the request reached one of the four endpoints of an RFC 5780 pair of the client's family.
  Rfc5780Pair pair;
  pair.v6 = client.ip.v6;
  pair.local[0][0] = 198, pair.local[0][1] = 18, pair.local[0][3] = 2;
  pair.local[1][0] = 198, pair.local[1][1] = 18, pair.local[1][3] = 3;
  pair.advertised[0][0] = 203, pair.advertised[1][0] = 204;
  pair.port = {3478, 3479};
  Rfc5780Site site;
  if (c & 0x40) site = Rfc5780Site{&pair, static_cast<uint8_t>(slack & 1), static_cast<uint8_t>((slack >> 1) & 1)};

#ifdef STUNBOX_FUZZ_PLANT
  const uint8_t how = in.byte();
  const std::vector<uint8_t> msg = plant(in.rest(), in.rest_size(), how);
#else
  const std::vector<uint8_t> msg(in.rest(), in.rest() + in.rest_size());
#endif
  const size_t len = msg.size();
  const size_t capacity = len + 3 * size_t{slack};

  const std::optional<DropReason> verdict = MessageView(msg.data(), len).validate();
  check_view(msg, verdict);

  fuzz::GuardedBuffer buf(capacity);
  if (len) std::memcpy(buf.data(), msg.data(), len);
  std::memset(buf.data() + len, kTailFill, capacity - len);

  const Answer a = respond(cfg, buf.data(), len, capacity, client, site);

  FUZZ_CHECK(buf.guard_intact());
  HeaderInfo h;
  const auto header = check_header(msg.data(), len, h);
  // answer.kind is set exactly when the header is a sound Binding request.
  const bool binding_request = !header && h.type == kBindingRequest;
  FUZZ_CHECK((a.kind != RequestKind::none) == binding_request);
  if (binding_request) FUZZ_CHECK(a.kind == (h.classic ? RequestKind::classic : RequestKind::rfc5389));

  if (a.outcome == Outcome::drop) {
    FUZZ_CHECK(static_cast<size_t>(a.reason) <= static_cast<size_t>(DropReason::stun_no_room));
    // A drop leaves the buffer as it was.
    FUZZ_CHECK(len == 0 || std::memcmp(buf.data(), msg.data(), len) == 0);
    for (size_t i = len; i < capacity; ++i) FUZZ_CHECK(buf.data()[i] == kTailFill);
    if (header) FUZZ_CHECK(a.reason == *header);
    if (binding_request && (!h.classic || cfg.classic)) {
      // Same verdict as the validator; stun_no_room only for a valid message
      // in a buffer smaller than kMaxResponseSize (responder.h's promise).
      if (verdict) {
        FUZZ_CHECK(a.reason == *verdict);
      } else {
        FUZZ_CHECK(a.reason == DropReason::stun_no_room);
        FUZZ_CHECK(capacity < kMaxResponseSize);
      }
    }
    if (binding_request && h.classic && !cfg.classic) FUZZ_CHECK(a.reason == DropReason::stun_classic_disabled);
    return;
  }

  // Answered: only a valid Binding request, and never a response or an
  // indication (no reflection loops, RFC 8489 s6.3.2).
  FUZZ_CHECK(binding_request && !verdict);
  FUZZ_CHECK(!h.classic || cfg.classic);
  FUZZ_CHECK(a.outcome == Outcome::success || a.outcome == Outcome::error);
  FUZZ_CHECK(a.length >= kHeaderSize && a.length <= capacity && a.length <= std::max(len, kMaxResponseSize));
  FUZZ_CHECK(site.pair != nullptr || (a.rfc5780 == 0 && a.response_port == 0));
  check_response(buf.data(), a.length, a.outcome, msg, cfg, client, site);
}

}  // namespace
}  // namespace stunbox::stun

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stunbox::stun::run_one(data, size);
  return 0;
}
