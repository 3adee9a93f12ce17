// Unit tests of the config schema: every row complete and consistent, plan_reload driven by each row's
// live/restart flag (table-driven over the schema, so a new row is covered by itself), --help's sketch.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/reference.h"
#include "config/reload.h"
#include "config/schema.h"

namespace stunbox::config {
namespace {

// A base in which every key can be changed on its own: socket.group needs a
// user, an explicit lcore map needs a port with a numeric queue count.
const std::vector<std::string> kBase = {"socket.user=root", "dpdk.ports=[{device: a, queues: 1}]"};

Config load(const std::vector<std::string>& overrides) {
  Result<Config> r = load_string("", "base.yaml", overrides);
  EXPECT_TRUE(r.is_ok()) << r.message();
  return r.is_ok() ? *r : Config{};
}

// Valid-looking YAML values for a key, by kind; the test takes the first
// that loads and differs from the base.
std::vector<std::string> candidates(const Key<Config>& k) {
  const Value<Config>& v = k.value;
  std::vector<std::string> out;
  switch (v.kind) {
    case Kind::integer:
      out = {std::to_string(v.min), std::to_string(v.max)};
      break;
    case Kind::integer_or_auto:
      out = {"auto", std::to_string(v.min), std::to_string(v.max)};
      break;
    case Kind::boolean:
      out = {"true", "false"};
      break;
    case Kind::string:
      out = {"\"\"", "x"};
      break;
    case Kind::enumeration:
      out.assign(v.names.begin(), v.names.end());
      break;
    case Kind::port_list:
      out = {"[" + std::to_string(v.max) + "]"};
      break;
    case Kind::string_list:
      out = {"[x]"};
      break;
    case Kind::custom:
      break;
  }
  if (!k.example.empty()) out.emplace_back(k.example);
  return out;
}

TEST(ConfigSchema, RowsAreComplete) {
  std::set<std::string_view> paths;
  for (const Key<Config>& k : keys()) {
    SCOPED_TRACE(std::string(k.path));
    EXPECT_TRUE(paths.insert(k.path).second) << "path listed twice";
    EXPECT_FALSE(k.help.empty());
    EXPECT_FALSE(k.meaning.empty());
    EXPECT_TRUE(k.value.read && k.value.render && k.value.equal && k.value.copy);
    if (k.value.kind == Kind::custom) {
      EXPECT_FALSE(k.type.empty()) << "a custom key names its type for the docs";
      EXPECT_FALSE(k.example.empty()) << "a custom key gives an example value (the reload test needs one)";
    }
    // A range written out by hand still states the row's range.
    if ((k.value.kind == Kind::integer || k.value.kind == Kind::integer_or_auto) && !k.range.empty()) {
      EXPECT_NE(k.range.find(std::to_string(k.value.min) + ".." + std::to_string(k.value.max)), std::string::npos)
          << k.range;
    }
  }
  for (const Key<PortSection>& k : port_keys()) {
    SCOPED_TRACE("dpdk.ports[i]." + std::string(k.path));
    EXPECT_FALSE(k.help.empty());
    EXPECT_FALSE(k.meaning.empty());
    EXPECT_TRUE(k.value.read && k.value.render && k.value.equal && k.value.copy);
    if (k.value.kind == Kind::custom) {
      EXPECT_FALSE(k.type.empty());
    }
  }
}

// What a key renders as reads back as the same value: to_yaml and the docs'
// default column say what the file would say.
TEST(ConfigSchema, DefaultsRenderAsValidValues) {
  const Config defaults = default_config();
  for (const Key<Config>& k : keys()) {
    SCOPED_TRACE(std::string(k.path));
    const std::string text = k.value.render(defaults, "");
    Result<Config> r = load_string("", "d.yaml", {std::string(k.path) + "=" + text});
    ASSERT_TRUE(r.is_ok()) << r.message();
    EXPECT_TRUE(*r == defaults) << to_yaml(*r);
  }
}

TEST(ConfigSchema, EnumNamesAreTheEnumsOrder) {
  EXPECT_EQ(to_string(Mode::dpdk), kModeNames[1]);
  EXPECT_EQ(to_string(Idle::adaptive), kIdleNames[1]);
  EXPECT_EQ(to_string(stun::FingerprintPolicy::never), kFingerprintNames[2]);
}

// Changing one key lands in `applied` (live) or `restart` as its row says,
// and `effective` takes live values only.
TEST(ConfigReload, EachKeyIsAppliedOrReportedAsItsRowSays) {
  const Config running = load(kBase);
  for (const Key<Config>& k : keys()) {
    SCOPED_TRACE(std::string(k.path));
    std::optional<Config> next;
    for (const std::string& value : candidates(k)) {
      std::vector<std::string> o = kBase;
      o.push_back(std::string(k.path) + "=" + value);
      Result<Config> r = load_string("", "next.yaml", o);
      if (r.is_ok() && !k.value.equal(running, *r)) {
        next = *r;
        break;
      }
    }
    ASSERT_TRUE(next) << "no candidate value changes this key (give the row an example)";
    const ReloadPlan plan = plan_reload(running, *next);
    const std::vector<std::string> just_this = {std::string(k.path)};
    if (k.reload == Reload::live) {
      EXPECT_EQ(plan.applied, just_this);
      EXPECT_TRUE(plan.restart.empty());
      EXPECT_TRUE(plan.effective == *next) << to_yaml(plan.effective);
    } else {
      EXPECT_TRUE(plan.applied.empty());
      EXPECT_EQ(plan.restart, just_this);
      EXPECT_TRUE(plan.effective == running) << to_yaml(plan.effective);
    }
  }
}

TEST(ConfigReload, TodaysLiveKeys) {
  std::vector<std::string_view> live;
  for (const Key<Config>& k : keys())
    if (k.reload == Reload::live) live.push_back(k.path);
  EXPECT_EQ(live, (std::vector<std::string_view>{"stun.software", "stun.fingerprint", "stun.classic", "stats.period",
                                                 "stats.port_xstats", "limits.rate.pps", "limits.rate.burst", "limits.rate.ipv4_prefix",
                                                 "limits.rate.ipv6_prefix", "limits.global_pps", "limits.allow",
                                                 "limits.deny", "limits.deny_source_ports", "limits.l3_pps",
                                                 "limits.nd_pps", "health.drain_on_stop_s"}));
}

TEST(ConfigReload, ManyChangesInSchemaOrder) {
  const Config running = load({});
  const Config next = load({"stats.period=5", "socket.batch=8", "stun.software=x", "limits.rate.table_size=1024",
                            "mode=dpdk", "dpdk.ports=[{device: a}]", "dpdk.burst=64"});
  const ReloadPlan plan = plan_reload(running, next);
  EXPECT_EQ(plan.applied, (std::vector<std::string>{"stun.software", "stats.period"}));
  EXPECT_EQ(plan.restart, (std::vector<std::string>{"mode", "socket.batch", "dpdk.ports", "dpdk.burst",
                                                    "limits.rate.table_size"}));
  Config want = running;
  want.stun.software = "x";
  want.stats.period = 5;
  EXPECT_TRUE(plan.effective == want) << to_yaml(plan.effective);
  EXPECT_EQ(plan.effective.stun.software, "x");
  // Nothing changed: nothing to do.
  const ReloadPlan none = plan_reload(running, running);
  EXPECT_TRUE(none.applied.empty() && none.restart.empty());
}

TEST(ConfigHelp, SketchNamesEverySectionAndKey) {
  const std::string sketch = help_sketch("    ");
  for (std::string_view section : child_names(keys(), ""))
    EXPECT_NE(sketch.find(std::string(section) + ":"), std::string::npos) << section;
  for (const Key<Config>& k : keys()) {
    std::string_view last = k.path.substr(k.path.rfind('.') + 1);
    EXPECT_NE(sketch.find(std::string(last) + ":"), std::string::npos) << k.path;
  }
  size_t start = 0;
  while (start < sketch.size()) {
    const size_t end = sketch.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 96u) << sketch.substr(start, end - start);
    EXPECT_EQ(sketch.compare(start, 4, "    "), 0);
    start = end + 1;
  }
}

TEST(ConfigReference, EveryKeyInEveryFormat) {
  for (ReferenceFormat f : {ReferenceFormat::markdown, ReferenceFormat::man, ReferenceFormat::text}) {
    const std::string ref = reference(f);
    for (const Key<Config>& k : keys()) EXPECT_NE(ref.find(std::string(k.path)), std::string::npos) << k.path;
    for (const Key<PortSection>& k : port_keys()) EXPECT_NE(ref.find(std::string(k.path)), std::string::npos) << k.path;
  }
  const std::string man = reference(ReferenceFormat::man);
  EXPECT_NE(man.find(".SS \"stun\"\n.TP\n.B stun.ports\n"), std::string::npos) << man;
  EXPECT_NE(man.find(".B dpdk.ports[i].mtu\n"), std::string::npos);
}

TEST(ConfigReference, DocsMarkersAreChecked) {
  Result<std::string> none = update_docs("# Configuration\n");
  ASSERT_FALSE(none.is_ok());
  EXPECT_EQ(none.message().rfind("no '<!-- schema:mode -->' marker", 0), 0u) << none.message();
  Result<std::string> unknown = update_docs("<!-- schema:nope -->\n<!-- /schema:nope -->\n");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.message().rfind("line 1: unknown marker '<!-- schema:nope -->'", 0), 0u) << unknown.message();
  Result<std::string> open = update_docs("x\n<!-- schema:stun -->\n| old |\n");
  ASSERT_FALSE(open.is_ok());
  EXPECT_EQ(open.message(), "line 2: '<!-- schema:stun -->' has no '<!-- /schema:stun -->'");
}

}  // namespace
}  // namespace stunbox::config
