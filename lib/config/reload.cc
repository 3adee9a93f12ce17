// The reload diff, from the schema: live keys are taken from the new config, restart-only keys are reported.
#include "config/reload.h"

#include "config/schema.h"

namespace stunbox::config {

ReloadPlan plan_reload(const Config& running, const Config& next) {
  ReloadPlan plan{running, {}, {}};
  for (const Key<Config>& k : keys()) {
    if (k.value.equal(running, next)) continue;
    if (k.reload == Reload::live) {
      k.value.copy(plan.effective, next);
      plan.applied.emplace_back(k.path);
    } else {
      plan.restart.emplace_back(k.path);
    }
  }
  return plan;
}

}  // namespace stunbox::config
