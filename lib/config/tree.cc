// The config file as a tree of our own: parse with yaml-cpp (the only yaml-cpp user), remember where
// each node was written, apply --set overrides.
#include "config/tree.h"

#include <yaml-cpp/depthguard.h>  // YAML::DeepRecursion, not in yaml.h
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>
#include <utility>

#include "config/text.h"

namespace stunbox::config {

[[noreturn]] void fail(const Origin& o, std::string path, std::string message) {
  throw Failure{o, std::move(path), std::move(message)};
}

// Values quoted in a message may span lines (block scalars, multi-line plain
// scalars): escape control characters so the error stays one line.
std::string one_line(const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

namespace {

std::string format_failure_raw(const Failure& f, const std::string& name) {
  if (f.origin.override)
    return "--set " + (f.path.empty() ? std::string("(top level)") : f.path) + ": " + f.message;
  std::string out = name + ":" + std::to_string(f.origin.line > 0 ? f.origin.line : 1) + ": ";
  if (!f.path.empty()) out += f.path + ": ";
  return out + f.message;
}

int line_of(const YAML::Mark& m) { return m.is_null() ? 0 : m.line + 1; }

const char* kind_name(Node::Kind k) {
  switch (k) {
    case Node::Kind::null:
      return "nothing";
    case Node::Kind::scalar:
      return "a scalar";
    case Node::Kind::seq:
      return "a list";
    case Node::Kind::map:
      return "a map";
  }
  return "?";
}

}  // namespace

std::string format_failure(const Failure& f, const std::string& name) { return one_line(format_failure_raw(f, name)); }

std::string describe(const Node& n) {
  if (n.kind == Node::Kind::scalar) return "'" + n.text + "'";
  return kind_name(n.kind);
}

namespace {

// Aliases let a small file expand into a huge tree ("billion laughs"); no
// real configuration comes near this many nodes.
constexpr size_t kMaxNodes = 100000;

Node convert(const YAML::Node& y, bool from_override, const std::string& path, size_t& budget) {
  Node n;
  if (budget == 0)
    fail({from_override ? 0 : line_of(y.Mark()), from_override}, path,
         "too many YAML nodes (more than " + std::to_string(kMaxNodes) + ", aliases expanded)");
  --budget;
  n.origin = {from_override ? 0 : line_of(y.Mark()), from_override};
  switch (y.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      n.kind = Node::Kind::null;
      break;
    case YAML::NodeType::Scalar:
      n.kind = Node::Kind::scalar;
      n.text = y.Scalar();
      break;
    case YAML::NodeType::Sequence: {
      n.kind = Node::Kind::seq;
      size_t i = 0;
      for (const YAML::Node& item : y) {
        n.items.push_back(convert(item, from_override, path + "[" + std::to_string(i) + "]", budget));
        ++i;
      }
      break;
    }
    case YAML::NodeType::Map:
      n.kind = Node::Kind::map;
      for (auto it = y.begin(); it != y.end(); ++it) {
        Origin ko{from_override ? 0 : line_of(it->first.Mark()), from_override};
        if (!it->first.IsScalar())
          fail(ko, path,
               std::string("keys must be plain names, got ") + (it->first.IsSequence() ? "a list"
                                                                : it->first.IsMap()    ? "a map"
                                                                                       : "nothing"));
        std::string key = it->first.Scalar();
        std::string child_path = path.empty() ? key : path + "." + key;
        if (n.find(key)) fail(ko, child_path, "duplicate key '" + key + "'");
        Node child = convert(it->second, from_override, child_path, budget);
        // An empty value has no useful mark of its own: point at its key.
        if (child.kind == Node::Kind::null) child.origin = ko;
        child.key = std::move(key);
        child.key_origin = ko;
        n.items.push_back(std::move(child));
      }
      break;
  }
  return n;
}

// yaml-cpp 0.7's LoadAll() loops forever, allocating, on some malformed input
// (a stray ',' at the top level: jbeder/yaml-cpp#1040, fixed upstream in PR
// #1319), and Load() returns an empty document for it. So walk the documents
// with the event parser first: a document that starts where the previous one
// started means the parser is stuck; a second document is an error.
struct DocumentStarts : YAML::EventHandler {
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The first (only) document of `text`; a null node when there is none.
// Throws YAML::ParserException on syntax errors, Failure (at `where`, with
// `path`) for a stuck parser or a second document.
YAML::Node load_single_document(const std::string& text, bool from_override, const std::string& path) {
  {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (parser.HandleNextDocument(starts)) {
      size_t n = starts.starts.size();
      if (n < 2) continue;
      const YAML::Mark& m = starts.starts[n - 1];
      Origin o{from_override ? 0 : line_of(m), from_override};
      if (m.pos == starts.starts[n - 2].pos)
        fail(o, path, std::string(from_override ? "bad YAML value: " : "YAML syntax error: ") + "unexpected character");
      fail(o, path, from_override ? "the value holds more than one YAML document"
                                  : "more than one YAML document in the file");
    }
  }
  return YAML::Load(text);
}

struct PathStep {
  bool is_index = false;
  std::string key;
  size_t index = 0;
};

bool parse_set_path(std::string_view path, std::vector<PathStep>& steps) {
  size_t i = 0;
  if (path.empty()) return false;
  while (i < path.size()) {
    if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos) return false;
      uint64_t idx = 0;
      if (!parse_u64(path.substr(i + 1, close - i - 1), idx) || steps.empty()) return false;
      steps.push_back({true, {}, static_cast<size_t>(idx)});
      i = close + 1;
      if (i < path.size()) {
        if (path[i] == '.') {
          ++i;
          if (i >= path.size()) return false;
        } else if (path[i] != '[') {
          return false;
        }
      }
      continue;
    }
    size_t end = path.find_first_of(".[]", i);
    if (end == std::string_view::npos) end = path.size();
    if (end == i || (end < path.size() && path[end] == ']')) return false;
    steps.push_back({false, std::string(path.substr(i, end - i)), 0});
    i = end;
    if (i < path.size() && path[i] == '.') {
      ++i;
      if (i >= path.size()) return false;
    }
  }
  return true;
}

void mark_override(Node& n) {
  n.origin = {0, true};
  n.key_origin = {0, true};
  for (Node& c : n.items) mark_override(c);
}

}  // namespace

void apply_override(Node& root, const std::string& spec) {
  size_t eq = spec.find('=');
  const Origin here{0, true};
  if (eq == std::string::npos || eq == 0)
    fail(here, "'" + spec + "'", "expected PATH=VALUE, e.g. socket.workers=2");
  std::string path = spec.substr(0, eq);
  std::string value = spec.substr(eq + 1);
  std::vector<PathStep> steps;
  if (!parse_set_path(path, steps))
    fail(here, path, "bad path: expected dotted keys with optional [INDEX], e.g. dpdk.ports[0].queues");

  Node parsed;
  try {
    YAML::Node doc = load_single_document(value, true, path);
    size_t budget = kMaxNodes;
    parsed = convert(doc, true, path, budget);
  } catch (const YAML::DeepRecursion& e) {
    fail(here, path, "bad YAML value: nested too deeply (" + std::to_string(e.depth()) + " levels)");
  } catch (const YAML::ParserException& e) {
    fail(here, path, "bad YAML value '" + value + "': " + e.msg);
  }
  mark_override(parsed);

  Node* cur = &root;
  std::string walked;
  for (size_t s = 0; s < steps.size(); ++s) {
    const PathStep& step = steps[s];
    bool last = s + 1 == steps.size();
    if (step.is_index) {
      if (cur->kind == Node::Kind::null)
        fail(here, path, "'" + walked + "' is not set: [INDEX] only selects an entry of an existing list");
      if (cur->kind != Node::Kind::seq) fail(here, path, "'" + walked + "' is not a list");
      if (step.index >= cur->items.size())
        fail(here, path,
             "index " + std::to_string(step.index) + " is out of range ('" + walked + "' has " +
                 std::to_string(cur->items.size()) + (cur->items.size() == 1 ? " entry)" : " entries)"));
      walked = index_path(walked, step.index);
      Node& target = cur->items[step.index];
      if (last) {
        parsed.key = target.key;
        target = std::move(parsed);
        return;
      }
      cur = &target;
      continue;
    }
    if (cur->kind == Node::Kind::null) {
      cur->kind = Node::Kind::map;
      cur->origin = here;
    }
    if (cur->kind != Node::Kind::map)
      fail(here, path, std::string("'") + (walked.empty() ? std::string("(top level)") : walked) + "' is not a map");
    walked = child_path(walked, step.key);
    Node* child = cur->find(step.key);
    if (!child) {
      Node fresh;
      fresh.origin = here;
      fresh.key = step.key;
      fresh.key_origin = here;
      cur->items.push_back(std::move(fresh));
      child = &cur->items.back();
    }
    if (last) {
      parsed.key = child->key;
      parsed.key_origin = child->key_origin;
      *child = std::move(parsed);
      return;
    }
    cur = child;
  }
}

Node parse_file(const std::string& text, std::string_view sections) {
  Node root;
  try {
    YAML::Node doc = load_single_document(text, false, "");
    size_t budget = kMaxNodes;
    root = convert(doc, false, "", budget);
  } catch (const YAML::DeepRecursion& e) {
    fail({line_of(e.mark), false}, "", "YAML nested too deeply (" + std::to_string(e.depth()) + " levels)");
  } catch (const YAML::ParserException& e) {
    fail({line_of(e.mark), false}, "", "YAML syntax error: " + e.msg);
  }
  if (root.kind == Node::Kind::null) {
    root.kind = Node::Kind::map;  // empty file or only comments: all defaults
    root.origin = {1, false};
  }
  if (root.kind != Node::Kind::map)
    fail(root.origin, "",
         "the top level must be a map of sections (" + std::string(sections) + "), got " + describe(root));
  return root;
}

}  // namespace stunbox::config
