// What a reload does with a newly loaded configuration: live keys are applied, restart-only keys are reported.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace stunbox::config {

// The running configuration, a freshly loaded one, and what to do about the
// difference. Whoever runs the daemon publishes `effective` (never `next`),
// so what the console shows is always what is in effect.
struct ReloadPlan {
  Config effective;                  // `running` with every changed live key taken from `next`
  std::vector<std::string> applied;  // live keys that changed, by YAML path, in schema order
  std::vector<std::string> restart;  // restart-only keys that changed (not applied), by YAML path
};

ReloadPlan plan_reload(const Config& running, const Config& next);

}  // namespace stunbox::config
