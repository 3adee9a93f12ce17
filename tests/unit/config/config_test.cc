// Unit tests for lib/config: good files, bad files with their exact one-line errors, --set, to_yaml round trip.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/schema.h"

namespace stunbox::config {
namespace {

IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress ip;
  ip.bytes[0] = a, ip.bytes[1] = b, ip.bytes[2] = c, ip.bytes[3] = d;
  return ip;
}

IpAddress v6(std::string_view text) {
  auto ip = parse_ip(text);
  EXPECT_TRUE(ip && ip->v6) << text;
  return ip.value_or(IpAddress{});
}

// The built-in defaults, written out independently of the loader.
Config defaults() {
  Config c;
  c.socket.listen = {ListenAddress{v4(0, 0, 0, 0), 3478, "0.0.0.0:3478"},
                     ListenAddress{v6("::"), 3478, "[::]:3478"}};
  return c;
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

const std::string kKey40 = repeat("6d5a", 20);                                        // 40 bytes
const std::string kKey52 = repeat("0123456789ABCDEF", 6) + "01234567";                // 52 bytes, upper case

struct GoodCase {
  const char* name;
  std::string yaml;
  std::vector<std::string> overrides;
  std::function<void(Config&)> expect;  // edits defaults() into the expected config
};

const std::vector<GoodCase>& good_cases() {
  static const std::vector<GoodCase> cases = {
      {"empty file", "", {}, [](Config&) {}},
      {"only comments", "# nothing here\n   # still nothing\n", {}, [](Config&) {}},
      {"explicit empty document", "---\n...\n", {}, [](Config&) {}},
      {"empty sections are defaults", "stun:\nsocket:\ndpdk:\nstats:\n", {}, [](Config&) {}},
      {"full socket file",
       "mode: socket\n"
       "stun:\n"
       "  ports: [3478, 3479]\n"
       "  software: \"stunbox 0.1\"\n"
       "  fingerprint: always\n"
       "  classic: false\n"
       "socket:\n"
       "  listen: [\"127.0.0.1:4000\", \"[::1]:4000\", \"[2001:db8::1]:5000\"]\n"
       "  workers: 4\n"
       "  batch: 64\n"
       "  pin: true\n"
       "  rcvbuf: 4194304\n"
       "  sndbuf: 1048576\n"
       "stats:\n"
       "  period: 10\n",
       {},
       [](Config& c) {
         c.stun.ports = {3478, 3479};
         c.stun.software = "stunbox 0.1";
         c.stun.fingerprint = stun::FingerprintPolicy::always;
         c.stun.classic = false;
         c.socket.listen = {ListenAddress{v4(127, 0, 0, 1), 4000, ""}, ListenAddress{v6("::1"), 4000, ""},
                            ListenAddress{v6("2001:db8::1"), 5000, ""}};
         c.socket.workers = 4;
         c.socket.batch = 64;
         c.socket.pin = true;
         c.socket.rcvbuf = 4194304;
         c.socket.sndbuf = 1048576;
         c.stats.period = 10;
       }},
      {"full dpdk file",
       "mode: dpdk\n"
       "stun: {ports: [3478]}\n"
       "dpdk:\n"
       "  eal: [\"--no-pci\", \"--no-huge\", \"-m\", 256, \"--no-shconf\"]\n"
       "  ports:\n"
       "    - device: net_af_packet0,iface=sbx-dp0,qpairs=2\n"
       "      queues: 2\n"
       "      rx_desc: 512\n"
       "      tx_desc: 100\n"
       "      addresses: [\"198.18.0.2/24\", \"2001:2::2/64\"]\n"
       "      vlan: 4094\n"
       "      mtu: 9600\n"
       "    - device: \"0000:3b:00.1\"\n"
       "      queues: 1\n"
       "      addresses: [198.18.1.1/31, 198.18.2.255, \"fe80::1\"]\n"
       "      mtu: 1280\n"
       "  lcores:\n"
       "    1: [\"0:0\", \"1:0\"]\n"
       "    1023: [\"0:1\"]\n"
       "  burst: 512\n"
       "  idle: adaptive\n"
       "  mempool: {size: 65536, cache: 0, data_room: 9856}\n"
       "  rss:\n"
       "    types: [ipv4-udp, ipv6-udp, l2-payload]\n"
       "    key: " + kKey52 + "\n"
       "  link_wait_ms: 0\n"
       "  exit_after_idle_ms: 1500\n",
       {},
       [](Config& c) {
         c.mode = Mode::dpdk;
         DpdkSection& d = c.dpdk;
         d.eal = {"--no-pci", "--no-huge", "-m", "256", "--no-shconf"};
         PortSection p0;
         p0.device = "net_af_packet0,iface=sbx-dp0,qpairs=2";
         p0.queues = 2;
         p0.rx_desc = 512;
         p0.tx_desc = 100;
         p0.addresses = {IpPrefix{v4(198, 18, 0, 2), 24, ""}, IpPrefix{v6("2001:2::2"), 64, ""}};
         p0.vlan = 4094;
         p0.mtu = 9600;
         PortSection p1;
         p1.device = "0000:3b:00.1";
         p1.queues = 1;
         // /31 has no broadcast address (RFC 3021); a bare address is a host prefix.
         p1.addresses = {IpPrefix{v4(198, 18, 1, 1), 31, ""}, IpPrefix{v4(198, 18, 2, 255), 32, ""},
                         IpPrefix{v6("fe80::1"), 128, ""}};
         p1.mtu = 1280;
         d.ports = {p0, p1};
         d.lcores_auto = false;
         d.lcores = {LcoreAssignment{1, {{0, 0}, {1, 0}}}, LcoreAssignment{1023, {{0, 1}}}};
         d.burst = 512;
         d.idle = Idle::adaptive;
         d.mempool = {65536, 0, 9856};
         d.rss.types = {"ipv4-udp", "ipv6-udp", "l2-payload"};
         d.rss.key.clear();
         for (int i = 0; i < 6; ++i)
           for (uint8_t b : {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}) d.rss.key.push_back(b);
         for (uint8_t b : {0x01, 0x23, 0x45, 0x67}) d.rss.key.push_back(b);
         d.link_wait_ms = 0;
         d.exit_after_idle_ms = 1500;
       }},
      {"auto values spelled out",
       "socket: {workers: auto}\n"
       "dpdk:\n"
       "  ports: [{device: net_null0, queues: auto}]\n"
       "  lcores: auto\n"
       "  mempool: {size: auto}\n"
       "  rss: {key: auto}\n",
       {},
       [](Config& c) {
         PortSection p;
         p.device = "net_null0";
         c.dpdk.ports = {p};
       }},
      {"40-byte rss key", "dpdk: {rss: {key: " + kKey40 + "}}\n", {},
       [](Config& c) {
         for (int i = 0; i < 20; ++i) c.dpdk.rss.key.insert(c.dpdk.rss.key.end(), {0x6d, 0x5a});
       }},
      {"yaml 1.1 booleans and quoted numbers", "stun: {classic: no}\nsocket: {pin: yes, batch: \"8\"}\n", {},
       [](Config& c) {
         c.stun.classic = false;
         c.socket.pin = true;
         c.socket.batch = 8;
       }},
      {"range edges", "socket: {workers: 1024, batch: 1, rcvbuf: 2147483647}\nstats: {period: 86400}\n", {},
       [](Config& c) {
         c.socket.workers = 1024;
         c.socket.batch = 1;
         c.socket.rcvbuf = 2147483647;
         c.stats.period = 86400;
       }},
      {"metrics_listen v4", "stats: {metrics_listen: \"127.0.0.1:9478\"}\n", {},
       [](Config& c) {
         c.stats.metrics_listen = ListenAddress{IpAddress{false, {127, 0, 0, 1}}, 9478, "127.0.0.1:9478"};
       }},
      {"metrics_listen v6 via --set", "", {"stats.metrics_listen=\"[::1]:9100\""},
       [](Config& c) {
         IpAddress ip{true, {}};
         ip.bytes[15] = 1;
         c.stats.metrics_listen = ListenAddress{ip, 9100, "[::1]:9100"};
       }},
      {"metrics_listen empty is off", "stats: {metrics_listen: \"\"}\n", {}, [](Config&) {}},
      {"software of 127 two-byte characters", "stun:\n  software: \"" + repeat("\xc3\xa9", 127) + "\"\n", {},
       [](Config& c) { c.stun.software = repeat("\xc3\xa9", 127); }},
      {"software with escapes", "stun: {software: \"a\\\"b\\\\c\\td\\x01\\u0085\"}\n", {},
       [](Config& c) { c.stun.software = "a\"b\\c\td\x01\xc2\x85"; }},
      {"empty listen is fine in dpdk mode", "mode: dpdk\nsocket: {listen: []}\ndpdk: {ports: [{device: net_null0}]}\n", {},
       [](Config& c) {
         c.mode = Mode::dpdk;
         c.socket.listen.clear();
         PortSection p;
         p.device = "net_null0";
         c.dpdk.ports = {p};
       }},
      // socket.user / socket.group: names checked against the system's databases (root exists everywhere).
      {"socket.user and socket.group", "socket:\n  user: root\n  group: root\n", {},
       [](Config& c) {
         c.socket.user = "root";
         c.socket.group = "root";
       }},
      {"socket.user with the primary group", "socket: {user: root, group: \"\"}\n", {},
       [](Config& c) { c.socket.user = "root"; }},
      {"socket.user empty is keep the starting user", "socket:\n  user:\n  group: \"\"\n", {}, [](Config&) {}},
      {"socket.user via --set", "", {"socket.user=root"}, [](Config& c) { c.socket.user = "root"; }},
      {"stun.rfc5780 pairs for both families",
       "stun:\n  rfc5780:\n    - {primary: \"198.18.0.2:3478\", alternate: \"198.18.0.3:3479\","
       " primary_advertised: 203.0.113.2, alternate_advertised: 203.0.113.3}\n"
       "    - primary: \"[2001:2::2]:3478\"\n      alternate: \"[2001:2::3]:3479\"\n", {},
       [](Config& c) {
         Rfc5780Section v4;
         v4.primary = {*parse_ip("198.18.0.2"), 3478, "198.18.0.2:3478"};
         v4.alternate = {*parse_ip("198.18.0.3"), 3479, "198.18.0.3:3479"};
         v4.primary_advertised = parse_ip("203.0.113.2");
         v4.alternate_advertised = parse_ip("203.0.113.3");
         Rfc5780Section v6;
         v6.primary = {*parse_ip("2001:2::2"), 3478, "[2001:2::2]:3478"};
         v6.alternate = {*parse_ip("2001:2::3"), 3479, "[2001:2::3]:3479"};
         c.stun.rfc5780 = {v4, v6};
       }},
      {"stun.rfc5780 in dpdk mode on the port that owns both", "mode: dpdk\nstun: {rfc5780: [{primary: \"198.18.0.2:3478\","
       " alternate: \"198.18.0.3:3479\"}]}\ndpdk: {ports: [{device: net_null0, addresses: [198.18.0.2/24, 198.18.0.3/24]}]}\n",
       {},
       [](Config& c) {
         c.mode = Mode::dpdk;
         Rfc5780Section v4;
         v4.primary = {*parse_ip("198.18.0.2"), 3478, "198.18.0.2:3478"};
         v4.alternate = {*parse_ip("198.18.0.3"), 3479, "198.18.0.3:3479"};
         c.stun.rfc5780 = {v4};
         PortSection p;
         p.device = "net_null0";
         p.addresses = {IpPrefix{*parse_ip("198.18.0.2"), 24, "198.18.0.2/24"},
                        IpPrefix{*parse_ip("198.18.0.3"), 24, "198.18.0.3/24"}};
         c.dpdk.ports = {p};
       }},
      // --set
      {"--set integer", "", {"socket.workers=2"}, [](Config& c) { c.socket.workers = 2; }},
      {"--set list", "", {"socket.listen=[\"127.0.0.1:4000\"]"},
       [](Config& c) { c.socket.listen = {ListenAddress{v4(127, 0, 0, 1), 4000, ""}}; }},
      {"--set string and enum", "", {"stun.software=hello", "stun.fingerprint=never"},
       [](Config& c) {
         c.stun.software = "hello";
         c.stun.fingerprint = stun::FingerprintPolicy::never;
       }},
      {"--set empty value", "stun: {software: x}\n", {"stun.software="}, [](Config&) {}},
      {"--set value containing '='", "", {"stun.software=a=b"}, [](Config& c) { c.stun.software = "a=b"; }},
      {"--set mode and creates intermediate maps", "", {"mode=dpdk", "dpdk.ports=[{device: net_null0}]", "dpdk.rss.key=auto"},
       [](Config& c) {
         c.mode = Mode::dpdk;
         PortSection p;
         p.device = "net_null0";
         c.dpdk.ports = {p};
       }},
      {"--set index into an existing list", "dpdk:\n  ports:\n    - device: a\n    - device: b\n",
       {"dpdk.ports[1].queues=2", "dpdk.ports[0].addresses=[192.0.2.1/24]", "dpdk.ports[0].addresses[0]=10.0.0.1/8"},
       [](Config& c) {
         PortSection a, b;
         a.device = "a";
         a.addresses = {IpPrefix{v4(10, 0, 0, 1), 8, ""}};
         b.device = "b";
         b.queues = 2;
         c.dpdk.ports = {a, b};
       }},
      {"--set replaces a bad file value before validation", "socket: {workers: 0}\n", {"socket.workers=3"},
       [](Config& c) { c.socket.workers = 3; }},
      {"--set later wins", "", {"socket.batch=2", "socket.batch=5"}, [](Config& c) { c.socket.batch = 5; }},
      {"--set lcore map key", "dpdk: {ports: [{device: a, queues: 1}]}\n", {"dpdk.lcores={3: [\"0:0\"]}"},
       [](Config& c) {
         PortSection p;
         p.device = "a";
         p.queues = 1;
         c.dpdk.ports = {p};
         c.dpdk.lcores_auto = false;
         c.dpdk.lcores = {LcoreAssignment{3, {{0, 0}}}};
       }},
  };
  return cases;
}

TEST(ConfigGood, TableParsesToExpectedValues) {
  for (const GoodCase& gc : good_cases()) {
    SCOPED_TRACE(gc.name);
    Result<Config> r = load_string(gc.yaml, "good.yaml", gc.overrides);
    ASSERT_TRUE(r.is_ok()) << r.message();
    Config want = defaults();
    gc.expect(want);
    EXPECT_TRUE(*r == want) << "got:\n" << to_yaml(*r) << "want:\n" << to_yaml(want);
    EXPECT_EQ(r->source, "good.yaml");
  }
}

TEST(ConfigGood, DefaultsMatchTheHeader) {
  Result<Config> r = load_string("", "x", {});
  ASSERT_TRUE(r.is_ok()) << r.message();
  const Config& c = *r;
  EXPECT_EQ(c.mode, Mode::socket);
  EXPECT_EQ(c.stun.ports, std::vector<uint16_t>{3478});
  EXPECT_EQ(c.stun.software, "");
  EXPECT_EQ(c.stun.fingerprint, stun::FingerprintPolicy::mirror);
  EXPECT_TRUE(c.stun.classic);
  ASSERT_EQ(c.socket.listen.size(), 2u);
  EXPECT_EQ(to_string(c.socket.listen[0]), "0.0.0.0:3478");
  EXPECT_EQ(to_string(c.socket.listen[1]), "[::]:3478");
  EXPECT_TRUE(is_wildcard(c.socket.listen[0].ip));
  EXPECT_TRUE(is_wildcard(c.socket.listen[1].ip));
  EXPECT_EQ(c.socket.workers, 0u);
  EXPECT_EQ(c.socket.batch, 32u);
  EXPECT_EQ(c.socket.user, "");
  EXPECT_EQ(c.socket.group, "");
  EXPECT_EQ(c.dpdk.burst, 32u);
  EXPECT_TRUE(c.dpdk.lcores_auto);
  EXPECT_EQ(c.dpdk.link_wait_ms, 3000u);
  EXPECT_EQ(c.stats.period, 0u);
  // The responder view carries the section's options.
  stun::ResponderConfig rc = c.stun.responder();
  EXPECT_EQ(rc.fingerprint, stun::FingerprintPolicy::mirror);
  EXPECT_TRUE(rc.classic);
  EXPECT_TRUE(rc.software.empty());
}

TEST(ConfigGood, ListenTextIsKeptAsWritten) {
  Result<Config> r = load_string("socket: {listen: [\"[0:0::1]:4000\"]}\n", "x", {});
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->socket.listen[0].text, "[0:0::1]:4000");
  EXPECT_EQ(to_string(r->socket.listen[0]), "[::1]:4000");
}

struct BadCase {
  std::string yaml;
  std::vector<std::string> overrides;
  std::string error;
};

const std::vector<BadCase>& bad_cases() {
  static const std::vector<BadCase> cases = {
      // stun.rfc5780
      {"stun: {rfc5780: [{primary: \"198.18.0.2:3478\"}]}\n", {}, "bad.yaml:1: stun.rfc5780[0]: missing required key 'alternate'"},
      {"stun: {rfc5780: [{primary: \"198.18.0.2:3478\", alternate: \"198.18.0.3:3479\", secondary: 1}]}\n", {},
       "bad.yaml:1: stun.rfc5780[0].secondary: unknown key 'secondary' (allowed: primary, alternate, primary_advertised, alternate_advertised)"},
      {"stun: {rfc5780: [{primary: \"198.18.0.2:3478\", alternate: \"[2001:2::3]:3479\"}]}\n", {},
       "bad.yaml:1: stun.rfc5780[0].alternate: must be of the primary's family (IPv4)"},
      {"stun: {rfc5780: [{primary: \"198.18.0.2:3478\", alternate: \"198.18.0.2:3479\"}]}\n", {},
       "bad.yaml:1: stun.rfc5780[0].alternate: must be another IP than the primary's (RFC 5780 s4.1: change-IP needs two)"},
      {"stun: {rfc5780: [{primary: \"198.18.0.2:3478\", alternate: \"198.18.0.3:3478\"}]}\n", {},
       "bad.yaml:1: stun.rfc5780[0].alternate: must be another port than the primary's (RFC 5780 s4.1: change-port needs two)"},
      {"stun: {rfc5780: [{primary: \"0.0.0.0:3478\", alternate: \"198.18.0.3:3479\"}]}\n", {},
       "bad.yaml:1: stun.rfc5780[0].primary: bad address \"0.0.0.0:3478\": must be a unicast address of this box"},
      {"stun: {rfc5780: [{primary: \"198.18.0.2:3478\", alternate: \"198.18.0.3:3479\", primary_advertised: \"2001:db8::1\"}]}\n",
       {}, "bad.yaml:1: stun.rfc5780[0].primary_advertised: bad address \"2001:db8::1\": the pair is IPv4"},
      {"stun:\n  rfc5780:\n    - {primary: \"198.18.0.2:3478\", alternate: \"198.18.0.3:3479\"}\n"
       "    - {primary: \"198.18.0.4:3478\", alternate: \"198.18.0.5:3479\"}\n", {},
       "bad.yaml:4: stun.rfc5780[1]: a second IPv4 pair (stun.rfc5780[0] is one): one pair per address family"},
      {"mode: dpdk\nstun: {rfc5780: [{primary: \"198.18.0.2:3478\", alternate: \"198.18.0.3:3479\"}]}\n"
       "dpdk: {ports: [{device: a, addresses: [198.18.0.2/24]}, {device: b, addresses: [198.18.0.3/24]}]}\n", {},
       "bad.yaml:2: stun.rfc5780[0].alternate: 198.18.0.3 must be an address of dpdk.ports[0], the port that owns the primary 198.18.0.2"},
      {"mode: dpdk\nstun: {rfc5780: [{primary: \"198.18.0.9:3478\", alternate: \"198.18.0.3:3479\"}]}\n"
       "dpdk: {ports: [{device: a, addresses: [198.18.0.2/24]}]}\n", {},
       "bad.yaml:2: stun.rfc5780[0].primary: 198.18.0.9 is not an address of any dpdk.ports entry (list it in its addresses)"},
      // structure
      {"- 1\n- 2\n", {}, "bad.yaml:1: the top level must be a map of sections (mode, stun, socket, dpdk, stats, control, limits, health), got a list"},
      {"just text\n", {}, "bad.yaml:1: the top level must be a map of sections (mode, stun, socket, dpdk, stats, control, limits, health), got 'just text'"},
      {"a: [1\nb: 2\n", {}, "bad.yaml:2: YAML syntax error: end of sequence flow not found"},
      {"stun:\n  ports: [1]\n bad: 1\n", {}, "bad.yaml:3: YAML syntax error: end of map not found"},
      {"mode: socket\n---\nmode: dpdk\n", {}, "bad.yaml:2: more than one YAML document in the file"},
      // yaml-cpp 0.7 loops forever in LoadAll() on a stray ',' (jbeder/yaml-cpp#1040).
      {",\n", {}, "bad.yaml:1: YAML syntax error: unexpected character"},
      {"# comment\n, a\n", {}, "bad.yaml:2: YAML syntax error: unexpected character"},
      {"", {"stun.software=,"}, "--set stun.software: bad YAML value: unexpected character"},
      {"", {"stun.software=a\n---\nb"}, "--set stun.software: the value holds more than one YAML document"},
      {"socket:\n  workers: 2\n  workers: 3\n", {}, "bad.yaml:3: socket.workers: duplicate key 'workers'"},
      {"? [a]\n: 1\n", {}, "bad.yaml:1: keys must be plain names, got a list"},
      // unknown keys
      {"socket:\n  wokers: 2\n", {}, "bad.yaml:2: socket.wokers: unknown key 'wokers', did you mean 'workers'?"},
      {"sockets: {}\n", {}, "bad.yaml:1: sockets: unknown key 'sockets', did you mean 'socket'?"},
      {"xyzzy: 1\n", {}, "bad.yaml:1: xyzzy: unknown key 'xyzzy' (allowed: mode, stun, socket, dpdk, stats, control, limits, health)"},
      {"dpdk:\n  ports:\n    - device: a\n      quees: 2\n", {},
       "bad.yaml:4: dpdk.ports[0].quees: unknown key 'quees', did you mean 'queues'?"},
      {"dpdk:\n  rss:\n    type: [ipv4]\n", {}, "bad.yaml:3: dpdk.rss.type: unknown key 'type', did you mean 'types'?"},
      // wrong types
      {"socket: [1]\n", {}, "bad.yaml:1: socket: expected a map, got a list"},
      {"socket:\n  workers: abc\n", {}, "bad.yaml:2: socket.workers: expected an integer or 'auto', got 'abc'"},
      {"socket:\n  batch: 1.5\n", {}, "bad.yaml:2: socket.batch: expected an integer, got '1.5'"},
      {"socket:\n  batch: [1]\n", {}, "bad.yaml:2: socket.batch: expected an integer, got a list"},
      {"socket:\n  batch:\n", {}, "bad.yaml:2: socket.batch: expected an integer, got nothing"},
      {"socket:\n  pin: maybe\n", {}, "bad.yaml:2: socket.pin: expected true or false, got 'maybe'"},
      // A multi-line value is escaped so the error stays on one line.
      {"socket:\n  batch: |\n    a\n    b\n", {}, "bad.yaml:2: socket.batch: expected an integer, got 'a\\nb\\n'"},
      {"stun:\n  ports: 3478\n", {}, "bad.yaml:2: stun.ports: expected a list, got '3478'"},
      {"stun:\n  software: [a]\n", {}, "bad.yaml:2: stun.software: expected a string, got a list"},
      {"dpdk:\n  eal: [\"-l\", [1]]\n", {}, "bad.yaml:2: dpdk.eal[1]: expected a string, got a list"},
      {"dpdk:\n  ports:\n    - net_null0\n", {}, "bad.yaml:3: dpdk.ports[0]: expected a map with a 'device' key, got 'net_null0'"},
      // out of range
      {"socket:\n  workers: 0\n", {}, "bad.yaml:2: socket.workers: must be between 1 and 1024, got 0"},
      {"socket:\n  workers: 1025\n", {}, "bad.yaml:2: socket.workers: must be between 1 and 1024, got 1025"},
      {"socket:\n  batch: -1\n", {}, "bad.yaml:2: socket.batch: must be between 1 and 1024, got -1"},
      {"socket:\n  batch: 99999999999999999999999\n", {},
       "bad.yaml:2: socket.batch: must be between 1 and 1024, got 99999999999999999999999"},
      {"socket:\n  rcvbuf: 2147483648\n", {}, "bad.yaml:2: socket.rcvbuf: must be between 0 and 2147483647, got 2147483648"},
      {"stun:\n  ports: [0]\n", {}, "bad.yaml:2: stun.ports[0]: must be between 1 and 65535, got 0"},
      {"stun:\n  ports: [3478, 65536]\n", {}, "bad.yaml:2: stun.ports[1]: must be between 1 and 65535, got 65536"},
      {"stun:\n  ports: [3478, 3478]\n", {}, "bad.yaml:2: stun.ports[1]: duplicate port 3478"},
      {"stun:\n  ports: []\n", {}, "bad.yaml:2: stun.ports: must list at least one port"},
      {"stun:\n  software: \"" + repeat("x", 128) + "\"\n", {},
       "bad.yaml:2: stun.software: must be at most 127 characters (RFC 8489 s14.14), got 128"},
      {"stun:\n  software: \"\xff\"\n", {}, "bad.yaml:2: stun.software: is not valid UTF-8"},
      {"stats:\n  period: 86401\n", {}, "bad.yaml:2: stats.period: must be between 0 and 86400, got 86401"},
      {"stats:\n  metrics_listen: \"127.0.0.1\"\n", {},
       "bad.yaml:2: stats.metrics_listen: bad address \"127.0.0.1\": expected IPv4:PORT or [IPv6]:PORT"},
      {"stats:\n  metrics_listen: \"127.0.0.1:0\"\n", {},
       "bad.yaml:2: stats.metrics_listen: bad address \"127.0.0.1:0\": port must be between 1 and 65535"},
      {"stats:\n  metrics_listen: \"::1:9478\"\n", {},
       "bad.yaml:2: stats.metrics_listen: bad address \"::1:9478\": expected IPv4:PORT or [IPv6]:PORT (IPv6 addresses need brackets)"},
      {"dpdk:\n  burst: 0\n", {}, "bad.yaml:2: dpdk.burst: must be between 8 and 512, got 0"},
      {"dpdk:\n  burst: 513\n", {}, "bad.yaml:2: dpdk.burst: must be between 8 and 512, got 513"},
      {"dpdk:\n  burst: 20\n", {},
       "bad.yaml:2: dpdk.burst: must be a multiple of 8 (i40e and ice vector RX round a burst down to one), got 20"},
      {"dpdk:\n  ports: [{device: a, rx_desc: 63}]\n", {}, "bad.yaml:2: dpdk.ports[0].rx_desc: must be between 64 and 32768, got 63"},
      {"dpdk:\n  ports: [{device: a, tx_desc: 32769}]\n", {}, "bad.yaml:2: dpdk.ports[0].tx_desc: must be between 64 and 32768, got 32769"},
      {"dpdk:\n  ports: [{device: a, mtu: 67}]\n", {}, "bad.yaml:2: dpdk.ports[0].mtu: must be between 68 and 9600, got 67"},
      {"dpdk:\n  ports: [{device: a, vlan: 0}]\n", {}, "bad.yaml:2: dpdk.ports[0].vlan: must be between 1 and 4094, got 0"},
      {"dpdk:\n  ports: [{device: a, vlan: 4095}]\n", {}, "bad.yaml:2: dpdk.ports[0].vlan: must be between 1 and 4094, got 4095"},
      {"dpdk:\n  ports: [{device: a, queues: 1025}]\n", {},
       "bad.yaml:2: dpdk.ports[0].queues: must be between 1 and 1024, got 1025"},
      {"dpdk:\n  mempool:\n    size: 10\n", {}, "bad.yaml:3: dpdk.mempool.size: must be between 1024 and 67108864, got 10"},
      {"dpdk:\n  mempool:\n    cache: 513\n", {}, "bad.yaml:3: dpdk.mempool.cache: must be between 0 and 512, got 513"},
      {"dpdk:\n  link_wait_ms: 600001\n", {}, "bad.yaml:2: dpdk.link_wait_ms: must be between 0 and 600000, got 600001"},
      // enums
      {"mode: foo\n", {}, "bad.yaml:1: mode: expected one of socket, dpdk, got 'foo'"},
      {"stun:\n  fingerprint: sometimes\n", {}, "bad.yaml:2: stun.fingerprint: expected one of mirror, always, never, got 'sometimes'"},
      {"dpdk:\n  idle: sleep\n", {}, "bad.yaml:2: dpdk.idle: expected one of poll, adaptive, got 'sleep'"},
      {"dpdk:\n  rss:\n    types: [ipv4, ipv7]\n", {},
       "bad.yaml:3: dpdk.rss.types[1]: expected one of ipv4, ipv4-frag, ipv4-udp, ipv4-tcp, ipv4-other, ipv6, ipv6-frag, "
       "ipv6-udp, ipv6-tcp, ipv6-other, ipv6-ex, ipv6-udp-ex, ipv6-tcp-ex, l2-payload, got 'ipv7'"},
      {"dpdk:\n  rss:\n    types: [ipv4, ipv4]\n", {}, "bad.yaml:3: dpdk.rss.types[1]: duplicate hash type 'ipv4'"},
      {"dpdk:\n  rss:\n    types: []\n", {}, "bad.yaml:3: dpdk.rss.types: must name at least one hash type"},
      // rss key
      {"dpdk:\n  rss:\n    key: abcd\n", {}, "bad.yaml:3: dpdk.rss.key: must be 40 or 52 bytes (80 or 104 hex digits), got 2 bytes"},
      {"dpdk:\n  rss:\n    key: " + kKey40 + "0\n", {}, "bad.yaml:3: dpdk.rss.key: odd number of hex digits (81)"},
      {"dpdk:\n  rss:\n    key: 6d5g\n", {}, "bad.yaml:3: dpdk.rss.key: expected 'auto' or a hex string, got a 'g' at position 4"},
      // listen addresses
      {"socket:\n  listen: [\"0.0.0.0:3478\", \"1.2.3:99\"]\n", {},
       "bad.yaml:2: socket.listen[1]: bad address \"1.2.3:99\": expected IPv4:PORT or [IPv6]:PORT"},
      {"socket:\n  listen:\n    - \"0.0.0.0:3478\"\n    - \"1.2.3.4\"\n", {},
       "bad.yaml:4: socket.listen[1]: bad address \"1.2.3.4\": expected IPv4:PORT or [IPv6]:PORT"},
      {"socket:\n  listen: [\"::1:3478\"]\n", {},
       "bad.yaml:2: socket.listen[0]: bad address \"::1:3478\": expected IPv4:PORT or [IPv6]:PORT (IPv6 addresses need brackets)"},
      {"socket:\n  listen: [\"[1.2.3.4]:3478\"]\n", {},
       "bad.yaml:2: socket.listen[0]: bad address \"[1.2.3.4]:3478\": expected IPv4:PORT or [IPv6]:PORT"},
      {"socket:\n  listen: [\"[::1]:0\"]\n", {}, "bad.yaml:2: socket.listen[0]: bad address \"[::1]:0\": port must be between 1 and 65535"},
      {"socket:\n  listen: [\"1.2.3.4:65536\"]\n", {},
       "bad.yaml:2: socket.listen[0]: bad address \"1.2.3.4:65536\": port must be between 1 and 65535"},
      {"socket:\n  listen: [\"239.1.1.1:3478\"]\n", {},
       "bad.yaml:2: socket.listen[0]: bad address \"239.1.1.1:3478\": a multicast address cannot be listened on"},
      {"socket:\n  listen: [\"[::]:3478\", \"[0::0]:3478\"]\n", {},
       "bad.yaml:2: socket.listen[1]: duplicate listen address \"[0::0]:3478\" (same as \"[::]:3478\")"},
      {"socket:\n  listen: []\n", {}, "bad.yaml:2: socket.listen: socket mode needs at least one listen address"},
      // socket.user / socket.group
      {"socket:\n  user: stunbox-no-such-user\n", {}, "bad.yaml:2: socket.user: no such user \"stunbox-no-such-user\""},
      {"socket:\n  user: root\n  group: stunbox-no-such-group\n", {},
       "bad.yaml:3: socket.group: no such group \"stunbox-no-such-group\""},
      {"socket:\n  user: [root]\n", {}, "bad.yaml:2: socket.user: expected a string, got a list"},
      {"socket:\n  user: root\n  group: {name: root}\n", {}, "bad.yaml:3: socket.group: expected a string, got a map"},
      {"socket:\n  group: root\n", {},
       "bad.yaml:2: socket.group: needs socket.user (the group is switched to together with the user)"},
      {"socket:\n  usr: root\n", {}, "bad.yaml:2: socket.usr: unknown key 'usr', did you mean 'user'?"},
      {"socket:\n  user: root\n", {"socket.user=stunbox-no-such-user"},
       "--set socket.user: no such user \"stunbox-no-such-user\""},
      // owned addresses
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"198.18.0.255/24\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[0]: bad address \"198.18.0.255/24\": is the broadcast address of its /24 subnet"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"198.18.0.3/30\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[0]: bad address \"198.18.0.3/30\": is the broadcast address of its /30 subnet"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"255.255.255.255\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[0]: bad address \"255.255.255.255\": the broadcast address cannot be owned"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"224.0.0.1\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[0]: bad address \"224.0.0.1\": a multicast address cannot be owned"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"ff02::1/64\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[0]: bad address \"ff02::1/64\": a multicast address cannot be owned"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"::/64\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[0]: bad address \"::/64\": the unspecified address cannot be owned"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"0.0.0.0/8\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[0]: bad address \"0.0.0.0/8\": the unspecified address cannot be owned"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"10.0.0.1/33\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[0]: bad address \"10.0.0.1/33\": prefix length must be between 1 and 32"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"2001:2::2/0\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[0]: bad address \"2001:2::2/0\": prefix length must be between 1 and 128"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"198.18.0.2:3478\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[0]: bad address \"198.18.0.2:3478\": expected IPv4[/LEN] or IPv6[/LEN]"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"10.0.0.1/8\", \"10.0.0.1/24\"]\n", {},
       "bad.yaml:4: dpdk.ports[0].addresses[1]: duplicate address 10.0.0.1"},
      {"dpdk:\n  ports:\n    - device: a\n      addresses: [\"2001:2::2/64\"]\n      mtu: 1000\n", {},
       "bad.yaml:5: dpdk.ports[0].mtu: must be at least 1280 on a port with IPv6 addresses (RFC 8200 s5), got 1000"},
      // ports
      {"dpdk:\n  ports:\n    - queues: 2\n", {}, "bad.yaml:3: dpdk.ports[0]: missing required key 'device'"},
      {"dpdk:\n  ports:\n    - device: \"\"\n", {}, "bad.yaml:3: dpdk.ports[0].device: must not be empty"},
      {"dpdk:\n  ports:\n    - device: a\n    - device: a\n", {}, "bad.yaml:4: dpdk.ports[1].device: device \"a\" is already dpdk.ports[0]"},
      {"mode: dpdk\n", {}, "bad.yaml:1: mode: dpdk mode needs at least one port in dpdk.ports"},
      {"mode: dpdk\ndpdk:\n  ports: []\n", {}, "bad.yaml:3: dpdk.ports: dpdk mode needs at least one port"},
      // lcore map
      {"dpdk:\n  ports:\n    - device: a\n      queues: 2\n  lcores:\n    1: [\"0:0\"]\n    2: [\"0:0\"]\n", {},
       "bad.yaml:7: dpdk.lcores.2[0]: queue 0:0 is already served by lcore 1"},
      {"dpdk:\n  ports:\n    - device: a\n      queues: 2\n  lcores:\n    1: [\"0:0\", \"0:2\"]\n", {},
       "bad.yaml:6: dpdk.lcores.1[1]: queue 2 does not exist (dpdk.ports[0].queues is 2)"},
      {"dpdk:\n  ports:\n    - device: a\n      queues: 1\n  lcores:\n    1: [\"1:0\"]\n", {},
       "bad.yaml:6: dpdk.lcores.1[0]: port 1 does not exist (dpdk.ports has 1 entry)"},
      {"dpdk:\n  ports:\n    - device: a\n      queues: 1\n  lcores:\n    1: [\"0-0\"]\n", {},
       "bad.yaml:6: dpdk.lcores.1[0]: bad queue reference \"0-0\": expected PORT:QUEUE (indices into dpdk.ports and its queues)"},
      {"dpdk:\n  ports:\n    - device: a\n      queues: 2\n  lcores:\n    1: [\"0:0\"]\n", {},
       "bad.yaml:6: dpdk.lcores: queue 0:1 is not served by any lcore (RSS would send traffic there)"},
      {"dpdk:\n  ports:\n    - device: a\n  lcores:\n    1: [\"0:0\"]\n", {},
       "bad.yaml:3: dpdk.ports[0].queues: must be a number, not auto, when dpdk.lcores is an explicit map"},
      {"dpdk:\n  ports:\n    - device: a\n      queues: 1\n  lcores:\n    1024: [\"0:0\"]\n", {},
       "bad.yaml:6: dpdk.lcores.1024: lcore id must be an integer between 0 and 1023, got '1024'"},
      {"dpdk:\n  ports:\n    - device: a\n      queues: 1\n  lcores:\n    1: \"0:0\"\n", {},
       "bad.yaml:6: dpdk.lcores.1: expected a list, got '0:0'"},
      {"dpdk:\n  ports:\n    - device: a\n      queues: 1\n  lcores:\n    1: []\n", {},
       "bad.yaml:6: dpdk.lcores.1: expected at least one \"PORT:QUEUE\""},
      {"dpdk:\n  ports:\n    - device: a\n      queues: 2\n  lcores:\n    1: [\"0:0\"]\n    01: [\"0:1\"]\n", {},
       "bad.yaml:7: dpdk.lcores.01: lcore 1 is listed twice"},
      {"dpdk:\n  lcores: [1, 2]\n", {},
       "bad.yaml:2: dpdk.lcores: expected 'auto' or a map of lcore id -> [\"PORT:QUEUE\", ...], got a list"},
      {"dpdk:\n  lcores: {}\n", {}, "bad.yaml:2: dpdk.lcores: the lcore map is empty: use 'auto' or assign queues"},
      // dpdk.ports[].steering: only STUN for the port's addresses; the kernel keeps the rest
      {"dpdk:\n  ports:\n    - device: net_af_xdp0,iface=eth1\n      steering: xdp\n", {},
       "bad.yaml:4: dpdk.ports[0].steering: xdp steers STUN to the port's addresses, but it has none: give `addresses`"},
      {"dpdk:\n  ports:\n    - device: \"0000:03:00.0\"\n      addresses: [\"198.18.0.2/24\"]\n      steering: xdp\n", {},
       "bad.yaml:5: dpdk.ports[0].steering: xdp needs a net_af_xdp device (its XDP program passes STUN up to it), "
       "got \"0000:03:00.0\""},
      {"dpdk:\n  ports:\n    - device: \"0000:03:00.0\"\n      addresses: [\"198.18.0.2/24\"]\n      steering: flow\n"
       "      exception: {iface: stunbox0}\n", {},
       "bad.yaml:5: dpdk.ports[0].steering: flow leaves every frame but STUN to the kernel's own interface: no "
       "exception path (exception.iface \"stunbox0\") on this port"},
      {"dpdk:\n  ports:\n    - device: a\n      steering: kernel\n", {},
       "bad.yaml:4: dpdk.ports[0].steering: expected one of all, xdp, flow, got 'kernel'"},
      {"", {"mode=dpdk", "dpdk.ports=[{device: net_af_xdp0, addresses: [\"198.18.0.2\"], steering: xdp, exception: {iface: x}}]"},
       "--set dpdk.ports[0].steering: xdp leaves every frame but STUN to the kernel's own interface: no exception path "
       "(exception.iface \"x\") on this port"},
      // --set errors: the place is the --set, not the file
      {"", {"socket.workers=abc"}, "--set socket.workers: expected an integer or 'auto', got 'abc'"},
      {"socket:\n  workers: 2\n", {"socket.wokers=2"}, "--set socket.wokers: unknown key 'wokers', did you mean 'workers'?"},
      {"", {"socket.listen=[\"1.2.3.4\"]"}, "--set socket.listen[0]: bad address \"1.2.3.4\": expected IPv4:PORT or [IPv6]:PORT"},
      {"", {"socket.listen=[]"}, "--set socket.listen: socket mode needs at least one listen address"},
      {"", {"mode=dpdk"}, "--set mode: dpdk mode needs at least one port in dpdk.ports"},
      {"", {"socket.workers"}, "--set 'socket.workers': expected PATH=VALUE, e.g. socket.workers=2"},
      {"", {"=2"}, "--set '=2': expected PATH=VALUE, e.g. socket.workers=2"},
      {"", {"socket..workers=2"},
       "--set socket..workers: bad path: expected dotted keys with optional [INDEX], e.g. dpdk.ports[0].queues"},
      {"", {"socket.listen[x]=2"},
       "--set socket.listen[x]: bad path: expected dotted keys with optional [INDEX], e.g. dpdk.ports[0].queues"},
      {"", {"socket.workers=[1"}, "--set socket.workers: bad YAML value '[1': end of sequence flow not found"},
      {"", {"dpdk.ports[0].queues=2"},
       "--set dpdk.ports[0].queues: 'dpdk.ports' is not set: [INDEX] only selects an entry of an existing list"},
      {"socket:\n  listen: [\"1.2.3.4:3478\"]\n", {"socket.listen[1]=\"1.2.3.4:1\""},
       "--set socket.listen[1]: index 1 is out of range ('socket.listen' has 1 entry)"},
      {"socket:\n  listen: [\"1.2.3.4:3478\"]\n", {"socket.listen[0].x=1"}, "--set socket.listen[0].x: 'socket.listen[0]' is not a map"},
      {"socket:\n  workers: 2\n", {"socket[0]=1"}, "--set socket[0]: 'socket' is not a list"},
      {"", {"mode=dpdk", "dpdk.ports=[{device: a, queues: 2}]", "dpdk.lcores={1: [\"0:0\", \"0:0\"]}"},
       "--set dpdk.lcores.1[1]: queue 0:0 is already served by lcore 1"},
      // A file error is reported at its line even when --set touched other keys.
      {"stun:\n  classic: maybe\n", {"socket.workers=2"}, "bad.yaml:2: stun.classic: expected true or false, got 'maybe'"},
      // A --set value keeps the file's key: an error in the value names the --set.
      {"socket:\n  batch: 8\n", {"socket.batch=0"}, "--set socket.batch: must be between 1 and 1024, got 0"},
  };
  return cases;
}

