// Unit tests of lib/core: counters publish/sum semantics, byte order types, and docs that list every counter.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "core/be.h"
#include "core/counters.h"
#include "core/drop_reason.h"
#include "core/report.h"

namespace stunbox {
namespace {

TEST(Be, RoundTripsAndStoresNetworkOrder) {
  uint8_t b[4] = {};
  store_be16(b, 0x1234);
  EXPECT_EQ(b[0], 0x12);
  EXPECT_EQ(b[1], 0x34);
  EXPECT_EQ(load_be16(b), 0x1234);
  store_be32(b, 0x2112A442);
  EXPECT_EQ(b[0], 0x21);
  EXPECT_EQ(b[3], 0x42);
  EXPECT_EQ(load_be32(b), 0x2112A442u);
  EXPECT_EQ(Be16::from_host(0x0102).host(), 0x0102);
  EXPECT_EQ(Be32::from_host(0xA1B2C3D4).raw, 0xD4C3B2A1u);  // little-endian host
}

TEST(Counters, PublishAddsAndZeroesLocal) {
  WorkerCounters w;
  LocalCounters l;
  l.add(Counter::rx_packets, 3);
  l.drop(DropReason::stun_bad_fingerprint);
  w.publish(l);
  EXPECT_EQ(l.get(Counter::rx_packets), 0u);
  EXPECT_EQ(l.get(DropReason::stun_bad_fingerprint), 0u);
  l.add(Counter::rx_packets, 2);
  w.publish(l);
  EXPECT_EQ(w.get(slot(Counter::rx_packets)), 5u);
  EXPECT_EQ(w.get(slot(DropReason::stun_bad_fingerprint)), 1u);
  EXPECT_EQ(w.get(slot(DropReason::stun_too_short)), 0u);
}

TEST(Counters, WorkerBlocksAreCacheLineAlignedAndSumAcrossWorkers) {
  static_assert(alignof(WorkerCounters) == 64);
  static_assert(sizeof(WorkerCounters) % 64 == 0);
  WorkerCounters ws[3];
  // Each owner publishes from its own thread; the reader sums afterwards.
  std::thread t[3];
  for (int i = 0; i < 3; ++i) {
    t[i] = std::thread([&, i] {
      LocalCounters l;
      for (int n = 0; n < 1000; ++n) {
        l.add(Counter::stun_requests);
        l.add(Counter::stun_success);
        if (n % 10 == 0) l.drop(DropReason::stun_indication);
        if (n % 32 == 31) ws[i].publish(l);
      }
      ws[i].publish(l);
    });
  }
  for (auto& th : t) th.join();
  Snapshot s = Snapshot::sum(ws);
  EXPECT_EQ(s.get(Counter::stun_requests), 3000u);
  EXPECT_EQ(s.get(Counter::stun_success), 3000u);
  EXPECT_EQ(s.get(DropReason::stun_indication), 300u);
  EXPECT_EQ(s.total_drops(), 300u);
}

TEST(Report, ListsCountersAndOnlyNonZeroDrops) {
  Snapshot prev, now;
  now.v[slot(Counter::rx_packets)] = 100;
  now.v[slot(DropReason::stun_bad_length)] = 7;
  std::string text = format_stats(now, &prev, 2.0);
  EXPECT_NE(text.find("rx_packets"), std::string::npos);
  EXPECT_NE(text.find("50.0/s"), std::string::npos);  // 100 over 2 s
  EXPECT_NE(text.find("stun_bad_length"), std::string::npos);
  EXPECT_EQ(text.find("stun_too_short"), std::string::npos);
}

TEST(Names, AreUniqueSnakeCase) {
  std::set<std::string_view> seen;
  for (auto n : kCounterNames) EXPECT_TRUE(seen.insert(n).second) << n;
  for (auto n : kDropReasonNames) EXPECT_TRUE(seen.insert(n).second) << n;
  for (auto n : seen) {
    for (char c : n) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << n;
  }
}

// docs/operations.md is the operator's reference: it must name every counter
// and every drop reason (regenerate its tables with scripts/gen-counter-table.py).
TEST(Docs, OperationsListsEveryCounterAndDropReason) {
  const char* root = std::getenv("STUNBOX_SOURCE_ROOT");
  ASSERT_NE(root, nullptr) << "STUNBOX_SOURCE_ROOT not set";
  std::ifstream f(std::string(root) + "/docs/operations.md");
  ASSERT_TRUE(f.good()) << "docs/operations.md missing";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string doc = ss.str();
  auto quoted = [](std::string_view n) {
    std::string q(1, '`');
    q.append(n).push_back('`');
    return q;
  };
  for (auto n : kCounterNames) EXPECT_NE(doc.find(quoted(n)), std::string::npos) << n;
  for (auto n : kDropReasonNames) EXPECT_NE(doc.find(quoted(n)), std::string::npos) << n;
}

}  // namespace
}  // namespace stunbox
