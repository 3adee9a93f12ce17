// Unit tests of the console: the command parser, completion, the testpmd layout and the executor over a fake backend.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "console/view.h"
#include "console/console.h"
#include "console/format.h"
#include "console/grammar.h"

namespace stunbox::console {
namespace {

TEST(Grammar, ParsesEveryCommandOfTheTable) {
  struct Case {
    const char* line;
    CommandId id;
    bool all;
    uint64_t number;
  };
  const Case cases[] = {
      {"help", CommandId::help, false, 0},
      {"show port stats all", CommandId::show_port_stats, true, 0},
      {"  show   port stats 3  ", CommandId::show_port_stats, false, 3},
      {"show port xstats 1", CommandId::show_port_xstats, false, 1},
      {"show port info 0", CommandId::show_port_info, false, 0},
      {"show queue stats", CommandId::show_queue_stats, false, 0},
      {"show lcore stats", CommandId::show_lcore_stats, false, 0},
      {"show stun stats", CommandId::show_stun_stats, false, 0},
      {"show top sources", CommandId::show_top_sources, false, kDefaultTopSources},
      {"show top sources 3", CommandId::show_top_sources, false, 3},
      {"show config", CommandId::show_config, false, 0},
      {"show health", CommandId::show_health, false, 0},
      {"health", CommandId::health, false, 0},
      {"drain on", CommandId::drain, false, 1},
      {"drain off", CommandId::drain, false, 0},
      {"clear port stats all", CommandId::clear_port_stats, true, 0},
      {"clear port stats 2", CommandId::clear_port_stats, false, 2},
      {"clear stun stats", CommandId::clear_stun_stats, false, 0},
      {"set stats-period 10", CommandId::set_stats_period, false, 10},
      {"set stats-period 0\r\n", CommandId::set_stats_period, false, 0},
      {"reload # with a comment", CommandId::reload, false, 0},
      {"quit", CommandId::quit, false, 0},
  };
  for (const Case& c : cases) {
    ParseResult r = parse_command(c.line);
    ASSERT_TRUE(r.command.has_value()) << c.line << ": " << r.error;
    EXPECT_TRUE(r.error.empty());
    EXPECT_EQ(r.command->id, c.id) << c.line;
    EXPECT_EQ(r.command->all, c.all) << c.line;
    EXPECT_EQ(r.command->number, c.number) << c.line;
  }
  EXPECT_EQ(command_table().size(), std::size(cases) - 5);  // five lines above are variants
}

TEST(Grammar, EmptyLineIsNoCommandAndNoError) {
  for (const char* line : {"", "   ", "\t", "# only a comment"}) {
    ParseResult r = parse_command(line);
    EXPECT_FALSE(r.command.has_value()) << line;
    EXPECT_TRUE(r.error.empty()) << line;
  }
}

TEST(Grammar, ErrorsNameWhatWasExpected) {
  struct Case {
    const char* line;
    const char* error;
  };
  const Case cases[] = {
      {"frobnicate", "unknown command 'frobnicate' (type help for the list)"},
      {"show", "incomplete command 'show': expected port, queue, lcore, stun, top, config, health"},
      {"drain", "incomplete command 'drain': expected on|off"},
      {"drain maybe", "drain: expected 'on' or 'off', got 'maybe'"},
      {"show port stats", "incomplete command 'show port stats': expected all|<port>"},
      {"show port stats x", "show port stats: expected 'all' or a port number, got 'x'"},
      {"show port info all", "show port info: expected a port number, got 'all'"},
      {"show port info -1", "show port info: expected a port number, got '-1'"},
      {"set stats-period 86401", "set stats-period: 86401 is out of range 0..86400"},
      {"set stats-period soon", "set stats-period: expected a number of seconds, got 'soon'"},
      {"show port stats 99999", "show port stats: no port 99999"},
      {"show top", "incomplete command 'show top': expected sources"},
      {"show top sources many", "show top sources: expected a number of prefixes, got 'many'"},
      {"show top sources 0", "show top sources: 0 is out of range 1..100000"},
  };
  for (const Case& c : cases) {
    ParseResult r = parse_command(c.line);
    EXPECT_FALSE(r.command.has_value()) << c.line;
    EXPECT_EQ(r.error, c.error) << c.line;
  }
  ParseResult extra = parse_command("show config now");
  EXPECT_FALSE(extra.command.has_value());
  EXPECT_NE(extra.error.find("unknown command"), std::string::npos) << extra.error;
}

TEST(Grammar, CompletesWordsAndArguments) {
  using V = std::vector<std::string>;
  EXPECT_EQ(complete(""), (V{"clear", "drain", "health", "help", "quit", "reload", "set", "show"}));
  EXPECT_EQ(complete("drain "), (V{"off", "on"}));
  EXPECT_EQ(complete("drain o"), (V{"off", "on"}));
  EXPECT_EQ(complete("drain of"), (V{"off"}));
  EXPECT_EQ(complete("sh"), (V{"show"}));
  EXPECT_EQ(complete("show "), (V{"config", "health", "lcore", "port", "queue", "stun", "top"}));
  EXPECT_EQ(complete("show t"), (V{"top"}));
  EXPECT_EQ(complete("show top "), (V{"sources"}));
  EXPECT_EQ(complete("show top sources "), V{});  // an optional number
  EXPECT_EQ(complete("show lc"), (V{"lcore"}));
  EXPECT_EQ(complete("show port "), (V{"info", "stats", "xstats"}));
  EXPECT_EQ(complete("show port s"), (V{"stats"}));
  EXPECT_EQ(complete("show port stats "), (V{"all"}));
  EXPECT_EQ(complete("show port info "), V{});  // a number: nothing to offer
  EXPECT_EQ(complete("clear "), (V{"port", "stun"}));
  EXPECT_EQ(complete("set s"), (V{"stats-period"}));
  EXPECT_EQ(complete("show nothing "), V{});
  EXPECT_EQ(complete("quit "), V{});
}

TEST(Grammar, HelpListsEveryCommand) {
  const std::string h = help_text();
  for (const CommandSpec& spec : command_table()) {
    std::string words;
    for (std::string_view w : spec.words) {
      if (!words.empty()) words += ' ';
      words += w;
    }
    EXPECT_NE(h.find(words), std::string::npos) << words;
    EXPECT_NE(h.find(spec.help), std::string::npos) << words;
  }
}

TEST(Format, PortBlockHasTestpmdLayout) {
  PortStats s;
  s.rx_packets = 1234;
  s.rx_missed = 5;
  s.rx_bytes = 98765;
  s.rx_errors = 6;
  s.rx_nombuf = 7;
  s.tx_packets = 1200;
  s.tx_errors = 8;
  s.tx_bytes = 90000;
  Throughput t{100, 80000, 90, 72000};
  const std::string b = format_port_block(3, s, t);
  EXPECT_NE(b.find("######################## NIC statistics for port 3  ########################"), std::string::npos) << b;
  EXPECT_NE(b.find("  RX-packets: 1234       RX-missed: 5          RX-bytes:  98765\n"), std::string::npos) << b;
  EXPECT_NE(b.find("  RX-errors: 6\n"), std::string::npos);
  EXPECT_NE(b.find("  RX-nombuf:  7"), std::string::npos);
  EXPECT_NE(b.find("  TX-packets: 1200       TX-errors: 8          TX-bytes:  90000\n"), std::string::npos) << b;
  EXPECT_NE(b.find("  Throughput (since last show)\n"), std::string::npos);
  EXPECT_NE(b.find("  Rx-pps:          100          Rx-bps:        80000\n"), std::string::npos) << b;
  EXPECT_NE(b.find("  Tx-pps:           90          Tx-bps:        72000\n"), std::string::npos) << b;
}

TEST(Format, ThroughputAndBaselines) {
  PortStats a, b;
  a.rx_packets = 100;
  a.rx_bytes = 1000;
  b.rx_packets = 300;
  b.rx_bytes = 3000;
  b.tx_packets = 50;
  Throughput t = throughput(a, b, 2.0);
  EXPECT_EQ(t.rx_pps, 100u);
  EXPECT_EQ(t.rx_bps, 8000u);
  EXPECT_EQ(t.tx_pps, 25u);
  EXPECT_EQ(throughput(b, a, 2.0).rx_pps, 0u);  // counters went backwards (device reset): 0, not a wrap
  EXPECT_EQ(throughput(a, b, 0).rx_pps, 0u);
  PortStats d = minus(b, a);
  EXPECT_EQ(d.rx_packets, 200u);
  EXPECT_EQ(minus(a, b).rx_packets, 0u);
  EXPECT_DOUBLE_EQ(busy_percent(25, 100), 25.0);
  EXPECT_DOUBLE_EQ(busy_percent(1, 0), 0.0);
}

TEST(Format, StunStatsListsOnlyNonZeroDropReasons) {
  Snapshot s;
  s.v[slot(Counter::stun_requests)] = 10;
  s.v[slot(Counter::stun_classic_requests)] = 2;
  s.v[slot(Counter::stun_success)] = 11;
  s.v[slot(DropReason::stun_bad_fingerprint)] = 1;
  const std::string o = format_stun_stats(s);
  EXPECT_NE(o.find("requests total:                            12"), std::string::npos) << o;
  EXPECT_NE(o.find("drop stun_bad_fingerprint"), std::string::npos);
  EXPECT_EQ(o.find("drop stun_too_short"), std::string::npos);
}

// A backend with one port and two workers whose counters the test sets.
class FakeView final : public View {
 public:
  FakeView() {
    cfg_.stats.period = 5;
    queue_views_ = {{0, 0, 0, &counters_[0]}, {0, 1, 1, &counters_[1]}};
    workers_ = {{0, "0:0"}, {1, "0:1"}};
  }
  std::string_view mode() const override { return "socket"; }
  size_t port_count() const override { return 1; }
  std::string port_name(size_t) const override { return "udp 127.0.0.1:1"; }
  PortStats port_stats(size_t) const override { return port_; }
  LinkState link(size_t) const override { return {link_up_, 0, false}; }
  std::string port_info(size_t) const override { return "Driver: fake\nQueues: 2"; }
  std::vector<XStat> xstats(size_t) const override { return {{"x_one", 1}}; }
  std::span<const QueueView> queues() const override { return queue_views_; }
  std::span<const WorkerInfo> workers() const override { return workers_; }
  WorkerUsage usage(size_t w) const override { return usage_[w]; }
  const config::Config& config() const override { return *current_; }
  // What the daemon's reload does to the view: a new generation in effect.
  std::string reload() {
    next_.stats.period = 9;
    current_ = &next_;
    return "reloaded fake";
  }
  Reload reloader() {
    return [this] { return reload(); };
  }

