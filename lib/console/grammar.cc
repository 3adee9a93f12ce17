// The console's command table and the parser, completion and help built on it.
#include "console/grammar.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace stunbox::console {
namespace {

constexpr std::string_view kPort = "<port>";
constexpr std::string_view kAllOrPort = "all|<port>";
constexpr std::string_view kSeconds = "<seconds>";
constexpr std::string_view kOptCount = "[<count>]";
constexpr std::string_view kOnOff = "on|off";
// Most prefixes "show top sources" lists (more than any sketch holds is pointless).
constexpr uint64_t kMaxTop = 100000;
// Longest stats period accepted (matches the config's stats.period range).
constexpr uint64_t kMaxPeriod = 86400;
// Port numbers beyond this are certainly wrong (RTE_MAX_ETHPORTS is far lower).
constexpr uint64_t kMaxPort = 65535;

constexpr std::array<std::string_view, 1> kHelp = {"help"};
constexpr std::array<std::string_view, 4> kShowPortStats = {"show", "port", "stats", kAllOrPort};
constexpr std::array<std::string_view, 4> kShowPortXstats = {"show", "port", "xstats", kPort};
constexpr std::array<std::string_view, 4> kShowPortInfo = {"show", "port", "info", kPort};
constexpr std::array<std::string_view, 3> kShowQueueStats = {"show", "queue", "stats"};
constexpr std::array<std::string_view, 3> kShowLcoreStats = {"show", "lcore", "stats"};
constexpr std::array<std::string_view, 3> kShowStunStats = {"show", "stun", "stats"};
constexpr std::array<std::string_view, 4> kShowTopSources = {"show", "top", "sources", kOptCount};
constexpr std::array<std::string_view, 2> kShowConfig = {"show", "config"};
constexpr std::array<std::string_view, 2> kShowHealth = {"show", "health"};
constexpr std::array<std::string_view, 1> kHealth = {"health"};
constexpr std::array<std::string_view, 2> kDrain = {"drain", kOnOff};
constexpr std::array<std::string_view, 4> kClearPortStats = {"clear", "port", "stats", kAllOrPort};
constexpr std::array<std::string_view, 3> kClearStunStats = {"clear", "stun", "stats"};
constexpr std::array<std::string_view, 3> kSetStatsPeriod = {"set", "stats-period", kSeconds};
constexpr std::array<std::string_view, 1> kReload = {"reload"};
constexpr std::array<std::string_view, 1> kQuit = {"quit"};

constexpr std::array<CommandSpec, 17> kTable = {{
    {CommandId::help, kHelp, "list the commands"},
    {CommandId::show_port_stats, kShowPortStats,
     "port counters (RX/TX packets, bytes, errors, missed) and throughput since your last show"},
    {CommandId::show_port_xstats, kShowPortXstats, "the port's extended statistics (driver counters)"},
    {CommandId::show_port_info, kShowPortInfo, "driver, MAC, link, queues, RSS, offloads, addresses"},
    {CommandId::show_queue_stats, kShowQueueStats, "per port:queue (socket mode: listen address:worker) counters"},
    {CommandId::show_lcore_stats, kShowLcoreStats, "per lcore (worker): queues, packets, responses, drops, busy %"},
    {CommandId::show_stun_stats, kShowStunStats, "requests by kind, responses, drops by reason"},
    {CommandId::show_top_sources, kShowTopSources,
     "heaviest source prefixes (default 10), estimated from bounded per-worker sketches"},
    {CommandId::show_config, kShowConfig, "the configuration in effect, as YAML"},
    {CommandId::show_health, kShowHealth, "health verdict and each check: phase, drain, workers progressing, links"},
    {CommandId::health, kHealth,
     "one line, \"healthy\" or \"unhealthy: REASON\" (an error: stunbox-cli health exits 1 when unhealthy)"},
    {CommandId::drain, kDrain,
     "on: report unhealthy so routes are withdrawn, STUN still answered; off: healthy again"},
    {CommandId::clear_port_stats, kClearPortStats, "zero the shown port counters (a console baseline)"},
    {CommandId::clear_stun_stats, kClearStunStats, "zero the shown STUN counters (a console baseline)"},
    {CommandId::set_stats_period, kSetStatsPeriod, "print the port block every N seconds on stdout (0 = off)"},
    {CommandId::reload, kReload, "re-read the config file and apply what can change live"},
    {CommandId::quit, kQuit, "leave the console"},
}};

bool is_placeholder(std::string_view w) { return w.find('<') != std::string_view::npos || w == kOnOff; }

std::optional<uint64_t> to_number(std::string_view w) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
  if (ec != std::errc() || end != w.data() + w.size() || w.empty()) return std::nullopt;
  return v;
}

// Does `word` fit spec word `s` (a literal equal, or a placeholder's form)?
bool fits(std::string_view s, std::string_view word) {
  if (s == kPort || s == kSeconds || s == kOptCount) return to_number(word).has_value();
  if (s == kAllOrPort) return word == "all" || to_number(word).has_value();
  if (s == kOnOff) return word == "on" || word == "off";
  return s == word;
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

}  // namespace

std::span<const CommandSpec> command_table() { return kTable; }

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

