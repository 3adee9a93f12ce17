// Text generated from the config schema: --help's key sketch, the key reference (markdown tables of
// docs/configuration.md, a man page fragment, plain text).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace stunbox::config {

// The key sketch of `stunbox --help`: every section on one to three lines,
// each key with its default ("mode: socket | dpdk", "stats:   {period: 0, ...}").
std::string help_sketch(std::string_view indent = "    ");

enum class ReferenceFormat : uint8_t {
  markdown,  // one table per section, as docs/configuration.md has them
  man,       // roff: .SS per section, .TP per key (for a stunbox.yaml(5) page)
  text,      // one line per key: path, default, short help
};
std::string reference(ReferenceFormat format);

// docs/configuration.md with every marked region regenerated: between
// `<!-- schema:NAME -->` and `<!-- /schema:NAME -->`, NAME a section (mode,
// stun, socket, dpdk, dpdk.ports, stats, control, limits: its key table) or
// rss-types (the RSS type names). Error: a marker unknown, unclosed or missing.
Result<std::string> update_docs(const std::string& markdown);

}  // namespace stunbox::config
