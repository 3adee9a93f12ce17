// Walking the schema's rows over a map: read a YAML map into a struct, render a struct as YAML.
#include <algorithm>

#include "config/reader.h"
#include "config/schema.h"
#include "config/text.h"

namespace stunbox::config {
namespace {

std::string join_path(std::string_view prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : std::string(prefix) + "." + std::string(name);
}

}  // namespace

template <typename Root>
std::vector<std::string_view> child_names(std::span<const Key<Root>> keys, std::string_view prefix) {
  std::vector<std::string_view> names;
  for (const Key<Root>& k : keys) {
    std::string_view rest = k.path;
    if (!prefix.empty()) {
      if (!(rest.starts_with(prefix) && rest.size() > prefix.size() && rest[prefix.size()] == '.')) continue;
      rest.remove_prefix(prefix.size() + 1);
    }
    std::string_view name = rest.substr(0, rest.find('.'));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

template <typename Root>
const Key<Root>* find_key(std::span<const Key<Root>> keys, std::string_view path) {
  for (const Key<Root>& k : keys)
    if (k.path == path) return &k;
  return nullptr;
}

template <typename Root>
void read_map(std::span<const Key<Root>> keys, std::string_view prefix, const Node& map, const std::string& path,
              Root& root) {
  const std::vector<std::string_view> names = child_names(keys, prefix);
  R::check_keys(map, path, names);
  for (std::string_view name : names) {
    const Key<Root>* k = find_key(keys, join_path(prefix, name));
    if (k && k->required && !map.find(name)) fail(map.origin, path, "missing required key '" + std::string(name) + "'");
  }
  // Keys that refer to their siblings (the lcore map) are read after them.
  for (bool late : {false, true}) {
    for (std::string_view name : names) {
      const Node* v = map.find(name);
      if (!v) continue;
      const std::string full = join_path(prefix, name);
      const std::string vpath = child_path(path, name);
      const Key<Root>* k = find_key(keys, full);
      if (!k) {  // a sub-map: mempool, rss, rate
        if (late) continue;
        R::expect_map(*v, vpath);
        read_map(keys, full, *v, vpath, root);
        continue;
      }
      if (k->late != late) continue;
      const At at{*v, vpath, map};
      k->value.read(k->value, at, root);
      if (k->value.check) k->value.check(at, root);
    }
  }
}

template <typename Root>
void render_map(std::span<const Key<Root>> keys, std::string_view prefix, const Root& root, const std::string& indent,
                std::string& out) {
  for (std::string_view name : child_names(keys, prefix)) {
    const std::string full = join_path(prefix, name);
    const Key<Root>* k = find_key(keys, full);
    if (!k) {
      out += indent + std::string(name) + ":\n";
      render_map(keys, full, root, indent + "  ", out);
      continue;
    }
    const std::string text = k->value.render(root, indent);
    if (text.empty()) continue;  // an unset optional key (a port's vlan)
    // A block value (list of maps, the lcore map) starts on the next line.
    out += indent + std::string(name) + ":" + (text[0] == '\n' ? "" : " ") + text + "\n";
  }
}

#define STUNBOX_WALK(Root)                                                                                         \
  template std::vector<std::string_view> child_names(std::span<const Key<Root>>, std::string_view);               \
  template const Key<Root>* find_key(std::span<const Key<Root>>, std::string_view);                                \
  template void read_map(std::span<const Key<Root>>, std::string_view, const Node&, const std::string&, Root&);    \
  template void render_map(std::span<const Key<Root>>, std::string_view, const Root&, const std::string&,          \
                           std::string&);
STUNBOX_WALK(Config)
STUNBOX_WALK(PortSection)
#undef STUNBOX_WALK

}  // namespace stunbox::config
