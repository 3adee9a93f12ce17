// YAML -> Config: parse with yaml-cpp into a small tree that remembers lines, apply --set overrides,
// validate.
#include "config/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/depthguard.h>  // YAML::DeepRecursion, not in yaml.h
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "core/privileges.h"

namespace stunbox::config {
namespace {

// ---------------------------------------------------------------------------
// A YAML tree of our own. yaml-cpp nodes forget nothing we need, but an
// override value parsed from a --set string carries marks relative to that
// string; here every node knows whether it came from the file (with its
// 1-based line) or from a --set, so each error points at the right place.

struct Origin {
  int line = 0;           // 1-based line in the file; 0 = unknown
  bool override = false;  // came from a --set
};

struct Node {
  enum class Kind : uint8_t { null, scalar, seq, map };
  Kind kind = Kind::null;
  Origin origin;
  std::string text;         // scalar value
  std::vector<Node> items;  // seq items, or map values
  // For map values: the key and where the key was written.
  std::string key;
  Origin key_origin;

  const Node* find(std::string_view k) const {
    for (const Node& n : items)
      if (n.key == k) return &n;
    return nullptr;
  }
  Node* find(std::string_view k) {
    for (Node& n : items)
      if (n.key == k) return &n;
    return nullptr;
  }
};

// Internal early exit; caught at the API boundary and turned into an Error.
struct Failure {
  Origin origin;
  std::string path;
  std::string message;
};

[[noreturn]] void fail(const Origin& o, std::string path, std::string message) {
  throw Failure{o, std::move(path), std::move(message)};
}

// Values quoted in a message may span lines (block scalars, multi-line plain
// scalars): escape control characters so the error stays one line.
std::string one_line(const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string format_failure_raw(const Failure& f, const std::string& name) {
  if (f.origin.override)
    return "--set " + (f.path.empty() ? std::string("(top level)") : f.path) + ": " + f.message;
  std::string out = name + ":" + std::to_string(f.origin.line > 0 ? f.origin.line : 1) + ": ";
  if (!f.path.empty()) out += f.path + ": ";
  return out + f.message;
}

std::string format_failure(const Failure& f, const std::string& name) { return one_line(format_failure_raw(f, name)); }

int line_of(const YAML::Mark& m) { return m.is_null() ? 0 : m.line + 1; }

const char* kind_name(Node::Kind k) {
  switch (k) {
    case Node::Kind::null:
      return "nothing";
    case Node::Kind::scalar:
      return "a scalar";
    case Node::Kind::seq:
      return "a list";
    case Node::Kind::map:
      return "a map";
  }
  return "?";
}

// What a node holds, for "expected X, got Y" messages.
std::string describe(const Node& n) {
  if (n.kind == Node::Kind::scalar) return "'" + n.text + "'";
  return kind_name(n.kind);
}

// Aliases let a small file expand into a huge tree ("billion laughs"); no
// real configuration comes near this many nodes.
constexpr size_t kMaxNodes = 100000;

Node convert(const YAML::Node& y, bool from_override, const std::string& path, size_t& budget) {
  Node n;
  if (budget == 0)
    fail({from_override ? 0 : line_of(y.Mark()), from_override}, path,
         "too many YAML nodes (more than " + std::to_string(kMaxNodes) + ", aliases expanded)");
  --budget;
  n.origin = {from_override ? 0 : line_of(y.Mark()), from_override};
  switch (y.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      n.kind = Node::Kind::null;
      break;
    case YAML::NodeType::Scalar:
      n.kind = Node::Kind::scalar;
      n.text = y.Scalar();
      break;
    case YAML::NodeType::Sequence: {
      n.kind = Node::Kind::seq;
      size_t i = 0;
      for (const YAML::Node& item : y) {
        n.items.push_back(convert(item, from_override, path + "[" + std::to_string(i) + "]", budget));
        ++i;
      }
      break;
    }
    case YAML::NodeType::Map:
      n.kind = Node::Kind::map;
      for (auto it = y.begin(); it != y.end(); ++it) {
        Origin ko{from_override ? 0 : line_of(it->first.Mark()), from_override};
        if (!it->first.IsScalar())
          fail(ko, path,
               std::string("keys must be plain names, got ") + (it->first.IsSequence() ? "a list"
                                                                : it->first.IsMap()    ? "a map"
                                                                                       : "nothing"));
        std::string key = it->first.Scalar();
        std::string child_path = path.empty() ? key : path + "." + key;
        if (n.find(key)) fail(ko, child_path, "duplicate key '" + key + "'");
        Node child = convert(it->second, from_override, child_path, budget);
        // An empty value has no useful mark of its own: point at its key.
        if (child.kind == Node::Kind::null) child.origin = ko;
        child.key = std::move(key);
        child.key_origin = ko;
        n.items.push_back(std::move(child));
      }
      break;
  }
  return n;
}

// yaml-cpp 0.7's LoadAll() loops forever, allocating, on some malformed input
// (a stray ',' at the top level: jbeder/yaml-cpp#1040, fixed upstream in PR
// #1319), and Load() returns an empty document for it. So walk the documents
// with the event parser first: a document that starts where the previous one
// started means the parser is stuck; a second document is an error.
struct DocumentStarts : YAML::EventHandler {
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The first (only) document of `text`; a null node when there is none.
// Throws YAML::ParserException on syntax errors, Failure (at `where`, with
// `path`) for a stuck parser or a second document.
YAML::Node load_single_document(const std::string& text, bool from_override, const std::string& path) {
  {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (parser.HandleNextDocument(starts)) {
      size_t n = starts.starts.size();
      if (n < 2) continue;
      const YAML::Mark& m = starts.starts[n - 1];
      Origin o{from_override ? 0 : line_of(m), from_override};
      if (m.pos == starts.starts[n - 2].pos)
        fail(o, path, std::string(from_override ? "bad YAML value: " : "YAML syntax error: ") + "unexpected character");
      fail(o, path, from_override ? "the value holds more than one YAML document"
                                  : "more than one YAML document in the file");
    }
  }
  return YAML::Load(text);
}

// ---------------------------------------------------------------------------
// Small text helpers.

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string join(const std::vector<std::string_view>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    unsigned d = static_cast<unsigned>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// Code points in well-formed UTF-8, or -1 if malformed.
long utf8_length(std::string_view s) {
  long count = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return -1;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return -1;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    i += len;
    ++count;
  }
  return count;
}

// ---------------------------------------------------------------------------
// The validator: walks the tree section by section into Config.

std::string child_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string index_path(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

class Reader {
 public:
  // A map section: a null value counts as an empty map (all defaults).
  static void expect_map(const Node& n, const std::string& path) {
    if (n.kind != Node::Kind::map && n.kind != Node::Kind::null)
      fail(n.origin, path, "expected a map, got " + describe(n));
  }

  static void check_keys(const Node& map, const std::string& path,
                         const std::vector<std::string_view>& allowed) {
    for (const Node& entry : map.items) {
      if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
      std::string msg = "unknown key '" + entry.key + "'";
      // Suggest the closest allowed key when it is plausibly a typo.
      std::string_view best;
      size_t best_d = std::numeric_limits<size_t>::max();
      for (std::string_view a : allowed) {
        size_t d = edit_distance(entry.key, a);
        if (d < best_d) best_d = d, best = a;
      }
      size_t limit = std::max<size_t>(1, std::min(entry.key.size(), best.size()) / 3);
      if (best_d <= limit && best_d <= 2)
        msg += ", did you mean '" + std::string(best) + "'?";
      else
        msg += " (allowed: " + join(allowed, ", ") + ")";
      fail(entry.key_origin, child_path(path, entry.key), msg);
    }
  }

  static const Node& scalar(const Node& n, const std::string& path, std::string_view what) {
    if (n.kind != Node::Kind::scalar)
      fail(n.origin, path, "expected " + std::string(what) + ", got " + describe(n));
    return n;
  }

  static uint64_t integer(const Node& n, const std::string& path, uint64_t lo, uint64_t hi,
                          bool allow_auto = false) {
    std::string_view what = allow_auto ? "an integer or 'auto'" : "an integer";
    scalar(n, path, what);
    std::string_view t = n.text;
    bool negative = !t.empty() && t[0] == '-';
    std::string_view digits = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? t.substr(1) : t;
    uint64_t v = 0;
    bool all_digits = !digits.empty() &&
                      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!all_digits) fail(n.origin, path, "expected " + std::string(what) + ", got '" + n.text + "'");
    if (negative || !parse_u64(digits, v) || v < lo || v > hi)
      fail(n.origin, path,
           "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + n.text);
    return v;
  }

  // 0 stands for auto.
  static uint64_t integer_or_auto(const Node& n, const std::string& path, uint64_t lo, uint64_t hi) {
    if (n.kind == Node::Kind::scalar && n.text == "auto") return 0;
    return integer(n, path, lo, hi, true);
  }

  static bool boolean(const Node& n, const std::string& path) {
    scalar(n, path, "true or false");
    static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                                 "YES",  "on",   "On",   "ON"};
    static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no", "No",
                                                  "NO",    "off",   "Off",   "OFF"};
    for (auto t : kTrue)
      if (n.text == t) return true;
    for (auto f : kFalse)
      if (n.text == f) return false;
    fail(n.origin, path, "expected true or false, got '" + n.text + "'");
  }

  // A string value; an empty value reads as "".
  static std::string string(const Node& n, const std::string& path) {
    if (n.kind == Node::Kind::null) return {};
    return scalar(n, path, "a string").text;
  }

  template <typename E>
  static E enumeration(const Node& n, const std::string& path,
                       const std::vector<std::pair<std::string_view, E>>& values) {
    std::vector<std::string_view> names;
    for (const auto& [name, v] : values) names.push_back(name);
    std::string expected = "one of " + join(names, ", ");
    scalar(n, path, expected);
    for (const auto& [name, v] : values)
      if (n.text == name) return v;
    fail(n.origin, path, "expected " + expected + ", got '" + n.text + "'");
  }

  // A list; an empty value reads as an empty list.
  static const std::vector<Node>& list(const Node& n, const std::string& path) {
    static const std::vector<Node> kEmpty;
    if (n.kind == Node::Kind::null) return kEmpty;
    if (n.kind != Node::Kind::seq) fail(n.origin, path, "expected a list, got " + describe(n));
    return n.items;
  }
};

using R = Reader;

const std::vector<std::pair<std::string_view, Mode>> kModes = {{"socket", Mode::socket},
                                                               {"dpdk", Mode::dpdk}};
const std::vector<std::pair<std::string_view, Idle>> kIdles = {{"poll", Idle::poll},
                                                               {"adaptive", Idle::adaptive}};
const std::vector<std::pair<std::string_view, stun::FingerprintPolicy>> kFingerprints = {
    {"mirror", stun::FingerprintPolicy::mirror},
    {"always", stun::FingerprintPolicy::always},
    {"never", stun::FingerprintPolicy::never}};

bool is_v4_multicast(const IpAddress& a) { return !a.v6 && (a.bytes[0] & 0xf0) == 0xe0; }
bool is_v6_multicast(const IpAddress& a) { return a.v6 && a.bytes[0] == 0xff; }

ListenAddress parse_listen(const Node& n, const std::string& path) {
  std::string text = R::scalar(n, path, "an address string like \"0.0.0.0:3478\"").text;
  auto bad = [&](const std::string& why) { fail(n.origin, path, "bad address \"" + text + "\": " + why); };
  const std::string kShape = "expected IPv4:PORT or [IPv6]:PORT";
  std::string host, port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') bad(kShape);
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) bad(kShape);
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) bad(kShape + " (IPv6 addresses need brackets)");
  }
  ListenAddress la;
  la.text = text;
  auto ip = parse_ip(host);
  if (!ip || ip->v6 != (text[0] == '[')) bad(kShape);
  la.ip = *ip;
  uint64_t port = 0;
  if (!parse_u64(port_text, port) || port < 1 || port > 65535) bad("port must be between 1 and 65535");
  la.port = static_cast<uint16_t>(port);
  if (is_v4_multicast(la.ip) || is_v6_multicast(la.ip)) bad("a multicast address cannot be listened on");
  return la;
}

