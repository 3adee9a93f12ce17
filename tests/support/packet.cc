// The packet vocabulary of the tests and benches, written from the RFCs without using lib/frame or lib/stun.
#include "packet.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace stunbox::pkt {

// ---- addresses -------------------------------------------------------------

IpAddress ip(std::string_view text) {
  const auto a = IpAddress::parse(text);
  if (!a) throw std::invalid_argument("bad address " + std::string(text));
  return *a;
}

Endpoint endpoint(std::string_view text) {
  const auto e = Endpoint::parse(text);
  if (!e) throw std::invalid_argument("bad endpoint " + std::string(text));
  return *e;
}

IpAddress solicited_node(const IpAddress& a) {
  IpAddress s = ip("ff02::1:ff00:0");
  s.bytes[13] = a.bytes[13];
  s.bytes[14] = a.bytes[14];
  s.bytes[15] = a.bytes[15];
  return s;
}

Mac multicast_mac(const IpAddress& a) { return Mac{0x33, 0x33, a.bytes[12], a.bytes[13], a.bytes[14], a.bytes[15]}; }

IpAddress eui64_link_local(const Mac& m) {
  IpAddress a = ip("fe80::");
  const uint8_t id[8] = {static_cast<uint8_t>(m[0] ^ 0x02), m[1], m[2], 0xFF, 0xFE, m[3], m[4], m[5]};
  std::copy(id, id + 8, a.bytes.begin() + 8);
  return a;
}

// ---- bytes -----------------------------------------------------------------

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

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return uint32_t{get16(p)} << 16 | get16(p + 2); }

namespace {
void set16(Bytes& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}
}  // namespace