TEST(ConfigBad, TableGivesExactOneLineErrors) {
  for (const BadCase& bc : bad_cases()) {
    SCOPED_TRACE(bc.yaml);
    Result<Config> r = load_string(bc.yaml, "bad.yaml", bc.overrides);
    ASSERT_FALSE(r.is_ok()) << "accepted:\n" << to_yaml(*r);
    EXPECT_EQ(r.message(), bc.error);
    EXPECT_EQ(r.message().find('\n'), std::string::npos);
  }
}

TEST(ConfigBad, HostileYamlIsRefusedWithOneLine) {
  // Deep nesting: yaml-cpp's depth guard, reported as one line, not a crash.
  Result<Config> deep = load_string("a: " + repeat("[", 5000) + repeat("]", 5000) + "\n", "bad.yaml", {});
  ASSERT_FALSE(deep.is_ok());
  EXPECT_EQ(deep.message().rfind("bad.yaml:1: YAML nested too deeply", 0), 0u) << deep.message();
  Result<Config> deep_set = load_string("", "bad.yaml", {"stun.software=" + repeat("[", 5000)});
  ASSERT_FALSE(deep_set.is_ok());
  EXPECT_EQ(deep_set.message().rfind("--set stun.software: bad YAML value: nested too deeply", 0), 0u) << deep_set.message();
  // Alias expansion ("billion laughs"): 10^10 nodes if expanded, refused early.
  std::string bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
  std::string prev = "a";
  for (int i = 0; i < 9; ++i) {
    std::string name = "x" + std::to_string(i);
    bomb += name + ": &" + name + " [" + repeat("*" + prev + ", ", 9) + "*" + prev + "]\n";
    prev = name;
  }
  Result<Config> laughs = load_string(bomb, "bad.yaml", {});
  ASSERT_FALSE(laughs.is_ok());
  EXPECT_NE(laughs.message().find("too many YAML nodes"), std::string::npos) << laughs.message();
}

