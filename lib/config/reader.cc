// Reading one YAML value into a C++ value, with the one-line messages every config error uses.
#include "config/reader.h"

#include <algorithm>
#include <limits>

#include "config/text.h"

namespace stunbox::config {

void Reader::expect_map(const Node& n, const std::string& path) {
  if (n.kind != Node::Kind::map && n.kind != Node::Kind::null)
    fail(n.origin, path, "expected a map, got " + describe(n));
}

void Reader::check_keys(const Node& map, const std::string& path, const std::vector<std::string_view>& allowed) {
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

const Node& Reader::scalar(const Node& n, const std::string& path, std::string_view what) {
  if (n.kind != Node::Kind::scalar) fail(n.origin, path, "expected " + std::string(what) + ", got " + describe(n));
  return n;
}

uint64_t Reader::integer(const Node& n, const std::string& path, uint64_t lo, uint64_t hi, bool allow_auto) {
  std::string_view what = allow_auto ? "an integer or 'auto'" : "an integer";
  scalar(n, path, what);
  std::string_view t = n.text;
  bool negative = !t.empty() && t[0] == '-';
  std::string_view digits = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? t.substr(1) : t;
  uint64_t v = 0;
  bool all_digits =
      !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!all_digits) fail(n.origin, path, "expected " + std::string(what) + ", got '" + n.text + "'");
  if (negative || !parse_u64(digits, v) || v < lo || v > hi)
    fail(n.origin, path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + n.text);
  return v;
}

uint64_t Reader::integer_or_auto(const Node& n, const std::string& path, uint64_t lo, uint64_t hi) {
  if (n.kind == Node::Kind::scalar && n.text == "auto") return 0;
  return integer(n, path, lo, hi, true);
}

bool Reader::boolean(const Node& n, const std::string& path) {
  scalar(n, path, "true or false");
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  for (auto t : kTrue)
    if (n.text == t) return true;
  for (auto f : kFalse)
    if (n.text == f) return false;
  fail(n.origin, path, "expected true or false, got '" + n.text + "'");
}

std::string Reader::string(const Node& n, const std::string& path) {
  if (n.kind == Node::Kind::null) return {};
  return scalar(n, path, "a string").text;
}

size_t Reader::one_of(const Node& n, const std::string& path, std::span<const std::string_view> names) {
  std::string expected = "one of " + join({names.begin(), names.end()}, ", ");
  scalar(n, path, expected);
  for (size_t i = 0; i < names.size(); ++i)
    if (n.text == names[i]) return i;
  fail(n.origin, path, "expected " + expected + ", got '" + n.text + "'");
}

const std::vector<Node>& Reader::list(const Node& n, const std::string& path) {
  static const std::vector<Node> kEmpty;
  if (n.kind == Node::Kind::null) return kEmpty;
  if (n.kind != Node::Kind::seq) fail(n.origin, path, "expected a list, got " + describe(n));
  return n.items;
}

}  // namespace stunbox::config
