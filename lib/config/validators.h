// Rules that span keys: the lcore map, a port's MTU against its IPv6 addresses, the user and group
// lookups, what each mode needs. Each fails (throws Failure) with the usual one-line message.
#pragma once

#include <string>

#include "config/config.h"
#include "config/schema.h"
#include "config/tree.h"

namespace stunbox::config {

// socket.user names a user of the user database ("" = none).
void check_user_exists(const At& at, const Config& c);
// socket.group names a group of the group database, and only together with socket.user.
void check_group_exists(const At& at, const Config& c);
// dpdk.lcores: `auto`, or a map lcore -> ["PORT:QUEUE", ...] that serves every
// queue of every port exactly once (so it is read after dpdk.ports).
void read_lcore_map(const Node& n, const std::string& path, const Node* ports_node, DpdkSection& d);
// RFC 8200 s5: a port with an IPv6 address has an MTU of at least 1280.
void check_port_mtu(const Node& entry, const std::string& path, const PortSection& port);
// Socket mode needs a listen address; dpdk mode needs a port.
void check_mode_needs(const Node& root, const Config& c);
// dpdk mode: both IPs of every stun.rfc5780 pair are addresses of one port
// (the port answers ARP/NDP for both and sends from either).
void check_rfc5780_owned(const Node& root, const Config& c);

}  // namespace stunbox::config