TEST(ConfigRoundTrip, ToYamlReadsBackEqual) {
  for (const GoodCase& gc : good_cases()) {
    SCOPED_TRACE(gc.name);
    Result<Config> r = load_string(gc.yaml, "rt.yaml", gc.overrides);
    ASSERT_TRUE(r.is_ok()) << r.message();
    std::string text = to_yaml(*r);
    Result<Config> back = load_string(text, "rt.yaml", {});
    ASSERT_TRUE(back.is_ok()) << back.message() << "\n" << text;
    EXPECT_TRUE(*back == *r) << text;
    // Canonical: rendering again gives the same text.
    EXPECT_EQ(to_yaml(*back), text);
  }
}

// Every key of the schema has its line, at its depth; a config with a port
// (and a vlan, left out when unset) shows a port entry's keys too.
TEST(ConfigRoundTrip, ToYamlListsEveryKey) {
  Result<Config> r = load_string("", "x", {"dpdk.ports=[{device: a, vlan: 7}]"});
  ASSERT_TRUE(r.is_ok()) << r.message();
  const std::string text = std::string("\n") + to_yaml(*r);
  for (const Key<Config>& k : keys()) {
    const auto depth = static_cast<size_t>(std::count(k.path.begin(), k.path.end(), '.'));
    const std::string line =
        std::string("\n") + std::string(2 * depth, ' ') + std::string(k.path.substr(k.path.rfind('.') + 1)) + ":";
    EXPECT_NE(text.find(line), std::string::npos) << k.path << " in\n" << text;
  }
  for (const Key<PortSection>& k : port_keys()) {
    // An entry's keys sit at 6 spaces (the first after "    - "), sub-maps two more per level.
    const auto depth = static_cast<size_t>(std::count(k.path.begin(), k.path.end(), '.'));
    const std::string key = std::string(k.path.substr(k.path.rfind('.') + 1)) + ":";
    EXPECT_TRUE((depth == 0 && text.find(std::string("\n    - ") + key) != std::string::npos) ||
                text.find("\n" + std::string(6 + 2 * depth, ' ') + key) != std::string::npos)
        << "dpdk.ports[0]." << k.path << " in\n" << text;
  }
}

