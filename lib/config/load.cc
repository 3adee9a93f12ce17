// Loading a config: the file's tree, --set overrides, then every key read by its schema row and the
// rules that span keys checked.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "config/config.h"
#include "config/schema.h"
#include "config/text.h"
#include "config/tree.h"
#include "config/validators.h"

namespace stunbox::config {
namespace {

Result<Config> load_text(const std::string& text, const std::string& name, const std::vector<std::string>& overrides) {
  try {
    Node root = parse_file(text, join(child_names(keys(), ""), ", "));
    for (const std::string& o : overrides) apply_override(root, o);
    Config c = default_config();
    c.source = name;
    read_map(keys(), "", root, "", c);
    check_mode_needs(root, c);
    check_rfc5780_owned(root, c);
    return c;
  } catch (const Failure& f) {
    return Error{format_failure(f, name)};
  } catch (const std::exception& e) {
    return Error{one_line(name + ": " + e.what())};
  } catch (...) {
    return Error{name + ": unexpected error while reading the configuration"};
  }
}

}  // namespace

Result<Config> load_string(const std::string& text, const std::string& name,
                           const std::vector<std::string>& overrides) {
  return load_text(text, name, overrides);
}

Result<Config> load_file(const std::string& path, const std::vector<std::string>& overrides) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error{"cannot read " + path + ": " + std::strerror(EISDIR)};
  }
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Error{"cannot read " + path + ": " + std::strerror(err)};
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (16u << 20)) {
      ::close(fd);
      return Error{"cannot read " + path + ": larger than 16 MiB, not a config file"};
    }
  }
  ::close(fd);
  return load_text(text, path, overrides);
}

}  // namespace stunbox::config
