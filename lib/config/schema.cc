// The config schema's rows: every key of the file, with its type, range, reload class, modes and docs.
// Adding a key = adding its member to config.h and one row here.
#include "config/schema.h"

#include <algorithm>
#include <optional>
#include <type_traits>
#include <utility>

#include "config/reader.h"
#include "config/text.h"
#include "config/validators.h"
#include "config/values.h"

namespace stunbox::config {
namespace {

// ---------------------------------------------------------------------------
// A member reached from the root by a chain of member pointers:
// Member<&Config::socket, &SocketSection::batch>::of(c) is c.socket.batch.

template <typename>
struct MemberPointer;
template <typename C, typename T>
struct MemberPointer<T C::*> {
  using Class = C;
};

template <auto First, auto... Rest>
struct Member {
  using Root = typename MemberPointer<decltype(First)>::Class;
  static auto& of(Root& r) { return ((r .* First) .* ... .* Rest); }
  static const auto& of(const Root& r) { return ((r .* First) .* ... .* Rest); }
  using Type = std::remove_cvref_t<decltype(of(std::declval<Root&>()))>;
};

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

// ---------------------------------------------------------------------------
// Generic read / render / compare / copy, one set per kind.

template <typename M>
using ValueOf = Value<typename M::Root>;

template <typename M>
bool same(const typename M::Root& a, const typename M::Root& b) {
  return M::of(a) == M::of(b);
}
template <typename M>
void take(typename M::Root& to, const typename M::Root& from) {
  M::of(to) = M::of(from);
}

template <typename M>
void read_integer(const ValueOf<M>& v, const At& at, typename M::Root& root) {
  auto& field = M::of(root);
  using T = std::remove_cvref_t<decltype(field)>;
  if constexpr (IsOptional<T>::value) {
    if (at.node.kind == Node::Kind::null) return;  // written empty: not set
    field = static_cast<typename T::value_type>(R::integer(at.node, at.path, v.min, v.max));
  } else {
    field = static_cast<T>(v.kind == Kind::integer_or_auto ? R::integer_or_auto(at.node, at.path, v.min, v.max)
                                                          : R::integer(at.node, at.path, v.min, v.max));
  }
}
template <typename M>
std::string render_integer(const typename M::Root& root, const std::string&) {
  const auto& field = M::of(root);
  if constexpr (IsOptional<std::remove_cvref_t<decltype(field)>>::value)
    return field ? std::to_string(*field) : std::string();
  else
    return std::to_string(field);
}
template <typename M>
std::string render_integer_or_auto(const typename M::Root& root, const std::string&) {
  const auto v = M::of(root);
  return v == 0 ? std::string("auto") : std::to_string(v);
}

template <typename M>
void read_boolean(const ValueOf<M>&, const At& at, typename M::Root& root) {
  M::of(root) = R::boolean(at.node, at.path);
}
template <typename M>
std::string render_boolean(const typename M::Root& root, const std::string&) {
  return M::of(root) ? "true" : "false";
}

template <typename M>
void read_string(const ValueOf<M>&, const At& at, typename M::Root& root) {
  M::of(root) = R::string(at.node, at.path);
}
template <typename M>
std::string render_string(const typename M::Root& root, const std::string&) {
  return quote(M::of(root));
}

template <typename M>
void read_enumeration(const ValueOf<M>& v, const At& at, typename M::Root& root) {
  M::of(root) = static_cast<typename M::Type>(R::one_of(at.node, at.path, v.names));
}
// The enums' names, looked up by the member's type.
template <typename E>
constexpr std::span<const std::string_view> names_of() {
  if constexpr (std::is_same_v<E, Mode>) return kModeNames;
  if constexpr (std::is_same_v<E, Idle>) return kIdleNames;
  if constexpr (std::is_same_v<E, TxChecksum>) return kTxChecksumNames;
  if constexpr (std::is_same_v<E, PortXstats>) return kPortXstatsNames;
  if constexpr (std::is_same_v<E, Steering>) return kSteeringNames;
  if constexpr (std::is_same_v<E, stun::FingerprintPolicy>) return kFingerprintNames;
}
template <typename M>
std::string render_enumeration(const typename M::Root& root, const std::string&) {
  return std::string(names_of<typename M::Type>()[static_cast<size_t>(M::of(root))]);
}

template <typename M>
void read_port_list(const ValueOf<M>& v, const At& at, typename M::Root& root) {
  const auto& items = R::list(at.node, at.path);
  if (v.at_least_one && items.empty()) fail(at.node.origin, at.path, "must list at least one port");
  auto& ports = M::of(root);
  ports.clear();
  for (size_t i = 0; i < items.size(); ++i) {
    auto port = static_cast<uint16_t>(R::integer(items[i], index_path(at.path, i), v.min, v.max));
    if (std::find(ports.begin(), ports.end(), port) != ports.end())
      fail(items[i].origin, index_path(at.path, i), "duplicate port " + std::to_string(port));
    ports.push_back(port);
  }
}
template <typename M>
std::string render_port_list(const typename M::Root& root, const std::string&) {
  return flow_list(M::of(root), [](uint16_t p) { return std::to_string(p); });
}

template <typename M>
void read_string_list(const ValueOf<M>&, const At& at, typename M::Root& root) {
  const auto& items = R::list(at.node, at.path);
  auto& out = M::of(root);
  out.clear();
  for (size_t i = 0; i < items.size(); ++i) out.push_back(R::scalar(items[i], index_path(at.path, i), "a string").text);
}
template <typename M>
std::string render_string_list(const typename M::Root& root, const std::string&) {
  return flow_list(M::of(root), [](const std::string& s) { return quote(s); });
}

// ---------------------------------------------------------------------------
// Row builders: the kind with its range, and the functions for the member.

template <typename Root>
using Check = void (*)(const At&, const Root&);

template <auto... P, typename M = Member<P...>>
constexpr ValueOf<M> integer(uint64_t lo, uint64_t hi, Check<typename M::Root> check = nullptr) {
  return {.kind = Kind::integer, .min = lo, .max = hi, .read = read_integer<M>, .render = render_integer<M>,
          .equal = same<M>, .copy = take<M>, .check = check};
}
template <auto... P, typename M = Member<P...>>
constexpr ValueOf<M> integer_or_auto(uint64_t lo, uint64_t hi) {
  return {.kind = Kind::integer_or_auto, .min = lo, .max = hi, .read = read_integer<M>,
          .render = render_integer_or_auto<M>, .equal = same<M>, .copy = take<M>};
}
template <auto... P, typename M = Member<P...>>
constexpr ValueOf<M> boolean() {
  return {.kind = Kind::boolean, .read = read_boolean<M>, .render = render_boolean<M>, .equal = same<M>,
          .copy = take<M>};
}
template <auto... P, typename M = Member<P...>>
constexpr ValueOf<M> string(Check<typename M::Root> check = nullptr) {
  return {.kind = Kind::string, .read = read_string<M>, .render = render_string<M>, .equal = same<M>,
          .copy = take<M>, .check = check};
}
template <auto... P, typename M = Member<P...>>
constexpr ValueOf<M> enumeration(Check<typename M::Root> check = nullptr) {
  return {.kind = Kind::enumeration, .names = names_of<typename M::Type>(), .read = read_enumeration<M>,
          .render = render_enumeration<M>, .equal = same<M>, .copy = take<M>, .check = check};
}
template <auto... P, typename M = Member<P...>>
constexpr ValueOf<M> port_list(uint64_t lo, uint64_t hi, bool at_least_one) {
  return {.kind = Kind::port_list, .min = lo, .max = hi, .at_least_one = at_least_one, .read = read_port_list<M>,
          .render = render_port_list<M>, .equal = same<M>, .copy = take<M>};
}
template <auto... P, typename M = Member<P...>>
constexpr ValueOf<M> string_list() {
  return {.kind = Kind::string_list, .read = read_string_list<M>, .render = render_string_list<M>,
          .equal = same<M>, .copy = take<M>};
}
// A key with a reader and renderer of its own; compared and copied as a member.
template <auto... P, typename M = Member<P...>>
constexpr ValueOf<M> custom(void (*read)(const ValueOf<M>&, const At&, typename M::Root&),
                            std::string (*render)(const typename M::Root&, const std::string&)) {
  return {.kind = Kind::custom, .read = read, .render = render, .equal = same<M>, .copy = take<M>};
}

// ---------------------------------------------------------------------------
// Rules of single keys.

void check_software(const At& at, const Config& c) {
  long chars = utf8_length(c.stun.software);
  if (chars < 0) fail(at.node.origin, at.path, "is not valid UTF-8");
  // RFC 8489 s14.14: SOFTWARE MUST be fewer than 128 characters.
  if (chars > 127)
    fail(at.node.origin, at.path, "must be at most 127 characters (RFC 8489 s14.14), got " + std::to_string(chars));
}

void check_control_socket(const At& at, const Config& c) {
  const std::string& s = c.control.socket;
  // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
  if (s.size() > 107) fail(at.node.origin, at.path, "path longer than 107 bytes (the UNIX socket limit)");
  if (s.find('\0') != std::string::npos) fail(at.node.origin, at.path, "path contains a NUL byte");
  if (!s.empty() && s.back() == '/') fail(at.node.origin, at.path, "expected a socket file path, got a directory");
}

void check_power_of_two(const At& at, const Config& c) {
  const unsigned t = c.limits.rate.table_size;
  if (t & (t - 1)) fail(at.node.origin, at.path, "must be a power of two, got " + at.node.text);
}

void check_sample(const At& at, const Config& c) {
  const unsigned n = c.stats.top_sources_sample;
  if (n & (n - 1)) fail(at.node.origin, at.path, "must be a power of two, got " + at.node.text);
}

// i40e/ice vector RX (i40e_rxtx_vec_avx2.c, ice_rxtx_vec_avx2.c) process descriptors 8 at a time
// (RTE_I40E_DESCS_PER_LOOP_AVX / ICE_DESCS_PER_LOOP_AVX) and floor the burst to that multiple.
void check_burst(const At& at, const Config& c) {
  if (c.dpdk.burst % 8 != 0)
    fail(at.node.origin, at.path,
         "must be a multiple of 8 (i40e and ice vector RX round a burst down to one), got " + at.node.text);
}

void check_device(const At& at, const PortSection& port) {
  if (port.device.empty()) fail(at.node.origin, at.path, "must not be empty");
}

// A Linux interface name (IFNAMSIZ 16 with the NUL; dev_valid_name()).
void check_iface(const At& at, const PortSection& port) {
  const std::string& n = port.exception.iface;
  if (n.empty()) return;
  if (n.size() > 15) fail(at.node.origin, at.path, "interface name longer than 15 characters: \"" + n + "\"");
  if (n == "." || n == ".." || n.find_first_of("/: \t\n,=") != std::string::npos)
    fail(at.node.origin, at.path, "not a usable interface name: \"" + n + "\" (no '/', ':', ',', '=' or blanks)");
}

// A port shared with the kernel (steering xdp or flow) takes only STUN for
// its addresses: it needs addresses, and an exception path would be a second
// way to the same kernel. xdp loads its program through net_af_xdp.
void check_steering(const At& at, const PortSection& port) {
  if (port.steering == Steering::all) return;
  const std::string name(kSteeringNames[static_cast<size_t>(port.steering)]);
  if (port.addresses.empty())
    fail(at.node.origin, at.path, name + " steers STUN to the port's addresses, but it has none: give `addresses`");
  if (!port.exception.iface.empty())
    fail(at.node.origin, at.path,
         name + " leaves every frame but STUN to the kernel's own interface: no exception path (exception.iface \"" +
             port.exception.iface + "\") on this port");
  if (port.steering == Steering::xdp && !port.device.starts_with("net_af_xdp"))
    fail(at.node.origin, at.path,
         "xdp needs a net_af_xdp device (its XDP program passes STUN up to it), got \"" + port.device + "\"");
}

// ---------------------------------------------------------------------------
// Keys with readers of their own.

using ConfigValue = Value<Config>;

void read_listen(const ConfigValue&, const At& at, Config& c) {
  const auto& items = R::list(at.node, at.path);
  std::vector<ListenAddress>& listen = c.socket.listen;
  listen.clear();
  for (size_t i = 0; i < items.size(); ++i) {
    ListenAddress la = parse_listen(items[i], index_path(at.path, i));
    for (const ListenAddress& other : listen)
      if (other == la)
        fail(items[i].origin, index_path(at.path, i),
             "duplicate listen address \"" + la.text + "\" (same as \"" + other.text + "\")");
    listen.push_back(std::move(la));
  }
}
std::string render_listen(const Config& c, const std::string&) {
  return flow_list(c.socket.listen, [](const ListenAddress& a) { return quote(to_string(a)); });
}

void read_metrics_listen(const ConfigValue&, const At& at, Config& c) {
  const std::string text = R::scalar(at.node, at.path, "an address string like \"127.0.0.1:9478\"").text;
  // "" switches the endpoint off; anything else must be host:port like a listen address.
  if (text.empty())
    c.stats.metrics_listen.reset();
  else
    c.stats.metrics_listen = parse_listen(at.node, at.path);
}
std::string render_metrics_listen(const Config& c, const std::string&) {
  return quote(c.stats.metrics_listen ? to_string(*c.stats.metrics_listen) : "");
}

// stun.rfc5780: a list of {primary, alternate, primary_advertised, alternate_advertised}.
IpAddress read_advertised(const Node& n, const std::string& path, bool v6) {
  const std::string text = R::scalar(n, path, "an address like \"203.0.113.2\"").text;
  auto ip = parse_ip(text);
  auto bad = [&](const std::string& why) { fail(n.origin, path, "bad address \"" + text + "\": " + why); };
  if (!ip) bad("expected a bare IPv4 or IPv6 address");
  if (ip->v6 != v6) bad(std::string("the pair is ") + (v6 ? "IPv6" : "IPv4"));
  if (is_wildcard(*ip) || (!ip->v6 && ip->bytes[0] >= 224) || (ip->v6 && ip->bytes[0] == 0xff))
    bad("must be a unicast address");
  return *ip;
}
void read_rfc5780(const ConfigValue&, const At& at, Config& c) {
  const auto& items = R::list(at.node, at.path);
  std::vector<Rfc5780Section>& pairs = c.stun.rfc5780;
  pairs.clear();
  static const std::vector<std::string_view> kEntryKeys = {"primary", "alternate", "primary_advertised",
                                                           "alternate_advertised"};
  for (size_t i = 0; i < items.size(); ++i) {
    const Node& e = items[i];
    const std::string p = index_path(at.path, i);
    if (e.kind != Node::Kind::map)
      fail(e.origin, p, "expected a map with 'primary' and 'alternate', got " + describe(e));
    R::check_keys(e, p, kEntryKeys);
    Rfc5780Section pair;
    for (const char* k : {"primary", "alternate"}) {
      const Node* v = e.find(k);
      if (!v) fail(e.origin, p, std::string("missing required key '") + k + "'");
      const std::string kp = child_path(p, k);
      ListenAddress la = parse_listen(*v, kp);
      // RFC 5780 s4.1: the endpoints are addresses clients send to, never "any".
      if (is_wildcard(la.ip)) fail(v->origin, kp, "bad address \"" + la.text + "\": must be a unicast address of this box");
      (std::string_view(k) == "primary" ? pair.primary : pair.alternate) = std::move(la);
    }
    const Node& alt = *e.find("alternate");
    const std::string ap = child_path(p, "alternate");
    if (pair.alternate.ip.v6 != pair.primary.ip.v6)
      fail(alt.origin, ap, "must be of the primary's family (" + std::string(pair.primary.ip.v6 ? "IPv6" : "IPv4") + ")");
    if (pair.alternate.ip == pair.primary.ip)
      fail(alt.origin, ap, "must be another IP than the primary's (RFC 5780 s4.1: change-IP needs two)");
    if (pair.alternate.port == pair.primary.port)
      fail(alt.origin, ap, "must be another port than the primary's (RFC 5780 s4.1: change-port needs two)");
    if (const Node* v = e.find("primary_advertised"))
      pair.primary_advertised = read_advertised(*v, child_path(p, "primary_advertised"), pair.primary.ip.v6);
    if (const Node* v = e.find("alternate_advertised"))
      pair.alternate_advertised = read_advertised(*v, child_path(p, "alternate_advertised"), pair.primary.ip.v6);
    for (size_t j = 0; j < pairs.size(); ++j)
      if (pairs[j].primary.ip.v6 == pair.primary.ip.v6)
        fail(e.origin, p, std::string("a second ") + (pair.primary.ip.v6 ? "IPv6" : "IPv4") + " pair (stun.rfc5780[" +
                              std::to_string(j) + "] is one): one pair per address family");
    pairs.push_back(std::move(pair));
  }
}
std::string render_rfc5780(const Config& c, const std::string&) {
  return flow_list(c.stun.rfc5780, [](const Rfc5780Section& r) {
    std::string o = "{primary: " + quote(to_string(r.primary)) + ", alternate: " + quote(to_string(r.alternate));
    if (r.primary_advertised) o += ", primary_advertised: " + quote(to_string(*r.primary_advertised));
    if (r.alternate_advertised) o += ", alternate_advertised: " + quote(to_string(*r.alternate_advertised));
    return o + "}";
  });
}

void read_ports(const ConfigValue&, const At& at, Config& c) {
  const auto& items = R::list(at.node, at.path);
  std::vector<PortSection>& ports = c.dpdk.ports;
  ports.clear();
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string p = index_path(at.path, i);
    if (items[i].kind != Node::Kind::map)
      fail(items[i].origin, p, "expected a map with a 'device' key, got " + describe(items[i]));
    PortSection port;
    read_map(port_keys(), "", items[i], p, port);
    check_port_mtu(items[i], p, port);
    for (size_t j = 0; j < ports.size(); ++j)
      if (ports[j].device == port.device)
        fail(items[i].origin, child_path(p, "device"),
             "device \"" + port.device + "\" is already dpdk.ports[" + std::to_string(j) + "]");
    for (size_t j = 0; j < ports.size() && !port.exception.iface.empty(); ++j)
      if (ports[j].exception.iface == port.exception.iface)
        fail(items[i].origin, child_path(child_path(p, "exception"), "iface"),
             "interface \"" + port.exception.iface + "\" is already dpdk.ports[" + std::to_string(j) +
                 "].exception.iface");
    ports.push_back(std::move(port));
  }
}
std::string render_ports(const Config& c, const std::string& indent) {
  if (c.dpdk.ports.empty()) return "[]";
  std::string out;
  for (const PortSection& p : c.dpdk.ports) {
    std::string entry;
    render_map(port_keys(), "", p, indent + "    ", entry);
    entry.replace(indent.size() + 2, 2, "- ");
    entry.pop_back();  // the last newline: to_yaml ends the key's line
    out += '\n';
    out += entry;
  }
  return out;
}

void read_lcores(const ConfigValue&, const At& at, Config& c) {
  read_lcore_map(at.node, at.path, at.map.find("ports"), c.dpdk);
}
std::string render_lcores(const Config& c, const std::string& indent) {
  if (c.dpdk.lcores_auto) return "auto";
  std::string out;
  for (const LcoreAssignment& l : c.dpdk.lcores)
    out += "\n" + indent + "  " + std::to_string(l.lcore) + ": " + flow_list(l.queues, [](const QueueRef& q) {
             return quote(std::to_string(q.port) + ":" + std::to_string(q.queue));
           });
  return out;
}
bool same_lcores(const Config& a, const Config& b) {
  return a.dpdk.lcores_auto == b.dpdk.lcores_auto && a.dpdk.lcores == b.dpdk.lcores;
}
void take_lcores(Config& to, const Config& from) {
  to.dpdk.lcores_auto = from.dpdk.lcores_auto;
  to.dpdk.lcores = from.dpdk.lcores;
}

void read_rss_types(const ConfigValue&, const At& at, Config& c) {
  const auto& items = R::list(at.node, at.path);
  if (items.empty()) fail(at.node.origin, at.path, "must name at least one hash type");
  std::vector<std::string>& types = c.dpdk.rss.types;
  types.clear();
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string p = index_path(at.path, i);
    const std::string& t = R::scalar(items[i], p, "a hash type name").text;
    R::one_of(items[i], p, kRssTypeNames);
    if (std::find(types.begin(), types.end(), t) != types.end())
      fail(items[i].origin, p, "duplicate hash type '" + t + "'");
    types.push_back(t);
  }
}
std::string render_rss_types(const Config& c, const std::string&) {
  return flow_list(c.dpdk.rss.types, [](const std::string& s) { return s; });
}

