// Telemetry callbacks over the backend view (read under a mutex that detaching waits on), and rte_pdump set-up.
#include "dpdk/telemetry.h"

#include <rte_errno.h>
#include <rte_pdump.h>
#include <rte_telemetry.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/counters.h"

namespace stunbox::dpdk {

namespace {

// DPDK's telemetry callbacks take no context pointer, so the view they read
// is process-wide. Telemetry's own thread holds mu while it reads; detaching
// takes mu too, so no callback can see a view being torn down.
struct TelemetryTarget {
  std::mutex mu;
  const backend::View* view = nullptr;        // guarded by mu
  const backend::StallSource* health = nullptr;    // guarded by mu
  bool registered = false;                           // guarded by mu
};

TelemetryTarget& target() {
  static TelemetryTarget t;
  return t;
}

// "" / null -> nullopt (whole box); "N" -> N; anything else -> error.
bool parse_index(const char* params, std::optional<size_t>& out) {
  out.reset();
  if (params == nullptr || *params == '\0') return true;
  char* end = nullptr;
  errno = 0;
  const unsigned long v = std::strtoul(params, &end, 10);
  if (errno != 0 || end == params || *end != '\0') return false;
  out = v;
  return true;
}

// The counters of the whole box, or of queue `q` in view.queues() order.
bool snapshot(const backend::View& view, const std::optional<size_t>& q, Snapshot& s) {
  if (!q) {
    s = view.totals();
    return true;
  }
  const auto queues = view.queues();
  if (*q >= queues.size()) return false;
  s.add(*queues[*q].counters);
  return true;
}

void add_queue_identity(const backend::View& view, size_t q, rte_tel_data* d) {
  const backend::QueueView& qv = view.queues()[q];
  rte_tel_data_add_dict_u64(d, "port", qv.port);
  rte_tel_data_add_dict_u64(d, "queue", qv.queue);
  rte_tel_data_add_dict_u64(d, "lcore", qv.worker);
}

// The counters of the whole box or of queue Q ("[,Q]" parameter) into a new
// dict d, filled by fill(view, q, snapshot, d): -EAGAIN before the backend
// runs, -EINVAL for a bad or unknown Q.
template <typename Fill>
int with_snapshot(const char* params, rte_tel_data* d, Fill fill) {
  TelemetryTarget& t = target();
  std::lock_guard<std::mutex> lock(t.mu);
  std::optional<size_t> q;
  Snapshot s;
  if (t.view == nullptr) return -EAGAIN;
  if (!parse_index(params, q) || !snapshot(*t.view, q, s)) return -EINVAL;
  rte_tel_data_start_dict(d);
  fill(*t.view, q, s, d);
  return 0;
}

// /stunbox/stats[,Q]: every counter and the drop total.
int cmd_stats(const char*, const char* params, rte_tel_data* d) {
  return with_snapshot(params, d, [](const backend::View& view, std::optional<size_t> q, const Snapshot& s, rte_tel_data* out) {
    if (q) add_queue_identity(view, *q, out);
    for (size_t i = 0; i < kCounterCount; ++i) {
      rte_tel_data_add_dict_u64(out, std::string(kCounterNames[i]).c_str(), s.get(static_cast<Counter>(i)));
    }
    rte_tel_data_add_dict_u64(out, "drops", s.total_drops());
  });
}

// /stunbox/drops[,Q]: every named drop reason (zeros included, so the key set is stable).
int cmd_drops(const char*, const char* params, rte_tel_data* d) {
  return with_snapshot(params, d, [](const backend::View&, std::optional<size_t>, const Snapshot& s, rte_tel_data* out) {
    for (size_t i = 0; i < kDropReasonCount; ++i) {
      rte_tel_data_add_dict_u64(out, std::string(kDropReasonNames[i]).c_str(), s.get(static_cast<DropReason>(i)));
    }
  });
}

uint64_t busy_percent(const backend::WorkerUsage& u) {
  return u.total_ns == 0 ? 0 : u.busy_ns * 100 / u.total_ns;
}

// /stunbox/lcores: parallel arrays (lcores, busy_percent, stalled);
// /stunbox/lcores,ID: one lcore's queues, time accounting and stall flag.
int cmd_lcores(const char*, const char* params, rte_tel_data* d) {
  TelemetryTarget& t = target();
  std::lock_guard<std::mutex> lock(t.mu);
  std::optional<size_t> id;
  if (t.view == nullptr) return -EAGAIN;
  if (!parse_index(params, id)) return -EINVAL;
  const auto workers = t.view->workers();
  auto stalled = [&t](size_t i) -> uint64_t { return t.health != nullptr && t.health->stalled(i) ? 1 : 0; };
  rte_tel_data_start_dict(d);
  if (id) {
    for (size_t i = 0; i < workers.size(); ++i) {
      if (workers[i].id != *id) continue;
      const backend::WorkerUsage u = t.view->usage(i);
      rte_tel_data_add_dict_u64(d, "lcore", workers[i].id);
      rte_tel_data_add_dict_string(d, "queues", workers[i].queues.c_str());
      rte_tel_data_add_dict_u64(d, "busy_ns", u.busy_ns);
      rte_tel_data_add_dict_u64(d, "total_ns", u.total_ns);
      rte_tel_data_add_dict_u64(d, "busy_percent", busy_percent(u));
      rte_tel_data_add_dict_u64(d, "progress", u.progress);
      rte_tel_data_add_dict_u64(d, "stalled", stalled(i));
      return 0;
    }
    return -EINVAL;
  }
  rte_tel_data* ids = rte_tel_data_alloc();
  rte_tel_data* busy = rte_tel_data_alloc();
  rte_tel_data* stall = rte_tel_data_alloc();
  if (ids == nullptr || busy == nullptr || stall == nullptr) {
    for (rte_tel_data* x : {ids, busy, stall}) {
      if (x != nullptr) rte_tel_data_free(x);
    }
    return -ENOMEM;
  }
  rte_tel_data_start_array(ids, RTE_TEL_U64_VAL);
  rte_tel_data_start_array(busy, RTE_TEL_U64_VAL);
  rte_tel_data_start_array(stall, RTE_TEL_U64_VAL);
  for (size_t i = 0; i < workers.size(); ++i) {
    rte_tel_data_add_array_u64(ids, workers[i].id);
    rte_tel_data_add_array_u64(busy, busy_percent(t.view->usage(i)));
    rte_tel_data_add_array_u64(stall, stalled(i));
  }
  // keep = 0: telemetry frees the containers after answering.
  rte_tel_data_add_dict_container(d, "lcores", ids, 0);
  rte_tel_data_add_dict_container(d, "busy_percent", busy, 0);
  rte_tel_data_add_dict_container(d, "stalled", stall, 0);
  return 0;
}

// /stunbox/config: the canonical YAML of the running config, one string per
// line (telemetry strings are short; a line is its natural unit).
int cmd_config(const char*, const char*, rte_tel_data* d) {
  TelemetryTarget& t = target();
  std::lock_guard<std::mutex> lock(t.mu);
  if (t.view == nullptr) return -EAGAIN;
  const config::Config& c = t.view->config();
  rte_tel_data* lines = rte_tel_data_alloc();
  if (lines == nullptr) return -ENOMEM;
  rte_tel_data_start_array(lines, RTE_TEL_STRING_VAL);
  const std::string yaml = config::to_yaml(c);
  size_t start = 0;
  while (start < yaml.size()) {
    size_t end = yaml.find('\n', start);
    if (end == std::string::npos) end = yaml.size();
    rte_tel_data_add_array_string(lines, yaml.substr(start, end - start).c_str());
    start = end + 1;
  }
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "source", c.source.c_str());
  rte_tel_data_add_dict_string(d, "mode", std::string(config::to_string(c.mode)).c_str());
  rte_tel_data_add_dict_container(d, "yaml", lines, 0);
  return 0;
}

}  // namespace

