// Sharing a port with the kernel: stunbox's XDP program found on the interface and filled in (xdp); flow isolation
// and its rules (flow).
#include "dpdk/steering.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "dpdk/flow_rules.h"

#if STUNBOX_HAVE_LIBBPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "stunbox_steer.h"
#endif

namespace stunbox::dpdk {
namespace {

std::string key(unsigned index) { return "dpdk.ports[" + std::to_string(index) + "].steering"; }

#if STUNBOX_HAVE_LIBBPF
// A file descriptor closed on every path.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// The maps of the program attached to ifindex, by the names stunbox_steer.h gives them.
struct SteerMaps {
  std::string prog_name;
  uint32_t prog_id = 0;
  Fd cfg{-1}, ports{-1}, v4{-1}, v6{-1};
};

Result<SteerMaps> find_maps(int ifindex, const std::string& iface, const std::string& where) {
  SteerMaps m;
  if (bpf_xdp_query_id(ifindex, 0, &m.prog_id) != 0 || m.prog_id == 0) {
    return Error{where + " xdp: no XDP program attached to " + iface + " (net_af_xdp's xdp_prog= did not load one)"};
  }
  Fd prog(bpf_prog_get_fd_by_id(m.prog_id));
  if (prog.fd < 0) {
    return Error{where + " xdp: cannot open XDP program " + std::to_string(m.prog_id) + " on " + iface + ": " +
                 std::strerror(errno) + " (needs CAP_SYS_ADMIN or CAP_BPF)"};
  }
  uint32_t ids[16] = {};
  bpf_prog_info info{};
  info.nr_map_ids = std::size(ids);
  info.map_ids = reinterpret_cast<uintptr_t>(ids);
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(prog.fd, &info, &len) != 0) {
    return Error{where + " xdp: cannot read XDP program " + std::to_string(m.prog_id) + ": " + std::strerror(errno)};
  }
  m.prog_name = info.name;
  const uint32_t n = std::min<uint32_t>(info.nr_map_ids, std::size(ids));
  for (uint32_t i = 0; i < n; ++i) {
    Fd map(bpf_map_get_fd_by_id(ids[i]));
    if (map.fd < 0) continue;
    bpf_map_info mi{};
    uint32_t mlen = sizeof mi;
    if (bpf_obj_get_info_by_fd(map.fd, &mi, &mlen) != 0) continue;
    const std::string name = mi.name;
    if (name == STUNBOX_STEER_MAP_CFG) m.cfg = std::move(map);
    else if (name == STUNBOX_STEER_MAP_PORTS) m.ports = std::move(map);
    else if (name == STUNBOX_STEER_MAP_V4) m.v4 = std::move(map);
    else if (name == STUNBOX_STEER_MAP_V6) m.v6 = std::move(map);
  }
  if (m.cfg.fd < 0 || m.ports.fd < 0 || m.v4.fd < 0 || m.v6.fd < 0) {
    return Error{where + " xdp: the XDP program on " + iface + " (" + m.prog_name + ", id " +
                 std::to_string(m.prog_id) + ") lacks stunbox's maps: xdp_prog= must be stunbox's " +
                 "stunbox_steer.bpf.o"};
  }
  return m;
}

Status put(int fd, const void* k, const void* v, const std::string& where, const std::string& what) {
  if (bpf_map_update_elem(fd, k, v, BPF_ANY) == 0) return Status::ok();
  return Error{where + " xdp: cannot write " + what + " into the XDP program's map: " + std::strerror(errno)};
}
#endif

// RX queues the netdev has now (ethtool -L sets them): /sys/class/net/IF/queues/rx-N.
unsigned netdev_rx_queues(const std::string& iface) {
  std::error_code ec;
  unsigned n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/sys/class/net/" + iface + "/queues", ec))
    if (e.path().filename().string().rfind("rx-", 0) == 0) ++n;
  return n;
}

unsigned parse_unsigned(const std::string& s, unsigned fallback) {
  try {
    return static_cast<unsigned>(std::stoul(s));
  } catch (...) {
    return fallback;
  }
}

}  // namespace