TEST(ConfigEquality, DetectsEachKindOfDifference) {
  Config a = defaults();
  Config b = a;
  EXPECT_TRUE(a == b);
  b.dpdk.rss.key = {1};
  EXPECT_FALSE(a == b);
  b = a;
  b.socket.listen[1].port = 1;
  EXPECT_FALSE(a == b);
  b = a;
  b.socket.listen[1].text = "[0::0]:3478";  // same endpoint, other spelling
  EXPECT_TRUE(a == b);
  b.source = "elsewhere";
  EXPECT_TRUE(a == b);
  b = a;
  b.socket.user = "nobody";
  EXPECT_FALSE(a == b);
  b = a;
  b.socket.group = "nogroup";
  EXPECT_FALSE(a == b);
}

// ---------------------------------------------------------------------------
// Files

class TempDir {
 public:
  TempDir() {
    std::string tmpl = testing::TempDir() + "stunbox_config_XXXXXX";
    path_ = mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    for (const std::string& f : files_) ::unlink(f.c_str());
    ::rmdir(path_.c_str());
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    files_.push_back(p);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

TEST(ConfigFile, ShippedDefaultConfigLoadsAndShowsTheDefaults) {
  const char* path = std::getenv("STUNBOX_DEFAULT_CONFIG");
  ASSERT_NE(path, nullptr) << "meson sets STUNBOX_DEFAULT_CONFIG";
  Result<Config> r = load_file(path);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->source, path);
  // The shipped file documents the built-in defaults: they must agree.
  EXPECT_TRUE(*r == defaults()) << to_yaml(*r);
  // And it takes overrides like any file.
  Result<Config> o = load_file(path, {"socket.workers=2", "socket.listen=[\"127.0.0.1:4000\"]"});
  ASSERT_TRUE(o.is_ok()) << o.message();
  EXPECT_EQ(o->socket.workers, 2u);
  ASSERT_EQ(o->socket.listen.size(), 1u);
  EXPECT_EQ(o->socket.listen[0].port, 4000);
}

TEST(ConfigFile, MissingFile) {
  TempDir dir;
  std::string p = dir.path() + "/absent.yaml";
  Result<Config> r = load_file(p);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.message(), "cannot open " + p + ": No such file or directory");
}

