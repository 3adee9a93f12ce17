// EAL start-up for the DPDK backend: argument list from the config, init with EAL's log captured into one error line.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace stunbox::dpdk {

// cfg.dpdk.eal + extra_eal, plus `--vdev SPEC` for every port whose device
// is not a PCI address (unless the EAL arguments already name that vdev)
// and `-a ADDR` for every PCI port when the user gave no -a/--allow/-b/--block
// of their own. argv[0] is not included.
std::vector<std::string> eal_arguments(const config::DpdkSection& dpdk, const std::vector<std::string>& extra_eal);

// The last line of an EAL log that says what went wrong (skips blank lines
// and EAL's generic "Error - exiting" trailers).
std::string last_meaningful_line(const std::string& log);

// Runs rte_eal_init with argv[0] "stunbox". EAL's log is captured meanwhile;
// on failure the error is
// `EAL init failed: <rte_strerror(rte_errno)>: <last meaningful log line>`
// (with a hint for missing hugepages). Never exits or panics.
Status init_eal(const std::vector<std::string>& args);

// Everything EAL and its drivers logged during the last init_eal.
const std::string& eal_init_log();
// The first line of log that mentions name ("" if none): a driver's reason
// for not probing a device.
std::string log_line_about(const std::string& log, const std::string& name);

}  // namespace stunbox::dpdk
