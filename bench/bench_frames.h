// Benchmark inputs: STUN requests and whole Ethernet frames (IPv4/IPv6 UDP, ARP) for the microbenchmarks and the DPDK-path pcap, built with the tests' packet vocabulary (tests/support/packet.h).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "frame/reflect.h"
#include "packet.h"

namespace stunbox::bench {

using pkt::Bytes;

// The STUN requests the benchmarks feed the responder with.
enum class StunKind : uint8_t {
  plain,        // RFC 8489 Binding request, no attributes (what most clients send)
  fingerprint,  // + FINGERPRINT (RFC 8489 s14.7)
  ice,          // the RFC 5769 s2.1 ICE connectivity check (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MI, FINGERPRINT)
  classic,      // RFC 3489: no magic cookie
  unknown_attr, // a comprehension-required attribute nobody knows: 420 answer
};

// A STUN request of that kind; `seq` varies the transaction id.
Bytes stun_request(StunKind kind, uint32_t seq = 0);

// Addresses shared by every frame: the server port and its client.
struct Lab {
  pkt::Mac server_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  pkt::Mac client_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
  IpAddress server_v4 = pkt::ip("198.18.0.2");
  IpAddress client_v4 = pkt::ip("198.18.0.1");
  IpAddress server_v6 = pkt::ip("2001:2::2");
  IpAddress client_v6 = pkt::ip("2001:2::1");
  uint16_t server_port = 3478;
};

// Ethernet + IPv4 (IHL 5) + UDP (checksum set) + payload; client -> server.
Bytes udp4_frame(const Lab& lab, uint16_t client_port, const Bytes& payload);
// Ethernet + IPv6 + UDP (checksum set) + payload; client -> server.
Bytes udp6_frame(const Lab& lab, uint16_t client_port, const Bytes& payload);
// A broadcast ARP request for the server's IPv4 address.
Bytes arp_request(const Lab& lab);

// The port identity and responder config matching `lab`.
frame::PortIdentity port_identity(const Lab& lab);

}  // namespace stunbox::bench