TEST(ConfigFile, DirectoryIsNotAFile) {
  TempDir dir;
  Result<Config> r = load_file(dir.path());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.message(), "cannot read " + dir.path() + ": Is a directory");
}

TEST(ConfigFile, ErrorsNameTheFileAndLine) {
  TempDir dir;
  std::string p = dir.write("c.yaml", "# comment\nmode: socket\nsocket:\n  listen:\n    - \"0.0.0.0:3478\"\n    - \"1.2.3:99\"\n");
  Result<Config> r = load_file(p);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.message(), p + ":6: socket.listen[1]: bad address \"1.2.3:99\": expected IPv4:PORT or [IPv6]:PORT");

  std::string q = dir.write("syntax.yaml", "stun:\n  ports: [3478\n");
  Result<Config> s = load_file(q);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.message().rfind(q + ":", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("YAML syntax error"), std::string::npos) << s.message();
}

TEST(ConfigFile, EmptyFileIsAllDefaults) {
  TempDir dir;
  std::string p = dir.write("empty.yaml", "");
  Result<Config> r = load_file(p);
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_TRUE(*r == defaults());
}

// ---------------------------------------------------------------------------
// Address helpers

TEST(ConfigAddress, ParseAndPrint) {
  EXPECT_EQ(to_string(v4(198, 18, 0, 2)), "198.18.0.2");
  EXPECT_EQ(to_string(v6("2001:0002:0000:0000:0000:0000:0000:0002")), "2001:2::2");
  EXPECT_EQ(to_string(v6("::ffff:1.2.3.4")), "::ffff:1.2.3.4");
  EXPECT_EQ(to_string(IpPrefix{v6("2001:2::2"), 64, ""}), "2001:2::2/64");
  EXPECT_EQ(to_string(ListenAddress{v4(127, 0, 0, 1), 4000, ""}), "127.0.0.1:4000");
  EXPECT_EQ(to_string(ListenAddress{v6("::1"), 4000, ""}), "[::1]:4000");
  EXPECT_FALSE(parse_ip("1.2.3"));
  EXPECT_FALSE(parse_ip("fe80::1%eth0"));
  EXPECT_FALSE(parse_ip("[::1]"));
  EXPECT_FALSE(parse_ip(""));
  auto a = parse_ip("10.1.2.3");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->v6);
  EXPECT_EQ(*a, v4(10, 1, 2, 3));
  EXPECT_TRUE(is_wildcard(v4(0, 0, 0, 0)));
  EXPECT_TRUE(is_wildcard(v6("::")));
  EXPECT_FALSE(is_wildcard(v4(0, 0, 0, 1)));
  EXPECT_FALSE(is_wildcard(v6("::1")));
}

