// The whole program's configuration as plain structs with defaults; lib/config is the only yaml-cpp user.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/result.h"
#include "stun/responder.h"

namespace stunbox::config {

enum class Mode : uint8_t { socket, dpdk };

// Addresses are the one vocabulary of lib/core (core/address.h).
using IpAddress = stunbox::IpAddress;

// "0.0.0.0:3478", "[::]:3478", "127.0.0.1:4000", "[::1]:4000": an Endpoint
// and the text it was written as. Equal when they name the same endpoint
// (Endpoint's ==); `text` is presentation only.
struct ListenAddress : Endpoint {
  std::string text;  // as written, for messages
};

// "198.18.0.2/24", "2001:2::2/64". A bare address means /32 or /128.
struct IpPrefix {
  IpAddress ip;
  uint8_t length = 0;
  std::string text;  // as written, for messages
  bool operator==(const IpPrefix& o) const { return ip == o.ip && length == o.length; }
};

// One RFC 5780 address pair (stun.rfc5780[i]): two addresses of one family
// with different IPs and ports; the four endpoints are every IP x port.
struct Rfc5780Section {
  ListenAddress primary;    // "198.18.0.2:3478"
  ListenAddress alternate;  // "198.18.0.3:3479"
  // What clients are told when the box sits behind a 1:1 NAT (stuntman's
  // --primaryadvertised); nullopt = the local address.
  std::optional<IpAddress> primary_advertised;
  std::optional<IpAddress> alternate_advertised;
  // The responder's view of this pair.
  stun::Rfc5780Pair responder() const {
    stun::Rfc5780Pair p;
    p.v6 = primary.ip.v6;
    p.local = {primary.ip.bytes, alternate.ip.bytes};
    p.advertised = {primary_advertised ? primary_advertised->bytes : primary.ip.bytes,
                    alternate_advertised ? alternate_advertised->bytes : alternate.ip.bytes};
    p.port = {primary.port, alternate.port};
    return p;
  }
  bool operator==(const Rfc5780Section&) const = default;
};

struct StunSection {
  std::vector<uint16_t> ports{3478};  // UDP ports served in dpdk mode
  std::string software;               // "" = no SOFTWARE attribute
  stun::FingerprintPolicy fingerprint = stun::FingerprintPolicy::mirror;
  bool classic = true;
  std::vector<Rfc5780Section> rfc5780;  // NAT behaviour discovery (RFC 5780): at most one pair per family
  // Responder view of this section; points into `software`.
  stun::ResponderConfig responder() const { return {fingerprint, classic, software}; }
  bool operator==(const StunSection&) const = default;
};

struct SocketSection {
  std::vector<ListenAddress> listen;  // default: 0.0.0.0:3478 and [::]:3478
  unsigned workers = 0;               // 0 = auto (one per online CPU)
  unsigned batch = 32;                // recvmmsg/sendmmsg batch, 1..1024
  bool pin = false;                   // pin worker i to CPU i % ncpu
  unsigned rcvbuf = 0;                // SO_RCVBUF bytes, 0 = kernel default
  unsigned sndbuf = 0;                // SO_SNDBUF bytes, 0 = kernel default
  std::string user;   // switch to this user once everything is bound; "" = keep the starting user
  std::string group;  // with user: the group; "" = the user's primary group
  bool operator==(const SocketSection&) const = default;
};

// A port's exception path (dpdk.ports[i].exception): frames for the box
// that the data path does not answer (BGP, SSH, ARP replies, ...) go to a
// kernel TAP interface with the port's MAC, and what the kernel sends there
// leaves through the port.
struct ExceptionSection {
  std::string iface;     // the kernel interface; "" = no exception path (such frames are dropped)
  unsigned pps = 20000;  // frames per second each way; the excess is dropped (exception_policed)
  bool operator==(const ExceptionSection&) const = default;
};
// Who computes a port's reply IPv4/UDP checksums. auto: software on drivers
// whose vector TX path a checksum offload switches off (i40e, ixgbe, ice
// without AVX2), the NIC elsewhere (lib/dpdk choose_tx_checksum).
enum class TxChecksum : uint8_t { automatic, hw, sw };

// How a port shares its traffic with the kernel (dpdk.ports[].steering):
// all = stunbox takes every frame (answers ARP/NDP/ping; the rest goes to
// the exception path or is dropped); xdp = the kernel keeps the interface
// and an XDP program passes only STUN up to net_af_xdp; flow = the NIC's
// flow rules in isolated mode send only STUN to stunbox's queues (mlx5,
// bifurcated), the kernel gets the rest.
enum class Steering : uint8_t { all, xdp, flow };

struct PortSection {
  std::string device;              // PCI address or vdev spec
  unsigned queues = 0;             // 0 = auto
  unsigned rx_desc = 1024;
  unsigned tx_desc = 1024;
  std::vector<IpPrefix> addresses; // owned IPv4/IPv6 addresses with prefix
  std::optional<uint16_t> vlan;    // 802.1Q VLAN id 1..4094
  unsigned mtu = 1500;
  ExceptionSection exception;
  TxChecksum tx_checksum = TxChecksum::automatic;
  Steering steering = Steering::all;
  bool operator==(const PortSection&) const = default;
};

struct QueueRef {
  unsigned port = 0;
  unsigned queue = 0;
  bool operator==(const QueueRef&) const = default;
};

struct LcoreAssignment {
  unsigned lcore = 0;
  std::vector<QueueRef> queues;  // "port:queue" entries
  bool operator==(const LcoreAssignment&) const = default;
};

enum class Idle : uint8_t { poll, adaptive };

struct RssSection {
  // Names from kRssTypeNames (below), no duplicates, at least one.
  std::vector<std::string> types{"ipv4", "ipv4-udp", "ipv6", "ipv6-udp"};
  std::vector<uint8_t> key;  // empty = auto: random, the device's key size, new at every start; else 40 or 52 bytes
  bool operator==(const RssSection&) const = default;
};

struct MempoolSection {
  unsigned size = 0;         // mbufs per NUMA socket; 0 = auto
  unsigned cache = 256;      // per-lcore cache
  unsigned data_room = 2176; // mbuf data room (RTE_MBUF_DEFAULT_BUF_SIZE)
  bool operator==(const MempoolSection&) const = default;
};

struct DpdkSection {
  std::vector<std::string> eal;  // EAL arguments (argv[0] not included)
  std::vector<PortSection> ports;
  bool lcores_auto = true;
  std::vector<LcoreAssignment> lcores;  // when !lcores_auto
  unsigned burst = 32;                  // 1..512
  Idle idle = Idle::poll;
  MempoolSection mempool;
  RssSection rss;
  unsigned link_wait_ms = 3000;     // wait for link up at start
  unsigned exit_after_idle_ms = 0;  // test aid: stop after this long with no RX; 0 = never
  bool operator==(const DpdkSection&) const = default;
};

// Which extended statistics of a DPDK port /metrics exports (stunbox_port_xstat).
enum class PortXstats : uint8_t { drops, all };

// log2 of a power of two (stats.top_sources_sample -> SourceSketch's sample_shift).
inline unsigned log2_of(unsigned power_of_two) {
  unsigned s = 0;
  while ((1u << s) < power_of_two) ++s;
  return s;
}

struct StatsSection {
  unsigned period = 0;  // seconds between periodic stats blocks; 0 = off
  std::optional<ListenAddress> metrics_listen;  // Prometheus /metrics endpoint; nullopt = off
  unsigned top_sources_sample = 64;  // "show top sources" records one answered request in N (power of two)
  PortXstats port_xstats = PortXstats::drops;  // dpdk: which xstats /metrics exports
  bool operator==(const StatsSection&) const = default;
};

// Health and drain (app/stunbox, lib/console): what /healthz, `show health`
// and `stunbox-cli health` report, and how the box leaves service.
struct HealthSection {
  unsigned stall_ms = 1000;      // a worker with no progress for this long is stalled (watchdog rule)
  bool start_drained = false;    // start with drain on: serve, but report unhealthy (routes withdrawn)
  unsigned drain_on_stop_s = 0;  // on SIGTERM/SIGINT: drain, keep serving this long, then stop; 0 = stop at once
  bool operator==(const HealthSection&) const = default;
};

// The console's UNIX control socket (lib/console).
struct ControlSection {
  std::string socket = "/run/stunbox/stunbox.sock";  // "" = no control socket
  bool operator==(const ControlSection&) const = default;
};

// Abuse controls (lib/limits); applied live by reload except rate.table_size.
struct RateSection {
  unsigned pps = 0;            // answers per second per source prefix; 0 = off
  unsigned burst = 20;         // bucket depth (a new source starts full); >= 1
  uint8_t ipv4_prefix = 32;    // sources sharing this IPv4 prefix share one bucket
  uint8_t ipv6_prefix = 64;    // same for IPv6
  unsigned table_size = 65536; // buckets; power of two, 1024..16777216; restart to change
  bool operator==(const RateSection&) const = default;
};

struct LimitsSection {
  RateSection rate;
  unsigned global_pps = 0;     // answers per second for the whole process; 0 = off
  std::vector<IpPrefix> allow; // non-empty: answer only these sources
  std::vector<IpPrefix> deny;  // never answer these sources
  // UDP source ports of services that reflect (RFC 768 port 0, echo, chargen, DNS, ...).
  std::vector<uint16_t> deny_source_ports{0, 7, 19, 53, 111, 123, 137, 161, 389, 1900, 5353, 11211};
  unsigned l3_pps = 1000;      // dpdk: ICMP/ICMPv6 echo replies per second per lcore; 0 = off
  unsigned nd_pps = 5000;      // dpdk: ARP replies and neighbour advertisements per second per lcore; 0 = off
  bool operator==(const LimitsSection&) const = default;
};

struct Config {
  Mode mode = Mode::socket;
  StunSection stun;
  SocketSection socket;
  DpdkSection dpdk;
  StatsSection stats;
  ControlSection control;
  LimitsSection limits;
  HealthSection health;
  std::string source;  // file name the config came from, for messages
  // Equal when they configure the same thing; `source` is not compared.
  bool operator==(const Config& o) const {
    return mode == o.mode && stun == o.stun && socket == o.socket && dpdk == o.dpdk &&
           stats == o.stats && control == o.control &&
           limits == o.limits && health == o.health;
  }
};

// Loads and validates a file. `overrides` are "PATH=VALUE" strings from
// --set, applied to the YAML tree before validation (VALUE parsed as YAML).
// Errors: one line, "FILE:LINE: yaml.path: what is wrong" or
// "--set PATH: what is wrong".
Result<Config> load_file(const std::string& path, const std::vector<std::string>& overrides = {});
// Same, from a string; `name` stands in for the file name in messages.
Result<Config> load_string(const std::string& text, const std::string& name,
                           const std::vector<std::string>& overrides = {});

// Canonical YAML rendering of a loaded config (for `show config`, --check-config -v).
std::string to_yaml(const Config& c);

// Address text helpers shared with the backends.
std::string to_string(const IpAddress& a);       // inet_ntop form: "198.18.0.2", "2001:2::2"
std::string to_string(const ListenAddress& a);   // "198.18.0.2:3478", "[2001:2::2]:3478"
std::string to_string(const IpPrefix& p);        // "198.18.0.2/24"
// Parses a bare IPv4 or IPv6 address (no brackets, no port, no scope id).
std::optional<IpAddress> parse_ip(std::string_view text);
// 0.0.0.0 or ::, the "any address" a socket binds to.
bool is_wildcard(const IpAddress& a);

// Enum names as written in the YAML file.
std::string_view to_string(Mode m);
std::string_view to_string(Idle i);
std::string_view to_string(TxChecksum t);
std::string_view to_string(PortXstats x);
std::string_view to_string(Steering s);
std::string_view to_string(stun::FingerprintPolicy f);

// The RSS hash type names dpdk.rss.types accepts (lib/dpdk maps each to its
// RTE_ETH_RSS_* bits).
inline constexpr std::array<std::string_view, 14> kRssTypeNames = {
    "ipv4",     "ipv4-frag", "ipv4-udp", "ipv4-tcp",    "ipv4-other",  "ipv6",      "ipv6-frag",
    "ipv6-udp", "ipv6-tcp",  "ipv6-other", "ipv6-ex", "ipv6-udp-ex", "ipv6-tcp-ex", "l2-payload"};

}  // namespace stunbox::config