ParseResult parse_command(std::string_view line) {
  if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  const std::vector<std::string_view> words = split_words(line);
  ParseResult r;
  if (words.empty()) return r;

  // The longest run of literal words any command shares with the input,
  // so an error can name the command the user was typing.
  size_t best_prefix = 0;
  const CommandSpec* best = nullptr;
  for (const CommandSpec& spec : kTable) {
    size_t k = 0;
    while (k < words.size() && k < spec.words.size() && !is_placeholder(spec.words[k]) &&
           spec.words[k] == words[k]) {
      ++k;
    }
    if (k == words.size() && k == spec.words.size()) {
      r.command = Command{spec.id, false, 0};
      return r;
    }
    // An optional last argument left out.
    if (k == words.size() && k + 1 == spec.words.size() && spec.words[k] == kOptCount) {
      r.command = Command{spec.id, false, kDefaultTopSources};
      return r;
    }
    if (k > best_prefix) {
      best_prefix = k;
      best = &spec;
    }
    if (k == spec.words.size() - 1 && words.size() == spec.words.size() && is_placeholder(spec.words[k])) {
      std::string_view s = spec.words[k];
      std::string_view w = words[k];
      if (!fits(s, w)) {
        std::string what = s == kAllOrPort ? "'all' or a port number"
                           : s == kPort    ? "a port number"
                           : s == kOptCount ? "a number of prefixes"
                           : s == kOnOff    ? "'on' or 'off'"
                                            : "a number of seconds";
        r.error = join(spec.words.first(k)) + ": expected " + what + ", got '" + std::string(w) + "'";
        return r;
      }
      Command c{spec.id, w == "all", 0};
      if (s == kOnOff) {
        c.number = w == "on" ? 1 : 0;
        r.command = c;
        return r;
      }
      if (!c.all) c.number = *to_number(w);
      if (s == kSeconds && c.number > kMaxPeriod) {
        r.error = join(spec.words.first(k)) + ": " + std::string(w) + " is out of range 0.." + std::to_string(kMaxPeriod);
        return r;
      }
      if (s == kOptCount && (c.number == 0 || c.number > kMaxTop)) {
        r.error = join(spec.words.first(k)) + ": " + std::string(w) + " is out of range 1.." + std::to_string(kMaxTop);
        return r;
      }
      if ((s == kPort || s == kAllOrPort) && !c.all && c.number > kMaxPort) {
        r.error = join(spec.words.first(k)) + ": no port " + std::string(w);
        return r;
      }
      r.command = c;
      return r;
    }
  }
  if (best != nullptr) {
    // Offer what may follow the recognised words.
    std::vector<std::string> next;
    for (const CommandSpec& spec : kTable) {
      if (spec.words.size() <= best_prefix) continue;
      bool same = true;
      for (size_t k = 0; k < best_prefix; ++k) same = same && spec.words[k] == words[k];
      if (!same) continue;
      std::string w(spec.words[best_prefix]);
      if (std::find(next.begin(), next.end(), w) == next.end()) next.push_back(w);
    }
    std::string joined;
    for (const std::string& w : next) {
      if (!joined.empty()) joined += ", ";
      joined += w;
    }
    const std::string typed = join(std::span<const std::string_view>(words).first(best_prefix));
    if (words.size() == best_prefix) {
      r.error = "incomplete command '" + typed + "': expected " + joined;
    } else {
      r.error = "unknown command '" + std::string(line.substr(0, line.size())) + "': after '" + typed +
                "' expected " + joined;
    }
    // Trim the quoted line of surrounding blanks for readability.
    return r;
  }
  r.error = "unknown command '" + std::string(words[0]) + "' (type help for the list)";
  return r;
}

std::vector<std::string> complete(std::string_view line) {
  std::vector<std::string_view> words = split_words(line);
  std::string_view partial;
  if (!line.empty() && line.back() != ' ' && line.back() != '\t' && !words.empty()) {
    partial = words.back();
    words.pop_back();
  }
  std::vector<std::string> out;
  for (const CommandSpec& spec : kTable) {
    if (spec.words.size() <= words.size()) continue;
    bool ok = true;
    for (size_t k = 0; k < words.size() && ok; ++k) ok = fits(spec.words[k], words[k]);
    if (!ok) continue;
    std::string_view next = spec.words[words.size()];
    if (next == kOnOff) {
      for (std::string_view w : {std::string_view("on"), std::string_view("off")})
        if (w.substr(0, partial.size()) == partial) out.emplace_back(w);
      continue;
    }
    std::string_view offer = next == kAllOrPort ? std::string_view("all") : next;
    if (is_placeholder(offer)) continue;
    if (offer.substr(0, partial.size()) != partial) continue;
    out.emplace_back(offer);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string help_text() {
  size_t width = 0;
  for (const CommandSpec& spec : kTable) width = std::max(width, join(spec.words).size());
  std::string out = "Commands (TAB completes in stunbox-cli):\n";
  for (const CommandSpec& spec : kTable) {
    std::string w = join(spec.words);
    out += "  " + w + std::string(width + 3 - w.size(), ' ') + std::string(spec.help) + "\n";
  }
  return out;
}

}  // namespace stunbox::console