TEST(ConfigEnums, NamesMatchTheFile) {
  EXPECT_EQ(to_string(Mode::socket), "socket");
  EXPECT_EQ(to_string(Mode::dpdk), "dpdk");
  EXPECT_EQ(to_string(Idle::poll), "poll");
  EXPECT_EQ(to_string(Idle::adaptive), "adaptive");
  EXPECT_EQ(to_string(Steering::all), "all");
  EXPECT_EQ(to_string(Steering::xdp), "xdp");
  EXPECT_EQ(to_string(Steering::flow), "flow");
  EXPECT_EQ(to_string(stun::FingerprintPolicy::mirror), "mirror");
  EXPECT_EQ(to_string(stun::FingerprintPolicy::always), "always");
  EXPECT_EQ(to_string(stun::FingerprintPolicy::never), "never");
  // Every listed RSS type is accepted.
  for (std::string_view t : kRssTypeNames) {
    Result<Config> r = load_string("dpdk: {rss: {types: [" + std::string(t) + "]}}\n", "x", {});
    ASSERT_TRUE(r.is_ok()) << r.message();
    EXPECT_EQ(r->dpdk.rss.types, std::vector<std::string>{std::string(t)});
  }
}

TEST(ConfigSteering, EachModelReadsAndRoundTrips) {
  for (auto [text, want] : {std::pair{"all", Steering::all}, {"xdp", Steering::xdp}, {"flow", Steering::flow}}) {
    const std::string device = want == Steering::xdp ? "net_af_xdp0,iface=sbx-dp0" : "0000:03:00.0";
    Result<Config> r = load_string("mode: dpdk\ndpdk:\n  ports:\n    - device: \"" + device +
                                       "\"\n      addresses: [\"198.18.0.2/24\"]\n      steering: " + text + "\n",
                                   "x", {});
    ASSERT_TRUE(r.is_ok()) << r.message();
    EXPECT_EQ(r->dpdk.ports.at(0).steering, want);
    Result<Config> back = load_string(to_yaml(*r), "y", {});
    ASSERT_TRUE(back.is_ok()) << back.message();
    EXPECT_EQ(back->dpdk.ports.at(0).steering, want);
  }
  // Not given: all, today's behaviour.
  Result<Config> r = load_string("dpdk:\n  ports:\n    - device: a\n", "x", {});
  ASSERT_TRUE(r.is_ok()) << r.message();
  EXPECT_EQ(r->dpdk.ports.at(0).steering, Steering::all);
}