void read_rss_key(const ConfigValue&, const At& at, Config& c) {
  const Node& k = R::scalar(at.node, at.path, "'auto' or a hex string");
  if (k.text == "auto")
    c.dpdk.rss.key.clear();
  else
    c.dpdk.rss.key = parse_hex_key(k, at.path);
}
std::string render_rss_key(const Config& c, const std::string&) {
  return c.dpdk.rss.key.empty() ? "auto" : hex(c.dpdk.rss.key);
}

// limits.allow, limits.deny: lists of ACL CIDRs.
template <typename M>
void read_cidrs(const ValueOf<M>&, const At& at, typename M::Root& root) {
  const auto& items = R::list(at.node, at.path);
  std::vector<IpPrefix>& out = M::of(root);
  out.clear();
  for (size_t i = 0; i < items.size(); ++i) out.push_back(parse_cidr(items[i], index_path(at.path, i)));
}
template <typename M>
std::string render_prefixes(const typename M::Root& root, const std::string&) {
  return flow_list(M::of(root), [](const IpPrefix& a) { return quote(to_string(a)); });
}

// A port's owned addresses.
void read_addresses(const Value<PortSection>&, const At& at, PortSection& port) {
  const auto& items = R::list(at.node, at.path);
  for (size_t i = 0; i < items.size(); ++i) {
    IpPrefix pre = parse_prefix(items[i], index_path(at.path, i));
    for (const IpPrefix& other : port.addresses)
      if (other.ip == pre.ip) fail(items[i].origin, index_path(at.path, i), "duplicate address " + to_string(pre.ip));
    port.addresses.push_back(std::move(pre));
  }
}

