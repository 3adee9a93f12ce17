// Port setup: everything decided once per port before the data path starts.
#include "dpdk/port.h"

#include <rte_cpuflags.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_vect.h>
#include <rte_mbuf.h>
#include <sys/random.h>

#include <algorithm>
#include <cctype>
#include <span>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "dpdk/steering.h"

namespace stunbox::dpdk {
namespace {

// The RTE_ETH_RSS_* bits of each name of config::kRssTypeNames, in the same order: the config
// owns the names (what the file accepts), this table only maps them.
constexpr uint64_t kRssBits[] = {
    RTE_ETH_RSS_IPV4,                // ipv4
    RTE_ETH_RSS_FRAG_IPV4,           // ipv4-frag
    RTE_ETH_RSS_NONFRAG_IPV4_UDP,    // ipv4-udp
    RTE_ETH_RSS_NONFRAG_IPV4_TCP,    // ipv4-tcp
    RTE_ETH_RSS_NONFRAG_IPV4_OTHER,  // ipv4-other
    RTE_ETH_RSS_IPV6,                // ipv6
    RTE_ETH_RSS_FRAG_IPV6,           // ipv6-frag
    RTE_ETH_RSS_NONFRAG_IPV6_UDP,    // ipv6-udp
    RTE_ETH_RSS_NONFRAG_IPV6_TCP,    // ipv6-tcp
    RTE_ETH_RSS_NONFRAG_IPV6_OTHER,  // ipv6-other
    RTE_ETH_RSS_IPV6_EX,             // ipv6-ex
    RTE_ETH_RSS_IPV6_UDP_EX,         // ipv6-udp-ex
    RTE_ETH_RSS_IPV6_TCP_EX,         // ipv6-tcp-ex
    RTE_ETH_RSS_L2_PAYLOAD,          // l2-payload
};
static_assert(std::size(kRssBits) == config::kRssTypeNames.size(), "one RTE_ETH_RSS_* value per config RSS type name");

// Hash types a device may offer that the config does not accept: named in
// messages about a device's capabilities (tests also request them, to get a
// type a vdev lacks).
struct RssName {
  std::string_view name;
  uint64_t bits;
};
constexpr RssName kDeviceOnlyRssNames[] = {
    {"ipv4-sctp", RTE_ETH_RSS_NONFRAG_IPV4_SCTP}, {"ipv6-sctp", RTE_ETH_RSS_NONFRAG_IPV6_SCTP},
    {"port", RTE_ETH_RSS_PORT},  {"esp", RTE_ETH_RSS_ESP}, {"ah", RTE_ETH_RSS_AH}, {"gtpu", RTE_ETH_RSS_GTPU},
    {"l2tpv3", RTE_ETH_RSS_L2TPV3},
};
static_assert(std::none_of(std::begin(kDeviceOnlyRssNames), std::end(kDeviceOnlyRssNames),
                           [](const RssName& r) {
                             return std::find(config::kRssTypeNames.begin(), config::kRssTypeNames.end(), r.name) !=
                                    config::kRssTypeNames.end();
                           }),
              "a name the config accepts belongs in config::kRssTypeNames only");

// Every known name with its bits: the config's, then the device-only ones.
std::vector<RssName> rss_names() {
  std::vector<RssName> all;
  for (size_t i = 0; i < std::size(kRssBits); ++i) all.push_back({config::kRssTypeNames[i], kRssBits[i]});
  all.insert(all.end(), std::begin(kDeviceOnlyRssNames), std::end(kDeviceOnlyRssNames));
  return all;
}

std::string errno_text(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

std::string prefix(unsigned index) { return "dpdk.ports[" + std::to_string(index) + "]"; }

std::string mac_text(const std::array<uint8_t, 6>& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

}  // namespace

Result<std::vector<uint8_t>> random_rss_key(size_t length) {
  std::vector<uint8_t> key(length);
  size_t got = 0;
  while (got < length) {
    // Blocks only until the kernel's pool is first seeded (early boot).
    const ssize_t n = getrandom(key.data() + got, length - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{std::string("dpdk.rss.key auto: cannot read random bytes: ") + std::strerror(errno)};
    got += static_cast<size_t>(n);
  }
  return key;
}

Result<uint64_t> rss_types_from_names(const std::vector<std::string>& names) {
  uint64_t bits = 0;
  for (const std::string& n : names) {
    bool found = false;
    for (const RssName& r : rss_names()) {
      if (n == r.name) {
        bits |= r.bits;
        found = true;
        break;
      }
    }
    if (!found) return Error{"dpdk.rss.types: unknown hash type \"" + n + "\""};
  }
  return bits;
}

std::string rss_types_to_string(uint64_t bits) {
  std::string out;
  for (const RssName& r : rss_names()) {
    if ((bits & r.bits) == r.bits) {
      if (!out.empty()) out += ' ';
      out += r.name;
      bits &= ~r.bits;
    }
  }
  if (bits != 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s0x%llx", out.empty() ? "" : " ", static_cast<unsigned long long>(bits));
    out += buf;
  }
  return out.empty() ? "none" : out;
}

RssTypeChoice choose_rss_types(uint64_t requested, uint64_t offered) {
  struct Substitute {
    uint64_t wanted;
    uint64_t instead;
  };
  static constexpr Substitute kSubstitutes[] = {
      {RTE_ETH_RSS_IPV4, RTE_ETH_RSS_NONFRAG_IPV4_OTHER | RTE_ETH_RSS_FRAG_IPV4},
      {RTE_ETH_RSS_IPV6, RTE_ETH_RSS_NONFRAG_IPV6_OTHER | RTE_ETH_RSS_FRAG_IPV6},
  };
  RssTypeChoice c;
  c.types = requested & offered;
  for (const Substitute& s : kSubstitutes) {
    const uint64_t instead = s.instead & offered;
    if ((requested & s.wanted) == 0 || (offered & s.wanted) != 0 || instead == 0) continue;
    c.types |= instead;
    requested &= ~s.wanted;
    if (!c.mapped.empty()) c.mapped += ", ";
    c.mapped += rss_types_to_string(s.wanted) + " -> " + rss_types_to_string(instead);
  }
  c.dropped = requested & ~offered;
  return c;
}

uint16_t reta_queue(size_t entry, uint16_t queues) { return static_cast<uint16_t>(entry % queues); }

bool is_drop_xstat(std::string_view driver, std::string_view name) {
  // ethdev's own (rte_eth_stats as xstats), every driver.
  static constexpr std::string_view kGeneric[] = {"rx_missed_errors", "rx_errors", "tx_errors",
                                                  "rx_mbuf_allocation_errors"};
  // mlx5: PHY and vport drops the ethdev stats do not carry (rx_out_of_buffer: no WQE posted, i.e.
  // the lcore was too slow; rx_discards_phy: the port's buffer overflowed before any queue).
  static constexpr std::string_view kMlx5[] = {"rx_discards_phy",   "rx_out_of_buffer",  "tx_discards_phy",
                                               "rx_crc_errors_phy", "rx_symbol_err_phy", "rx_in_range_len_errors_phy",
                                               "rx_oversize_pkts_phy", "tx_errors_phy"};
  // i40e and ice share the names (both from the port's eth_stats / hw_port_stats).
  static constexpr std::string_view kI40eIce[] = {
      "rx_dropped_packets",        "tx_dropped_packets",   "rx_unknown_protocol_packets",
      "rx_crc_errors",             "rx_length_errors",     "rx_undersized_errors",
      "rx_oversize_errors",        "rx_fragmented_errors", "rx_jabber_errors",
      "rx_illegal_byte_errors",    "mac_local_errors",     "mac_remote_errors",
      "rx_undersize_errors",       "rx_fragment_errors",   "tx_dropped_link_down_packets"};
  static constexpr std::string_view kIxgbe[] = {"rx_total_missed_packets", "rx_crc_errors",     "rx_length_errors",
                                                "rx_undersize_errors",     "rx_fragment_errors", "rx_oversize_errors",
                                                "rx_jabber_errors",        "rx_illegal_byte_errors",
                                                "rx_management_dropped",   "mac_local_errors",  "mac_remote_errors"};
  auto in = [name](std::span<const std::string_view> list) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  if (in(kGeneric)) return true;
  if (driver == "mlx5_pci") return in(kMlx5);
  if (driver == "net_i40e" || driver == "net_ice") return in(kI40eIce);
  if (driver == "net_ixgbe" || driver == "net_ixgbe_vf") return in(kIxgbe);
  return false;
}

TxChecksumChoice choose_tx_checksum(config::TxChecksum mode, std::string_view driver, bool offered,
                                    bool vector_offload_tx) {
  TxChecksumChoice c;
  const bool ixgbe = driver == "net_ixgbe" || driver == "net_ixgbe_vf";
  // ixgbe's simple/vector TX wants txq->offloads == 0: fast free would switch it off as well.
  c.fast_free = !ixgbe;
  switch (mode) {
    case config::TxChecksum::sw:
      c.why = "tx_checksum sw";
      return c;
    case config::TxChecksum::hw:
      if (!offered) {
        c.error = "hw: device driver " + std::string(driver) + " offers no IPv4/UDP TX checksum offload (use auto or sw)";
        return c;
      }
      c.hw = true;
      c.why = "tx_checksum hw";
      if (ixgbe || driver == "net_i40e" || (driver == "net_ice" && !vector_offload_tx))
        c.why += ", which costs this driver its vector TX path";
      return c;
    case config::TxChecksum::automatic:
      break;
  }
  if (driver == "net_i40e") {
    c.why = "auto: i40e keeps vector TX only without TX checksum offloads";
  } else if (ixgbe) {
    c.why = "auto: ixgbe keeps vector TX only with no TX offload at all (no fast free either)";
  } else if (driver == "net_ice" && !vector_offload_tx) {
    c.why = "auto: ice's SSE TX path takes no checksum offload (no AVX2 here)";
  } else if (!offered) {
    c.why = "auto: the device offers no IPv4/UDP TX checksum offload";
  } else {
    c.hw = true;
    c.why = "auto: the device offers it and keeps its fast TX path";
  }
  return c;
}

bool is_pci_address(const std::string& d) {
  // [DDDD:]BB:DD.F, hex digits.
  size_t i = 0;
  auto hex = [&](size_t n) {
    for (size_t k = 0; k < n; ++k, ++i) {
      if (i >= d.size() || !std::isxdigit(static_cast<unsigned char>(d[i]))) return false;
    }
    return true;
  };
  auto lit = [&](char c) { return i < d.size() && d[i++] == c; };
  if (d.size() == 12) {
    if (!hex(4) || !lit(':')) return false;
  } else if (d.size() != 7) {
    return false;
  }
  return hex(2) && lit(':') && hex(2) && lit('.') && i < d.size() && d[i] >= '0' && d[i] <= '7' && ++i == d.size();
}

std::string device_name(const std::string& device) {
  if (is_pci_address(device)) {
    std::string n = device.size() == 7 ? "0000:" + device : device;
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n;
  }
  return device.substr(0, device.find(','));
}

Result<uint16_t> find_port(const config::PortSection& section, unsigned index) {
  uint16_t id = 0;
  if (rte_eth_dev_get_port_by_name(device_name(section.device).c_str(), &id) != 0) {
    return Error{prefix(index) + ".device \"" + section.device + "\": no such device (probe failed)"};
  }
  return id;
}

Result<uint16_t> max_queue_pairs(uint16_t port_id) {
  rte_eth_dev_info info{};
  const int rc = rte_eth_dev_info_get(port_id, &info);
  if (rc != 0) return Error{"port " + std::to_string(port_id) + ": cannot read device info: " + errno_text(rc)};
  return std::min(info.max_rx_queues, info.max_tx_queues);
}

Result<PortSetup> configure_port(uint16_t port_id, unsigned index, const config::PortSection& section,
                                 const config::RssSection& rss, const std::vector<uint16_t>& stun_ports,
                                 uint16_t queues, rte_mempool* pool) {
  const std::string where = prefix(index);
  PortSetup s;
  s.index = index;
  s.port_id = port_id;
  s.device = section.device;
  s.queues = queues;
  s.steering = section.steering;
  const bool isolated = section.steering == config::Steering::flow;

  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port_id, &info);
  if (rc != 0) return Error{where + ": cannot read device info: " + errno_text(rc)};
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port_id, name);
  s.name = name;
  s.driver = info.driver_name != nullptr ? info.driver_name : "?";
  const uint16_t max_q = std::min(info.max_rx_queues, info.max_tx_queues);
  if (queues == 0) return Error{where + ".queues: must be at least 1"};
  if (queues > max_q) {
    return Error{where + ".queues " + std::to_string(queues) + ": device " + s.name + " supports at most " +
                 std::to_string(max_q)};
  }

  // The MTU the device takes, checked before any ethdev call: ethdev would
  // refuse it with a log line of its own (frame size over max_rx_pktlen).
  // Its frame overhead: max_rx_pktlen - max_mtu when the device states both,
  // else Ethernet header + CRC (as ethdev computes it).
  const uint32_t overhead = info.max_mtu != UINT16_MAX && info.max_rx_pktlen > info.max_mtu
                                ? info.max_rx_pktlen - info.max_mtu
                                : RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
  const uint32_t max_mtu =
      std::min<uint32_t>(info.max_mtu, info.max_rx_pktlen > overhead ? info.max_rx_pktlen - overhead : 0);
  if (section.mtu < info.min_mtu || section.mtu > max_mtu) {
    return Error{where + ".mtu " + std::to_string(section.mtu) + ": device " + s.name + " accepts " +
                 std::to_string(info.min_mtu) + ".." + std::to_string(max_mtu) + " (frames up to " +
                 std::to_string(info.max_rx_pktlen) + " bytes)"};
  }

  rte_eth_conf conf{};
  if (queues > 1) {
    auto requested = rss_types_from_names(rss.types);
    if (!requested) return requested.error();
    if (*requested == 0) {
      return Error{"dpdk.rss.types: empty, but " + where + " has " + std::to_string(queues) +
                   " queues: name the hash types that spread flows over them"};
    }
    if (info.flow_type_rss_offloads == 0) {
      // vdevs such as af_packet (fanout) or af_xdp spread flows themselves.
      s.warnings.push_back(where + ": device " + s.name + " has no RSS: " + std::to_string(queues) +
                           " queues configured without hashing (the driver spreads flows itself)");
    } else {
      const RssTypeChoice choice = choose_rss_types(*requested, info.flow_type_rss_offloads);
      s.rss_types = choice.types;
      s.rss_dropped = choice.dropped;
      s.rss_mapped = choice.mapped;
      if (s.rss_types == 0) {
        return Error{where + ": none of the RSS hash types (" + rss_types_to_string(*requested) +
                     ") is supported by device " + s.name + " (it supports " +
                     rss_types_to_string(info.flow_type_rss_offloads) + ")"};
      }
      if (s.rss_dropped != 0) {
        s.warnings.push_back(where + ": RSS hash types not supported by " + s.name +
                             ", dropped: " + rss_types_to_string(s.rss_dropped));
      }
      s.rss = true;
    }
    // A device reporting no key size (vdevs) gets the common 40-byte Toeplitz key length.
    const size_t key_len = info.hash_key_size != 0 ? info.hash_key_size : 40;
    if (!rss.key.empty()) {
      if (rss.key.size() != key_len) {
        return Error{"dpdk.rss.key: " + std::to_string(rss.key.size()) + " bytes, but device " + s.name +
                     " needs " + std::to_string(key_len) + " (or use auto: a random key of its size)"};
      }
      s.rss_key = rss.key;
    } else {
      auto key = random_rss_key(key_len);
      if (!key) return key.error();
      s.rss_key = std::move(key).value();
      s.rss_key_random = true;
    }
    if (s.rss) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_key = s.rss_key.data();
      conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<uint8_t>(s.rss_key.size());
      conf.rx_adv_conf.rss_conf.rss_hf = s.rss_types;
      s.reta_size = info.reta_size;
    }
  }

