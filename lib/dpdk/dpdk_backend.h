// The DPDK backend: EAL, ports with RSS, one lcore per RX/TX queue pair, in-place replies. The only rte_* user.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "config/config.h"

namespace stunbox::dpdk {

// setup initialises EAL with cfg.dpdk.eal + extra_eal (the arguments after
// `--` on the command line) and sets up every port; start launches one
// worker lcore per entry of the lcore map; finish stops and closes the
// ports and checks every mbuf came back; the destructor releases EAL. Every
// failure is one line. `cfg` outlives the backend.
std::unique_ptr<backend::Backend> make_backend(const config::Config& cfg, std::vector<std::string> extra_eal);

}  // namespace stunbox::dpdk
