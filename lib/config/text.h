// Small text helpers shared by the config tree, its readers and its renderers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stunbox::config {

// YAML paths for messages: "socket" + "workers" -> "socket.workers"; "dpdk.ports" + 0 -> "dpdk.ports[0]".
std::string child_path(const std::string& path, std::string_view key);
std::string index_path(const std::string& path, size_t i);

// Decimal digits only, no sign, no overflow.
bool parse_u64(std::string_view s, uint64_t& out);
// Code points in well-formed UTF-8, or -1 if malformed.
long utf8_length(std::string_view s);
size_t edit_distance(std::string_view a, std::string_view b);
std::string join(const std::vector<std::string_view>& v, std::string_view sep);

// A YAML double-quoted string that reads back as `s`.
std::string quote(std::string_view s);

}  // namespace stunbox::config