// ---------------------------------------------------------------------------
// control.socket (the console's UNIX socket)

TEST(ConfigControl, SocketDefaultEmptyAndBadValues) {
  Result<Config> d = load_string("", "x", {});
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->control.socket, "/run/stunbox/stunbox.sock");
  Result<Config> off = load_string("control:\n  socket: \"\"\n", "x", {});
  ASSERT_TRUE(off.is_ok()) << off.message();
  EXPECT_EQ(off->control.socket, "");
  Result<Config> set = load_string("", "x", {"control.socket=/tmp/sbx/ctl.sock"});
  ASSERT_TRUE(set.is_ok()) << set.message();
  EXPECT_EQ(set->control.socket, "/tmp/sbx/ctl.sock");
  Result<Config> back = load_string(to_yaml(*set), "x", {});
  ASSERT_TRUE(back.is_ok()) << back.message();
  EXPECT_EQ(back->control.socket, "/tmp/sbx/ctl.sock");

  Result<Config> long_path = load_string("control:\n  socket: /" + std::string(120, 'a') + "\n", "c.yaml", {});
  ASSERT_FALSE(long_path.is_ok());
  EXPECT_EQ(long_path.message(), "c.yaml:2: control.socket: path longer than 107 bytes (the UNIX socket limit)");
  Result<Config> dir = load_string("control:\n  socket: /run/stunbox/\n", "c.yaml", {});
  ASSERT_FALSE(dir.is_ok());
  EXPECT_EQ(dir.message(), "c.yaml:2: control.socket: expected a socket file path, got a directory");
  Result<Config> key = load_string("control:\n  sock: /x\n", "c.yaml", {});
  ASSERT_FALSE(key.is_ok());
  EXPECT_NE(key.message().find("c.yaml:2: control.sock: unknown key 'sock'"), std::string::npos) << key.message();
}

}  // namespace
}  // namespace stunbox::config

