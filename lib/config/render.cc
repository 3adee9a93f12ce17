// Rendering from the schema: to_yaml, --help's key sketch, the key reference (markdown, man, text) and
// the regeneration of docs/configuration.md's marked key tables.
#include <algorithm>
#include <sstream>

#include "config/config.h"
#include "config/reference.h"
#include "config/schema.h"
#include "config/text.h"

namespace stunbox::config {

std::string to_yaml(const Config& c) {
  std::string out;
  render_map(keys(), "", c, "", out);
  return out;
}

namespace {

constexpr std::string_view kPortsPath = "dpdk.ports";  // the key whose entries port_keys() describes

// One key as the docs show it, whatever its root.
struct Row {
  std::string key;  // as the table names it: "stun.ports", or "mtu" in the dpdk.ports[i] table
  std::string type, def, range, mode, reload;
  std::string_view help, meaning;
};

std::string kind_type(Kind k) {
  switch (k) {
    case Kind::integer:
      return "integer";
    case Kind::integer_or_auto:
      return "`auto` or integer";
    case Kind::boolean:
      return "boolean";
    case Kind::string:
      return "string";
    case Kind::enumeration:
      return "enum";
    case Kind::port_list:
      return "list of ports";
    case Kind::string_list:
      return "list of strings";
    case Kind::custom:
      break;
  }
  return "?";
}

template <typename Root>
Row row_of(const Key<Root>& k, const Root& defaults) {
  Row r;
  r.key = std::string(k.path);
  r.type = k.type.empty() ? kind_type(k.value.kind) : std::string(k.type);
  const std::string d = k.value.render(defaults, "");
  r.def = k.required ? "required" : d.empty() ? "none" : "`" + d + "`";
  r.range = std::string(k.range);
  if (r.range.empty()) {
    const Value<Root>& v = k.value;
    if (v.kind == Kind::integer || v.kind == Kind::integer_or_auto)
      r.range = std::to_string(v.min) + ".." + std::to_string(v.max);
    for (std::string_view n : v.names) r.range += (r.range.empty() ? "`" : ", `") + std::string(n) + "`";
  }
  r.mode = k.modes == Modes::socket ? "socket" : k.modes == Modes::dpdk ? "dpdk" : "both";
  r.reload = k.reload == Reload::live ? "live" : "restart";
  r.help = k.help;
  r.meaning = k.meaning;
  return r;
}

// The rows of one docs section: a top-level name ("stun", "mode") or kPortsPath.
std::vector<Row> section_rows(std::string_view section) {
  std::vector<Row> rows;
  if (section == kPortsPath) {
    const PortSection defaults;
    for (const Key<PortSection>& k : port_keys()) rows.push_back(row_of(k, defaults));
    return rows;
  }
  const Config defaults = default_config();
  for (const Key<Config>& k : keys()) {
    std::string_view p = k.path;
    if (p == section || (p.starts_with(section) && p.size() > section.size() && p[section.size()] == '.'))
      rows.push_back(row_of(k, defaults));
  }
  return rows;
}

// The docs' sections: every top-level name, then the entry table.
std::vector<std::string> sections() {
  std::vector<std::string> out;
  for (std::string_view s : child_names(keys(), "")) {
    out.emplace_back(s);
    if (s == kPortsPath.substr(0, kPortsPath.find('.'))) out.emplace_back(kPortsPath);
  }
  return out;
}

std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string markdown_table(std::string_view section) {
  std::string out = "| key | type | default | range | mode | reload | what it does |\n|---|---|---|---|---|---|---|\n";
  for (const Row& r : section_rows(section))
    out += "| `" + r.key + "` | " + cell(r.type) + " | " + cell(r.def) + " | " + cell(r.range) + " | " + r.mode +
           " | " + r.reload + " | " + cell(r.meaning) + " |\n";
  return out;
}

std::string rss_type_names() {
  std::string out = "RSS type names: ";
  for (size_t i = 0; i < kRssTypeNames.size(); ++i) out += (i ? ", `" : "`") + std::string(kRssTypeNames[i]) + "`";
  return out + " (DPDK's `RTE_ETH_RSS_*` flags).\n";
}

// Markdown inline text to roff: `code` bold, *x* italic, [text](link) as text, backslashes escaped.
std::string roff(std::string_view md) {
  std::string out;
  bool code = false;
  for (size_t i = 0; i < md.size(); ++i) {
    const char c = md[i];
    if (c == '`') {
      out += code ? "\\fR" : "\\fB";
      code = !code;
    } else if (code) {
      out += c == '\\' ? std::string("\\e") : c == '-' ? std::string("\\-") : std::string(1, c);
    } else if (c == '*' && i + 1 < md.size() && md[i + 1] != ' ') {
      const size_t end = md.find('*', i + 1);
      if (end == std::string_view::npos) {
        out += c;
        continue;
      }
      out += "\\fI" + std::string(md.substr(i + 1, end - i - 1)) + "\\fR";
      i = end;
    } else if (c == '[' && md.find(']', i) != std::string_view::npos && md.find(']', i) + 1 < md.size() &&
               md[md.find(']', i) + 1] == '(') {
      const size_t close = md.find(']', i);
      out += roff(md.substr(i + 1, close - i - 1));  // [text](link): the text
      const size_t paren = md.find(')', close);
      i = paren == std::string_view::npos ? md.size() : paren;
    } else if (c == '\\') {
      out += "\\e";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string full_key(std::string_view section, const Row& r) {
  return section == kPortsPath ? std::string(kPortsPath) + "[i]." + r.key : r.key;
}

std::string man_section(std::string_view section) {
  std::string out = ".SS \"" + std::string(section == kPortsPath ? "dpdk.ports[i]" : section) + "\"\n";
  for (const Row& r : section_rows(section)) {
    std::string facts = roff(r.type) + "; default " + roff(r.def);
    if (!r.range.empty()) facts += "; " + roff(r.range);
    facts += "; " + (r.mode == "both" ? std::string("both modes") : r.mode + " mode") + "; " +
             (r.reload == "live" ? "live on reload" : "restart to change") + ".";
    out += ".TP\n.B " + full_key(section, r) + "\n" + facts + "\n.br\n" + roff(r.meaning) + "\n";
  }
  return out;
}

std::string text_section(std::string_view section) {
  std::string out;
  for (const Row& r : section_rows(section)) {
    std::string def = r.def;
    def.erase(std::remove(def.begin(), def.end(), '`'), def.end());
    std::string line = "  " + full_key(section, r) + " = " + def;
    line.resize(std::max<size_t>(line.size() + 1, 44), ' ');
    out += line + std::string(r.help) + " (" + (r.mode == "both" ? "both modes" : r.mode + " mode") +
           (r.reload == "live" ? ", live" : "") + ")\n";
  }
  return out;
}

// --help: "[a, b, c, ...]" for lists longer than three items.
std::string shorten(const std::string& value) {
  if (value.empty() || value[0] != '[') return value;
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = value.find(", ", pos);
    if (pos == std::string::npos) return value;
    pos += 2;
  }
  return value.substr(0, pos) + "...]";
}

// The items of one map for --help: "key: default", enums "key: a|b|c", sub-maps "{...}".
std::vector<std::string> sketch_items(std::string_view prefix, const Config& defaults) {
  std::vector<std::string> items;
  for (std::string_view name : child_names(keys(), prefix)) {
    const std::string full = prefix.empty() ? std::string(name) : std::string(prefix) + "." + std::string(name);
    const Key<Config>* k = find_key(keys(), full);
    std::string value;
    if (!k) {
      std::vector<std::string> sub = sketch_items(full, defaults);
      value = "{";
      for (size_t i = 0; i < sub.size(); ++i) value += (i ? ", " : "") + sub[i];
      value += "}";
    } else if (full == kPortsPath) {
      // An entry's keys; a sub-map's as "exception: {iface, pps}".
      value = "[{";
      std::string_view open;  // the sub-map being listed
      for (const Key<PortSection>& p : port_keys()) {
        const size_t dot = p.path.find('.');
        const std::string_view map = dot == std::string_view::npos ? std::string_view() : p.path.substr(0, dot);
        if (!open.empty() && map != open) value += "}";
        value += value.size() > 2 ? ", " : "";
        if (!map.empty() && map != open) value += std::string(map) + ": {";
        value += std::string(map.empty() ? p.path : p.path.substr(dot + 1));
        open = map;
      }
      value += open.empty() ? "}]" : "}}]";
    } else if (k->value.kind == Kind::enumeration) {
      for (std::string_view n : k->value.names) value += std::string(value.empty() ? "" : "|") + std::string(n);
    } else {
      value = shorten(k->value.render(defaults, ""));
    }
    items.push_back(std::string(name) + ": " + value);
  }
  return items;
}

}  // namespace

std::string help_sketch(std::string_view indent) {
  constexpr size_t kWidth = 96;
  const Config defaults = default_config();
  std::string out;
  for (std::string_view section : child_names(keys(), "")) {
    const Key<Config>* leaf = find_key(keys(), section);
    if (leaf) {  // a top-level key: mode
      std::string values;
      for (std::string_view n : leaf->value.names) values += (values.empty() ? "" : " | ") + std::string(n);
      out += std::string(indent) + std::string(section) + ": " + values + "\n";
      continue;
    }
    std::string line = std::string(indent) + std::string(section) + ":";
    line.resize(indent.size() + 9, ' ');
    line += "{";
    const std::string hang(line.size(), ' ');
    const std::vector<std::string> items = sketch_items(section, defaults);
    // Words of the items, wrapped at kWidth under the opening brace (an
    // item longer than a line, like dpdk's ports, breaks between its words).
    std::vector<std::string> words;
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string item = items[i] + (i + 1 < items.size() ? "," : "}");
      for (size_t from = 0; from < item.size();) {
        const size_t space = item.find(", ", from);
        const size_t end = space == std::string::npos ? item.size() : space + 1;
        words.push_back(item.substr(from, end - from));
        from = space == std::string::npos ? item.size() : space + 2;
      }
    }
    for (const std::string& word : words) {
      if (line.size() + 1 + word.size() > kWidth && line.size() > hang.size()) {
        out += line + "\n";
        line = hang + word;
      } else {
        line += (line.back() == '{' ? "" : " ") + word;
      }
    }
    out += line + "\n";
  }
  return out;
}

std::string reference(ReferenceFormat format) {
  std::string out;
  for (const std::string& s : sections()) {
    switch (format) {
      case ReferenceFormat::markdown:
        out += "### `" + (s == kPortsPath ? s + "[i]" : s) + "`\n\n" + markdown_table(s) + "\n";
        break;
      case ReferenceFormat::man:
        out += man_section(s);
        break;
      case ReferenceFormat::text:
        out += (s == kPortsPath ? s + "[i]" : s) + ":\n" + text_section(s);
        break;
    }
  }
  if (format == ReferenceFormat::markdown) out += rss_type_names();
  return out;
}

Result<std::string> update_docs(const std::string& markdown) {
  std::vector<std::string> wanted = sections();
  wanted.emplace_back("rss-types");
  std::vector<std::string> seen;
  std::istringstream in(markdown);
  std::string out, line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    out += line + "\n";
    static constexpr std::string_view kOpen = "<!-- schema:", kClose = " -->";
    if (!line.starts_with(kOpen) || !line.ends_with(kClose)) continue;
    const std::string name = line.substr(kOpen.size(), line.size() - kOpen.size() - kClose.size());
    const std::string where = "line " + std::to_string(number) + ": ";
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end())
      return Error{where + "unknown marker '" + line + "' (known: " +
                   join({wanted.begin(), wanted.end()}, ", ") + ")"};
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
      return Error{where + "marker '" + line + "' appears twice"};
    seen.push_back(name);
    const std::string end = "<!-- /schema:" + name + " -->";
    bool closed = false;
    while (std::getline(in, line)) {
      ++number;
      if (line == end) {
        closed = true;
        break;
      }
    }
    if (!closed) return Error{where + "'<!-- schema:" + name + " -->' has no '" + end + "'"};
    out += "\n" + (name == "rss-types" ? rss_type_names() : markdown_table(name)) + "\n" + end + "\n";
  }
  for (const std::string& name : wanted)
    if (std::find(seen.begin(), seen.end(), name) == seen.end())
      return Error{"no '<!-- schema:" + name + " -->' marker: every section's key table is generated into the docs"};
  return out;
}

}  // namespace stunbox::config