  // Offloads, chosen once here; the poll variant follows from them.
  const uint64_t rx_csum = info.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
  if (rx_csum != 0) {
    conf.rxmode.offloads |= rx_csum;
    s.rx_csum = true;
  }
  constexpr uint64_t kTxCsum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  // ice takes checksum offloads on its AVX2/AVX-512 TX paths only, used when the CPU has AVX2 and
  // EAL's max SIMD bitwidth allows 256 bits (the default).
  const bool ice_vector_offload = rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX2) > 0 &&
                                  rte_vect_get_max_simd_bitwidth() >= RTE_VECT_SIMD_256;
  const TxChecksumChoice tx = choose_tx_checksum(section.tx_checksum, s.driver,
                                                 (info.tx_offload_capa & kTxCsum) == kTxCsum, ice_vector_offload);
  if (!tx.error.empty()) return Error{where + ".tx_checksum " + tx.error};
  if (tx.hw) {
    conf.txmode.offloads |= kTxCsum;
    s.tx_csum = true;
  }
  s.tx_csum_why = tx.why;
  // Fast free (no refcnt or pool check per mbuf) holds: an lcore sends only
  // mbufs this port's RX queues filled from `pool` (and the start-up
  // announcements, from the same pool), each with refcnt 1. A driver that
  // hands out mbufs with an external buffer attached does not offer it then:
  // mlx5 under multi-packet RQ (mprq_en) turns fast free off itself.
  if (tx.fast_free && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
    s.fast_free = true;
  }
  // In flow isolation the rules match the VLAN; a filter call is not for an isolated port.
  const bool vlan_filter = section.vlan && !isolated && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_FILTER);
  if (vlan_filter) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_FILTER;

  if (isolated) {
    // Before configure: the device then takes only what its rules match.
    if (Status st = isolate_port(port_id, index); !st) return Error{st.message()};
  }
  rc = rte_eth_dev_configure(port_id, queues, queues, &conf);
  if (rc == -EINVAL && s.rss && info.hash_key_size == 0) {
    // Newer ethdev refuses a key for a device that reports no key size: keep its own.
    conf.rx_adv_conf.rss_conf.rss_key = nullptr;
    conf.rx_adv_conf.rss_conf.rss_key_len = 0;
    rc = rte_eth_dev_configure(port_id, queues, queues, &conf);
    if (rc == 0) {
      s.rss_key.clear();
      s.rss_key_random = false;
      s.warnings.push_back(where + ": " + s.name + " takes no RSS key: its default key is used");
    }
  }
  if (rc != 0) return Error{where + ": configuring " + s.name + " failed: " + errno_text(rc)};

  uint16_t rxd = static_cast<uint16_t>(std::min(section.rx_desc, 65535u));
  uint16_t txd = static_cast<uint16_t>(std::min(section.tx_desc, 65535u));
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
  if (rc != 0) return Error{where + ": descriptor counts refused by " + s.name + ": " + errno_text(rc)};
  // Clamped to the device's range and alignment (rx_desc_lim/tx_desc_lim): said, not silent.
  if (rxd != section.rx_desc) {
    s.warnings.push_back(where + ".rx_desc " + std::to_string(section.rx_desc) + ": device " + s.name + " takes " +
                         std::to_string(info.rx_desc_lim.nb_min) + ".." + std::to_string(info.rx_desc_lim.nb_max) +
                         " in steps of " + std::to_string(info.rx_desc_lim.nb_align) + ": using " +
                         std::to_string(rxd));
  }
  if (txd != section.tx_desc) {
    s.warnings.push_back(where + ".tx_desc " + std::to_string(section.tx_desc) + ": device " + s.name + " takes " +
                         std::to_string(info.tx_desc_lim.nb_min) + ".." + std::to_string(info.tx_desc_lim.nb_max) +
                         " in steps of " + std::to_string(info.tx_desc_lim.nb_align) + ": using " +
                         std::to_string(txd));
  }
  s.rx_desc = rxd;
  s.tx_desc = txd;
  // i40e keeps its vector RX path only with a power-of-two ring (i40e_rxtx_vec_common.h,
  // i40e_rx_vec_dev_conf_condition_check_default); otherwise it silently falls back to scalar RX.
  if ((rxd & (rxd - 1)) != 0) {
    s.warnings.push_back(where + ".rx_desc " + std::to_string(rxd) +
                         ": not a power of two: i40e then gives up vector RX for the scalar path (use 512, 1024, "
                         "2048, ...)");
  }

  rc = rte_eth_dev_set_mtu(port_id, static_cast<uint16_t>(section.mtu));
  if (rc == -EINVAL) {
    // In range by dev_info, refused by the driver itself (e.g. af_packet's frame size).
    return Error{where + ".mtu " + std::to_string(section.mtu) + ": refused by device " + s.name + " (" +
                 errno_text(rc) + ")"};
  }
  if (rc != 0) s.warnings.push_back(where + ": cannot set MTU on " + s.name + ": " + errno_text(rc));

  if (section.vlan && !isolated) {
    if (!vlan_filter) {
      s.warnings.push_back(where + ": " + s.name + " has no VLAN filter: tagged frames are checked in software");
    } else if ((rc = rte_eth_dev_vlan_filter(port_id, *section.vlan, 1)) != 0) {
      s.warnings.push_back(where + ": VLAN filter for " + std::to_string(*section.vlan) + " refused: " +
                           errno_text(rc));
    }
  }

  const int socket = rte_eth_dev_socket_id(port_id);
  for (uint16_t q = 0; q < queues; ++q) {
    rc = rte_eth_rx_queue_setup(port_id, q, rxd, socket, nullptr, pool);
    if (rc != 0) return Error{where + ": RX queue " + std::to_string(q) + " setup failed: " + errno_text(rc)};
    rc = rte_eth_tx_queue_setup(port_id, q, txd, socket, nullptr);
    if (rc != 0) return Error{where + ": TX queue " + std::to_string(q) + " setup failed: " + errno_text(rc)};
  }

  // The identity the data path answers for.
  rte_ether_addr mac{};
  rte_eth_macaddr_get(port_id, &mac);
  for (size_t i = 0; i < 6; ++i) s.identity.mac[i] = mac.addr_bytes[i];
  s.identity.vlan = section.vlan ? static_cast<int>(*section.vlan) : -1;
  for (const config::IpPrefix& p : section.addresses) {
    bool ok;
    if (p.ip.v6) {
      ok = s.identity.add_v6(p.ip.bytes);
    } else {
      std::array<uint8_t, 4> a{p.ip.bytes[0], p.ip.bytes[1], p.ip.bytes[2], p.ip.bytes[3]};
      ok = s.identity.add_v4(a);
    }
    if (!ok) {
      return Error{where + ".addresses: at most " + std::to_string(frame::kMaxPortAddresses) +
                   " addresses of each family per port"};
    }
  }
  for (uint16_t p : stun_ports) s.identity.stun_ports.set(p);
  s.identity.stun_only = section.steering != config::Steering::all;
  return s;
}

