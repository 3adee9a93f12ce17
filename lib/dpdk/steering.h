// Sharing a port with the kernel (dpdk.ports[].steering): the XDP program's maps (xdp), flow isolation and rules (flow).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "dpdk/port.h"

namespace stunbox::dpdk {

// The XDP program shipped with stunbox (bpf/stunbox_steer.bpf.c): the build
// tree's copy when it exists, else the installed one; "" when this build has
// none (no clang or libbpf at build time).
std::string steer_program_path();

// The device spec EAL gets: for steering xdp, net_af_xdp's `xdp_prog=` is
// added with steer_program_path() unless the spec names a program itself.
std::string steered_device_spec(const config::PortSection& section);

// net_af_xdp's devargs that matter to steering.
struct AfXdpArgs {
  std::string iface;
  unsigned start_queue = 0;
  unsigned queue_count = 1;
};
AfXdpArgs parse_af_xdp_args(const std::string& device);

// steering xdp, after configure_port (net_af_xdp attaches the program when
// its RX queue is set up, before any frame reaches it): finds the program on
// the interface (its id, then its maps by name), writes the served ports,
// the owned addresses and the VLAN into them, then marks them ready. Checks
// that the netdev has exactly the queues the port uses. Errors name
// dpdk.ports[i].steering. Sets port.steering_text.
Status steer_xdp(PortSetup& port, const config::PortSection& section);

// steering xdp, before configure_port: a stunbox program left on the
// interface by a stunbox that was killed (net_af_xdp removes it on a clean
// stop; left, it makes net_af_xdp refuse to attach a new one) is removed, and
// `note` says so. Errors name the key: another program on the interface, or
// a stunbox still alive that owns it.
Status clear_stale_program(const config::PortSection& section, unsigned index, std::string& note);

// steering flow, before rte_eth_dev_configure: isolated mode (only what a
// rule matches reaches the port; the kernel's netdev gets the rest).
Status isolate_port(uint16_t port_id, unsigned index);

// steering flow, after rte_eth_dev_start: one rule per (owned address,
// served port) to the port's queues (build_flow_rules). Errors name the key
// and the refused rule. Sets port.steering_text.
Status install_flow_rules(PortSetup& port);

// steering flow, before rte_eth_dev_stop: every rule destroyed.
void flush_flow_rules(uint16_t port_id);

}  // namespace stunbox::dpdk
