// SPDX-License-Identifier: BSD-3-Clause
/* stunbox's XDP steering program (dpdk.ports[].steering: xdp): UDP to a
 * served port at an owned address goes to the AF_XDP socket of the queue it
 * arrived on (net_af_xdp, loaded through its xdp_prog= devarg, which needs
 * the map xsks_map); every other frame is passed to the kernel, which keeps
 * the interface: ARP, NDP, ping, BGP, SSH. The ports and addresses are not
 * compiled in: stunbox writes them into the maps at start. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "stunbox_steer.h"

#ifndef ETH_P_8021Q
#define ETH_P_8021Q 0x8100
#endif

struct vlan_tag {
  __be16 tci;
  __be16 type;
};

/* Queue index -> AF_XDP socket; net_af_xdp puts each of its sockets at its
 * absolute netdev queue. */
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u32);
} xsks_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct stunbox_steer_cfg);
} sbx_cfg SEC(".maps");

/* UDP destination ports served, in network byte order. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, STUNBOX_STEER_MAX_PORTS);
  __type(key, __be16);
  __type(value, __u8);
} sbx_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, STUNBOX_STEER_MAX_ADDRESSES);
  __type(key, __be32);
  __type(value, __u8);
} sbx_v4 SEC(".maps");

struct v6_key {
  __u8 addr[16];
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, STUNBOX_STEER_MAX_ADDRESSES);
  __type(key, struct v6_key);
  __type(value, __u8);
} sbx_v6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, STUNBOX_STEER_STATS);
  __type(key, __u32);
  __type(value, __u64);
} sbx_stats SEC(".maps");

static __always_inline int count(__u32 stat, int action) {
  __u64* n = bpf_map_lookup_elem(&sbx_stats, &stat);
  if (n) *n += 1;
  return action;
}

/* 1 when the UDP header at `udp` is for a served port and lies in the frame. */
static __always_inline int served(const struct udphdr* udp, const void* end) {
  if ((const void*)(udp + 1) > end) return 0;
  __be16 port = udp->dest;
  return bpf_map_lookup_elem(&sbx_ports, &port) != 0;
}

SEC("xdp")
int stunbox_steer(struct xdp_md* ctx) {
  const void* data = (const void*)(long)ctx->data;
  const void* end = (const void*)(long)ctx->data_end;
  __u32 zero = 0;
  const struct stunbox_steer_cfg* cfg = bpf_map_lookup_elem(&sbx_cfg, &zero);
  if (!cfg || !cfg->ready) return count(STUNBOX_STEER_PASSED, XDP_PASS);

  const struct ethhdr* eth = data;
  if ((const void*)(eth + 1) > end) return count(STUNBOX_STEER_PASSED, XDP_PASS);
  __be16 type = eth->h_proto;
  const void* l3 = eth + 1;
  /* The port's VLAN, exactly as lib/frame checks it: tagged with its id, or
   * untagged; on an untagged port (vlan 0) a priority tag (VID 0, DCB/PFC
   * fabrics) counts as untagged. */
  if (type == bpf_htons(ETH_P_8021Q)) {
    const struct vlan_tag* tag = l3;
    if ((const void*)(tag + 1) > end) return count(STUNBOX_STEER_PASSED, XDP_PASS);
    if ((bpf_ntohs(tag->tci) & 0x0FFF) != cfg->vlan) return count(STUNBOX_STEER_PASSED, XDP_PASS);
    type = tag->type;
    l3 = tag + 1;
  } else if (cfg->vlan != 0) {
    return count(STUNBOX_STEER_PASSED, XDP_PASS);
  }

  int ours = 0;
  if (type == bpf_htons(ETH_P_IP)) {
    const struct iphdr* ip = l3;
    if ((const void*)(ip + 1) > end || ip->version != 4 || ip->ihl < 5 || ip->protocol != IPPROTO_UDP)
      return count(STUNBOX_STEER_PASSED, XDP_PASS);
    /* Fragments are the kernel's to reassemble (MF or a non-zero offset). */
    if (ip->frag_off & bpf_htons(0x3FFF)) return count(STUNBOX_STEER_PASSED, XDP_PASS);
    __be32 dst = ip->daddr;
    if (!bpf_map_lookup_elem(&sbx_v4, &dst)) return count(STUNBOX_STEER_PASSED, XDP_PASS);
    ours = served((const struct udphdr*)((const __u8*)ip + ip->ihl * 4), end);
  } else if (type == bpf_htons(ETH_P_IPV6)) {
    const struct ipv6hdr* ip6 = l3;
    /* UDP right after the fixed header: extension headers are the kernel's, as in lib/frame. */
    if ((const void*)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP) return count(STUNBOX_STEER_PASSED, XDP_PASS);
    struct v6_key key;
    __builtin_memcpy(key.addr, &ip6->daddr, sizeof key.addr);
    if (!bpf_map_lookup_elem(&sbx_v6, &key)) return count(STUNBOX_STEER_PASSED, XDP_PASS);
    ours = served((const struct udphdr*)(ip6 + 1), end);
  }
  if (!ours) return count(STUNBOX_STEER_PASSED, XDP_PASS);

  __u32 queue = ctx->rx_queue_index;
  /* No socket on this queue (the netdev has more queues than the port uses):
   * the kernel gets it rather than nobody; stunbox checks the queue count at start. */
  if (!bpf_map_lookup_elem(&xsks_map, &queue)) return count(STUNBOX_STEER_NO_SOCKET, XDP_PASS);
  count(STUNBOX_STEER_REDIRECTED, 0);
  return bpf_redirect_map(&xsks_map, queue, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
