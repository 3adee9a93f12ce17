// Every reason a packet is dropped: the enum name is the counter name in the console, telemetry and metrics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace stunbox {

// X(name, description). Append new reasons anywhere; names are stable API
// (operators alert on them), so never rename one.
#define STUNBOX_DROP_REASONS(X)                                                        \
  /* STUN layer (lib/stun), both modes */                                             \
  X(stun_too_short, "shorter than the 20-byte STUN header")                            \
  X(stun_bad_top_bits, "first two bits of the message are not zero (RFC 8489 s6)")    \
  X(stun_bad_length, "length field differs from the datagram or is not a multiple of 4") \
  X(stun_bad_attribute, "an attribute runs past the end of the message")              \
  X(stun_bad_fingerprint, "FINGERPRINT does not match the CRC-32 of the message")      \
  X(stun_fingerprint_not_last, "FINGERPRINT is not the last attribute (RFC 8489 s14.7)") \
  X(stun_indication, "an indication: never answered")                                 \
  X(stun_response, "a success or error response: never answered (no reflection loops)") \
  X(stun_not_binding, "a request for a method other than Binding")                    \
  X(stun_classic_disabled, "an RFC 3489 request while stun.classic is false")           \
  X(stun_no_room, "the response would not fit the buffer")                            \
  /* socket backend (lib/sock) */                                                      \
  X(sock_truncated, "datagram larger than the receive buffer (MSG_TRUNC)")            \
  X(sock_bad_source, "source port 0 or an unusable source address")                   \
  X(sock_send_failed, "sendmmsg refused the reply")                                    \
  /* frame layer (lib/frame), dpdk mode */                                             \
  X(eth_too_short, "frame shorter than an Ethernet header")                           \
  X(eth_not_ours, "destination MAC is neither ours nor broadcast/multicast for ARP/NDP") \
  X(eth_unsupported_type, "EtherType other than IPv4, IPv6, ARP or 802.1Q")            \
  X(vlan_mismatch, "802.1Q tag missing, unexpected or for another VLAN")              \
  X(ipv4_malformed, "IPv4 header truncated, version/IHL wrong or total length invalid") \
  X(ipv4_bad_checksum, "IPv4 header checksum wrong")                                 \
  X(ipv4_fragment, "IPv4 fragment (MF set or offset non-zero)")                        \
  X(ipv4_not_ours, "IPv4 destination is not an address this port owns")               \
  X(ipv4_bad_source, "IPv4 source is broadcast, multicast, unspecified, loopback or our own") \
  X(ipv4_unsupported_proto, "IPv4 protocol other than UDP or ICMP")                   \
  X(ipv6_malformed, "IPv6 header truncated, version wrong or payload length invalid") \
  X(ipv6_extension_header, "IPv6 extension header present")                           \
  X(ipv6_not_ours, "IPv6 destination is not an address this port owns")               \
  X(ipv6_bad_source, "IPv6 source is multicast, unspecified, loopback or our own")    \
  X(ipv6_unsupported_proto, "IPv6 next header other than UDP or ICMPv6")              \
  X(udp_malformed, "UDP header truncated or length field invalid")                    \
  X(udp_bad_checksum, "UDP checksum wrong")                                          \
  X(udp_zero_checksum_v6, "IPv6 UDP datagram with a zero checksum (RFC 8200 s8.1)")   \
  X(udp_port_not_served, "UDP destination port not in stun.ports")                    \
  X(udp_source_port_zero, "UDP source port 0")                                        \
  X(arp_malformed, "ARP packet not Ethernet/IPv4 or truncated")                       \
  X(arp_not_request, "ARP operation other than request")                             \
  X(arp_not_ours, "ARP target is not an address this port owns")                      \
  X(icmp_malformed, "ICMP message truncated")                                          \
  X(icmp_bad_checksum, "ICMP checksum wrong")                                          \
  X(icmp_not_echo_request, "ICMP type other than echo request")                       \
  X(icmp6_malformed, "ICMPv6 message truncated")                                      \
  X(icmp6_bad_checksum, "ICMPv6 checksum wrong")                                      \
  X(icmp6_unsupported_type, "ICMPv6 type other than echo request or neighbor solicitation") \
  X(ndp_invalid, "neighbor solicitation failing RFC 4861 s7.1.1 validation")          \
  X(ndp_not_ours, "neighbor solicitation for an address this port does not own")      \
  /* dpdk backend (lib/dpdk) */                                                        \
  X(mbuf_multi_segment, "multi-segment mbuf (chained) received")                      \
  X(mbuf_no_tailroom, "reply does not fit the mbuf's tailroom")                       \
  X(tx_ring_full, "TX queue full after bounded retries: reply freed")                  \
  /* abuse controls (lib/limits), both modes */                                        \
  X(source_port_denied, "request from a UDP source port in limits.deny_source_ports")   \
  X(acl_denied, "source in limits.deny, or not in a non-empty limits.allow")          \
  X(rate_limited, "source prefix over limits.rate (per-source token bucket)")         \
  X(global_limited, "process over limits.global_pps")                                 \
  X(l3_policed, "ICMP/ICMPv6 echo reply over limits.l3_pps for this lcore (dpdk)")    \
  X(nd_policed, "ARP reply or neighbor advertisement over limits.nd_pps for this lcore (dpdk)") \
  /* exception path (lib/dpdk), dpdk mode */                                          \
  X(exception_policed, "frame to or from the kernel over dpdk.ports[].exception.pps")  \
  X(exception_full, "exception ring, kernel TAP queue or TX queue full: frame to or from the kernel freed") \
  X(mld_not_query, "MLD message other than a query (another host's report or done)")  \
  X(mld_invalid, "MLD query failing RFC 3810 s5.1.14 validation (hop limit 1, link-local source)") \
  /* steering (lib/frame), dpdk mode */                                               \
  X(steering_not_stun, "ARP, NDP, MLD or ICMP on a port whose steering (xdp, flow) leaves them to the kernel")

enum class DropReason : uint8_t {
#define STUNBOX_X(name, desc) name,
  STUNBOX_DROP_REASONS(STUNBOX_X)
#undef STUNBOX_X
};

inline constexpr size_t kDropReasonCount = 0
#define STUNBOX_X(name, desc) +1
    STUNBOX_DROP_REASONS(STUNBOX_X)
#undef STUNBOX_X
    ;

inline constexpr std::string_view kDropReasonNames[kDropReasonCount] = {
#define STUNBOX_X(name, desc) #name,
    STUNBOX_DROP_REASONS(STUNBOX_X)
#undef STUNBOX_X
};

inline constexpr std::string_view kDropReasonDescriptions[kDropReasonCount] = {
#define STUNBOX_X(name, desc) desc,
    STUNBOX_DROP_REASONS(STUNBOX_X)
#undef STUNBOX_X
};

inline constexpr std::string_view name(DropReason r) { return kDropReasonNames[static_cast<size_t>(r)]; }
inline constexpr std::string_view description(DropReason r) {
  return kDropReasonDescriptions[static_cast<size_t>(r)];
}

}  // namespace stunbox