// "ADDR[/LEN]" (no LEN: a host prefix), LEN from min_len to 32 or 128. Every
// error reads `bad KIND "TEXT": why`.
IpPrefix split_prefix(const Node& n, const std::string& path, const std::string& text, const char* kind,
                      unsigned min_len) {
  auto bad = [&](const std::string& why) {
    fail(n.origin, path, std::string("bad ") + kind + " \"" + text + "\": " + why);
  };
  size_t slash = text.find('/');
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) bad("expected IPv4[/LEN] or IPv6[/LEN]");
  IpPrefix p;
  p.text = text;
  p.ip = *ip;
  unsigned max_len = ip->v6 ? 128 : 32;
  p.length = static_cast<uint8_t>(max_len);
  if (slash != std::string::npos) {
    uint64_t len = 0;
    if (!parse_u64(std::string_view(text).substr(slash + 1), len) || len < min_len || len > max_len)
      bad("prefix length must be between " + std::to_string(min_len) + " and " + std::to_string(max_len));
    p.length = static_cast<uint8_t>(len);
  }
  return p;
}

IpPrefix parse_prefix(const Node& n, const std::string& path) {
  std::string text = R::scalar(n, path, "an address string like \"198.18.0.2/24\"").text;
  auto bad = [&](const std::string& why) { fail(n.origin, path, "bad address \"" + text + "\": " + why); };
  IpPrefix p = split_prefix(n, path, text, "address", 1);
  if (is_wildcard(p.ip)) bad("the unspecified address cannot be owned");
  if (is_v4_multicast(p.ip) || is_v6_multicast(p.ip)) bad("a multicast address cannot be owned");
  if (!p.ip.v6) {
    uint32_t a = (uint32_t{p.ip.bytes[0]} << 24) | (uint32_t{p.ip.bytes[1]} << 16) |
                 (uint32_t{p.ip.bytes[2]} << 8) | p.ip.bytes[3];
    if (a == 0xffffffffu) bad("the broadcast address cannot be owned");
    // RFC 3021: /31 and /32 have no directed broadcast address.
    if (p.length <= 30) {
      uint32_t host_mask = (1u << (32 - p.length)) - 1;
      if ((a & host_mask) == host_mask)
        bad("is the broadcast address of its /" + std::to_string(p.length) + " subnet");
    }
  }
  return p;
}