Status start_port(PortSetup& s, unsigned link_wait_ms) {
  const std::string where = prefix(s.index);
  int rc = rte_eth_dev_start(s.port_id);
  if (rc != 0) return Error{where + ": starting " + s.name + " failed: " + errno_text(rc)};
  s.started = true;

  // In flow isolation RSS lives in the rules, and multicast is the kernel's.
  const bool isolated = s.steering == config::Steering::flow;
  // Key and RETA once more through their own calls, for drivers that take
  // them only there; ENOTSUP means the configure-time values stand.
  if (s.rss && !isolated) {
    rte_eth_rss_conf rc_conf{};
    rc_conf.rss_key = s.rss_key.empty() ? nullptr : s.rss_key.data();
    rc_conf.rss_key_len = static_cast<uint8_t>(s.rss_key.size());
    rc_conf.rss_hf = s.rss_types;
    rc = rte_eth_dev_rss_hash_update(s.port_id, &rc_conf);
    if (rc != 0 && rc != -ENOTSUP) {
      s.warnings.push_back(where + ": " + s.name + " refused the RSS key/type update (" + errno_text(rc) +
                           "): what it accepted at configure time stands");
    }
    if (s.reta_size > 0) {
      std::vector<rte_eth_rss_reta_entry64> reta((s.reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) /
                                                 RTE_ETH_RETA_GROUP_SIZE);
      for (size_t i = 0; i < s.reta_size; ++i) {
        auto& group = reta[i / RTE_ETH_RETA_GROUP_SIZE];
        group.mask |= uint64_t{1} << (i % RTE_ETH_RETA_GROUP_SIZE);
        group.reta[i % RTE_ETH_RETA_GROUP_SIZE] = reta_queue(i, s.queues);
      }
      rc = rte_eth_dev_rss_reta_update(s.port_id, reta.data(), s.reta_size);
      if (rc != 0) {
        s.warnings.push_back(where + ": RETA update refused: " + errno_text(rc) + " (device default spread kept)");
        s.reta_size = 0;
      }
    }
  }

  // Solicited-node multicast MACs (RFC 4291 s2.7.1, RFC 2464 s7): 33:33:ff + last 3 bytes.
  std::vector<rte_ether_addr> mc;
  for (size_t i = 0; i < s.identity.n_v6; ++i) {
    const auto& a = s.identity.v6[i];
    rte_ether_addr m{{0x33, 0x33, 0xff, a[13], a[14], a[15]}};
    bool dup = false;
    for (const auto& e : mc) dup = dup || rte_is_same_ether_addr(&e, &m);
    if (!dup) mc.push_back(m);
  }
  // All-nodes (33:33:00:00:00:01): MLD general queries come to ff02::1. NICs with an exact
  // multicast list (ixgbe's MTA, mlx5's MAC flows) drop it otherwise, and a switch with MLD
  // snooping then forgets our solicited-node groups.
  if (!mc.empty()) mc.push_back(rte_ether_addr{{0x33, 0x33, 0, 0, 0, 0x01}});
  if (s.identity.stun_only) {
    s.multicast = "the kernel's (steering)";
  } else if (mc.empty()) {
    s.multicast = "none";
  } else if (rte_eth_dev_set_mc_addr_list(s.port_id, mc.data(), static_cast<uint32_t>(mc.size())) == 0) {
    s.multicast = std::to_string(mc.size() - 1) + " solicited-node MAC(s) + all-nodes";
  } else if (rte_eth_allmulticast_enable(s.port_id) == 0) {
    s.multicast = "allmulticast";
  } else {
    s.multicast = "not admitted";
    s.warnings.push_back(where + ": " + s.name + " accepts neither a multicast list nor allmulticast: " +
                         "neighbor solicitations to solicited-node addresses may not arrive");
  }

  rte_eth_link link{};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(link_wait_ms);
  for (;;) {
    rte_eth_link_get_nowait(s.port_id, &link);
    if (link.link_status == RTE_ETH_LINK_UP || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  s.link_up = link.link_status == RTE_ETH_LINK_UP;
  if (!s.link_up) {
    s.warnings.push_back(where + ": link of " + s.name + " still down after " + std::to_string(link_wait_ms) +
                         " ms; serving anyway");
  }
  return Status::ok();
}

std::vector<rte_mbuf*> announcement_frames(const PortSetup& s, rte_mempool* pool) {
  std::vector<rte_mbuf*> out;
  if (s.identity.stun_only) return out;  // steering: the kernel holds the addresses and announces them
  auto add = [&](auto build) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) return;
    const size_t len = build(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_tailroom(m));
    if (len == 0) {
      rte_pktmbuf_free(m);
      return;
    }
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = static_cast<uint32_t>(len);
    m->port = s.port_id;  // where it goes (the owning lcore reads it)
    out.push_back(m);
  };
  for (size_t i = 0; i < s.identity.n_v4; ++i)
    add([&](uint8_t* p, size_t cap) { return frame::build_gratuitous_arp(p, cap, s.identity, i); });
  for (size_t i = 0; i < s.identity.n_v6; ++i)
    add([&](uint8_t* p, size_t cap) { return frame::build_unsolicited_na(p, cap, s.identity, i); });
  add([&](uint8_t* p, size_t cap) { return frame::build_mld_report(p, cap, s.identity); });
  return out;
}