// ---------------------------------------------------------------------------
// The rows. Meanings are markdown, as docs/configuration.md shows them.

using C = Config;
using St = StunSection;
using So = SocketSection;
using D = DpdkSection;
using L = LimitsSection;

constexpr Key<Config> kKeys[] = {
    {.path = "mode",
     .value = enumeration<&C::mode>(),
     .help = "which data path serves: kernel sockets or DPDK",
     .meaning = "`socket`: kernel UDP sockets, works anywhere. `dpdk`: the kernel-bypass appliance configured in "
                "[`dpdk`](#dpdk)."},

    // stun
    {.path = "stun.ports",
     .value = port_list<&C::stun, &St::ports>(1, 65535, true),
     .modes = Modes::dpdk,
     .type = "list of integers",
     .range = "each 1..65535, no duplicates, at least one",
     .help = "UDP destination ports answered",
     .meaning = "UDP destination ports answered. Datagrams to other ports are dropped and counted. In socket mode "
                "each `socket.listen` entry carries its own port and this list is not used."},
    {.path = "stun.software",
     .value = string<&C::stun, &St::software>(check_software),
     .reload = Reload::live,
     .range = "at most 127 characters of valid UTF-8 (RFC 8489 s14.14)",
     .help = "SOFTWARE attribute of every response; \"\" = none",
     .meaning = "SOFTWARE attribute added to every response. Empty = not sent. Off by default: it makes every "
                "answer bigger (amplification) and tells scanners what answers."},
    {.path = "stun.fingerprint",
     .value = enumeration<&C::stun, &St::fingerprint>(),
     .reload = Reload::live,
     .help = "FINGERPRINT in responses: as the request did, always or never",
     .meaning = "FINGERPRINT attribute in responses (RFC 8489 s14.7): `mirror` adds it when the request carried "
                "one, `always` on every RFC 5389/8489 response, `never` never. Classic (RFC 3489) responses never "
                "carry it."},
    {.path = "stun.classic",
     .value = boolean<&C::stun, &St::classic>(),
     .reload = Reload::live,
     .help = "answer RFC 3489 classic requests",
     .meaning = "Answer RFC 3489 \"classic\" Binding requests (no magic cookie) with MAPPED-ADDRESS. `false` drops "
                "them."},

    // socket
    {.path = "stun.rfc5780",
     .value = custom<&C::stun, &St::rfc5780>(read_rfc5780, render_rfc5780),
     .type = "list of pair maps",
     .range = "at most one pair per family; `primary` and `alternate`: `\"IPv4:PORT\"` or `\"[IPv6]:PORT\"` of one "
              "family, different IPs and different ports, not a wildcard; `primary_advertised`, "
              "`alternate_advertised`: optional bare unicast IPs of the pair's family",
     .help = "RFC 5780 NAT behaviour discovery: [{primary: IP:PORT, alternate: IP:PORT}]; [] = off",
     .meaning = "RFC 5780 NAT behaviour discovery, off by default. Each pair's four endpoints (primary/alternate "
                "IP x primary/alternate port) answer with OTHER-ADDRESS and RESPONSE-ORIGIN (classic clients: "
                "CHANGED-ADDRESS and SOURCE-ADDRESS), honour CHANGE-REQUEST by answering from the other IP and/or "
                "port, and honour RESPONSE-PORT (towards ports `limits.deny_source_ports` allows). Socket mode binds "
                "the four endpoints itself besides `socket.listen` (an endpoint also listed there is bound once); "
                "dpdk mode needs both IPs among the `addresses` of one port and serves both ports besides "
                "`stun.ports`. `primary_advertised` / `alternate_advertised` are what clients are told when the box "
                "sits behind a 1:1 NAT. The endpoints must be per-box unicast addresses, never an anycast service "
                "address: a client's follow-up to OTHER-ADDRESS must reach this box. Requests elsewhere keep "
                "today's answers (a requested change gets 420).",
     .example = "[{primary: \"198.18.0.2:3478\", alternate: \"198.18.0.3:3479\"}]"},
    {.path = "socket.listen",
     .value = custom<&C::socket, &So::listen>(read_listen, render_listen),
     .modes = Modes::socket,
     .type = "list of addresses",
     .range = "`\"IPv4:PORT\"` or `\"[IPv6]:PORT\"`, port 1..65535; no multicast; no duplicates (compared as "
              "addresses, so `[::]` and `[0::0]` are the same); at least one in socket mode",
     .help = "addresses to listen on (IPv4:PORT, [IPv6]:PORT)",
     .meaning = "Addresses to listen on. A wildcard (`0.0.0.0`, `[::]`) takes every address of the host and each "
                "reply leaves from the address its request was sent to. `[::]` is bound IPv6-only, so list both "
                "wildcards for dual stack. IPv6 scope ids (`%eth0`) are not supported.",
     .example = "[\"127.0.0.1:4000\"]"},
    {.path = "socket.workers",
     .value = integer_or_auto<&C::socket, &So::workers>(1, 1024),
     .modes = Modes::socket,
     .help = "worker threads; auto = one per online CPU",
     .meaning = "Worker threads; each opens its own SO_REUSEPORT socket per listen address, and the kernel spreads "
                "flows over them. `auto` = one per online CPU."},
    {.path = "socket.batch",
     .value = integer<&C::socket, &So::batch>(1, 1024),
     .modes = Modes::socket,
     .help = "datagrams per recvmmsg/sendmmsg",
     .meaning = "Datagrams per `recvmmsg`/`sendmmsg` call."},
    {.path = "socket.pin",
     .value = boolean<&C::socket, &So::pin>(),
     .modes = Modes::socket,
     .help = "pin worker i to CPU i",
     .meaning = "Pin worker *i* to CPU *i* modulo the CPU count."},
    {.path = "socket.rcvbuf",
     .value = integer<&C::socket, &So::rcvbuf>(0, 2147483647),
     .modes = Modes::socket,
     .help = "SO_RCVBUF bytes per socket; 0 = kernel default",
     .meaning = "SO_RCVBUF in bytes per socket; 0 = the kernel default. The kernel caps it at "
                "`net.core.rmem_max`."},
    {.path = "socket.sndbuf",
     .value = integer<&C::socket, &So::sndbuf>(0, 2147483647),
     .modes = Modes::socket,
     .help = "SO_SNDBUF bytes per socket; 0 = kernel default",
     .meaning = "SO_SNDBUF in bytes per socket; 0 = the kernel default (`net.core.wmem_max` caps it)."},
    {.path = "socket.user",
     .value = string<&C::socket, &So::user>(check_user_exists),
     .modes = Modes::socket,
     .range = "a user name from the user database (checked at load: `no such user \"x\"`); `\"\"` = none",
     .help = "drop root to this user once everything is bound",
     .meaning = "Started as root: switch to this user once every listen socket, the control socket and "
                "`stats.metrics_listen` are bound, before any worker serves, and say so at start (`stunbox: "
                "running as user nobody, group nogroup (uid 65534, gid 65534)`). Supplementary groups are dropped, "
                "no capability is left, no_new_privs is set. Not started as root: only the starting user itself is "
                "accepted; anything else is one line and exit 1 (`socket.user: cannot switch to user X: not running "
                "as root`) before anything is bound. `\"\"` = keep running as the starting user. Needs a restart to "
                "change. dpdk mode ignores it, like every `socket.*` key. See docs/security.md, \"Privileges\"."},
    {.path = "socket.group",
     .value = string<&C::socket, &So::group>(check_group_exists),
     .modes = Modes::socket,
     .range = "a group name from the group database (checked at load); only together with `socket.user`",
     .help = "the group for socket.user; \"\" = the user's primary group",
     .meaning = "The group to switch to with `socket.user`; `\"\"` = the user's primary group. Needs a restart to "
                "change.",
     .example = "root"},

    // dpdk
    {.path = "dpdk.eal",
     .value = string_list<&C::dpdk, &D::eal>(),
     .modes = Modes::dpdk,
     .help = "EAL arguments (after `--` on the command line: appended)",
     .meaning = "EAL arguments, without the program name (e.g. `[\"-l\", \"0-2\", \"--in-memory\"]`). Anything "
                "after `--` on the stunbox command line is appended. Numbers may be written unquoted (`-m, 256`)."},
    {.path = "dpdk.ports",
     .value = custom<&C::dpdk, &D::ports>(read_ports, render_ports),
     .modes = Modes::dpdk,
     .type = "list of port maps",
     .range = "at least one in dpdk mode; no device twice",
     .help = "the DPDK ports served (keys: see dpdk.ports[i])",
     .meaning = "The DPDK ports served; a port's index in this list is its number in `dpdk.lcores` and in "
                "counters. Keys below.",
     .example = "[{device: net_null1, queues: 1}]"},
    {.path = "dpdk.lcores",
     .value = {.read = read_lcores, .render = render_lcores, .equal = same_lcores, .copy = take_lcores},
     .modes = Modes::dpdk,
     .type = "`auto` or map",
     .range = "see below",
     .help = "which lcore serves which queues: auto, or {LCORE: [\"PORT:QUEUE\", ...]}",
     .meaning = "Which worker lcore serves which RX/TX queue pair.",
     .example = "{1: [\"0:0\"]}",
     .late = true},
    {.path = "dpdk.burst",
     .value = integer<&C::dpdk, &D::burst>(8, 512, check_burst),
     .modes = Modes::dpdk,
     .range = "8..512, a multiple of 8",
     .help = "packets per rx_burst/tx_burst (a multiple of 8)",
     .meaning = "Packets per `rx_burst` / `tx_burst`. A multiple of 8: the AVX2/AVX-512 vector RX paths of i40e "
                "and ice round the burst down to a multiple of 8 (their SSE paths to 4), so a burst of 1..7 "
                "receives nothing at all and any other is silently cut (docs/deployment.md, \"Per-driver "
                "rules\")."},
    {.path = "dpdk.idle",
     .value = enumeration<&C::dpdk, &D::idle>(),
     .modes = Modes::dpdk,
     .help = "poll: spin; adaptive: pause, then sleep, when idle",
     .meaning = "`poll`: workers spin (lowest latency, a full CPU each; production). `adaptive`: after a run of "
                "empty polls a worker pauses, then sleeps briefly, so a small lab machine keeps CPU for its "
                "clients."},
    {.path = "dpdk.mempool.size",
     .value = integer_or_auto<&C::dpdk, &D::mempool, &MempoolSection::size>(1024, 67108864),
     .modes = Modes::dpdk,
     .help = "mbufs per NUMA socket; auto = what the queues need",
     .meaning = "mbufs per NUMA socket in use. `auto` = enough for every queue's RX and TX descriptors plus the "
                "lcore caches and a margin. A size below that need is an error at start."},
    {.path = "dpdk.mempool.cache",
     .value = integer<&C::dpdk, &D::mempool, &MempoolSection::cache>(0, 512),
     .modes = Modes::dpdk,
     .help = "per-lcore mbuf cache",
     .meaning = "Per-lcore mbuf cache (DPDK's maximum is 512)."},
    {.path = "dpdk.mempool.data_room",
     .value = integer<&C::dpdk, &D::mempool, &MempoolSection::data_room>(512, 65535),
     .modes = Modes::dpdk,
     .help = "mbuf data room in bytes, headroom included",
     .meaning = "mbuf data room in bytes, headroom (128) included. The default holds any frame up to 2048 bytes "
                "in one segment; for jumbo `mtu` raise it to at least mtu + 18 (+4 with `vlan`) + 128, since "
                "multi-segment frames are dropped."},
    {.path = "dpdk.rss.types",
     .value = custom<&C::dpdk, &D::rss, &RssSection::types>(read_rss_types, render_rss_types),
     .modes = Modes::dpdk,
     .type = "list of names",
     .range = "names from the list below, no duplicates, at least one",
     .help = "hash types RSS spreads flows by",
     .meaning = "Hash types RSS spreads flows by. Types a device does not support are dropped with a message at "
                "start; `ipv4` and `ipv6` on a device that has no such plain type (i40e) are mapped to its "
                "`ipv4-other ipv4-frag` / `ipv6-other ipv6-frag` instead, and the start-up summary says so.",
     .example = "[ipv4-udp]"},
    {.path = "dpdk.rss.key",
     .value = custom<&C::dpdk, &D::rss, &RssSection::key>(read_rss_key, render_rss_key),
     .modes = Modes::dpdk,
     .type = "`auto` or hex string",
     .range = "exactly 40 or 52 bytes: 80 or 104 hex digits, no separators, either case; must be the device's "
              "key size (mlx5, ixgbe: 40; i40e, ice: 52), else start-up fails naming `dpdk.rss.key`",
     .help = "the RSS hash key; auto = random, the device's size, new at every start",
     .meaning = "The RSS hash key. `auto` = a random key of the device's size, new at every start (shown by "
                "`show port info`): a key an attacker knows lets a spoofed flood pick tuples that all hash to one "
                "queue. Set a fixed key only to reproduce a hash elsewhere; never a periodic one such as 0x6d5a "
                "repeated.",
     .example = "3724c20085596e34c398d558b2b42a00d71815e89f934a0a4792801afe26fe52cea9086b38608f13"},
    {.path = "dpdk.link_wait_ms",
     .value = integer<&C::dpdk, &D::link_wait_ms>(0, 600000),
     .modes = Modes::dpdk,
     .help = "how long to wait for each port's link at start",
     .meaning = "How long to wait at start for each port's link to come up; after that stunbox warns and serves "
                "anyway."},
    {.path = "dpdk.exit_after_idle_ms",
     .value = integer<&C::dpdk, &D::exit_after_idle_ms>(0, 86400000),
     .modes = Modes::dpdk,
     .help = "stop after this long with no packet received; 0 = never",
     .meaning = "Stop by itself after this many milliseconds with no packet received on any queue; 0 = never. A "
                "test aid (net_pcap runs)."},

    // stats
    {.path = "stats.period",
     .value = integer<&C::stats, &StatsSection::period>(0, 86400),
     .reload = Reload::live,
     .help = "print a stats block every N seconds; 0 = off",
     .meaning = "Print a block every N seconds on stdout: a `stunbox: stats` line, testpmd's port block for every "
                "port (listen address in socket mode), and the counters with rates; 0 = off. Screen-clearing "
                "escapes only when stdout is a terminal. Live on reload; the console's `set stats-period N` changes "
                "it until the next reload that changes this key. The final counters are printed at exit either "
                "way."},
    {.path = "stats.metrics_listen",
     .value = custom<&C::stats, &StatsSection::metrics_listen>(read_metrics_listen, render_metrics_listen),
     .type = "address",
     .range = "`\"\"` or `\"IPv4:PORT\"` / `\"[IPv6]:PORT\"` like `socket.listen`",
     .help = "Prometheus /metrics endpoint; \"\" = off",
     .meaning = "Where to serve the counters as Prometheus metrics over HTTP (`GET /metrics`, text format 0.0.4, "
                "libmicrohttpd on its own thread; every other path is 404); `\"\"` = off. Bound at start-up: an "
                "address in use is one line and exit 1. Needs a restart to change. There is no authentication: "
                "keep it on loopback or a management address, e.g. `\"127.0.0.1:9478\"`. Metric names: "
                "docs/deployment.md, \"Metrics reference\".",
     .example = "\"127.0.0.1:9478\""},
    {.path = "stats.top_sources_sample",
     .value = integer<&C::stats, &StatsSection::top_sources_sample>(1, 1024, check_sample),
     .range = "power of two, 1..1024",
     .help = "show top sources records one packet in N; 1 = every packet",
     .meaning = "`show top sources` records one packet in N (at random gaps averaging N, so no traffic pattern "
                "can hide from it) into each worker's sketch; 1 = every packet. Counts are scaled by N and the "
                "shown error bound widens by the sampling error (docs/operations.md, \"Top sources\"). The "
                "default, 64, keeps the sketch under 2 cycles per answered request (docs/benchmarks.md); a "
                "prefix with 1% of a 1 Mpps flood is still found within a second. Needs a restart to change."},
    {.path = "stats.port_xstats",
     .value = enumeration<&C::stats, &StatsSection::port_xstats>(),
     .reload = Reload::live,
     .modes = Modes::dpdk,
     .help = "xstats /metrics exports: drops (per-driver allow-list) or all",
     .meaning = "Which of a port's extended statistics (`show port xstats`) `/metrics` exports as "
                "`stunbox_port_xstat{port,name}`. `drops`: the device's drop and error counters, an allow-list per "
                "driver (mlx5 `rx_discards_phy`, `rx_out_of_buffer`; i40e/ice `rx_dropped_packets`; ixgbe "
                "`rx_total_missed_packets`; ethdev's `rx_missed_errors`, `rx_mbuf_allocation_errors` for every "
                "driver; the full list: docs/deployment.md): `imissed` alone misses what the PHY drops. `all`: "
                "every xstat the driver has (hundreds on mlx5 and i40e)."},

    // control
    {.path = "control.socket",
     .value = string<&C::control, &ControlSection::socket>(check_control_socket),
     .range = "a file path of at most 107 bytes, not ending in `/`; `\"\"` = none",
     .help = "the console's UNIX socket; \"\" = none",
     .meaning = "The UNIX socket of the testpmd-style console (`stunbox-cli -s PATH` attaches to it; see "
                "docs/operations.md#console). Missing directories are created (0750), the socket is 0660 and "
                "removed at exit; a stale socket left by a crash is replaced, but one another live stunbox answers "
                "on is not taken over: stunbox then warns and runs without a control socket. Changing it needs a "
                "restart."},

    // limits
    {.path = "limits.rate.pps",
     .value = integer<&C::limits, &L::rate, &RateSection::pps>(0, 100000000),
     .reload = Reload::live,
     .help = "answers per second per source prefix; 0 = off",
     .meaning = "Answers per second per source prefix (a token bucket per prefix, one table shared by every "
                "worker/lcore, so spreading over source ports, RSS queues or SO_REUSEPORT sockets does not help a "
                "source); 0 = off."},
    {.path = "limits.rate.burst",
     .value = integer<&C::limits, &L::rate, &RateSection::burst>(1, 1000000),
     .reload = Reload::live,
     .help = "bucket depth: answers a source may get back to back",
     .meaning = "Bucket depth: answers a source may get back to back; a source new to the table starts with a full "
                "bucket."},
    {.path = "limits.rate.ipv4_prefix",
     .value = integer<&C::limits, &L::rate, &RateSection::ipv4_prefix>(1, 32),
     .reload = Reload::live,
     .help = "IPv4 sources in one prefix of this length share a bucket",
     .meaning = "IPv4 sources in the same prefix of this length share one bucket."},
    {.path = "limits.rate.ipv6_prefix",
     .value = integer<&C::limits, &L::rate, &RateSection::ipv6_prefix>(1, 128),
     .reload = Reload::live,
     .help = "IPv6 sources in one prefix of this length share a bucket",
     .meaning = "Same for IPv6 (a /64 is what one subscriber usually holds). IPv4-mapped IPv6 sources count as "
                "IPv4."},
    {.path = "limits.rate.table_size",
     .value = integer<&C::limits, &L::rate, &RateSection::table_size>(1024, 16777216, check_power_of_two),
     .range = "power of two, 1024..16777216",
     .help = "buckets in the rate table (allocated once)",
     .meaning = "Buckets in the table (16 bytes each, allocated once at start; 4-way sets, idle or least-limited "
                "entries evicted first). Changing it needs a restart."},
    {.path = "limits.global_pps",
     .value = integer<&C::limits, &L::global_pps>(0, 1000000000),
     .reload = Reload::live,
     .help = "answers per second for the whole process; 0 = off",
     .meaning = "Answers per second for the whole process (burst: a tenth of a second's worth); 0 = off."},
    {.path = "limits.allow",
     .value = custom<&C::limits, &L::allow>(read_cidrs<Member<&C::limits, &L::allow>>,
                                            render_prefixes<Member<&C::limits, &L::allow>>),
     .reload = Reload::live,
     .type = "list of CIDRs",
     .range = "`\"A.B.C.D/LEN\"`, `\"X::/LEN\"`, bare address = /32 or /128; host bits must be zero; `0.0.0.0/0` "
              "and `::/0` allowed",
     .help = "non-empty: answer only these sources",
     .meaning = "Non-empty: answer only sources inside one of these (an IPv6-only list therefore shuts out IPv4).",
     .example = "[\"198.18.0.0/15\"]"},
    {.path = "limits.deny",
     .value = custom<&C::limits, &L::deny>(read_cidrs<Member<&C::limits, &L::deny>>,
                                           render_prefixes<Member<&C::limits, &L::deny>>),
     .reload = Reload::live,
     .type = "list of CIDRs",
     .range = "as `allow`",
     .help = "never answer these sources",
     .meaning = "Never answer these sources; deny wins over allow.",
     .example = "[\"2001:db8::/32\"]"},
    {.path = "limits.deny_source_ports",
     .value = port_list<&C::limits, &L::deny_source_ports>(0, 65535, false),
     .reload = Reload::live,
     .range = "0..65535, no duplicates; `[]` allowed",
     .help = "never answer these UDP source ports",
     .meaning = "Never answer requests from these UDP source ports: a spoofed request \"from\" a reflecting service "
                "(echo, chargen, DNS, portmap, NTP, NetBIOS, SNMP, CLDAP, SSDP, mDNS, memcached) would bounce our "
                "reply into it."},
    {.path = "limits.l3_pps",
     .value = integer<&C::limits, &L::l3_pps>(0, 100000000),
     .reload = Reload::live,
     .modes = Modes::dpdk,
     .help = "ICMP/ICMPv6 echo replies per second per lcore; 0 = off",
     .meaning = "ICMP and ICMPv6 echo replies per second per lcore (burst: a tenth of a second's worth); the excess "
                "is dropped as `l3_policed`. 0 = off. Echo may be policed hard: it never spends the neighbour "
                "budget (`nd_pps`)."},
    {.path = "limits.nd_pps",
     .value = integer<&C::limits, &L::nd_pps>(0, 100000000),
     .reload = Reload::live,
     .modes = Modes::dpdk,
     .help = "ARP replies and neighbour advertisements per second per lcore; 0 = off",
     .meaning = "ARP replies and neighbour advertisements per second per lcore (burst: a tenth of a second's "
                "worth), a budget of their own that no echo reply spends, so a ping flood cannot starve the "
                "upstream router's neighbour resolution and blackhole the box; the excess is dropped as "
                "`nd_policed`. ARP (and, on NICs that cannot hash it, ICMP/NDP) always lands on queue 0: keep this "
                "generous. 0 = off."},

    // health
    {.path = "health.stall_ms",
     .value = integer<&C::health, &HealthSection::stall_ms>(100, 600000),
     .help = "a worker with no progress for this long is stalled (unhealthy, no watchdog ping)",
     .meaning = "A worker (DPDK lcore or socket thread) whose loop counter has not moved for this many milliseconds "
                "is stalled: the box reports unhealthy (`/healthz` 503, `stunbox-cli health` exit 1, "
                "`stunbox_health` 0) and the systemd watchdog is no longer pinged. Needs a restart to change."},
    {.path = "health.start_drained",
     .value = boolean<&C::health, &HealthSection::start_drained>(),
     .help = "start drained: serve STUN but report unhealthy until `drain off`",
     .meaning = "Start with drain on: STUN is answered as usual but the box reports unhealthy (`drained`), so a "
                "BGP health hook keeps the service address withdrawn until an operator says `stunbox-cli drain "
                "off`. For bringing a box into a fleet by hand. Read at start only."},
    {.path = "health.drain_on_stop_s",
     .value = integer<&C::health, &HealthSection::drain_on_stop_s>(0, 3600),
     .reload = Reload::live,
     .help = "on SIGTERM/SIGINT drain, keep serving this many seconds, then stop; 0 = stop at once",
     .meaning = "On SIGTERM or SIGINT: turn drain on, keep answering for this many seconds (long enough for the "
                "health hook to withdraw the routes and the routers to converge), then stop. A second SIGTERM or "
                "SIGINT stops at once. 0 = stop at once. `--drain-on-stop SECONDS` on the command line overrides it. "
                "Keep systemd's `TimeoutStopSec` above it. Live on reload."},
};