std::vector<uint8_t> parse_hex_key(const Node& n, const std::string& path) {
  const std::string& t = n.text;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < t.size(); ++i)
    if (nibble(t[i]) < 0)
      fail(n.origin, path,
           "expected 'auto' or a hex string, got a '" + std::string(1, t[i]) + "' at position " +
               std::to_string(i + 1));
  if (t.size() % 2) fail(n.origin, path, "odd number of hex digits (" + std::to_string(t.size()) + ")");
  size_t bytes = t.size() / 2;
  if (bytes != 40 && bytes != 52)
    fail(n.origin, path,
         "must be 40 or 52 bytes (80 or 104 hex digits), got " + std::to_string(bytes) + " bytes");
  std::vector<uint8_t> key(bytes);
  for (size_t i = 0; i < bytes; ++i)
    key[i] = static_cast<uint8_t>(nibble(t[2 * i]) * 16 + nibble(t[2 * i + 1]));
  return key;
}

void read_stun(const Node& n, const std::string& path, StunSection& s) {
  R::expect_map(n, path);
  R::check_keys(n, path, {"ports", "software", "fingerprint", "classic"});
  if (const Node* v = n.find("ports")) {
    std::string p = child_path(path, "ports");
    const auto& items = R::list(*v, p);
    if (items.empty()) fail(v->origin, p, "must list at least one port");
    s.ports.clear();
    for (size_t i = 0; i < items.size(); ++i) {
      auto port = static_cast<uint16_t>(R::integer(items[i], index_path(p, i), 1, 65535));
      if (std::find(s.ports.begin(), s.ports.end(), port) != s.ports.end())
        fail(items[i].origin, index_path(p, i), "duplicate port " + std::to_string(port));
      s.ports.push_back(port);
    }
  }
  if (const Node* v = n.find("software")) {
    std::string p = child_path(path, "software");
    s.software = R::string(*v, p);
    long chars = utf8_length(s.software);
    if (chars < 0) fail(v->origin, p, "is not valid UTF-8");
    // RFC 8489 s14.14: SOFTWARE MUST be fewer than 128 characters.
    if (chars > 127)
      fail(v->origin, p, "must be at most 127 characters (RFC 8489 s14.14), got " + std::to_string(chars));
  }
  if (const Node* v = n.find("fingerprint"))
    s.fingerprint = R::enumeration(*v, child_path(path, "fingerprint"), kFingerprints);
  if (const Node* v = n.find("classic")) s.classic = R::boolean(*v, child_path(path, "classic"));
}

