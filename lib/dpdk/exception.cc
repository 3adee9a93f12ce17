// The exception path's TAP (net_tap through rte_vdev_init), ring and buckets; the data path's half is in lcore_loop.cc.
#include "dpdk/exception.h"

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdio>


namespace stunbox::dpdk {
namespace {

std::string errno_text(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

std::string mac_text(const std::array<uint8_t, 6>& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

}  // namespace

Result<std::unique_ptr<ExceptionScope>> open_exception(const PortSetup& port, const config::PortSection& section,
                                                       rte_mempool* pool, std::vector<std::string>& warnings) {
  const std::string where = "dpdk.ports[" + std::to_string(port.index) + "].exception.iface \"" +
                            section.exception.iface + "\"";
  auto x = std::make_unique<ExceptionScope>();
  x->vdev = "net_tap_sbx" + std::to_string(port.index);
  x->iface = section.exception.iface;
  x->pps = section.exception.pps;
  // mac=: the kernel side answers and sends as the port (one MAC on the wire).
  const std::string args = "iface=" + x->iface + ",mac=" + mac_text(port.identity.mac);
  int rc = rte_vdev_init(x->vdev.c_str(), args.c_str());
  if (rc != 0) {
    return Error{where + ": cannot create the TAP interface (net_tap): " + errno_text(rc) +
                 " (needs CAP_NET_ADMIN and /dev/net/tun; a persistent TAP of that name must be multi_queue: "
                 "ip tuntap add dev NAME mode tap multi_queue)"};
  }
  uint16_t id = 0;
  if (rte_eth_dev_get_port_by_name(x->vdev.c_str(), &id) != 0) {
    rte_vdev_uninit(x->vdev.c_str());
    return Error{where + ": net_tap created no port"};
  }
  x->path.tap_port_id = id;
  auto fail = [&](const std::string& what, int code) -> Error {
    rte_eth_dev_close(id);
    rte_vdev_uninit(x->vdev.c_str());
    return Error{where + ": " + what + ": " + errno_text(code)};
  };
  rte_eth_conf conf{};
  if ((rc = rte_eth_dev_configure(id, 1, 1, &conf)) != 0) return fail("configuring the TAP", rc);
  const int socket = port.socket;
  if ((rc = rte_eth_rx_queue_setup(id, 0, kExceptionRxDesc, static_cast<unsigned>(socket), nullptr, pool)) != 0)
    return fail("TAP RX queue", rc);
  if ((rc = rte_eth_tx_queue_setup(id, 0, kExceptionTxDesc, static_cast<unsigned>(socket), nullptr)) != 0)
    return fail("TAP TX queue", rc);
  if ((rc = rte_eth_dev_set_mtu(id, static_cast<uint16_t>(section.mtu))) != 0) {
    warnings.push_back(where + ": cannot set the TAP's MTU to " + std::to_string(section.mtu) + ": " +
                       errno_text(rc));
  }
  if ((rc = rte_eth_dev_start(id)) != 0) return fail("starting the TAP", rc);
  x->started = true;
  const std::string ring = "sbx_exc" + std::to_string(port.index);
  x->path.to_kernel = rte_ring_create(ring.c_str(), kExceptionRing, socket, RING_F_SC_DEQ);
  if (x->path.to_kernel == nullptr) {
    rte_eth_dev_stop(id);
    return fail("creating its ring", rte_errno);
  }
  x->path.interval_ns = 1000000000ull / x->pps;
  x->path.burst = x->pps / 10 > 0 ? x->pps / 10 : 1;
  // The kernel's own multicast (its link-local address's solicited-node
  // group, all-nodes, MLD) must reach it: the port's list has only ours.
  if ((rc = rte_eth_allmulticast_enable(port.port_id)) != 0) {
    warnings.push_back("dpdk.ports[" + std::to_string(port.index) + "]: " + port.name +
                       " refused allmulticast (" + errno_text(rc) +
                       "): the kernel's IPv6 link-local neighbour discovery may not work");
  }
  return x;
}

void close_exception(ExceptionScope& x) {
  if (x.path.to_kernel != nullptr) {
    void* m = nullptr;
    while (rte_ring_dequeue(x.path.to_kernel, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(x.path.to_kernel);
    x.path.to_kernel = nullptr;
  }
  if (x.vdev.empty()) return;
  if (x.started) rte_eth_dev_stop(x.path.tap_port_id);
  x.started = false;
  rte_eth_dev_close(x.path.tap_port_id);
  rte_vdev_uninit(x.vdev.c_str());
  x.vdev.clear();
}

std::string describe(const ExceptionScope& x) {
  return "exception: kernel interface " + x.iface + " (" + x.vdev + "), " + std::to_string(x.pps) +
         " frames/s each way";
}

}  // namespace stunbox::dpdk