unsigned announce(const PortSetup& s, rte_mempool* pool) {
  std::vector<rte_mbuf*> frames = announcement_frames(s, pool);
  const uint16_t sent =
      frames.empty() ? 0 : rte_eth_tx_burst(s.port_id, 0, frames.data(), static_cast<uint16_t>(frames.size()));
  for (size_t i = sent; i < frames.size(); ++i) rte_pktmbuf_free(frames[i]);
  return sent;
}

std::string describe(const PortSetup& s) {
  std::string out = "  port " + std::to_string(s.index) + " (id " + std::to_string(s.port_id) + ") " + s.name +
                    " driver " + s.driver + " mac " + mac_text(s.identity.mac) + " socket " +
                    std::to_string(s.socket) + " link " + (s.link_up ? "up" : "down") + "\n";
  out += "    queues " + std::to_string(s.queues) + " (rx_desc " + std::to_string(s.rx_desc) + ", tx_desc " +
         std::to_string(s.tx_desc) + ")\n";
  if (s.rss) {
    char key[8];
    std::string hex;
    for (uint8_t b : s.rss_key) {
      std::snprintf(key, sizeof key, "%02x", b);
      hex += key;
    }
    out += "    rss " + rss_types_to_string(s.rss_types);
    if (!s.rss_mapped.empty()) out += " (mapped to the device's types: " + s.rss_mapped + ")";
    if (s.rss_dropped != 0) out += " (dropped: " + rss_types_to_string(s.rss_dropped) + ")";
    out += "\n    rss key " + hex + " (" + std::to_string(s.rss_key.size()) + " bytes, " +
           (s.rss_key_random ? "random, new at every start" : "dpdk.rss.key") + "), reta " +
           (s.reta_size > 0 ? std::to_string(s.reta_size) + " entries, even spread" : std::string("device default")) +
           "\n";
  } else {
    out += std::string("    rss off (") + (s.queues > 1 ? "device has no RSS" : "one queue") + ")\n";
  }
  out += std::string("    offloads: rx checksum ") + (s.rx_csum ? "hw" : "sw") + ", tx ipv4/udp checksum " +
         (s.tx_csum ? "hw" : "sw") + " (" + s.tx_csum_why + ")" + (s.fast_free ? ", mbuf fast free" : "") + "; multicast " + s.multicast +
         "\n    vlan " + (s.identity.vlan >= 0 ? std::to_string(s.identity.vlan) : std::string("none")) +
         ", addresses:";
  char buf[64];
  for (size_t i = 0; i < s.identity.n_v4; ++i) {
    const auto& a = s.identity.v4[i];
    std::snprintf(buf, sizeof buf, " %u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    out += buf;
  }
  for (size_t i = 0; i < s.identity.n_v6; ++i) {
    config::IpAddress ip;
    ip.v6 = true;
    ip.bytes = s.identity.v6[i];
    out += ' ';
    out += config::to_string(ip);
  }
  if (s.identity.n_v4 + s.identity.n_v6 == 0) out += " none";
  if (!s.steering_text.empty()) out += "\n    steering " + s.steering_text;
  return out;
}

}  // namespace stunbox::dpdk
