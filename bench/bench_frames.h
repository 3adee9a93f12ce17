// Benchmark inputs: STUN requests and whole Ethernet frames (IPv4/IPv6 UDP, ARP) built for the microbenchmarks and the DPDK-path pcap.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "frame/reflect.h"

namespace stunbox::bench {

using Bytes = std::vector<uint8_t>;

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
  std::array<uint8_t, 6> server_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  std::array<uint8_t, 6> client_mac{0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
  std::array<uint8_t, 4> server_v4{198, 18, 0, 2};
  std::array<uint8_t, 4> client_v4{198, 18, 0, 1};
  std::array<uint8_t, 16> server_v6{0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  std::array<uint8_t, 16> client_v6{0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
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
