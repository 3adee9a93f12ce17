// stunbox-config-doc: the config key reference, generated from the schema; checks and rewrites the
// generated key tables of docs/configuration.md.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "config/reference.h"

namespace {

constexpr const char* kUsage =
    "Usage: stunbox-config-doc markdown | man | text | sketch\n"
    "       stunbox-config-doc --update FILE | --check FILE\n"
    "\n"
    "  markdown        every section's key table, as docs/configuration.md shows them\n"
    "  man             the keys as a roff fragment (.SS per section, .TP per key) for stunbox.yaml(5)\n"
    "  text            one line per key: path, default, short help\n"
    "  sketch          the key sketch of `stunbox --help`\n"
    "  --update FILE   regenerate the regions between <!-- schema:NAME --> and <!-- /schema:NAME -->\n"
    "  --check FILE    exit 1, naming the first differing line, if --update would change FILE\n";

int usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

// The first line where `have` and `want` differ, both versions shown.
std::string first_difference(const std::string& have, const std::string& want) {
  std::istringstream a(have), b(want);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
    if (!ga && !gb) return "no difference";
    if (!ga || !gb || la != lb)
      return "line " + std::to_string(line) + ":\n  file:   " + (ga ? la : "(end of file)") +
             "\n  schema: " + (gb ? lb : "(end of file)");
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace stunbox::config;
  if (argc == 2) {
    const std::string_view what = argv[1];
    if (what == "markdown") return std::fputs(reference(ReferenceFormat::markdown).c_str(), stdout) < 0;
    if (what == "man") return std::fputs(reference(ReferenceFormat::man).c_str(), stdout) < 0;
    if (what == "text") return std::fputs(reference(ReferenceFormat::text).c_str(), stdout) < 0;
    if (what == "sketch") return std::fputs(help_sketch().c_str(), stdout) < 0;
    if (what == "-h" || what == "--help") return std::fputs(kUsage, stdout) < 0 ? 1 : 0;
    return usage();
  }
  if (argc != 3) return usage();
  const std::string_view mode = argv[1];
  const std::string path = argv[2];
  if (mode != "--update" && mode != "--check") return usage();
  std::string text;
  if (!read_file(path, text)) {
    std::fprintf(stderr, "stunbox-config-doc: cannot read %s\n", path.c_str());
    return 1;
  }
  auto updated = update_docs(text);
  if (!updated) {
    std::fprintf(stderr, "stunbox-config-doc: %s: %s\n", path.c_str(), updated.message().c_str());
    return 1;
  }
  if (*updated == text) return 0;
  if (mode == "--check") {
    std::fprintf(stderr,
                 "stunbox-config-doc: %s: the key tables differ from the config schema (lib/config/schema.cc) at %s\n"
                 "run scripts/gen-config-docs.sh to regenerate them\n",
                 path.c_str(), first_difference(text, *updated).c_str());
    return 1;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << *updated;
  if (!out.flush()) {
    std::fprintf(stderr, "stunbox-config-doc: cannot write %s\n", path.c_str());
    return 1;
  }
  std::printf("%s: key tables regenerated from the schema\n", path.c_str());
  return 0;
}