std::string steer_program_path() {
#ifdef STUNBOX_STEER_PROG_BUILD
  if (std::filesystem::exists(STUNBOX_STEER_PROG_BUILD)) return STUNBOX_STEER_PROG_BUILD;
#endif
#ifdef STUNBOX_STEER_PROG_INSTALLED
  if (std::filesystem::exists(STUNBOX_STEER_PROG_INSTALLED)) return STUNBOX_STEER_PROG_INSTALLED;
#endif
  return "";
}

std::string steered_device_spec(const config::PortSection& section) {
  if (section.steering != config::Steering::xdp || section.device.find("xdp_prog=") != std::string::npos)
    return section.device;
  const std::string prog = steer_program_path();
  return prog.empty() ? section.device : section.device + ",xdp_prog=" + prog;
}

AfXdpArgs parse_af_xdp_args(const std::string& device) {
  AfXdpArgs a;
  size_t pos = device.find(',');
  while (pos != std::string::npos) {
    const size_t next = device.find(',', pos + 1);
    const std::string kv = device.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    const size_t eq = kv.find('=');
    const std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (k == "iface") a.iface = v;
    else if (k == "start_queue") a.start_queue = parse_unsigned(v, 0);
    else if (k == "queue_count") a.queue_count = parse_unsigned(v, 1);
    pos = next;
  }
  return a;
}

Status steer_xdp(PortSetup& port, const config::PortSection& section) {
  const std::string where = key(port.index);
#if !STUNBOX_HAVE_LIBBPF
  (void)section;
  return Error{where + " xdp: this stunbox was built without libbpf and clang (no XDP steering program)"};
#else
  if (section.device.find("xdp_prog=") == std::string::npos && steer_program_path().empty()) {
    return Error{where + " xdp: stunbox's XDP program was not built (clang and libbpf-dev at build time) nor "
                 "installed; name one with xdp_prog= in the device spec"};
  }
  const AfXdpArgs args = parse_af_xdp_args(section.device);
  const int ifindex = static_cast<int>(if_nametoindex(args.iface.c_str()));
  if (ifindex == 0) return Error{where + " xdp: no interface \"" + args.iface + "\""};
  // Each socket sits at its absolute netdev queue: queues the port does not
  // use would hand their STUN to the kernel instead.
  const unsigned netdev_queues = netdev_rx_queues(args.iface);
  if (netdev_queues != 0 && (args.start_queue != 0 || args.queue_count != netdev_queues)) {
    return Error{where + " xdp: " + args.iface + " has " + std::to_string(netdev_queues) +
                 " RX queue(s) but the port uses queue(s) " + std::to_string(args.start_queue) + ".." +
                 std::to_string(args.start_queue + args.queue_count - 1) +
                 ": STUN hashed to the others would reach the kernel; make them equal (ethtool -L " + args.iface +
                 " combined " + std::to_string(args.queue_count) + ", or start_queue=0,queue_count=" +
                 std::to_string(netdev_queues) + ")"};
  }
  auto maps = find_maps(ifindex, args.iface, where);
  if (!maps) return maps.error();
  const frame::PortIdentity& id = port.identity;
  const uint8_t one = 1;
  unsigned n_ports = 0;
  for (size_t p = 0; p < id.stun_ports.size(); ++p) {
    if (!id.stun_ports.test(p)) continue;
    const uint16_t k = htons(static_cast<uint16_t>(p));
    if (Status st = put(maps->ports.fd, &k, &one, where, "port " + std::to_string(p)); !st) return st;
    ++n_ports;
  }
  for (size_t i = 0; i < id.n_v4; ++i)
    if (Status st = put(maps->v4.fd, id.v4[i].data(), &one, where, "an IPv4 address"); !st) return st;
  for (size_t i = 0; i < id.n_v6; ++i)
    if (Status st = put(maps->v6.fd, id.v6[i].data(), &one, where, "an IPv6 address"); !st) return st;
  // Ready last: the program passes everything to the kernel until then.
  const uint32_t zero = 0;
  stunbox_steer_cfg cfg{1, id.vlan >= 0 ? static_cast<unsigned>(id.vlan) : 0u, static_cast<unsigned>(getpid())};
  if (Status st = put(maps->cfg.fd, &zero, &cfg, where, "its configuration"); !st) return st;
  port.steering_text = "xdp: program " + maps->prog_name + " (id " + std::to_string(maps->prog_id) + ") on " +
                       args.iface + " (" + std::to_string(netdev_queues) + " RX queue(s)) passes UDP to " +
                       std::to_string(n_ports) + " port(s) at " + std::to_string(id.n_v4 + id.n_v6) +
                       " address(es) to stunbox, the rest to the kernel";
  return Status::ok();
#endif
}