void read_socket(const Node& n, const std::string& path, SocketSection& s) {
  R::expect_map(n, path);
  R::check_keys(n, path, {"listen", "workers", "batch", "pin", "rcvbuf", "sndbuf", "user", "group"});
  if (const Node* v = n.find("listen")) {
    std::string p = child_path(path, "listen");
    const auto& items = R::list(*v, p);
    s.listen.clear();
    for (size_t i = 0; i < items.size(); ++i) {
      ListenAddress la = parse_listen(items[i], index_path(p, i));
      for (const ListenAddress& other : s.listen)
        if (other == la)
          fail(items[i].origin, index_path(p, i),
               "duplicate listen address \"" + la.text + "\" (same as \"" + other.text + "\")");
      s.listen.push_back(std::move(la));
    }
  }
  if (const Node* v = n.find("workers"))
    s.workers = static_cast<unsigned>(R::integer_or_auto(*v, child_path(path, "workers"), 1, 1024));
  if (const Node* v = n.find("batch"))
    s.batch = static_cast<unsigned>(R::integer(*v, child_path(path, "batch"), 1, 1024));
  if (const Node* v = n.find("pin")) s.pin = R::boolean(*v, child_path(path, "pin"));
  if (const Node* v = n.find("rcvbuf"))
    s.rcvbuf = static_cast<unsigned>(R::integer(*v, child_path(path, "rcvbuf"), 0, 2147483647));
  if (const Node* v = n.find("sndbuf"))
    s.sndbuf = static_cast<unsigned>(R::integer(*v, child_path(path, "sndbuf"), 0, 2147483647));
  // Names are checked against the user and group databases now, so a typo
  // fails at load (and --check-config), not after the sockets are bound.
  const Node* user = n.find("user");
  if (user) {
    const std::string p = child_path(path, "user");
    s.user = R::string(*user, p);
    if (!s.user.empty()) {
      auto found = find_user(s.user);
      if (!found) fail(user->origin, p, found.message());
      if (!*found) fail(user->origin, p, "no such user \"" + s.user + "\"");
    }
  }
  if (const Node* v = n.find("group")) {
    const std::string p = child_path(path, "group");
    s.group = R::string(*v, p);
    if (!s.group.empty()) {
      auto found = find_group(s.group);
      if (!found) fail(v->origin, p, found.message());
      if (!*found) fail(v->origin, p, "no such group \"" + s.group + "\"");
      if (s.user.empty()) fail(v->origin, p, "needs socket.user (the group is switched to together with the user)");
    }
  }
}

void read_port(const Node& n, const std::string& path, PortSection& port) {
  if (n.kind != Node::Kind::map)
    fail(n.origin, path, "expected a map with a 'device' key, got " + describe(n));
  R::check_keys(n, path, {"device", "queues", "rx_desc", "tx_desc", "addresses", "vlan", "mtu"});
  const Node* dev = n.find("device");
  if (!dev) fail(n.origin, path, "missing required key 'device'");
  port.device = R::string(*dev, child_path(path, "device"));
  if (port.device.empty()) fail(dev->origin, child_path(path, "device"), "must not be empty");
  if (const Node* v = n.find("queues"))
    port.queues = static_cast<unsigned>(R::integer_or_auto(*v, child_path(path, "queues"), 1, 1024));
  if (const Node* v = n.find("rx_desc"))
    port.rx_desc = static_cast<unsigned>(R::integer(*v, child_path(path, "rx_desc"), 64, 32768));
  if (const Node* v = n.find("tx_desc"))
    port.tx_desc = static_cast<unsigned>(R::integer(*v, child_path(path, "tx_desc"), 64, 32768));
  const Node* first_v6 = nullptr;
  std::string first_v6_path;
  if (const Node* v = n.find("addresses")) {
    std::string p = child_path(path, "addresses");
    const auto& items = R::list(*v, p);
    for (size_t i = 0; i < items.size(); ++i) {
      IpPrefix pre = parse_prefix(items[i], index_path(p, i));
      for (const IpPrefix& other : port.addresses)
        if (other.ip == pre.ip)
          fail(items[i].origin, index_path(p, i), "duplicate address " + to_string(pre.ip));
      if (pre.ip.v6 && !first_v6) first_v6 = &items[i], first_v6_path = index_path(p, i);
      port.addresses.push_back(std::move(pre));
    }
  }
  if (const Node* v = n.find("vlan")) {
    if (v->kind != Node::Kind::null)
      port.vlan = static_cast<uint16_t>(R::integer(*v, child_path(path, "vlan"), 1, 4094));
  }
  const Node* mtu = n.find("mtu");
  if (mtu) port.mtu = static_cast<unsigned>(R::integer(*mtu, child_path(path, "mtu"), 68, 9600));
  // RFC 8200 s5: every IPv6 link has an MTU of at least 1280.
  if (first_v6 && port.mtu < 1280) {
    if (mtu)
      fail(mtu->origin, child_path(path, "mtu"),
           "must be at least 1280 on a port with IPv6 addresses (RFC 8200 s5), got " +
               std::to_string(port.mtu));
    fail(first_v6->origin, first_v6_path, "IPv6 needs an mtu of at least 1280 (RFC 8200 s5)");
  }
}

