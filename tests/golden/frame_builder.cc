// Test-only frame crafting and checking, written from the RFCs without using lib/frame.
#include "frame_builder.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace stunbox::golden {

uint32_t ref_sum(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2) s += static_cast<uint32_t>(p[n - 1] << 8);
  return s;
}

static uint16_t ref_fold(uint32_t s) {
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return static_cast<uint16_t>(s);
}

uint16_t ref_checksum(const Bytes& data, uint32_t initial) {
  return static_cast<uint16_t>(~ref_fold(ref_sum(data.data(), data.size()) + initial));
}

uint32_t ref_pseudo4(const Ip4& src, const Ip4& dst, uint8_t proto, size_t len) {
  return ref_sum(src.data(), 4) + ref_sum(dst.data(), 4) + proto + static_cast<uint32_t>(len);
}

uint32_t ref_pseudo6(const Ip6& src, const Ip6& dst, uint8_t next, size_t len) {
  return ref_sum(src.data(), 16) + ref_sum(dst.data(), 16) + next + static_cast<uint32_t>(len >> 16) +
         static_cast<uint32_t>(len & 0xFFFF);
}

uint32_t ref_crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

Ip6 ip6(const std::string& text) {
  Ip6 a{};
  if (inet_pton(AF_INET6, text.c_str(), a.data()) != 1) throw std::runtime_error("bad v6 " + text);
  return a;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}

static void set16(Bytes& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}