Status clear_stale_program(const config::PortSection& section, unsigned index, std::string& note) {
  const std::string where = key(index);
#if !STUNBOX_HAVE_LIBBPF
  (void)section;
  (void)note;
  return Error{where + " xdp: this stunbox was built without libbpf and clang (no XDP steering program)"};
#else
  const AfXdpArgs args = parse_af_xdp_args(section.device);
  const int ifindex = static_cast<int>(if_nametoindex(args.iface.c_str()));
  if (ifindex == 0) return Error{where + " xdp: no interface \"" + args.iface + "\""};
  bpf_xdp_query_opts q{};
  q.sz = sizeof q;
  if (bpf_xdp_query(ifindex, 0, &q) != 0 || q.prog_id == 0) return Status::ok();  // nothing attached
  const std::string off = "ip link set dev " + args.iface + " xdp off";
  auto maps = find_maps(ifindex, args.iface, where);
  if (!maps) {
    return Error{where + " xdp: " + args.iface + " already has an XDP program (id " + std::to_string(q.prog_id) +
                 ") that is not stunbox's; net_af_xdp attaches its own once per interface: remove it first (" + off +
                 ")"};
  }
  const uint32_t zero = 0;
  stunbox_steer_cfg cfg{};
  bpf_map_lookup_elem(maps->cfg.fd, &zero, &cfg);
  const pid_t owner = static_cast<pid_t>(cfg.owner);
  if (owner > 0 && owner != getpid() && (kill(owner, 0) == 0 || errno == EPERM)) {
    return Error{where + " xdp: " + args.iface + " is served by another stunbox (pid " + std::to_string(owner) + ")"};
  }
  // Left by a stunbox that was killed (net_af_xdp detaches it on a clean stop): it would refuse a new one.
  const uint32_t mode = q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE
                        : q.attach_mode == XDP_ATTACHED_DRV ? XDP_FLAGS_DRV_MODE
                                                            : 0;
  if (bpf_xdp_detach(ifindex, mode, nullptr) != 0) {
    return Error{where + " xdp: cannot remove the XDP program left on " + args.iface + " by stunbox pid " +
                 std::to_string(owner) + ": " + std::strerror(errno) + " (" + off + ")"};
  }
  note = where + " xdp: removed the XDP program (id " + std::to_string(q.prog_id) + ") that stunbox pid " +
         std::to_string(owner) + " left on " + args.iface + " when it was killed";
  return Status::ok();
#endif
}

Status isolate_port(uint16_t port_id, unsigned index) {
  rte_flow_error err{};
  const int rc = rte_flow_isolate(port_id, 1, &err);
  if (rc == 0) return Status::ok();
  return Error{key(index) + " flow: the device refuses flow isolation (" +
               (err.message != nullptr ? std::string(err.message) : std::string(rte_strerror(-rc))) +
               "): it cannot share the port with the kernel this way (mlx5 can; see docs/deployment.md)"};
}