Bytes from_hex(std::string_view hex) {
  Bytes out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

std::string to_hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

std::string hex_dump(const uint8_t* p, size_t n) {
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

// ---- reference oracles -----------------------------------------------------

uint32_t ref_sum(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2) s += static_cast<uint32_t>(p[n - 1] << 8);
  return s;
}

uint16_t ref_fold(uint32_t s) {
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return static_cast<uint16_t>(s);
}

uint16_t ref_checksum(const Bytes& data, uint32_t initial) {
  return static_cast<uint16_t>(~ref_fold(ref_sum(data.data(), data.size()) + initial));
}

uint32_t ref_pseudo(const IpAddress& src, const IpAddress& dst, uint8_t proto, size_t len) {
  const size_t n = src.v6 ? 16 : 4;
  return ref_sum(src.data(), n) + ref_sum(dst.data(), n) + proto + static_cast<uint32_t>(len >> 16) +
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

std::string check_checksums(const uint8_t* f, size_t len) {
  auto rd16 = [&](size_t o) { return get16(f + o); };
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
    const IpAddress s = IpAddress::of(false, f + l2 + 12), d = IpAddress::of(false, f + l2 + 16);
    if (f[l2 + 9] == 17) {
      if (rd16(l2 + ihl + 4) != l4_len) return "UDP length";
      if (rd16(l2 + ihl + 6) == 0) return "UDP checksum absent";
      if (ref_fold(ref_sum(l4, l4_len) + ref_pseudo(s, d, 17, l4_len)) != 0xFFFF) return "UDP checksum";
    } else if (f[l2 + 9] == 1) {
      if (ref_fold(ref_sum(l4, l4_len)) != 0xFFFF) return "ICMP checksum";
    }
    return "";
  }
  if (type == 0x86DD) {
    size_t plen = rd16(l2 + 4);
    if (l2 + 40 + plen != len) return "IPv6 payload length != frame";
    const IpAddress s = IpAddress::of(true, f + l2 + 8), d = IpAddress::of(true, f + l2 + 24);
    uint8_t next = f[l2 + 6];
    const uint8_t* l4 = f + l2 + 40;
    if (next == 0) {  // Hop-by-Hop (MLD): the upper layer's checksum covers what follows it
      if (plen < 8) return "Hop-by-Hop header longer than the payload";
      const size_t hlen = (static_cast<size_t>(l4[1]) + 1) * 8;
      if (hlen > plen) return "Hop-by-Hop header longer than the payload";
      next = l4[0];
      l4 += hlen;
      plen -= hlen;
    }
    if (next == 17 && get16(l4 + 6) == 0) return "IPv6 UDP checksum zero";
    if (ref_fold(ref_sum(l4, plen) + ref_pseudo(s, d, next, plen)) != 0xFFFF) return "L4 checksum over IPv6";
    return "";
  }
  return "unknown ethertype";
}

Bytes to_offload_form(const Bytes& r) {
  Bytes b = r;
  const size_t l2 = (r[12] == 0x81 && r[13] == 0x00) ? 18 : 14;
  const uint16_t type = get16(r.data() + l2 - 2);
  if (type == 0x0800 && r[l2 + 9] == 17) {
    const size_t ihl = (r[l2] & 0xF) * 4u;
    const size_t l4_len = get16(r.data() + l2 + 2) - ihl;
    const IpAddress s = IpAddress::of(false, r.data() + l2 + 12), d = IpAddress::of(false, r.data() + l2 + 16);
    set16(b, l2 + 10, 0);
    set16(b, l2 + ihl + 6, ref_fold(ref_pseudo(s, d, 17, l4_len)));
  } else if (type == 0x86DD && r[l2 + 6] == 17) {
    const size_t plen = get16(r.data() + l2 + 4);
    const IpAddress s = IpAddress::of(true, r.data() + l2 + 8), d = IpAddress::of(true, r.data() + l2 + 24);
    set16(b, l2 + 40 + 6, ref_fold(ref_pseudo(s, d, 17, plen)));
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
  const auto c = static_cast<uint16_t>(~ref_fold(ref_sum(b.data() + l4, b.size() - l4)));
  set16(b, l4 + 6, c == 0 ? 0xFFFF : c);
  return b;
}

// ---- STUN ------------------------------------------------------------------

Stun::Stun(uint16_t type) {
  put16(b_, type);
  put16(b_, 0);
  put32(b_, kMagicCookie);
  for (int i = 0; i < 12; ++i) b_.push_back(static_cast<uint8_t>(0x10 + i));
}

Stun::Stun(const Bytes& whole) : b_(whole) {
  if (b_.size() < 20) b_.resize(20);
  set16(b_, 2, static_cast<uint16_t>(b_.size() - 20));
}

Stun& Stun::txid(const TxId& id) {
  std::copy(id.begin(), id.end(), b_.begin() + 8);
  return *this;
}

Stun& Stun::txid(const uint8_t* id12) {
  std::copy(id12, id12 + 12, b_.begin() + 8);
  return *this;
}

Stun& Stun::classic() {
  ClassicTxId id;
  for (int i = 0; i < 16; ++i) id[static_cast<size_t>(i)] = static_cast<uint8_t>(0xA0 + i);
  return classic(id);
}

Stun& Stun::classic(const ClassicTxId& id) {
  std::copy(id.begin(), id.end(), b_.begin() + 4);
  return *this;
}

void Stun::grow(size_t n) {
  const size_t length = get16(b_.data() + 2) + n;
  set16(b_, 2, static_cast<uint16_t>(length));
}

Stun& Stun::attr(uint16_t type, const Bytes& value) {
  const size_t start = b_.size();
  put16(b_, type);
  put16(b_, static_cast<uint16_t>(value.size()));
  b_.insert(b_.end(), value.begin(), value.end());
  while (b_.size() % 4) b_.push_back(0);
  grow(b_.size() - start);
  return *this;
}

Stun& Stun::attr(uint16_t type, std::string_view value) { return attr(type, Bytes(value.begin(), value.end())); }

// Values are sized up front: GCC 12 reports -Warray-bounds false positives on growing small vectors.
Stun& Stun::address(uint16_t type, const Endpoint& e) {
  Bytes v(4 + e.ip.size());
  v[1] = e.ip.v6 ? 0x02 : 0x01;
  set16(v, 2, e.port);
  std::copy(e.ip.data(), e.ip.data() + e.ip.size(), v.begin() + 4);
  return attr(type, v);
}

Stun& Stun::xor_address(uint16_t type, const Endpoint& e) {
  Bytes v(4 + e.ip.size());
  v[1] = e.ip.v6 ? 0x02 : 0x01;
  set16(v, 2, static_cast<uint16_t>(e.port ^ (kMagicCookie >> 16)));
  // The key is the header's bytes 4..19: the cookie, then the transaction id.
  for (size_t i = 0; i < e.ip.size(); ++i) v[4 + i] = static_cast<uint8_t>(e.ip.bytes[i] ^ b_[4 + i]);
  return attr(type, v);
}

Stun& Stun::error_code(unsigned code, std::string_view reason) {
  Bytes v(4 + reason.size());
  v[2] = static_cast<uint8_t>(code / 100);
  v[3] = static_cast<uint8_t>(code % 100);
  std::copy(reason.begin(), reason.end(), v.begin() + 4);
  return attr(0x0009, v);
}

Stun& Stun::unknown_attributes(const std::vector<uint16_t>& types) {
  Bytes v;
  for (uint16_t t : types) put16(v, t);
  return attr(0x000A, v);
}

Stun& Stun::fingerprint() {
  grow(8);  // RFC 8489 s14.7: the length field already counts FINGERPRINT
  const uint32_t crc = ref_crc32(b_.data(), b_.size()) ^ 0x5354554E;
  put16(b_, 0x8028);
  put16(b_, 4);
  put32(b_, crc);
  return *this;
}

// ---- frames ----------------------------------------------------------------

Packet& Packet::eth(const Mac& dst, const Mac& src, std::optional<Vlan> vlan) {
  has_eth_ = true;
  dst_ = dst;
  src_ = src;
  vlan_ = vlan;
  return *this;
}

Packet& Packet::ethertype(uint16_t type) {
  ethertype_ = type;
  return *this;
}

Packet& Packet::ipv4(const Ip4& h) {
  l3_ = L3::v4;
  ip4_ = h;
  return *this;
}

Packet& Packet::ipv6(const Ip6& h) {
  l3_ = L3::v6;
  ip6_ = h;
  return *this;
}

Packet& Packet::udp(uint16_t sport, uint16_t dport, UdpOpts o) {
  l4_ = L4::udp;
  sport_ = sport;
  dport_ = dport;
  udp_ = o;
  return *this;
}

Packet& Packet::icmp(uint8_t type, uint8_t code, const Bytes& body) {
  l4_ = L4::icmp;
  icmp_type_ = type;
  icmp_code_ = code;
  payload_ = body;
  return *this;
}

Packet& Packet::ns(const IpAddress& target, const Bytes& options) {
  Bytes body(4 + 16 + options.size());  // reserved, target, options
  std::copy(target.bytes.begin(), target.bytes.end(), body.begin() + 4);
  std::copy(options.begin(), options.end(), body.begin() + 20);
  return icmp(135, 0, body);
}

Packet& Packet::na(uint32_t flags, const IpAddress& target, const Mac& tlla) {
  Bytes body;
  put32(body, flags);
  body.insert(body.end(), target.bytes.begin(), target.bytes.end());
  const Bytes o = lla_option(2, tlla);
  body.insert(body.end(), o.begin(), o.end());
  return icmp(136, 0, body);
}

Packet& Packet::arp(uint16_t op, const Mac& sha, const IpAddress& spa, const Mac& tha, const IpAddress& tpa) {
  l3_ = L3::arp;
  arp_.clear();
  put16(arp_, 1);       // Ethernet
  put16(arp_, 0x0800);  // IPv4
  arp_.push_back(6);
  arp_.push_back(4);
  put16(arp_, op);
  arp_.insert(arp_.end(), sha.begin(), sha.end());
  arp_.insert(arp_.end(), spa.data(), spa.data() + 4);
  arp_.insert(arp_.end(), tha.begin(), tha.end());
  arp_.insert(arp_.end(), tpa.data(), tpa.data() + 4);
  return *this;
}

Packet& Packet::payload(const Bytes& b) {
  payload_ = b;
  return *this;
}

Packet& Packet::bad_checksum() {
  bad_l4_csum_ = true;
  return *this;
}

Packet& Packet::pad(const Bytes& trailer) {
  pad_ = trailer;
  return *this;
}

Packet& Packet::patch(size_t offset, const Bytes& b) {
  patches_.emplace_back(offset, b);
  return *this;
}

Packet& Packet::truncate(size_t n) {
  truncate_ = n;
  return *this;
}

Bytes lla_option(uint8_t type, const Mac& mac) {
  Bytes b(8);
  b[0] = type;
  b[1] = 1;  // in units of 8 bytes
  std::copy(mac.begin(), mac.end(), b.begin() + 2);
  return b;
}

Bytes Packet::l4() const {
  const bool v6 = l3_ == L3::v6;
  const IpAddress& src = v6 ? ip6_.src : ip4_.src;
  const IpAddress& dst = v6 ? ip6_.dst : ip4_.dst;
  if (l4_ == L4::udp) {
    Bytes b;
    put16(b, sport_);
    put16(b, dport_);
    put16(b, static_cast<uint16_t>(udp_.len >= 0 ? udp_.len : static_cast<int>(8 + payload_.size())));
    put16(b, 0);
    b.insert(b.end(), payload_.begin(), payload_.end());
    uint16_t c = ref_checksum(b, ref_pseudo(src, dst, 17, b.size()));
    if (c == 0) c = 0xFFFF;  // RFC 768: a computed 0 is sent as all ones
    set16(b, 6, udp_.csum >= 0 ? static_cast<uint16_t>(udp_.csum) : c);
    return b;
  }
  if (l4_ == L4::icmp) {
    Bytes b(4 + payload_.size());  // sized up front (GCC 12 -Warray-bounds false positive on grow)
    b[0] = icmp_type_;
    b[1] = icmp_code_;
    std::copy(payload_.begin(), payload_.end(), b.begin() + 4);
    // ICMPv6 sums the pseudo-header (RFC 4443 s2.3); ICMP does not (RFC 792).
    const uint16_t c = v6 ? ref_checksum(b, ref_pseudo(src, dst, 58, b.size())) : ref_checksum(b);
    set16(b, 2, bad_l4_csum_ ? static_cast<uint16_t>(c ^ 0x0100) : c);
    return b;
  }
  return payload_;
}

Bytes Packet::bytes() const {
  Bytes l3;
  uint16_t type = 0;
  if (l3_ == L3::v4) {
    const Bytes up = l4();
    const Ip4& o = ip4_;
    const size_t hl = 20 + o.options.size();
    const int proto = o.proto >= 0 ? o.proto : l4_ == L4::udp ? 17 : 1;
    l3.push_back(static_cast<uint8_t>(o.version << 4 | (hl / 4)));
    l3.push_back(o.tos);
    put16(l3, static_cast<uint16_t>(o.total_len >= 0 ? o.total_len : static_cast<int>(hl + up.size())));
    put16(l3, o.id);
    put16(l3, o.frag);
    l3.push_back(o.ttl);
    l3.push_back(static_cast<uint8_t>(proto));
    put16(l3, 0);
    l3.insert(l3.end(), o.src.data(), o.src.data() + 4);
    l3.insert(l3.end(), o.dst.data(), o.dst.data() + 4);
    l3.insert(l3.end(), o.options.begin(), o.options.end());
    uint16_t c = ref_checksum(l3);
    if (o.bad_csum) c = static_cast<uint16_t>(c ^ 0x0101);
    set16(l3, 10, c);
    l3.insert(l3.end(), up.begin(), up.end());
    type = 0x0800;
  } else if (l3_ == L3::v6) {
    const Bytes up = l4();
    const Ip6& o = ip6_;
    const int next = o.next >= 0 ? o.next : !o.hop_by_hop.empty() ? 0 : l4_ == L4::udp ? 17 : 58;
    const size_t plen = o.hop_by_hop.size() + up.size();
    put32(l3, static_cast<uint32_t>(o.version) << 28);
    put16(l3, static_cast<uint16_t>(o.payload_len >= 0 ? o.payload_len : static_cast<int>(plen)));
    l3.push_back(static_cast<uint8_t>(next));
    l3.push_back(o.hop);
    l3.insert(l3.end(), o.src.bytes.begin(), o.src.bytes.end());
    l3.insert(l3.end(), o.dst.bytes.begin(), o.dst.bytes.end());
    l3.insert(l3.end(), o.hop_by_hop.begin(), o.hop_by_hop.end());
    l3.insert(l3.end(), up.begin(), up.end());
    type = 0x86DD;
  } else if (l3_ == L3::arp) {
    l3 = arp_;
    type = 0x0806;
  } else {
    l3 = payload_;
  }
  if (ethertype_ >= 0) type = static_cast<uint16_t>(ethertype_);

  Bytes f;
  if (has_eth_) {
    f.reserve(18 + l3.size() + pad_.size());
    f.insert(f.end(), dst_.begin(), dst_.end());
    f.insert(f.end(), src_.begin(), src_.end());
    if (vlan_) {
      put16(f, 0x8100);
      put16(f, static_cast<uint16_t>(vlan_->pcp << 13 | (vlan_->id & 0x0FFF)));
    }
    put16(f, type);
  }
  f.insert(f.end(), l3.begin(), l3.end());
  f.insert(f.end(), pad_.begin(), pad_.end());
  for (const auto& [at, bytes] : patches_) {
    if (f.size() < at + bytes.size()) f.resize(at + bytes.size());
    std::copy(bytes.begin(), bytes.end(), f.begin() + static_cast<std::ptrdiff_t>(at));
  }
  if (truncate_ && *truncate_ < f.size()) f.resize(*truncate_);
  return f;
}

}  // namespace stunbox::pkt
