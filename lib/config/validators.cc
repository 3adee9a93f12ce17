// Rules that span keys: the lcore map, a port's MTU against its IPv6 addresses, the user and group
// lookups, what each mode needs.
#include "config/validators.h"

#include "config/reader.h"
#include "config/text.h"
#include "core/privileges.h"

namespace stunbox::config {

namespace {

// Names are checked against the user and group databases now, so a typo
// fails at load (and --check-config), not after the sockets are bound.
template <typename Find>
void check_exists(const At& at, const std::string& name, const char* what, Find find) {
  if (name.empty()) return;
  auto found = find(name);
  if (!found) fail(at.node.origin, at.path, found.message());
  if (!*found) fail(at.node.origin, at.path, std::string("no such ") + what + " \"" + name + "\"");
}

}  // namespace

void check_user_exists(const At& at, const Config& c) { check_exists(at, c.socket.user, "user", find_user); }

void check_group_exists(const At& at, const Config& c) {
  check_exists(at, c.socket.group, "group", find_group);
  if (!c.socket.group.empty() && c.socket.user.empty())
    fail(at.node.origin, at.path, "needs socket.user (the group is switched to together with the user)");
}

void read_lcore_map(const Node& n, const std::string& path, const Node* ports_node, DpdkSection& d) {
  if (n.kind == Node::Kind::scalar && n.text == "auto") {
    d.lcores_auto = true;
    d.lcores.clear();
    return;
  }
  if (n.kind != Node::Kind::map)
    fail(n.origin, path, "expected 'auto' or a map of lcore id -> [\"PORT:QUEUE\", ...], got " + describe(n));
  d.lcores_auto = false;
  d.lcores.clear();
  if (n.items.empty()) fail(n.origin, path, "the lcore map is empty: use 'auto' or assign queues");
  // Queue counts must be explicit so that "every queue is served" can be checked here.
  for (size_t pi = 0; pi < d.ports.size(); ++pi) {
    if (d.ports[pi].queues == 0) {
      const Node& pn = ports_node->items[pi];
      const Node* q = pn.find("queues");
      std::string qp = child_path(index_path("dpdk.ports", pi), "queues");
      fail(q ? q->origin : pn.origin, qp, "must be a number, not auto, when dpdk.lcores is an explicit map");
    }
  }
  std::vector<std::vector<int>> owner(d.ports.size());  // owner[port][queue] = lcore or -1
  for (size_t pi = 0; pi < d.ports.size(); ++pi) owner[pi].assign(d.ports[pi].queues, -1);
  for (const Node& entry : n.items) {
    std::string ep = child_path(path, entry.key);
    uint64_t lcore = 0;
    if (!parse_u64(entry.key, lcore) || lcore > 1023)
      fail(entry.key_origin, ep, "lcore id must be an integer between 0 and 1023, got '" + entry.key + "'");
    const auto& refs = R::list(entry, ep);
    if (refs.empty()) fail(entry.origin, ep, "expected at least one \"PORT:QUEUE\"");
    LcoreAssignment la;
    la.lcore = static_cast<unsigned>(lcore);
    for (const LcoreAssignment& other : d.lcores)
      if (other.lcore == la.lcore)
        fail(entry.key_origin, ep, "lcore " + std::to_string(lcore) + " is listed twice");
    for (size_t i = 0; i < refs.size(); ++i) {
      std::string rp = index_path(ep, i);
      const std::string& t = R::scalar(refs[i], rp, "\"PORT:QUEUE\"").text;
      size_t colon = t.find(':');
      uint64_t port = 0, queue = 0;
      if (colon == std::string::npos || !parse_u64(std::string_view(t).substr(0, colon), port) ||
          !parse_u64(std::string_view(t).substr(colon + 1), queue))
        fail(refs[i].origin, rp,
             "bad queue reference \"" + t +
                 "\": expected PORT:QUEUE (indices into dpdk.ports and its queues)");
      if (port >= d.ports.size())
        fail(refs[i].origin, rp,
             "port " + std::to_string(port) + " does not exist (dpdk.ports has " +
                 std::to_string(d.ports.size()) + (d.ports.size() == 1 ? " entry)" : " entries)"));
      if (queue >= d.ports[port].queues)
        fail(refs[i].origin, rp,
             "queue " + std::to_string(queue) + " does not exist (dpdk.ports[" + std::to_string(port) +
                 "].queues is " + std::to_string(d.ports[port].queues) + ")");
      int& o = owner[port][queue];
      if (o >= 0) fail(refs[i].origin, rp, "queue " + t + " is already served by lcore " + std::to_string(o));
      o = static_cast<int>(lcore);
      la.queues.push_back({static_cast<unsigned>(port), static_cast<unsigned>(queue)});
    }
    d.lcores.push_back(std::move(la));
  }
  for (size_t pi = 0; pi < owner.size(); ++pi)
    for (size_t q = 0; q < owner[pi].size(); ++q)
      if (owner[pi][q] < 0)
        fail(n.origin, path,
             "queue " + std::to_string(pi) + ":" + std::to_string(q) +
                 " is not served by any lcore (RSS would send traffic there)");
}

void check_port_mtu(const Node& entry, const std::string& path, const PortSection& port) {
  if (port.mtu >= 1280) return;
  for (size_t i = 0; i < port.addresses.size(); ++i) {
    if (!port.addresses[i].ip.v6) continue;
    if (const Node* mtu = entry.find("mtu"))
      fail(mtu->origin, child_path(path, "mtu"),
           "must be at least 1280 on a port with IPv6 addresses (RFC 8200 s5), got " + std::to_string(port.mtu));
    const std::string p = index_path(child_path(path, "addresses"), i);
    fail(entry.find("addresses")->items[i].origin, p, "IPv6 needs an mtu of at least 1280 (RFC 8200 s5)");
  }
}

void check_rfc5780_owned(const Node& root, const Config& c) {
  if (c.mode != Mode::dpdk) return;
  auto owner = [&c](const IpAddress& ip) -> int {
    for (size_t i = 0; i < c.dpdk.ports.size(); ++i)
      for (const IpPrefix& a : c.dpdk.ports[i].addresses)
        if (a.ip == ip) return static_cast<int>(i);
    return -1;
  };
  const Node* list = root.find("stun") ? root.find("stun")->find("rfc5780") : nullptr;
  for (size_t i = 0; i < c.stun.rfc5780.size(); ++i) {
    const Rfc5780Section& pair = c.stun.rfc5780[i];
    const std::string p = index_path("stun.rfc5780", i);
    const Node* entry = list != nullptr && i < list->items.size() ? &list->items[i] : nullptr;
    auto where = [&](const char* key) { return entry && entry->find(key) ? entry->find(key)->origin : Origin{}; };
    const int first = owner(pair.primary.ip);
    if (first < 0)
      fail(where("primary"), child_path(p, "primary"),
           to_string(pair.primary.ip) + " is not an address of any dpdk.ports entry (list it in its addresses)");
    if (owner(pair.alternate.ip) != first)
      fail(where("alternate"), child_path(p, "alternate"),
           to_string(pair.alternate.ip) + " must be an address of dpdk.ports[" + std::to_string(first) +
               "], the port that owns the primary " + to_string(pair.primary.ip));
  }
}

void check_mode_needs(const Node& root, const Config& c) {
  if (c.mode == Mode::socket && c.socket.listen.empty()) {
    const Node* s = root.find("socket");
    const Node* l = s ? s->find("listen") : nullptr;
    fail(l ? l->origin : Origin{}, "socket.listen", "socket mode needs at least one listen address");
  }
  if (c.mode == Mode::dpdk && c.dpdk.ports.empty()) {
    const Node* d = root.find("dpdk");
    const Node* p = d ? d->find("ports") : nullptr;
    if (p) fail(p->origin, "dpdk.ports", "dpdk mode needs at least one port");
    fail(root.find("mode")->origin, "mode", "dpdk mode needs at least one port in dpdk.ports");
  }
}

}  // namespace stunbox::config