void read_lcores(const Node& n, const std::string& path, const Node* ports_node, DpdkSection& d) {
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

void read_dpdk(const Node& n, const std::string& path, DpdkSection& d) {
  R::expect_map(n, path);
  R::check_keys(
      n, path,
      {"eal", "ports", "lcores", "burst", "idle", "mempool", "rss", "link_wait_ms", "exit_after_idle_ms"});
  if (const Node* v = n.find("eal")) {
    std::string p = child_path(path, "eal");
    const auto& items = R::list(*v, p);
    d.eal.clear();
    for (size_t i = 0; i < items.size(); ++i)
      d.eal.push_back(R::scalar(items[i], index_path(p, i), "a string").text);
  }
  const Node* ports = n.find("ports");
  if (ports) {
    std::string p = child_path(path, "ports");
    const auto& items = R::list(*ports, p);
    d.ports.clear();
    for (size_t i = 0; i < items.size(); ++i) {
      PortSection port;
      read_port(items[i], index_path(p, i), port);
      for (size_t j = 0; j < d.ports.size(); ++j)
        if (d.ports[j].device == port.device)
          fail(items[i].origin, child_path(index_path(p, i), "device"),
               "device \"" + port.device + "\" is already dpdk.ports[" + std::to_string(j) + "]");
      d.ports.push_back(std::move(port));
    }
  }
  if (const Node* v = n.find("burst"))
    d.burst = static_cast<unsigned>(R::integer(*v, child_path(path, "burst"), 1, 512));
  if (const Node* v = n.find("idle")) d.idle = R::enumeration(*v, child_path(path, "idle"), kIdles);
  if (const Node* v = n.find("mempool")) {
    std::string p = child_path(path, "mempool");
    R::expect_map(*v, p);
    R::check_keys(*v, p, {"size", "cache", "data_room"});
    if (const Node* w = v->find("size"))
      d.mempool.size = static_cast<unsigned>(R::integer_or_auto(*w, child_path(p, "size"), 1024, 67108864));
    if (const Node* w = v->find("cache"))
      d.mempool.cache = static_cast<unsigned>(R::integer(*w, child_path(p, "cache"), 0, 512));
    if (const Node* w = v->find("data_room"))
      d.mempool.data_room = static_cast<unsigned>(R::integer(*w, child_path(p, "data_room"), 512, 65535));
  }
  if (const Node* v = n.find("rss")) {
    std::string p = child_path(path, "rss");
    R::expect_map(*v, p);
    R::check_keys(*v, p, {"types", "key"});
    if (const Node* w = v->find("types")) {
      std::string tp = child_path(p, "types");
      const auto& items = R::list(*w, tp);
      if (items.empty()) fail(w->origin, tp, "must name at least one hash type");
      d.rss.types.clear();
      std::vector<std::string_view> allowed(kRssTypeNames.begin(), kRssTypeNames.end());
      for (size_t i = 0; i < items.size(); ++i) {
        const std::string& t = R::scalar(items[i], index_path(tp, i), "a hash type name").text;
        if (std::find(allowed.begin(), allowed.end(), t) == allowed.end())
          fail(items[i].origin, index_path(tp, i),
               "expected one of " + join(allowed, ", ") + ", got '" + t + "'");
        if (std::find(d.rss.types.begin(), d.rss.types.end(), t) != d.rss.types.end())
          fail(items[i].origin, index_path(tp, i), "duplicate hash type '" + t + "'");
        d.rss.types.push_back(t);
      }
    }
    if (const Node* w = v->find("key")) {
      std::string kp = child_path(p, "key");
      const Node& k = R::scalar(*w, kp, "'auto' or a hex string");
      if (k.text == "auto")
        d.rss.key.clear();
      else
        d.rss.key = parse_hex_key(k, kp);
    }
  }
  if (const Node* v = n.find("link_wait_ms"))
    d.link_wait_ms = static_cast<unsigned>(R::integer(*v, child_path(path, "link_wait_ms"), 0, 600000));
  if (const Node* v = n.find("exit_after_idle_ms"))
    d.exit_after_idle_ms =
        static_cast<unsigned>(R::integer(*v, child_path(path, "exit_after_idle_ms"), 0, 86400000));
  // Last: the lcore map refers to ports and their queue counts.
  if (const Node* v = n.find("lcores")) read_lcores(*v, child_path(path, "lcores"), ports, d);
}

void read_stats(const Node& n, const std::string& path, StatsSection& s) {
  R::expect_map(n, path);
  R::check_keys(n, path, {"period", "metrics_listen"});
  if (const Node* v = n.find("period"))
    s.period = static_cast<unsigned>(R::integer(*v, child_path(path, "period"), 0, 86400));
  if (const Node* v = n.find("metrics_listen")) {
    const std::string text = R::scalar(*v, child_path(path, "metrics_listen"), "an address string like \"127.0.0.1:9478\"").text;
    // "" switches the endpoint off; anything else must be host:port like a listen address.
    if (text.empty()) s.metrics_listen.reset();
    else s.metrics_listen = parse_listen(*v, child_path(path, "metrics_listen"));
  }
}

void read_control(const Node& n, const std::string& path, ControlSection& c) {
  R::expect_map(n, path);
  R::check_keys(n, path, {"socket"});
  if (const Node* v = n.find("socket")) {
    const std::string p = child_path(path, "socket");
    c.socket = R::string(*v, p);
    // sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
    if (c.socket.size() > 107) fail(v->origin, p, "path longer than 107 bytes (the UNIX socket limit)");
    if (c.socket.find('\0') != std::string::npos) fail(v->origin, p, "path contains a NUL byte");
    if (!c.socket.empty() && c.socket.back() == '/') fail(v->origin, p, "expected a socket file path, got a directory");
  }
}

// An ACL entry: any address (0.0.0.0/0 and ::/0 allowed), host bits must be zero.
IpPrefix parse_cidr(const Node& n, const std::string& path) {
  std::string text = R::scalar(n, path, "a CIDR string like \"198.18.0.0/15\"").text;
  auto bad = [&](const std::string& why) { fail(n.origin, path, "bad CIDR \"" + text + "\": " + why); };
  IpPrefix p = split_prefix(n, path, text, "CIDR", 0);
  const unsigned max_len = p.ip.v6 ? 128 : 32;
  for (unsigned bit = p.length; bit < max_len; ++bit)
    if (p.ip.bytes[bit / 8] & (0x80 >> (bit % 8))) bad("host bits set after /" + std::to_string(p.length));
  return p;
}

void read_cidrs(const Node& n, const std::string& path, std::vector<IpPrefix>& out) {
  const auto& items = R::list(n, path);
  out.clear();
  for (size_t i = 0; i < items.size(); ++i) out.push_back(parse_cidr(items[i], index_path(path, i)));
}

void read_limits(const Node& n, const std::string& path, LimitsSection& l) {
  R::expect_map(n, path);
  R::check_keys(n, path, {"rate", "global_pps", "allow", "deny", "deny_source_ports", "l3_pps", "nd_pps"});
  if (const Node* r = n.find("rate")) {
    const std::string rp = child_path(path, "rate");
    R::expect_map(*r, rp);
    R::check_keys(*r, rp, {"pps", "burst", "ipv4_prefix", "ipv6_prefix", "table_size"});
    if (const Node* v = r->find("pps"))
      l.rate.pps = static_cast<unsigned>(R::integer(*v, child_path(rp, "pps"), 0, 100000000));
    if (const Node* v = r->find("burst"))
      l.rate.burst = static_cast<unsigned>(R::integer(*v, child_path(rp, "burst"), 1, 1000000));
    if (const Node* v = r->find("ipv4_prefix"))
      l.rate.ipv4_prefix = static_cast<uint8_t>(R::integer(*v, child_path(rp, "ipv4_prefix"), 1, 32));
    if (const Node* v = r->find("ipv6_prefix"))
      l.rate.ipv6_prefix = static_cast<uint8_t>(R::integer(*v, child_path(rp, "ipv6_prefix"), 1, 128));
    if (const Node* v = r->find("table_size")) {
      const std::string p = child_path(rp, "table_size");
      uint64_t t = R::integer(*v, p, 1024, 16777216);
      if (t & (t - 1)) fail(v->origin, p, "must be a power of two, got " + v->text);
      l.rate.table_size = static_cast<unsigned>(t);
    }
  }
  if (const Node* v = n.find("global_pps"))
    l.global_pps = static_cast<unsigned>(R::integer(*v, child_path(path, "global_pps"), 0, 1000000000));
  if (const Node* v = n.find("allow")) read_cidrs(*v, child_path(path, "allow"), l.allow);
  if (const Node* v = n.find("deny")) read_cidrs(*v, child_path(path, "deny"), l.deny);
  if (const Node* v = n.find("deny_source_ports")) {
    const std::string p = child_path(path, "deny_source_ports");
    const auto& items = R::list(*v, p);
    l.deny_source_ports.clear();
    for (size_t i = 0; i < items.size(); ++i) {
      auto port = static_cast<uint16_t>(R::integer(items[i], index_path(p, i), 0, 65535));
      if (std::find(l.deny_source_ports.begin(), l.deny_source_ports.end(), port) != l.deny_source_ports.end())
        fail(items[i].origin, index_path(p, i), "duplicate port " + std::to_string(port));
      l.deny_source_ports.push_back(port);
    }
  }
  if (const Node* v = n.find("l3_pps"))
    l.l3_pps = static_cast<unsigned>(R::integer(*v, child_path(path, "l3_pps"), 0, 100000000));
  if (const Node* v = n.find("nd_pps"))
    l.nd_pps = static_cast<unsigned>(R::integer(*v, child_path(path, "nd_pps"), 0, 100000000));
}

Config read_config(const Node& root, const std::string& name) {
  Config c;
  c.source = name;
  c.socket.listen = {ListenAddress{IpAddress{false, {}}, 3478, "0.0.0.0:3478"},
                     ListenAddress{IpAddress{true, {}}, 3478, "[::]:3478"}};
  R::check_keys(root, "", {"mode", "stun", "socket", "dpdk", "stats", "control", "limits"});
  const Node* mode = root.find("mode");
  if (mode) c.mode = R::enumeration(*mode, "mode", kModes);
  if (const Node* v = root.find("stun")) read_stun(*v, "stun", c.stun);
  if (const Node* v = root.find("socket")) read_socket(*v, "socket", c.socket);
  if (const Node* v = root.find("dpdk")) read_dpdk(*v, "dpdk", c.dpdk);
  if (const Node* v = root.find("stats")) read_stats(*v, "stats", c.stats);
  if (const Node* v = root.find("control")) read_control(*v, "control", c.control);
  if (const Node* v = root.find("limits")) read_limits(*v, "limits", c.limits);

  // Mode-specific requirements.
  if (c.mode == Mode::socket && c.socket.listen.empty()) {
    const Node* s = root.find("socket");
    const Node* l = s ? s->find("listen") : nullptr;
    fail(l ? l->origin : Origin{}, "socket.listen", "socket mode needs at least one listen address");
  }
  if (c.mode == Mode::dpdk && c.dpdk.ports.empty()) {
    const Node* d = root.find("dpdk");
    const Node* p = d ? d->find("ports") : nullptr;
    if (p) fail(p->origin, "dpdk.ports", "dpdk mode needs at least one port");
    fail(mode->origin, "mode", "dpdk mode needs at least one port in dpdk.ports");
  }
  return c;
}

// ---------------------------------------------------------------------------
// --set PATH=VALUE

struct PathStep {
  bool is_index = false;
  std::string key;
  size_t index = 0;
};

bool parse_set_path(std::string_view path, std::vector<PathStep>& steps) {
  size_t i = 0;
  if (path.empty()) return false;
  while (i < path.size()) {
    if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos) return false;
      uint64_t idx = 0;
      if (!parse_u64(path.substr(i + 1, close - i - 1), idx) || steps.empty()) return false;
      steps.push_back({true, {}, static_cast<size_t>(idx)});
      i = close + 1;
      if (i < path.size()) {
        if (path[i] == '.') {
          ++i;
          if (i >= path.size()) return false;
        } else if (path[i] != '[') {
          return false;
        }
      }
      continue;
    }
    size_t end = path.find_first_of(".[]", i);
    if (end == std::string_view::npos) end = path.size();
    if (end == i || (end < path.size() && path[end] == ']')) return false;
    steps.push_back({false, std::string(path.substr(i, end - i)), 0});
    i = end;
    if (i < path.size() && path[i] == '.') {
      ++i;
      if (i >= path.size()) return false;
    }
  }
  return true;
}