Bytes eth(const Mac& dst, const Mac& src, uint16_t type, const Bytes& payload, int vlan) {
  Bytes b(dst.begin(), dst.end());
  b.insert(b.end(), src.begin(), src.end());
  if (vlan >= 0) {
    put16(b, 0x8100);
    put16(b, static_cast<uint16_t>(0x2000 | vlan));  // PCP 1: must be kept in the reply
  }
  put16(b, type);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes ipv4(const Ip4& src, const Ip4& dst, uint8_t proto, const Bytes& payload, const Ip4Opts& o) {
  Bytes b;
  const size_t hl = 20 + o.options.size();
  b.push_back(static_cast<uint8_t>(o.version << 4 | (hl / 4)));
  b.push_back(o.tos);
  put16(b, static_cast<uint16_t>(o.total_len >= 0 ? o.total_len : static_cast<int>(hl + payload.size())));
  put16(b, o.id);
  put16(b, o.frag);
  b.push_back(o.ttl);
  b.push_back(proto);
  put16(b, 0);
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  b.insert(b.end(), o.options.begin(), o.options.end());
  uint16_t c = ref_checksum(b);
  if (o.bad_csum) c = static_cast<uint16_t>(c ^ 0x0101);
  set16(b, 10, c);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes ipv6(const Ip6& src, const Ip6& dst, uint8_t next, const Bytes& payload, const Ip6Opts& o) {
  Bytes b;
  put32(b, static_cast<uint32_t>(o.version) << 28);
  put16(b, static_cast<uint16_t>(o.payload_len >= 0 ? o.payload_len : static_cast<int>(payload.size())));
  b.push_back(next);
  b.push_back(o.hop);
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

static Bytes udp_raw(uint16_t sport, uint16_t dport, const Bytes& payload, int len_override) {
  Bytes b;
  put16(b, sport);
  put16(b, dport);
  put16(b, static_cast<uint16_t>(len_override >= 0 ? len_override : static_cast<int>(8 + payload.size())));
  put16(b, 0);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes udp4(const Ip4& src, const Ip4& dst, uint16_t sport, uint16_t dport, const Bytes& payload, int csum_override,
           int len_override) {
  Bytes b = udp_raw(sport, dport, payload, len_override);
  uint16_t c = ref_checksum(b, ref_pseudo4(src, dst, 17, b.size()));
  if (c == 0) c = 0xFFFF;
  set16(b, 6, csum_override >= 0 ? static_cast<uint16_t>(csum_override) : c);
  return b;
}

Bytes udp6(const Ip6& src, const Ip6& dst, uint16_t sport, uint16_t dport, const Bytes& payload, int csum_override) {
  Bytes b = udp_raw(sport, dport, payload, -1);
  uint16_t c = ref_checksum(b, ref_pseudo6(src, dst, 17, b.size()));
  if (c == 0) c = 0xFFFF;
  set16(b, 6, csum_override >= 0 ? static_cast<uint16_t>(csum_override) : c);
  return b;
}

Bytes icmp4(uint8_t type, uint8_t code, const Bytes& body, bool bad_csum) {
  Bytes b(4 + body.size());  // sized up front (GCC 12 -Warray-bounds false positive on grow)
  b[0] = type;
  b[1] = code;
  std::copy(body.begin(), body.end(), b.begin() + 4);
  uint16_t c = ref_checksum(b);
  set16(b, 2, bad_csum ? static_cast<uint16_t>(c ^ 0x0100) : c);
  return b;
}

Bytes icmp6(const Ip6& src, const Ip6& dst, uint8_t type, uint8_t code, const Bytes& body, bool bad_csum) {
  Bytes b(4 + body.size());
  b[0] = type;
  b[1] = code;
  std::copy(body.begin(), body.end(), b.begin() + 4);
  uint16_t c = ref_checksum(b, ref_pseudo6(src, dst, 58, b.size()));
  set16(b, 2, bad_csum ? static_cast<uint16_t>(c ^ 0x0100) : c);
  return b;
}

Bytes arp(uint16_t op, const Mac& sha, const Ip4& spa, const Mac& tha, const Ip4& tpa) {
  Bytes b;
  put16(b, 1);
  put16(b, 0x0800);
  b.push_back(6);
  b.push_back(4);
  put16(b, op);
  b.insert(b.end(), sha.begin(), sha.end());
  b.insert(b.end(), spa.begin(), spa.end());
  b.insert(b.end(), tha.begin(), tha.end());
  b.insert(b.end(), tpa.begin(), tpa.end());
  return b;
}

Bytes ns_body(const Ip6& target, const Bytes& options) {
  Bytes b(4 + 16 + options.size());
  std::copy(target.begin(), target.end(), b.begin() + 4);
  std::copy(options.begin(), options.end(), b.begin() + 20);
  return b;
}

Bytes na_body(uint32_t flags, const Ip6& target, const Mac& tlla) {
  Bytes b;
  put32(b, flags);
  b.insert(b.end(), target.begin(), target.end());
  Bytes o = lla_option(2, tlla);
  b.insert(b.end(), o.begin(), o.end());
  return b;
}

Bytes lla_option(uint8_t type, const Mac& mac) {
  Bytes b(8);
  b[0] = type;
  b[1] = 1;
  std::copy(mac.begin(), mac.end(), b.begin() + 2);
  return b;
}

Ip6 solicited_node(const Ip6& a) {
  Ip6 s = ip6("ff02::1:ff00:0");
  s[13] = a[13];
  s[14] = a[14];
  s[15] = a[15];
  return s;
}

Mac multicast_mac(const Ip6& a) { return Mac{0x33, 0x33, a[12], a[13], a[14], a[15]}; }

static constexpr uint32_t kCookie = 0x2112A442;

Bytes stun_attr(uint16_t type, const Bytes& value) {
  Bytes b;
  put16(b, type);
  put16(b, static_cast<uint16_t>(value.size()));
  b.insert(b.end(), value.begin(), value.end());
  while (b.size() % 4) b.push_back(0);
  return b;
}

namespace {
// Appends FINGERPRINT (RFC 8489 s14.7) to a message whose length field already counts it.
void append_fingerprint(Bytes& b) {
  const uint32_t crc = ref_crc32(b.data(), b.size()) ^ 0x5354554E;
  put16(b, 0x8028);
  put16(b, 4);
  put32(b, crc);
}
}  // namespace

Bytes stun_request(const std::array<uint8_t, 12>& txid, bool fingerprint, const Bytes& attrs) {
  Bytes b;
  put16(b, 0x0001);
  put16(b, static_cast<uint16_t>(attrs.size() + (fingerprint ? 8 : 0)));
  put32(b, kCookie);
  b.insert(b.end(), txid.begin(), txid.end());
  b.insert(b.end(), attrs.begin(), attrs.end());
  if (fingerprint) append_fingerprint(b);
  return b;
}

Bytes stun_classic_request(const std::array<uint8_t, 16>& txid, const Bytes& attrs) {
  Bytes b;
  put16(b, 0x0001);
  put16(b, static_cast<uint16_t>(attrs.size()));
  b.insert(b.end(), txid.begin(), txid.end());
  b.insert(b.end(), attrs.begin(), attrs.end());
  return b;
}

namespace {
// ERROR-CODE 420 + UNKNOWN-ATTRIBUTES after a 20-byte header `head`.
Bytes error_420(Bytes b, const std::vector<uint16_t>& unknown, bool classic) {
  Bytes code;
  put32(code, 420 / 100 << 8 | 420 % 100);  // class 4, number 20
  for (char ch : std::string_view("Unknown Attribute")) code.push_back(static_cast<uint8_t>(ch));  // 17 bytes
  if (classic) code.resize(24, ' ');  // RFC 3489 s11.2.9: a multiple of 4 inside the length
  std::vector<uint16_t> list = unknown;
  if (classic && list.size() % 2) list.push_back(list.back());  // RFC 3489 s11.2.10
  Bytes types;
  for (uint16_t t : list) put16(types, t);
  const Bytes attrs = cat({stun_attr(0x0009, code), stun_attr(0x000A, types)});
  b.insert(b.end(), attrs.begin(), attrs.end());
  return b;
}
}  // namespace

Bytes stun_error_420(const std::array<uint8_t, 12>& txid, const std::vector<uint16_t>& unknown, bool fingerprint) {
  Bytes b;
  put16(b, 0x0111);
  put16(b, 0);
  put32(b, kCookie);
  b.insert(b.end(), txid.begin(), txid.end());
  b = error_420(std::move(b), unknown, false);
  const size_t length = b.size() - 20 + (fingerprint ? 8 : 0);
  b[2] = static_cast<uint8_t>(length >> 8);
  b[3] = static_cast<uint8_t>(length);
  if (fingerprint) append_fingerprint(b);
  return b;
}

Bytes stun_classic_error_420(const std::array<uint8_t, 16>& txid, const std::vector<uint16_t>& unknown) {
  Bytes b;
  put16(b, 0x0111);
  put16(b, 0);
  b.insert(b.end(), txid.begin(), txid.end());
  b = error_420(std::move(b), unknown, true);
  b[2] = static_cast<uint8_t>((b.size() - 20) >> 8);
  b[3] = static_cast<uint8_t>(b.size() - 20);
  return b;
}

Bytes stun_address(uint16_t type, bool v6, const uint8_t* addr, uint16_t port) {
  Bytes value = {0, static_cast<uint8_t>(v6 ? 0x02 : 0x01)};
  put16(value, port);
  value.insert(value.end(), addr, addr + (v6 ? 16 : 4));
  return stun_attr(type, value);
}

Bytes stun_success(const std::array<uint8_t, 12>& txid, bool v6, const uint8_t* addr, uint16_t port,
                   bool fingerprint, const Bytes& extra) {
  Bytes b;
  const uint16_t xma_len = v6 ? 20 : 8;
  put16(b, 0x0101);
  put16(b, static_cast<uint16_t>(4 + xma_len + extra.size() + (fingerprint ? 8 : 0)));
  put32(b, kCookie);
  b.insert(b.end(), txid.begin(), txid.end());
  // RFC 8489 s14.2: X-Port = port ^ top 16 bits of the cookie; address XOR
  // cookie (IPv4) or cookie || transaction id (IPv6).
  put16(b, 0x0020);
  put16(b, xma_len);
  b.push_back(0);
  b.push_back(v6 ? 0x02 : 0x01);
  put16(b, static_cast<uint16_t>(port ^ (kCookie >> 16)));
  for (size_t i = 0; i < (v6 ? 16u : 4u); ++i) b.push_back(static_cast<uint8_t>(addr[i] ^ b[4 + i]));
  b.insert(b.end(), extra.begin(), extra.end());
  if (fingerprint) append_fingerprint(b);
  return b;
}

Bytes stun_classic_success(const std::array<uint8_t, 16>& txid, const Ip4& addr, uint16_t port, const Bytes& extra) {
  Bytes b;
  put16(b, 0x0101);
  put16(b, static_cast<uint16_t>(12 + extra.size()));
  b.insert(b.end(), txid.begin(), txid.end());
  const Bytes mapped = stun_address(0x0001, false, addr.data(), port);
  b.insert(b.end(), mapped.begin(), mapped.end());
  b.insert(b.end(), extra.begin(), extra.end());
  return b;
}

std::string check_checksums(const uint8_t* f, size_t len) {
  auto rd16 = [&](size_t o) { return static_cast<uint16_t>(f[o] << 8 | f[o + 1]); };
  if (len < 14) return "short";
  size_t l2 = 14;
  uint16_t type = rd16(12);
  if (type == 0x8100) {
    type = rd16(16);
    l2 = 18;
  }
  if (type == 0x0806) return "";
  if (type == 0x0800) {
    const size_t ihl = (f[l2] & 0xF) * 4u;
    const size_t total = rd16(l2 + 2);
    if (l2 + total != len) return "IPv4 total length != frame";
    if (ref_fold(ref_sum(f + l2, ihl)) != 0xFFFF) return "IPv4 header checksum";
    const uint8_t* l4 = f + l2 + ihl;
    const size_t l4_len = total - ihl;
    Ip4 s, d;
    std::copy(f + l2 + 12, f + l2 + 16, s.begin());
    std::copy(f + l2 + 16, f + l2 + 20, d.begin());
    if (f[l2 + 9] == 17) {
      if (rd16(l2 + ihl + 4) != l4_len) return "UDP length";
      if (rd16(l2 + ihl + 6) == 0) return "UDP checksum absent";
      if (ref_fold(ref_sum(l4, l4_len) + ref_pseudo4(s, d, 17, l4_len)) != 0xFFFF) return "UDP checksum";
    } else if (f[l2 + 9] == 1) {
      if (ref_fold(ref_sum(l4, l4_len)) != 0xFFFF) return "ICMP checksum";
    }
    return "";
  }
  if (type == 0x86DD) {
    const size_t plen_all = rd16(l2 + 4);
    if (l2 + 40 + plen_all != len) return "IPv6 payload length != frame";
    Ip6 s, d;
    std::copy(f + l2 + 8, f + l2 + 24, s.begin());
    std::copy(f + l2 + 24, f + l2 + 40, d.begin());
    uint8_t next = f[l2 + 6];
    const uint8_t* l4 = f + l2 + 40;
    size_t plen = plen_all;
    if (next == 0) {  // Hop-by-Hop (MLD): the checksum covers what follows it
      const size_t hlen = (static_cast<size_t>(l4[1]) + 1) * 8;
      if (hlen > plen) return "Hop-by-Hop header longer than the payload";
      next = l4[0];
      l4 += hlen;
      plen -= hlen;
    }
    if (next == 17 && rd16(l2 + 40 + 6) == 0) return "IPv6 UDP checksum zero";
    if (ref_fold(ref_sum(l4, plen) + ref_pseudo6(s, d, next, plen)) != 0xFFFF) return "L4 checksum over IPv6";
    return "";
  }
  return "unknown ethertype";
}

Bytes to_offload_form(const Bytes& r) {
  Bytes b = r;
  size_t l2 = (r[12] == 0x81 && r[13] == 0x00) ? 18 : 14;
  const uint16_t type = static_cast<uint16_t>(r[l2 - 2] << 8 | r[l2 - 1]);
  if (type == 0x0800 && r[l2 + 9] == 17) {
    const size_t ihl = (r[l2] & 0xF) * 4u;
    const size_t l4_len = static_cast<size_t>(r[l2 + 2] << 8 | r[l2 + 3]) - ihl;
    Ip4 s, d;
    std::copy(r.begin() + l2 + 12, r.begin() + l2 + 16, s.begin());
    std::copy(r.begin() + l2 + 16, r.begin() + l2 + 20, d.begin());
    set16(b, l2 + 10, 0);
    set16(b, l2 + ihl + 6, ref_fold(ref_pseudo4(s, d, 17, l4_len)));
  } else if (type == 0x86DD && r[l2 + 6] == 17) {
    const size_t plen = static_cast<size_t>(r[l2 + 4] << 8 | r[l2 + 5]);
    Ip6 s, d;
    std::copy(r.begin() + l2 + 8, r.begin() + l2 + 24, s.begin());
    std::copy(r.begin() + l2 + 24, r.begin() + l2 + 40, d.begin());
    set16(b, l2 + 40 + 6, ref_fold(ref_pseudo6(s, d, 17, plen)));
  }
  return b;
}

Bytes complete_offload(const Bytes& f, size_t l2, size_t l3, bool ipv6) {
  Bytes b = f;
  if (!ipv6) {
    set16(b, l2 + 10, 0);
    set16(b, l2 + 10, static_cast<uint16_t>(~ref_fold(ref_sum(b.data() + l2, l3))));
  }
  // The NIC sums the L4 bytes starting from the seed in the checksum field.
  const size_t l4 = l2 + l3;
  uint16_t c = static_cast<uint16_t>(~ref_fold(ref_sum(b.data() + l4, b.size() - l4)));
  set16(b, l4 + 6, c == 0 ? 0xFFFF : c);
  return b;
}

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", p[i]);
    s += buf;
    if (i % 16 == 15) s += '\n';
    else if (i % 2 == 1) s += ' ';
  }
  return s;
}

}  // namespace stunbox::golden
