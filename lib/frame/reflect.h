// The per-packet path of the appliance over plain bytes: classify a frame and rewrite it in place into its reply.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>

#include "core/address.h"
#include "core/drop_reason.h"
#include "stun/responder.h"

namespace stunbox::frame {

inline constexpr size_t kMaxPortAddresses = 16;

// The UDP ports a port serves: a 65,536-bit map (std::bitset's interface,
// the part used), whose test() always inlines: GCC left bitset's
// operator[] as a call in the lcore loop once the loop grew.
class PortSet {
 public:
  static constexpr size_t size() noexcept { return 65536; }
  [[gnu::always_inline]] bool test(size_t p) const noexcept {
    return p < size() && ((words_[p >> 6] >> (p & 63)) & 1u) != 0;
  }
  void set(size_t p) {
    if (p >= size()) throw std::out_of_range("PortSet::set: port above 65535");
    words_[p >> 6] |= uint64_t{1} << (p & 63);
  }
  bool none() const noexcept {
    for (uint64_t w : words_)
      if (w != 0) return false;
    return true;
  }

 private:
  std::array<uint64_t, 1024> words_{};
};

// Loop-free "is this address ours" for the fast path (frame/fast_path.h):
// each owned address sits in the slot its hash picks, as its index in
// PortIdentity::v4/v6. A slot two distinct addresses share is kShared, and a
// frame whose address lands there takes the general path (which loops).
// Kept by PortIdentity::add_v4/add_v6, the only writers of the addresses.
struct OwnedSlots {
  static constexpr uint8_t kEmpty = 0xFF;
  static constexpr uint8_t kShared = 0xFE;
  std::array<uint8_t, 16> v4;
  std::array<uint8_t, 16> v6;
  OwnedSlots() noexcept {
    v4.fill(kEmpty);
    v6.fill(kEmpty);
  }
  // `raw`: the address's 4 bytes loaded in memory order; lo/hi: its 16 bytes as two such 64-bit words.
  static unsigned slot_v4(uint32_t raw) noexcept { return (raw * 0x9E3779B1u) >> 28; }
  static unsigned slot_v6(uint64_t lo, uint64_t hi) noexcept { return ((lo ^ hi) * 0x9E3779B97F4A7C15ull) >> 60; }
};
static_assert(kMaxPortAddresses < OwnedSlots::kShared);

// What one port owns, fixed at setup. Read-only on the data path.
struct PortIdentity {
  std::array<uint8_t, 6> mac{};
  int vlan = -1;  // 802.1Q VLAN id, or -1 = untagged port
  uint8_t ttl = 64;  // IPv4 TTL / IPv6 hop limit of replies
  // A port shared with the kernel by steering (xdp, flow): the kernel
  // answers ARP, NDP, MLD and ping there, so those are dropped here
  // (steering_not_stun) should any arrive, and the port announces nothing.
  // Only their branches test it.
  bool stun_only = false;
  size_t n_v4 = 0;
  std::array<std::array<uint8_t, 4>, kMaxPortAddresses> v4{};   // network order
  size_t n_v6 = 0;
  std::array<std::array<uint8_t, 16>, kMaxPortAddresses> v6{};
  PortSet stun_ports;  // UDP destination ports served
  // RFC 5780 address pairs, [0] IPv4 and [1] IPv6: both IPs are owned
  // addresses of this port and both ports are in stun_ports. A request to
  // one of a pair's four endpoints gets its RFC 5780 answer, from the
  // endpoint the responder picks; plain requests elsewhere pay one branch.
  std::array<std::optional<stun::Rfc5780Pair>, 2> rfc5780{};
  OwnedSlots owned;  // setup: wo (add_v4/add_v6), dataplane: ro

