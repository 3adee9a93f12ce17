/* The maps shared by stunbox's XDP steering program and stunbox, which fills them at start (steering: xdp). */
#ifndef STUNBOX_STEER_H
#define STUNBOX_STEER_H

/* Map names as the kernel keeps them (BPF_OBJ_NAME_LEN 16, NUL included):
 * stunbox finds the maps by name among the ids of the program attached to
 * the interface. */
#define STUNBOX_STEER_MAP_CFG "sbx_cfg"
#define STUNBOX_STEER_MAP_PORTS "sbx_ports"
#define STUNBOX_STEER_MAP_V4 "sbx_v4"
#define STUNBOX_STEER_MAP_V6 "sbx_v6"
#define STUNBOX_STEER_MAP_STATS "sbx_stats"

/* Sizes of the hash maps: at least kMaxPortAddresses (lib/frame) addresses
 * of each family, and every served port of stun.ports and stun.rfc5780. */
#define STUNBOX_STEER_MAX_ADDRESSES 16
#define STUNBOX_STEER_MAX_PORTS 1024

/* sbx_cfg[0]. Until stunbox sets `ready`, the program passes every frame to
 * the kernel (it is attached when net_af_xdp sets up its queue, before
 * stunbox knows its addresses). */
struct stunbox_steer_cfg {
  unsigned int ready; /* 1 = the maps are filled */
  unsigned int vlan;  /* 802.1Q VLAN id of the port's frames, 0 = untagged */
  unsigned int owner; /* pid of the stunbox that filled them: a program left by a killed one is removed at start */
};

/* The program's name as the kernel keeps it (its function's name). */
#define STUNBOX_STEER_PROG_NAME "stunbox_steer"

/* sbx_stats (per CPU), by index. */
enum stunbox_steer_stat {
  STUNBOX_STEER_REDIRECTED = 0, /* handed to the queue's AF_XDP socket */
  STUNBOX_STEER_NO_SOCKET = 1,  /* STUN for stunbox, but no socket on that queue: passed to the kernel */
  STUNBOX_STEER_PASSED = 2,     /* everything else: the kernel's */
  STUNBOX_STEER_STATS = 3,
};

#endif