void mark_override(Node& n) {
  n.origin = {0, true};
  n.key_origin = {0, true};
  for (Node& c : n.items) mark_override(c);
}

void apply_override(Node& root, const std::string& spec) {
  size_t eq = spec.find('=');
  const Origin here{0, true};
  if (eq == std::string::npos || eq == 0)
    fail(here, "'" + spec + "'", "expected PATH=VALUE, e.g. socket.workers=2");
  std::string path = spec.substr(0, eq);
  std::string value = spec.substr(eq + 1);
  std::vector<PathStep> steps;
  if (!parse_set_path(path, steps))
    fail(here, path, "bad path: expected dotted keys with optional [INDEX], e.g. dpdk.ports[0].queues");

  Node parsed;
  try {
    YAML::Node doc = load_single_document(value, true, path);
    size_t budget = kMaxNodes;
    parsed = convert(doc, true, path, budget);
  } catch (const YAML::DeepRecursion& e) {
    fail(here, path, "bad YAML value: nested too deeply (" + std::to_string(e.depth()) + " levels)");
  } catch (const YAML::ParserException& e) {
    fail(here, path, "bad YAML value '" + value + "': " + e.msg);
  }
  mark_override(parsed);

  Node* cur = &root;
  std::string walked;
  for (size_t s = 0; s < steps.size(); ++s) {
    const PathStep& step = steps[s];
    bool last = s + 1 == steps.size();
    if (step.is_index) {
      if (cur->kind == Node::Kind::null)
        fail(here, path, "'" + walked + "' is not set: [INDEX] only selects an entry of an existing list");
      if (cur->kind != Node::Kind::seq) fail(here, path, "'" + walked + "' is not a list");
      if (step.index >= cur->items.size())
        fail(here, path,
             "index " + std::to_string(step.index) + " is out of range ('" + walked + "' has " +
                 std::to_string(cur->items.size()) + (cur->items.size() == 1 ? " entry)" : " entries)"));
      walked = index_path(walked, step.index);
      Node& target = cur->items[step.index];
      if (last) {
        parsed.key = target.key;
        target = std::move(parsed);
        return;
      }
      cur = &target;
      continue;
    }
    if (cur->kind == Node::Kind::null) {
      cur->kind = Node::Kind::map;
      cur->origin = here;
    }
    if (cur->kind != Node::Kind::map)
      fail(here, path, "'" + (walked.empty() ? std::string("(top level)") : walked) + "' is not a map");
    walked = child_path(walked, step.key);
    Node* child = cur->find(step.key);
    if (!child) {
      Node fresh;
      fresh.origin = here;
      fresh.key = step.key;
      fresh.key_origin = here;
      cur->items.push_back(std::move(fresh));
      child = &cur->items.back();
    }
    if (last) {
      parsed.key = child->key;
      parsed.key_origin = child->key_origin;
      *child = std::move(parsed);
      return;
    }
    cur = child;
  }
}