  // Convenience for setup code and tests; return false when full.
  bool add_v4(const std::array<uint8_t, 4>& a);
  bool add_v6(const std::array<uint8_t, 16>& a);
};

// Checksum status reported by the NIC (mbuf ol_flags), or unknown.
enum class CsumState : uint8_t { unknown, good, bad };
// What the NIC verified. The caller fills a field only for a frame the NIC
// classified as that protocol (lib/dpdk: the mbuf's packet_type), because
// i40e and ixgbe report "good" for whatever they did not check. ICMP,
// ICMPv6 and NDP have no hint: they are rare and always verified here.
struct RxHints {
  CsumState ip = CsumState::unknown;   // IPv4 header checksum
  CsumState udp = CsumState::unknown;  // UDP checksum (over IPv4 or IPv6)
};

enum class ReplyKind : uint8_t {
  stun_success,
  stun_error,
  arp_reply,
  ndp_advert,
  icmp_echo_reply,
  icmp6_echo_reply,
  mld_report,  // an MLDv2 report answering an MLD query (RFC 3810 s6.2)
};

// Exactly 8 bytes with no padding: reflect builds it as one 64-bit word in a
// register (see make_verdict in reflect.cc), so returning it costs no stack
// round trip.
struct Verdict {
  bool tx = false;                 // true: frame[0, length) is the reply
  // When !tx: why the frame was dropped. For a STUN reply the same byte
  // holds the responder's stun::rfc5780 bits (see rfc5780_bits()), so the
  // verdict stays one 64-bit word.
  DropReason reason{};
  ReplyKind kind{};                // when tx
  stun::RequestKind request = stun::RequestKind::none;  // STUN request kind seen (tx or not)
  uint16_t length = 0;             // reply frame length
  uint8_t l2_len = 0;              // Ethernet (+VLAN) header length of the reply
  uint8_t l3_len = 0;              // IP header length of the reply: 20 (IPv4), 40 (IPv6), 0 (ARP, drops)
  bool ipv6() const noexcept { return l3_len == 40; }
  // STUN replies are the only UDP replies. In the offload variant their IPv4
  // header checksum is 0 and their UDP checksum holds the pseudo-header seed:
  // the caller sets the mbuf's TX checksum offload flags with l2_len/l3_len.
  bool udp() const noexcept { return tx && (kind == ReplyKind::stun_success || kind == ReplyKind::stun_error); }
  // stun::rfc5780::k* of a STUN reply from an RFC 5780 endpoint; 0 otherwise.
  uint8_t rfc5780_bits() const noexcept { return udp() ? static_cast<uint8_t>(reason) : 0; }
};
static_assert(sizeof(Verdict) == 8);

// Every verdict is built as one 64-bit word in a register. Built field by
// field, GCC stores the bytes to the stack at each return site and reloads
// them as one word for the return register at the shared epilogue: a failed
// store-to-load forward on every packet (it held 16-19% of reflect's
// profile samples on the DPDK path).
[[gnu::always_inline]] inline Verdict make_verdict(bool tx, DropReason reason, ReplyKind kind,
                                                 stun::RequestKind request, size_t length, size_t l2_len,
                                                 size_t l3_len) noexcept {
  const uint64_t v = uint64_t{tx} | uint64_t{static_cast<uint8_t>(reason)} << 8 |
                     uint64_t{static_cast<uint8_t>(kind)} << 16 | uint64_t{static_cast<uint8_t>(request)} << 24 |
                     uint64_t{static_cast<uint16_t>(length)} << 32 | uint64_t{static_cast<uint8_t>(l2_len)} << 48 |
                     uint64_t{static_cast<uint8_t>(l3_len)} << 56;
  return std::bit_cast<Verdict>(v);
}

// Where a UDP reply (v.udp()) that reflect wrote into `frame` goes: its
// destination address and port, i.e. the request's source (or the port
// RESPONSE-PORT named). A view into the frame, no copy; the callers (the
// limiter, the top-sources sketch) need not know the reply's layout.
inline EndpointRef reply_peer(const uint8_t* frame, const Verdict& v) noexcept {
  const uint8_t* ip = frame + v.l2_len;
  const uint8_t* udp = ip + v.l3_len;
  return {ip + (v.ipv6() ? 24 : 16), static_cast<uint16_t>(udp[2] << 8 | udp[3]), v.ipv6()};
}

// The classification of a frame, from its verdict alone: answered here,
// for the box but not answered here (the kernel's business: handed to the
// port's exception interface when it has one, else dropped), or dropped.
// Which reasons mean "for the kernel" (docs/deployment.md, "Routed
// deployment", has the ARP/ND split):
// - TCP and other protocols to an owned address (BGP, SSH), UDP to a port
//   not served (BFD, the kernel's own DNS or NTP replies), ICMP and ICMPv6
//   other than echo requests and neighbour solicitations (echo replies to
//   the kernel's pings, errors, neighbour and router advertisements, MLD);
// - ARP other than requests for owned addresses: replies to the kernel's
//   own requests, gratuitous announcements (the kernel resolves its BGP
//   peer itself; the fast path answers every request for an owned address);
// - IPv6 to a destination not owned but reaching our MAC or a multicast
//   group (the kernel's link-local address and its solicited-node group,
//   all-nodes), and IPv6 with extension headers (MLD's hop-by-hop);
// - IPv4 fragments to an owned address (the kernel reassembles them).
// Never: anything malformed, with a bad checksum, from a bad source, for
// another host's MAC, STUN the responder dropped, or over a rate limit.
enum class Route : uint8_t { reply, kernel, drop };

inline constexpr bool for_kernel(DropReason r) noexcept {
  switch (r) {
    case DropReason::ipv4_unsupported_proto:
    case DropReason::ipv4_fragment:
    case DropReason::udp_port_not_served:
    case DropReason::icmp_not_echo_request:
    case DropReason::ipv6_unsupported_proto:
    case DropReason::ipv6_not_ours:
    case DropReason::ipv6_extension_header:
    case DropReason::icmp6_unsupported_type:
    case DropReason::arp_not_request:
      return true;
    default:
      return false;
  }
}

inline constexpr Route route(Verdict v) noexcept {
  return v.tx ? Route::reply : for_kernel(v.reason) ? Route::kernel : Route::drop;
}

// Rewrites frame[0, len) in place into its reply (capacity bytes are
// writable). kTxCsumOffload selects, once per port, whether UDP replies leave
// the IPv4/UDP checksums to the NIC. Never reads outside [0, len) or writes
// outside [0, capacity). The common frame takes the fast path
// (frame/fast_path.h, where the lcore loop inlines it as reflect_inline),
// everything else the general path.
template <bool kTxCsumOffload>
Verdict reflect(uint8_t* frame, size_t len, size_t capacity, const PortIdentity& port,
                const stun::ResponderConfig& stun_cfg, RxHints hints) noexcept;
// The general path alone: every frame, every case. reflect() gives the same
// bytes and verdict for every input (the golden tests and the frame fuzzer
// compare the two).
template <bool kTxCsumOffload>
Verdict reflect_general(uint8_t* frame, size_t len, size_t capacity, const PortIdentity& port,
                        const stun::ResponderConfig& stun_cfg, RxHints hints) noexcept;

// Frames announcing the port at start: a gratuitous ARP request for v4[i]
// and an unsolicited Neighbor Advertisement for v6[i] (to ff02::1). Return
// the frame length written (0 when capacity is too small).
size_t build_gratuitous_arp(uint8_t* out, size_t capacity, const PortIdentity& port, size_t v4_index);
size_t build_unsolicited_na(uint8_t* out, size_t capacity, const PortIdentity& port, size_t v6_index);
// An unsolicited MLDv2 report (RFC 3810 s6.1: CHANGE_TO_EXCLUDE_MODE records)
// of the solicited-node groups of the port's IPv6 addresses and of its
// link-local address, so a switch
// with MLD snooping forwards the router's neighbour solicitations to us.
// From the port's EUI-64 link-local address, to ff02::16, Hop-by-Hop
// Router Alert, hop limit 1. Returns 0 when the port has no IPv6 address
// (nothing to report) or capacity is too small.
size_t build_mld_report(uint8_t* out, size_t capacity, const PortIdentity& port);
// fe80::/64 + the modified EUI-64 of the port's MAC (RFC 4291 s2.5.1, RFC 2464 s5): the source of MLD reports.
std::array<uint8_t, 16> link_local_of(const std::array<uint8_t, 6>& mac);

}  // namespace stunbox::frame
