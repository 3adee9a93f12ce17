// Reading one YAML value into a C++ value, with the one-line messages every config error uses.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/tree.h"

namespace stunbox::config {

// Each function checks one node and fails (throws Failure) at the node's
// origin with its YAML path: "expected an integer, got 'x'", "must be between
// 1 and 1024, got 0", "unknown key 'x', did you mean 'y'?".
class Reader {
 public:
  // A map section: a null value counts as an empty map (all defaults).
  static void expect_map(const Node& n, const std::string& path);
  // Every key of `map` is one of `allowed`; else suggests the closest or lists them all.
  static void check_keys(const Node& map, const std::string& path, const std::vector<std::string_view>& allowed);
  static const Node& scalar(const Node& n, const std::string& path, std::string_view what);
  static uint64_t integer(const Node& n, const std::string& path, uint64_t lo, uint64_t hi, bool allow_auto = false);
  // 0 stands for auto.
  static uint64_t integer_or_auto(const Node& n, const std::string& path, uint64_t lo, uint64_t hi);
  static bool boolean(const Node& n, const std::string& path);
  // A string value; an empty value reads as "".
  static std::string string(const Node& n, const std::string& path);
  // The index of the node's text in `names`.
  static size_t one_of(const Node& n, const std::string& path, std::span<const std::string_view> names);
  // A list; an empty value reads as an empty list.
  static const std::vector<Node>& list(const Node& n, const std::string& path);
};

using R = Reader;

}  // namespace stunbox::config