Result<Config> load_text(const std::string& text, const std::string& name,
                         const std::vector<std::string>& overrides) {
  try {
    Node root;
    try {
      YAML::Node doc = load_single_document(text, false, "");
      size_t budget = kMaxNodes;
      root = convert(doc, false, "", budget);
    } catch (const YAML::DeepRecursion& e) {
      fail({line_of(e.mark), false}, "", "YAML nested too deeply (" + std::to_string(e.depth()) + " levels)");
    } catch (const YAML::ParserException& e) {
      fail({line_of(e.mark), false}, "", "YAML syntax error: " + e.msg);
    }
    if (root.kind == Node::Kind::null) {
      root.kind = Node::Kind::map;  // empty file or only comments: all defaults
      root.origin = {1, false};
    }
    if (root.kind != Node::Kind::map)
      fail(
          root.origin, "",
          "the top level must be a map of sections (mode, stun, socket, dpdk, stats, control, limits), got " + describe(root));
    for (const std::string& o : overrides) apply_override(root, o);
    return read_config(root, name);
  } catch (const Failure& f) {
    return Error{format_failure(f, name)};
  } catch (const std::exception& e) {
    return Error{one_line(name + ": " + e.what())};
  } catch (...) {
    return Error{name + ": unexpected error while reading the configuration"};
  }
}

// ---------------------------------------------------------------------------
// Rendering.

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    static constexpr char kHex[] = "0123456789abcdef";
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0) {
      // C1 controls (U+0080..U+009F) are not printable YAML: escape them.
      auto c1 = static_cast<unsigned char>(s[++i]);
      out += "\\u00";
      out += kHex[c1 >> 4];
      out += kHex[c1 & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

template <typename T, typename F>
std::string flow_list(const std::vector<T>& v, F render) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += render(v[i]);
  }
  return out + "]";
}

std::string auto_or(unsigned v) { return v == 0 ? std::string("auto") : std::to_string(v); }

}  // namespace

// ---------------------------------------------------------------------------
// Public API.

Result<Config> load_string(const std::string& text, const std::string& name,
                           const std::vector<std::string>& overrides) {
  return load_text(text, name, overrides);
}

Result<Config> load_file(const std::string& path, const std::vector<std::string>& overrides) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error{"cannot read " + path + ": " + std::strerror(EISDIR)};
  }
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Error{"cannot read " + path + ": " + std::strerror(err)};
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (16u << 20)) {
      ::close(fd);
      return Error{"cannot read " + path + ": larger than 16 MiB, not a config file"};
    }
  }
  ::close(fd);
  return load_text(text, path, overrides);
}