Status install_flow_rules(PortSetup& port) {
  const std::string where = key(port.index);
  auto rules = build_flow_rules(port.identity, port.queues);
  if (!rules) return Error{where + " flow: " + rules.message()};
  if (port.queues > 1 && port.rss_types == 0) {
    return Error{where + " flow: " + std::to_string(port.queues) + " queues but device " + port.name +
                 " has no RSS hash types to spread them by (use one queue)"};
  }
  for (const FlowRule& r : *rules) {
    std::vector<rte_flow_item> items;
    // Specs and masks live until rte_flow_create returns (one rule at a time).
    rte_flow_item_vlan vlan_spec{}, vlan_mask{};
    rte_flow_item_ipv4 v4_spec{}, v4_mask{};
    rte_flow_item_ipv6 v6_spec{}, v6_mask{};
    rte_flow_item_udp udp_spec{}, udp_mask{};
    auto add = [&items](rte_flow_item_type type, const void* spec, const void* mask) {
      items.push_back(rte_flow_item{.type = type, .spec = spec, .last = nullptr, .mask = mask});
    };
    for (const FlowItem& i : r.pattern) {
      switch (i.type) {
        case FlowItemType::eth:
          add(RTE_FLOW_ITEM_TYPE_ETH, nullptr, nullptr);  // any MAC: the kernel's netdev shares it
          break;
        case FlowItemType::vlan:
          vlan_spec.hdr.vlan_tci = rte_cpu_to_be_16(i.vlan_id);
          vlan_mask.hdr.vlan_tci = rte_cpu_to_be_16(0x0FFF);
          add(RTE_FLOW_ITEM_TYPE_VLAN, &vlan_spec, &vlan_mask);
          break;
        case FlowItemType::ipv4:
          std::memcpy(&v4_spec.hdr.dst_addr, i.dst.data(), 4);
          std::memset(&v4_mask.hdr.dst_addr, 0xFF, 4);
          add(RTE_FLOW_ITEM_TYPE_IPV4, &v4_spec, &v4_mask);
          break;
        case FlowItemType::ipv6:
          std::memcpy(&v6_spec.hdr.dst_addr, i.dst.data(), 16);
          std::memset(&v6_mask.hdr.dst_addr, 0xFF, 16);
          add(RTE_FLOW_ITEM_TYPE_IPV6, &v6_spec, &v6_mask);
          break;
        case FlowItemType::udp:
          udp_spec.hdr.dst_port = rte_cpu_to_be_16(i.dst_port);
          udp_mask.hdr.dst_port = rte_cpu_to_be_16(0xFFFF);
          add(RTE_FLOW_ITEM_TYPE_UDP, &udp_spec, &udp_mask);
          break;
      }
    }
    add(RTE_FLOW_ITEM_TYPE_END, nullptr, nullptr);

    rte_flow_action_queue queue{.index = r.queues.front()};
    rte_flow_action_rss rss{};
    rss.func = RTE_ETH_HASH_FUNCTION_DEFAULT;
    rss.types = port.rss_types;
    rss.key = port.rss_key.empty() ? nullptr : port.rss_key.data();
    rss.key_len = static_cast<uint32_t>(port.rss_key.size());
    rss.queue = r.queues.data();
    rss.queue_num = static_cast<uint32_t>(r.queues.size());
    rte_flow_action actions[2] = {};
    if (r.action == FlowActionType::queue) {
      actions[0] = {.type = RTE_FLOW_ACTION_TYPE_QUEUE, .conf = &queue};
    } else {
      actions[0] = {.type = RTE_FLOW_ACTION_TYPE_RSS, .conf = &rss};
    }
    actions[1] = {.type = RTE_FLOW_ACTION_TYPE_END};
    rte_flow_attr attr{};
    attr.ingress = 1;
    rte_flow_error err{};
    if (rte_flow_create(port.port_id, &attr, items.data(), actions, &err) == nullptr) {
      return Error{where + " flow: device " + port.name + " refused the rule \"" + to_string(r) + "\": " +
                   (err.message != nullptr ? err.message : "no reason given") + " (" + rte_strerror(rte_errno) + ")"};
    }
    port.flow_rules.push_back(to_string(r));
  }
  port.steering_text = "flow: isolated, " + std::to_string(rules->size()) + " rule(s) send UDP to the served " +
                       "ports at the port's addresses to " +
                       (port.queues > 1 ? "its " + std::to_string(port.queues) + " queues (rss)" : std::string("queue 0")) +
                       ", the rest to the kernel";
  return Status::ok();
}

void flush_flow_rules(uint16_t port_id) {
  rte_flow_error err{};
  rte_flow_flush(port_id, &err);
}

}  // namespace stunbox::dpdk
