// Port setup for the DPDK backend: RSS (types masked to the device, key, RETA), offloads, MTU, multicast, VLAN, start.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "frame/reflect.h"

struct rte_mbuf;
struct rte_mempool;

namespace stunbox::dpdk {

// The RSS key of `dpdk.rss.key: auto`: `length` random bytes from the
// kernel (getrandom), new at every start. A published key lets a spoofed
// flood pick tuples that all hash to one queue; a periodic one (0x6d5a
// repeated, the well-known symmetric key) is worse still: its Toeplitz hash
// depends only on the XOR of the tuple's 16-bit words, so any source port can
// be paired with a source address that lands on the same queue.
Result<std::vector<uint8_t>> random_rss_key(size_t length);

// dpdk.rss.types names -> RTE_ETH_RSS_* bits; error names the bad entry.
Result<uint64_t> rss_types_from_names(const std::vector<std::string>& names);
// RTE_ETH_RSS_* bits -> "ipv4 ipv4-udp ..." (unnamed bits as 0x...).
std::string rss_types_to_string(uint64_t bits);

// The hash types to program, from those requested and those the device
// offers (dev_info.flow_type_rss_offloads).
struct RssTypeChoice {
  uint64_t types = 0;    // programmed
  uint64_t dropped = 0;  // requested, not offered, not mapped
  std::string mapped;    // e.g. "ipv6 -> ipv6-frag ipv6-other"; "" = nothing mapped
};
// A device without the plain `ipv4`/`ipv6` types (i40e offers neither) gets
// its ipv4-other + ipv4-frag (ipv6-other + ipv6-frag) instead, which hash the
// same addresses: dropped outright, every ICMP, ICMPv6 and NDP message would
// hash to nothing and land on queue 0 beside ARP.
RssTypeChoice choose_rss_types(uint64_t requested, uint64_t offered);

// The even RETA spread programmed on every multi-queue port: entry i -> i % queues.
uint16_t reta_queue(size_t entry, uint16_t queues);

// Who computes a port's reply IPv4/UDP checksums, decided from dpdk.ports[i].tx_checksum, the
// driver (dev_info.driver_name) and what it offers. Pure: unit-tested without a NIC.
struct TxChecksumChoice {
  bool hw = false;         // reflect<true> + RTE_MBUF_F_TX_*_CKSUM
  bool fast_free = true;   // RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE may be requested (when offered)
  std::string why;         // for the summary and show port info
  std::string error;       // non-empty: start-up fails with this line
};
// driver: dev_info.driver_name; offered: the device has IPv4 and UDP TX checksum offload;
// vector_offload_tx: the CPU and EAL allow ice's AVX2/AVX-512 TX path (the one vector path of ice
// that takes checksum offloads). From DPDK 22.11's drivers:
// - net_i40e: vector (and simple) TX only when the TX offloads are a subset of MBUF_FAST_FREE
//   (i40e_set_tx_function_flag) -> auto = software.
// - net_ixgbe, net_ixgbe_vf: simple/vector TX only with no TX offload at all, fast free included
//   (ixgbe_set_tx_function: txq->offloads == 0) -> auto = software, and no fast free.
// - net_ice: its SSE path refuses offloads (ice_set_tx_function drops vector TX for the offload
//   path unless AVX2/AVX-512 is used) -> auto = hardware only with vector_offload_tx.
// - everything else (mlx5_pci, net_tap, ...): hardware when offered.
TxChecksumChoice choose_tx_checksum(config::TxChecksum mode, std::string_view driver, bool offered,
                                    bool vector_offload_tx);

// Whether /metrics exports xstat `name` of a port driven by `driver` under stats.port_xstats drops:
// ethdev's generic drop counters for every driver, and each driver's own drop and error counters
// (DPDK 22.11 names: mlx5_xstats.c / mlx5_os.c, i40e_ethdev.c rte_i40e_stats_strings,
// ice_ethdev.c, ixgbe_ethdev.c rte_ixgbe_stats_strings).
bool is_drop_xstat(std::string_view driver, std::string_view name);

// What setup decided and did for one port (for the summary and for tests).
struct PortSetup {
  unsigned index = 0;  // in cfg.dpdk.ports
  uint16_t port_id = 0;
  std::string device;  // as configured
  std::string name;    // ethdev name
  std::string driver;
  int socket = 0;      // NUMA socket of its mempool
  uint16_t queues = 1;
  uint16_t rx_desc = 0, tx_desc = 0;
  bool rss = false;            // RSS programmed (multi-queue and supported)
  uint64_t rss_types = 0;      // programmed
  uint64_t rss_dropped = 0;    // requested but unsupported by the device
  std::string rss_mapped;      // requested types replaced by the device's own (RssTypeChoice::mapped)
  std::vector<uint8_t> rss_key;  // programmed (or that a NIC would use)
  bool rss_key_random = false;   // rss_key is dpdk.rss.key auto's, chosen at this start
  uint16_t reta_size = 0;      // 0 = device has no RETA
  bool rx_csum = false;        // RX checksum flags trusted (RxHints)
  bool tx_csum = false;        // reflect<true> + TX checksum offload flags
  std::string tx_csum_why;     // TxChecksumChoice::why
  bool fast_free = false;
  std::string multicast;       // how solicited-node multicast is admitted
  bool link_up = false;
  bool started = false;        // rte_eth_dev_start succeeded (teardown stops only started ports)
  frame::PortIdentity identity;
  // dpdk.ports[].steering: all, or shared with the kernel (identity.stun_only).
  // flow: in isolated mode (no RETA, RSS update, multicast or VLAN filter calls).
  config::Steering steering = config::Steering::all;
  std::string steering_text;            // what steering did, for the summary and show port info
  std::vector<std::string> flow_rules;  // flow: the rules created, in testpmd syntax
  std::vector<std::string> warnings;  // printed by the caller
};

// The device's ethdev name for a configured device: a vdev spec up to its
// first comma, a PCI address with its domain ("0000:").
std::string device_name(const std::string& device);
bool is_pci_address(const std::string& device);

// Finds the probed port of cfg port `index`; error:
// `dpdk.ports[i].device "X": no such device (probe failed)`.
Result<uint16_t> find_port(const config::PortSection& section, unsigned index);

// Maximum RX/TX queue pairs the device offers.
Result<uint16_t> max_queue_pairs(uint16_t port_id);

// Configures queues (RSS when queues > 1), offloads, MTU, VLAN filter and
// the RX/TX queues from `pool`; fills the identity from cfg. Does not start.
Result<PortSetup> configure_port(uint16_t port_id, unsigned index, const config::PortSection& section,
                                 const config::RssSection& rss, const std::vector<uint16_t>& stun_ports,
                                 uint16_t queues, rte_mempool* pool);

// Starts the port, admits solicited-node multicast, waits up to link_wait_ms
// for link (a warning if still down).
Status start_port(PortSetup& port, unsigned link_wait_ms);

// The port's announcements, built in mbufs of `pool` with mbuf->port set to
// the port: a gratuitous ARP per owned IPv4, an unsolicited NA per owned
// IPv6, and one MLDv2 report of its solicited-node groups.
std::vector<rte_mbuf*> announcement_frames(const PortSetup& port, rte_mempool* pool);
// Sends announcement_frames on TX queue 0. Only while no worker runs (at
// start, from the main lcore): TX queues are not thread-safe. After start,
// the owning lcore sends them (LcoreWork::control). Returns frames sent.
unsigned announce(const PortSetup& port, rte_mempool* pool);

// One line per port for the summary.
std::string describe(const PortSetup& port);

}  // namespace stunbox::dpdk