std::string to_yaml(const Config& c) {
  std::string o;
  o += "mode: " + std::string(to_string(c.mode)) + "\n";
  o += "stun:\n";
  o += "  ports: " + flow_list(c.stun.ports, [](uint16_t p) { return std::to_string(p); }) + "\n";
  o += "  software: " + quote(c.stun.software) + "\n";
  o += "  fingerprint: " + std::string(to_string(c.stun.fingerprint)) + "\n";
  o += "  classic: " + std::string(c.stun.classic ? "true" : "false") + "\n";
  o += "socket:\n";
  o += "  listen: " + flow_list(c.socket.listen, [](const ListenAddress& a) { return quote(to_string(a)); }) +
       "\n";
  o += "  workers: " + auto_or(c.socket.workers) + "\n";
  o += "  batch: " + std::to_string(c.socket.batch) + "\n";
  o += "  pin: " + std::string(c.socket.pin ? "true" : "false") + "\n";
  o += "  rcvbuf: " + std::to_string(c.socket.rcvbuf) + "\n";
  o += "  sndbuf: " + std::to_string(c.socket.sndbuf) + "\n";
  o += "  user: " + quote(c.socket.user) + "\n";
  o += "  group: " + quote(c.socket.group) + "\n";
  const DpdkSection& d = c.dpdk;
  o += "dpdk:\n";
  o += "  eal: " + flow_list(d.eal, [](const std::string& s) { return quote(s); }) + "\n";
  if (d.ports.empty()) {
    o += "  ports: []\n";
  } else {
    o += "  ports:\n";
    for (const PortSection& p : d.ports) {
      o += "    - device: " + quote(p.device) + "\n";
      o += "      queues: " + auto_or(p.queues) + "\n";
      o += "      rx_desc: " + std::to_string(p.rx_desc) + "\n";
      o += "      tx_desc: " + std::to_string(p.tx_desc) + "\n";
      o += "      addresses: " +
           flow_list(p.addresses, [](const IpPrefix& a) { return quote(to_string(a)); }) + "\n";
      if (p.vlan) o += "      vlan: " + std::to_string(*p.vlan) + "\n";
      o += "      mtu: " + std::to_string(p.mtu) + "\n";
    }
  }
  if (d.lcores_auto) {
    o += "  lcores: auto\n";
  } else {
    o += "  lcores:\n";
    for (const LcoreAssignment& l : d.lcores)
      o += "    " + std::to_string(l.lcore) + ": " +
           flow_list(l.queues,
                     [](const QueueRef& q) {
                       return quote(std::to_string(q.port) + ":" + std::to_string(q.queue));
                     }) +
           "\n";
  }
  o += "  burst: " + std::to_string(d.burst) + "\n";
  o += "  idle: " + std::string(to_string(d.idle)) + "\n";
  o += "  mempool:\n";
  o += "    size: " + auto_or(d.mempool.size) + "\n";
  o += "    cache: " + std::to_string(d.mempool.cache) + "\n";
  o += "    data_room: " + std::to_string(d.mempool.data_room) + "\n";
  o += "  rss:\n";
  o += "    types: " + flow_list(d.rss.types, [](const std::string& s) { return s; }) + "\n";
  if (d.rss.key.empty()) {
    o += "    key: auto\n";
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (uint8_t b : d.rss.key) hex += {kHex[b >> 4], kHex[b & 15]};
    o += "    key: " + hex + "\n";
  }
  o += "  link_wait_ms: " + std::to_string(d.link_wait_ms) + "\n";
  o += "  exit_after_idle_ms: " + std::to_string(d.exit_after_idle_ms) + "\n";
  o += "stats:\n";
  o += "  period: " + std::to_string(c.stats.period) + "\n";
  o += "  metrics_listen: " + quote(c.stats.metrics_listen ? to_string(*c.stats.metrics_listen) : "") + "\n";
  o += "control:\n";
  o += "  socket: " + quote(c.control.socket) + "\n";
  const LimitsSection& l = c.limits;
  o += "limits:\n";
  o += "  rate:\n";
  o += "    pps: " + std::to_string(l.rate.pps) + "\n";
  o += "    burst: " + std::to_string(l.rate.burst) + "\n";
  o += "    ipv4_prefix: " + std::to_string(l.rate.ipv4_prefix) + "\n";
  o += "    ipv6_prefix: " + std::to_string(l.rate.ipv6_prefix) + "\n";
  o += "    table_size: " + std::to_string(l.rate.table_size) + "\n";
  o += "  global_pps: " + std::to_string(l.global_pps) + "\n";
  o += "  allow: " + flow_list(l.allow, [](const IpPrefix& a) { return quote(to_string(a)); }) + "\n";
  o += "  deny: " + flow_list(l.deny, [](const IpPrefix& a) { return quote(to_string(a)); }) + "\n";
  o += "  deny_source_ports: " +
       flow_list(l.deny_source_ports, [](uint16_t p) { return std::to_string(p); }) + "\n";
  o += "  l3_pps: " + std::to_string(l.l3_pps) + "\n";
  o += "  nd_pps: " + std::to_string(l.nd_pps) + "\n";
  return o;
}

std::string to_string(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf)) return "?";
  return buf;
}

std::string to_string(const ListenAddress& a) {
  std::string ip = to_string(a.ip);
  return (a.ip.v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(a.port);
}

std::string to_string(const IpPrefix& p) { return to_string(p.ip) + "/" + std::to_string(p.length); }

std::optional<IpAddress> parse_ip(std::string_view text) {
  std::string s(text);  // inet_pton needs a terminator
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return std::nullopt;
}

bool is_wildcard(const IpAddress& a) {
  size_t n = a.v6 ? 16 : 4;
  return std::all_of(a.bytes.begin(), a.bytes.begin() + static_cast<std::ptrdiff_t>(n),
                     [](uint8_t b) { return b == 0; });
}

std::string_view to_string(Mode m) { return m == Mode::dpdk ? "dpdk" : "socket"; }
std::string_view to_string(Idle i) { return i == Idle::adaptive ? "adaptive" : "poll"; }
std::string_view to_string(stun::FingerprintPolicy f) {
  switch (f) {
    case stun::FingerprintPolicy::always:
      return "always";
    case stun::FingerprintPolicy::never:
      return "never";
    case stun::FingerprintPolicy::mirror:
      break;
  }
  return "mirror";
}

}  // namespace stunbox::config
