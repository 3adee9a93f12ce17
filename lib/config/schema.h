// The config schema: one row per key. The key checks, readers, to_yaml, the reload diff, --help's
// sketch and the docs' key tables all come from these rows (schema.cc).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/tree.h"

namespace stunbox::config {

enum class Kind : uint8_t {
  integer,          // min..max
  integer_or_auto,  // `auto` (0 in the struct) or min..max
  boolean,
  string,
  enumeration,  // one of `names`, stored as the enum value of the same index
  port_list,    // list of integers in min..max, no duplicates
  string_list,
  custom,  // read and rendered by functions of its own
};
enum class Reload : uint8_t { live, restart };  // live: a reload applies it; restart: reported, not applied
enum class Modes : uint8_t { both, socket, dpdk };

// Where a value is being read: the value, its YAML path (for messages) and
// the map that holds it (for rules that look at its siblings).
struct At {
  const Node& node;
  const std::string& path;
  const Node& map;
};

// A key's type and the functions that read, render, compare and copy it.
// `Root` is the struct the key's path starts from: Config, or PortSection
// for the keys of a dpdk.ports entry.
template <typename Root>
struct Value {
  Kind kind = Kind::custom;
  uint64_t min = 0, max = 0;                // integer kinds and port_list: the range
  bool at_least_one = false;                // port_list: an empty list is an error
  std::span<const std::string_view> names;  // enumeration: the values, in the enum's order
  void (*read)(const Value&, const At&, Root&) = nullptr;
  std::string (*render)(const Root&, const std::string& indent) = nullptr;  // YAML; "" leaves the key out
  bool (*equal)(const Root&, const Root&) = nullptr;
  void (*copy)(Root& to, const Root& from) = nullptr;
  void (*check)(const At&, const Root&) = nullptr;  // a further rule, run after a valid read
};

template <typename Root>
struct Key {
  std::string_view path;  // dotted YAML path from Root: "socket.batch"; in an entry table "mtu"
  Value<Root> value;
  Reload reload = Reload::restart;
  Modes modes = Modes::both;
  std::string_view type;     // docs' type column; "" = from the kind
  std::string_view range;    // docs' range column; "" = from the kind (min..max, the names)
  std::string_view help;     // one short line (the text reference)
  std::string_view meaning;  // docs' "what it does", markdown
  std::string_view example;  // custom kinds: a valid YAML value other than the default (tests use it)
  bool required = false;     // entry tables: the key must be given
  bool late = false;         // read after the other keys of its map: it refers to them
};

// Every key, in the file's order: the order of `allowed:` lists, of
// to_yaml, of the reload report and of the docs.
std::span<const Key<Config>> keys();
// The keys of one dpdk.ports entry.
std::span<const Key<PortSection>> port_keys();

// Enum names as written in the file, in each enum's order.
inline constexpr std::array<std::string_view, 2> kModeNames = {"socket", "dpdk"};
inline constexpr std::array<std::string_view, 2> kIdleNames = {"poll", "adaptive"};
inline constexpr std::array<std::string_view, 3> kTxChecksumNames = {"auto", "hw", "sw"};
inline constexpr std::array<std::string_view, 2> kPortXstatsNames = {"drops", "all"};
inline constexpr std::array<std::string_view, 3> kSteeringNames = {"all", "xdp", "flow"};
inline constexpr std::array<std::string_view, 3> kFingerprintNames = {"mirror", "always", "never"};

// What an empty file gives: the structs' defaults plus the default listen addresses.
Config default_config();

// Walking a map of keys (walk.cc). `prefix` is the schema path of the map
// ("" for the top level or an entry), `path` its YAML path for messages.
template <typename Root>
std::vector<std::string_view> child_names(std::span<const Key<Root>> keys, std::string_view prefix);
template <typename Root>
const Key<Root>* find_key(std::span<const Key<Root>> keys, std::string_view path);
// Checks the map's keys (unknown, required) and reads every key present, sub-maps included.
template <typename Root>
void read_map(std::span<const Key<Root>> keys, std::string_view prefix, const Node& map, const std::string& path,
              Root& root);
// Appends "KEY: VALUE" lines, sub-maps indented by two more spaces.
template <typename Root>
void render_map(std::span<const Key<Root>> keys, std::string_view prefix, const Root& root, const std::string& indent,
                std::string& out);

}  // namespace stunbox::config