using P = PortSection;

constexpr Key<PortSection> kPortKeys[] = {
    {.path = "device",
     .value = string<&P::device>(check_device),
     .modes = Modes::dpdk,
     .range = "not empty",
     .help = "PCI address or vdev spec",
     .meaning = "A PCI address (`0000:03:00.0`) or a vdev spec (`net_af_packet0,iface=sbx-dp0,qpairs=2`, "
                "`net_null0`, ...).",
     .required = true},
    {.path = "queues",
     .value = integer_or_auto<&P::queues>(1, 1024),
     .modes = Modes::dpdk,
     .help = "RX/TX queue pairs; auto = one per worker lcore",
     .meaning = "RX/TX queue pairs. `auto` = one per worker lcore, capped by what the device offers. Must be a "
                "number when `dpdk.lcores` is an explicit map."},
    {.path = "rx_desc",
     .value = integer<&P::rx_desc>(64, 32768),
     .modes = Modes::dpdk,
     .help = "RX descriptors per queue",
     .meaning = "RX descriptors per queue. Use a power of two: i40e keeps its vector RX path only then (stunbox "
                "warns at start, naming this key, when it is not), and devices round counts to their own "
                "alignment (also warned about)."},
    {.path = "tx_desc",
     .value = integer<&P::tx_desc>(64, 32768),
     .modes = Modes::dpdk,
     .help = "TX descriptors per queue",
     .meaning = "TX descriptors per queue (same note)."},
    {.path = "addresses",
     .value = {.read = read_addresses, .render = render_prefixes<Member<&P::addresses>>,
               .equal = same<Member<&P::addresses>>, .copy = take<Member<&P::addresses>>},
     .modes = Modes::dpdk,
     .type = "list of prefixes",
     .range = "`\"IPv4/LEN\"` (LEN 1..32) or `\"IPv6/LEN\"` (LEN 1..128); a bare address means /32 or /128",
     .help = "the addresses this port owns (ARP, NDP, ping, STUN)",
     .meaning = "The addresses this port owns: it answers ARP, NDP, ping and STUN for them; packets to other "
                "addresses are dropped. Not allowed: the unspecified address (`0.0.0.0`, `::`), multicast, "
                "`255.255.255.255`, the broadcast address of its own IPv4 subnet (e.g. `198.18.0.255/24`; /31 and "
                "/32 have none, RFC 3021), the same address twice on one port. The same address may appear on "
                "several ports (e.g. one af_xdp vdev per queue of the same interface).",
     .example = "[\"198.18.0.2/24\"]"},
    {.path = "vlan",
     .value = integer<&P::vlan>(1, 4094),
     .modes = Modes::dpdk,
     .help = "802.1Q VLAN id; omit for untagged",
     .meaning = "802.1Q VLAN id: the port accepts and sends frames tagged with this id only. Omit for untagged."},
    {.path = "mtu",
     .value = integer<&P::mtu>(68, 9600),
     .modes = Modes::dpdk,
     .range = "68..9600; at least 1280 when the port has an IPv6 address (RFC 8200 s5)",
     .help = "the port's MTU",
     .meaning = "The port's MTU."},
    {.path = "exception.iface",
     .value = string<&P::exception, &ExceptionSection::iface>(check_iface),
     .modes = Modes::dpdk,
     .range = "a Linux interface name of at most 15 characters, no `/`, `:`, `,`, `=` or blanks; `\"\"` = none; "
              "not the same on two ports",
     .help = "kernel TAP interface for frames the data path does not answer; \"\" = none",
     .meaning = "The exception path: frames for the box that the data path does not answer (TCP such as BGP and SSH, "
                "UDP to ports not in `stun.ports`, ICMP other than echo requests, ARP replies, IPv6 link-local and "
                "multicast, neighbour advertisements, router advertisements, fragments) go to this kernel TAP "
                "interface instead of being dropped, and what the kernel sends there leaves through the port. "
                "stunbox creates it (net_tap) with the port's MAC and MTU, or attaches to a persistent TAP of that "
                "name (`ip tuntap add dev NAME mode tap multi_queue`), which keeps its addresses across restarts. "
                "Put the box's unicast addresses on it (the same as `addresses`); the kernel then runs BGP, SSH and "
                "ping there. docs/deployment.md, \"Routed deployment\", has the model. `\"\"` = none: such frames "
                "are dropped and counted by reason.",
     .example = "\"stunbox0\""},
    {.path = "exception.pps",
     .value = integer<&P::exception, &ExceptionSection::pps>(1, 10000000),
     .modes = Modes::dpdk,
     .help = "exception frames per second, each way; the excess is dropped",
     .meaning = "Frames per second the exception path carries in each direction (to the kernel, from the kernel), "
                "burst a tenth of a second's worth; the excess is dropped as `exception_policed`, so a flood of "
                "TCP or multicast at the box cannot cost the STUN path more than this."},
    {.path = "tx_checksum",
     .value = enumeration<&P::tx_checksum>(),
     .modes = Modes::dpdk,
     .help = "reply IPv4/UDP checksums: auto, hw (the NIC) or sw",
     .meaning = "Who computes the IPv4 header and UDP checksums of STUN replies. `sw`: stunbox, from values it "
                "already holds in registers (a few cycles per reply). `hw`: the NIC (TX checksum offload); start-up "
                "fails if the device does not offer it. `auto`: software on drivers where a TX checksum offload "
                "switches off their vector TX path (i40e, ixgbe; ice unless its AVX2/AVX-512 TX path is usable), "
                "the NIC elsewhere when it offers the offload (mlx5, net_tap, ...). The start-up summary and `show "
                "port info` say what was chosen and why; docs/deployment.md has the per-driver table."},
    {.path = "steering",
     .value = enumeration<&P::steering>(check_steering),
     .modes = Modes::dpdk,
     .range = "all, xdp, flow; xdp and flow need `addresses` and no `exception.iface`; xdp a `net_af_xdp` device",
     .help = "what the port takes: all frames, or STUN only (xdp: an XDP program; flow: isolated flow rules)",
     .meaning = "How the port is shared with the kernel. `all`: stunbox takes every frame and answers ARP, NDP and "
                "ping itself (the rest goes to the exception path or is dropped). `xdp`: the kernel keeps the "
                "interface and its addresses; stunbox's XDP program (loaded through net_af_xdp's `xdp_prog=`, "
                "added to the device spec unless it names one) passes up only UDP to `stun.ports` at the port's "
                "`addresses` and leaves everything else to the kernel, which answers ARP, NDP, ping, BGP and SSH; "
                "the netdev must have exactly the queues the port uses (`ethtool -L IFACE combined N`). `flow`: "
                "the NIC is put in flow isolation (mlx5, bifurcated) and flow rules send only that STUN to "
                "stunbox's queues; the kernel's netdev gets the rest. With `xdp` or `flow` stunbox answers no "
                "ARP, NDP or ping and sends no announcements on the port. docs/deployment.md, \"Sharing a port "
                "with the kernel\", says which fits which NIC.",
     .late = true},
};

}  // namespace

std::span<const Key<Config>> keys() { return kKeys; }
std::span<const Key<PortSection>> port_keys() { return kPortKeys; }

Config default_config() {
  Config c;
  c.socket.listen = {ListenAddress{IpAddress{false, {}}, 3478, "0.0.0.0:3478"},
                     ListenAddress{IpAddress{true, {}}, 3478, "[::]:3478"}};
  return c;
}

}  // namespace stunbox::config
