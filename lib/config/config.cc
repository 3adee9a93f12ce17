// STUB: replaced by the real loader.
#include "config/config.h"
namespace stunbox::config {
Result<Config> load_file(const std::string& path, const std::vector<std::string>&) { return Error{path + ": not implemented"}; }
Result<Config> load_string(const std::string&, const std::string& name, const std::vector<std::string>&) { return Error{name + ": not implemented"}; }
std::string to_yaml(const Config&) { return {}; }
std::string to_string(const IpAddress&) { return {}; }
}  // namespace stunbox::config
