// The console's command grammar: the command table, the line parser, TAB completion and help. No I/O, no backend.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stunbox::console {

enum class CommandId : uint8_t {
  help,
  show_port_stats,
  show_port_xstats,
  show_port_info,
  show_queue_stats,
  show_lcore_stats,
  show_stun_stats,
  show_top_sources,
  show_config,
  show_health,
  health,
  drain,
  clear_port_stats,
  clear_stun_stats,
  set_stats_period,
  reload,
  quit,
};

// A command's words. A word is a literal ("show"), or a placeholder:
// "<port>" (a port number), "all|<port>" (the word all or a port number),
// "<seconds>" (a number of seconds, 0 = off), "[<count>]" (an optional
// count; when left out, Command::number is kDefaultTopSources), "on|off"
// (Command::number 1 or 0).
struct CommandSpec {
  CommandId id;
  std::span<const std::string_view> words;
  std::string_view help;
};

std::span<const CommandSpec> command_table();

// "show top sources" without a count shows this many prefixes.
inline constexpr uint64_t kDefaultTopSources = 10;

// A parsed command. `all` is set for "all"; otherwise `number` holds the
// port or the seconds argument (when the command takes one).
struct Command {
  CommandId id = CommandId::help;
  bool all = false;
  uint64_t number = 0;
};

// Parses one line (words separated by blanks; a leading/trailing blank and a
// '#' comment are ignored). nullopt for an empty line. Errors are one line.
struct ParseResult {
  std::optional<Command> command;  // nullopt: empty line or error
  std::string error;               // non-empty on error
};
ParseResult parse_command(std::string_view line);

// The words that may follow `line` (whose last word, if not followed by a
// blank, is the partial word being completed), filtered by that prefix,
// sorted, without duplicates. Placeholders are not offered; "all" is.
std::vector<std::string> complete(std::string_view line);

// The help text: one line per command, "  show port stats all|<port>   what it does".
std::string help_text();

// Splits on blanks (space and tab).
std::vector<std::string_view> split_words(std::string_view line);

}  // namespace stunbox::console