// limits: (lib/limits abuse controls)
namespace stunbox::config {
namespace {

TEST(ConfigLimits, DefaultsParseAndRoundTrip) {
  Result<Config> d = load_string("", "x", {});
  ASSERT_TRUE(d) << d.message();
  EXPECT_EQ(d->limits.rate.pps, 0u);
  EXPECT_EQ(d->limits.rate.ipv4_prefix, 32);
  EXPECT_EQ(d->limits.rate.ipv6_prefix, 64);
  EXPECT_EQ(d->limits.rate.table_size, 65536u);
  EXPECT_EQ(d->limits.global_pps, 0u);
  EXPECT_EQ(d->limits.l3_pps, 1000u);
  EXPECT_EQ(d->limits.nd_pps, 5000u);
  EXPECT_EQ(d->limits.deny_source_ports,
            (std::vector<uint16_t>{0, 7, 19, 53, 111, 123, 137, 161, 389, 1900, 5353, 11211}));
  const std::string text =
      "limits:\n"
      "  rate: {pps: 50, burst: 7, ipv4_prefix: 24, ipv6_prefix: 48, table_size: 4096}\n"
      "  global_pps: 100000\n"
      "  allow: [\"0.0.0.0/0\", \"2001:2::/48\"]\n"
      "  deny: [\"198.18.0.0/15\", \"2001:2::5\"]\n"
      "  deny_source_ports: []\n"
      "  l3_pps: 0\n"
      "  nd_pps: 200\n";
  Result<Config> c = load_string(text, "x", {});
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->limits.rate.pps, 50u);
  EXPECT_EQ(c->limits.rate.burst, 7u);
  EXPECT_EQ(c->limits.rate.ipv4_prefix, 24);
  EXPECT_EQ(c->limits.rate.ipv6_prefix, 48);
  EXPECT_EQ(c->limits.rate.table_size, 4096u);
  EXPECT_EQ(c->limits.global_pps, 100000u);
  ASSERT_EQ(c->limits.allow.size(), 2u);
  EXPECT_EQ(c->limits.allow[0].length, 0);
  ASSERT_EQ(c->limits.deny.size(), 2u);
  EXPECT_EQ(c->limits.deny[1].length, 128);
  EXPECT_TRUE(c->limits.deny_source_ports.empty());
  EXPECT_EQ(c->limits.l3_pps, 0u);
  EXPECT_EQ(c->limits.nd_pps, 200u);
  Result<Config> back = load_string(to_yaml(*c), "y", {});
  ASSERT_TRUE(back) << back.message();
  EXPECT_TRUE(*back == *c) << to_yaml(*c);
  Result<Config> set = load_string("", "x", {"limits.rate.pps=9"});
  ASSERT_TRUE(set) << set.message();
  EXPECT_EQ(set->limits.rate.pps, 9u);
}

TEST(ConfigLimits, ErrorsAreOneLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"limits:\n  rate: {table_size: 5000}\n", "l.yaml:2: limits.rate.table_size: must be a power of two, got 5000"},
      {"limits:\n  rate: {table_size: 512}\n",
       "l.yaml:2: limits.rate.table_size: must be between 1024 and 16777216, got 512"},
      {"limits:\n  rate: {burst: 0}\n", "l.yaml:2: limits.rate.burst: must be between 1 and 1000000, got 0"},
      {"limits:\n  rate: {ipv4_prefix: 33}\n", "l.yaml:2: limits.rate.ipv4_prefix: must be between 1 and 32, got 33"},
      {"limits:\n  deny: [\"10.0.0.1/8\"]\n", "l.yaml:2: limits.deny[0]: bad CIDR \"10.0.0.1/8\": host bits set after /8"},
      {"limits:\n  allow: [\"10.0.0.0/33\"]\n",
       "l.yaml:2: limits.allow[0]: bad CIDR \"10.0.0.0/33\": prefix length must be between 0 and 32"},
      {"limits:\n  allow: [\"nonsense\"]\n",
       "l.yaml:2: limits.allow[0]: bad CIDR \"nonsense\": expected IPv4[/LEN] or IPv6[/LEN]"},
      {"limits:\n  deny_source_ports: [53, 53]\n", "l.yaml:2: limits.deny_source_ports[1]: duplicate port 53"},
      {"limits:\n  deny_source_ports: [70000]\n",
       "l.yaml:2: limits.deny_source_ports[0]: must be between 0 and 65535, got 70000"},
      {"limits:\n  nd_pps: 100000001\n", "l.yaml:2: limits.nd_pps: must be between 0 and 100000000, got 100000001"},
      {"limits:\n  nd_pp: 5\n", "l.yaml:2: limits.nd_pp: unknown key 'nd_pp', did you mean 'nd_pps'?"},
  };
  for (const auto& [text, want] : cases) {
    Result<Config> r = load_string(text, "l.yaml", {});
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.message(), want) << text;
  }
  Result<Config> key = load_string("limits:\n  rate: {ppss: 1}\n", "l.yaml", {});
  ASSERT_FALSE(key);
  EXPECT_NE(key.message().find("limits.rate.ppss: unknown key 'ppss', did you mean 'pps'?"), std::string::npos)
      << key.message();
}

}  // namespace
}  // namespace stunbox::config
