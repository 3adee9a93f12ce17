// STUB: replaced by the real backend.
#include "dpdk/dpdk_backend.h"
namespace stunbox::dpdk {
Status run(const config::Config&, const std::vector<std::string>&) { return Error{"dpdk backend: not implemented"}; }
}  // namespace stunbox::dpdk