  std::vector<SourceSketchSnapshot> source_sketches() const override {
    std::vector<SourceSketchSnapshot> out;
    for (const SourceSketch* s : sketches_) out.push_back(s->read());
    return out;
  }
  std::vector<const SourceSketch*> sketches_;

  void add(size_t worker, Counter c, uint64_t n) {
    LocalCounters l;
    l.add(c, n);
    counters_[worker].publish(l);
  }
  PortStats port_;
  WorkerUsage usage_[2];
  bool link_up_ = true;

 private:
  config::Config cfg_;
  config::Config next_;
  const config::Config* current_ = &cfg_;
  WorkerCounters counters_[2];
  std::vector<QueueView> queue_views_;
  std::vector<WorkerInfo> workers_;
};

TEST(ConsoleExec, ClearIsABaselineAndCountersKeepGrowing) {
  FakeView v;
  Console c(v, v.reloader());
  Session s;
  v.add(0, Counter::stun_requests, 7);
  v.add(1, Counter::stun_requests, 3);
  Response r = c.execute("show stun stats", s);
  EXPECT_EQ(r.status, Response::Status::ok);
  EXPECT_NE(r.text.find("requests (RFC 5389/8489):                  10"), std::string::npos) << r.text;
  EXPECT_EQ(c.execute("clear stun stats", s).status, Response::Status::ok);
  r = c.execute("show stun stats", s);
  EXPECT_NE(r.text.find("requests (RFC 5389/8489):                   0"), std::string::npos) << r.text;
  v.add(1, Counter::stun_requests, 2);
  r = c.execute("show stun stats", s);
  EXPECT_NE(r.text.find("requests (RFC 5389/8489):                   2"), std::string::npos) << r.text;
  EXPECT_EQ(v.totals().get(Counter::stun_requests), 12u);  // the view itself never resets

  v.port_.rx_packets = 40;
  EXPECT_EQ(c.execute("clear port stats 0", s).status, Response::Status::ok);
  v.port_.rx_packets = 45;
  r = c.execute("show port stats all", s);
  EXPECT_NE(r.text.find("RX-packets: 5 "), std::string::npos) << r.text;
}

TEST(ConsoleExec, ErrorsQuitPeriodAndReload) {
  FakeView v;
  Console c(v, v.reloader());
  Session s;
  Response r = c.execute("show port info 1", s);
  EXPECT_EQ(r.status, Response::Status::error);
  EXPECT_EQ(r.text, "no port 1 (ports: 0..0)\n");
  EXPECT_EQ(c.execute("show port xstats 0", s).text.find("x_one: 1") != std::string::npos, true);
  EXPECT_EQ(c.execute("nonsense", s).status, Response::Status::error);
  EXPECT_EQ(c.execute("quit", s).status, Response::Status::quit);
  EXPECT_EQ(c.execute("", s).text, "");

  EXPECT_EQ(c.stats_period(), 5u);  // from the config
  EXPECT_EQ(c.execute("set stats-period 2", s).status, Response::Status::ok);
  EXPECT_EQ(c.stats_period(), 2u);
  r = c.execute("reload", s);
  EXPECT_EQ(r.text, "reloaded fake\n");
  EXPECT_EQ(c.stats_period(), 9u);  // a reload that changes stats.period takes over
  r = c.execute("show config", s);
  EXPECT_NE(r.text.find("period: 9"), std::string::npos) << r.text;
}

TEST(ConsoleExec, LcoreStatsBusyPercentSinceLastShow) {
  FakeView v;
  Console c(v, v.reloader());
  Session s;
  v.usage_[0] = {250, 1000, 7};
  v.usage_[1] = {0, 1000, 9};
  v.add(0, Counter::rx_packets, 4);
  v.add(0, Counter::tx_packets, 3);
  Response r = c.execute("show lcore stats", s);
  EXPECT_NE(r.text.find("  0       0:0                           4              3            0    25.0%    25.0%            7"),
            std::string::npos)
      << r.text;
  v.usage_[0] = {1250, 2000, 8};  // the last 1000 ns all busy
  r = c.execute("show lcore stats", s);
  EXPECT_NE(r.text.find("100.0%    62.5%"), std::string::npos) << r.text;
}

TEST(ConsoleExec, TopSourcesMergesWorkersHeaviestFirst) {
  FakeView v;
  Console c(v, v.reloader());
  Session s;
  Response r = c.execute("show top sources", s);
  EXPECT_EQ(r.text, "source prefixes are not recorded by this backend\n");
  SourceSketch w0, w1;
  v.sketches_ = {&w0, &w1};
  const uint8_t a[4] = {198, 18, 0, 1}, b[4] = {198, 18, 0, 2};
  const uint8_t x[16] = {0x20, 0x01, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 9};
  for (int i = 0; i < 50; ++i) w0.record(a, false);
  for (int i = 0; i < 25; ++i) w1.record(a, false);
  for (int i = 0; i < 20; ++i) w1.record(b, false);
  for (int i = 0; i < 5; ++i) w0.record(x, true);
  w0.publish();
  w1.publish();
  r = c.execute("show top sources 2", s);
  EXPECT_EQ(r.status, Response::Status::ok);
  EXPECT_NE(r.text.find("Top 2 source prefixes of 100 packets recorded (2 worker sketches merged)"), std::string::npos)
      << r.text;
  const size_t first = r.text.find("198.18.0.1/32");
  const size_t second = r.text.find("198.18.0.2/32");
  ASSERT_NE(first, std::string::npos) << r.text;
  ASSERT_NE(second, std::string::npos) << r.text;
  EXPECT_LT(first, second);
  EXPECT_NE(r.text.find("198.18.0.1/32                                             75    75.0%            0"),
            std::string::npos)
      << r.text;
  EXPECT_EQ(r.text.find("2001:2:0:7::/64"), std::string::npos) << r.text;  // only 2 asked
  r = c.execute("show top sources", s);
  EXPECT_NE(r.text.find("2001:2:0:7::/64"), std::string::npos) << r.text;
}


// What the health monitor says, set by the test.
class FakeStalls final : public backend::StallSource {
 public:
  bool stalled(size_t worker) const override { return worker < 2 && stalled_[worker]; }
  bool stalled_[2] = {false, false};
};

TEST(Health, HealthyOnlyWhenServingProgressingLinkedAndNotDrained) {
  FakeView v;
  FakeStalls stalls;
  Health h(v, &stalls, false);
  EXPECT_FALSE(h.check().healthy);
  EXPECT_EQ(h.check().reason, "starting");
  h.set_phase(Health::Phase::serving);
  EXPECT_TRUE(h.check().healthy);
  EXPECT_EQ(h.check().reason, "ok");
  stalls.stalled_[1] = true;
  EXPECT_EQ(h.check().reason, "worker 1 stalled");
  stalls.stalled_[1] = false;
  v.link_up_ = false;
  EXPECT_EQ(h.check().reason, "port 0 link down");
  EXPECT_FALSE(h.set_drained(true));
  EXPECT_EQ(h.check().reason, "port 0 link down; drained");
  v.link_up_ = true;
  EXPECT_EQ(h.check().reason, "drained");
  EXPECT_TRUE(h.set_drained(false));
  EXPECT_TRUE(h.check().healthy);
  h.set_phase(Health::Phase::stopping);
  EXPECT_EQ(h.check().reason, "stopping");
  EXPECT_TRUE(Health(v, nullptr, true).drained());
}

TEST(Health, ConsoleCommandsReadAndSetIt) {
  FakeView v;
  FakeStalls stalls;
  Health h(v, &stalls, false);
  h.set_phase(Health::Phase::serving);
  Console c(v, v.reloader(), &h);
  Session s;
  Response r = c.execute("health", s);
  EXPECT_EQ(r.status, Response::Status::ok);
  EXPECT_EQ(r.text, "healthy\n");
  r = c.execute("drain on", s);
  EXPECT_EQ(r.status, Response::Status::ok);
  EXPECT_TRUE(h.drained());
  r = c.execute("health", s);
  EXPECT_EQ(r.status, Response::Status::error);
  EXPECT_EQ(r.text, "unhealthy: drained\n");
  r = c.execute("show health", s);
  EXPECT_NE(r.text.find("Drain: on"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("Workers: 2 of 2 progressing"), std::string::npos) << r.text;
  r = c.execute("drain off", s);
  EXPECT_FALSE(h.drained());
  Console bare(v, v.reloader());
  EXPECT_EQ(bare.execute("health", s).status, Response::Status::error);
}

}  // namespace
}  // namespace stunbox::console
