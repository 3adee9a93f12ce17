// The config file as a YAML tree of our own that remembers where each node was written (file line or --set).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stunbox::config {

// yaml-cpp nodes forget nothing we need, but an override value parsed from a
// --set string carries marks relative to that string; here every node knows
// whether it came from the file (with its 1-based line) or from a --set, so
// each error points at the right place.
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

[[noreturn]] void fail(const Origin& o, std::string path, std::string message);

// "FILE:LINE: path: message" or "--set path: message", on one line.
std::string format_failure(const Failure& f, const std::string& name);
// Values quoted in a message may span lines: escape control characters.
std::string one_line(const std::string& s);

// What a node holds, for "expected X, got Y" messages: 'text', a list, a map, nothing.
std::string describe(const Node& n);

// The file's tree: a map (an empty file or one with only comments is an
// empty map). Throws Failure on YAML errors and when the top level is not a
// map (`sections` lists the top-level keys for that message).
Node parse_file(const std::string& text, std::string_view sections);

// Applies one --set PATH=VALUE to the tree; throws Failure.
void apply_override(Node& root, const std::string& spec);

}  // namespace stunbox::config