TelemetryScope::TelemetryScope(const backend::View& view, const backend::StallSource* health) {
  TelemetryTarget& t = target();
  std::lock_guard<std::mutex> lock(t.mu);
  if (!t.registered) {
    t.registered =
        rte_telemetry_register_cmd("/stunbox/stats", cmd_stats,
                                   "STUN and packet counters of the whole box. Parameters: int queue index") == 0 &&
        rte_telemetry_register_cmd("/stunbox/drops", cmd_drops,
                                   "Drops by named reason. Parameters: int queue index") == 0 &&
        rte_telemetry_register_cmd("/stunbox/lcores", cmd_lcores,
                                   "Worker lcores: busy %, stall flags. Parameters: int lcore id") == 0 &&
        rte_telemetry_register_cmd("/stunbox/config", cmd_config, "The running configuration as YAML lines") == 0;
  }
  registered_ = t.registered;
  t.view = &view;
  t.health = health;
}

TelemetryScope::~TelemetryScope() {
  TelemetryTarget& t = target();
  std::lock_guard<std::mutex> lock(t.mu);
  t.view = nullptr;
  t.health = nullptr;
}

CaptureScope::CaptureScope() {
  if (rte_pdump_init() != 0) {
    status_ = Error{std::string("rte_pdump_init: ") + rte_strerror(rte_errno) +
                    " (dpdk-dumpcap needs EAL's multi-process support: no --no-shconf / --in-memory)"};
    return;
  }
  initialised_ = true;
}

CaptureScope::~CaptureScope() {
  if (initialised_) rte_pdump_uninit();
}

}  // namespace stunbox::dpdk
