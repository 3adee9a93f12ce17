// Proves respond() never allocates: global operator new/delete are replaced by counting versions in this test binary.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "stun/responder.h"
#include "test_util.h"

#include "alloc_counter.h"

namespace stunbox::stun {
namespace {

using test::Bytes;
using test::Stun;

TEST(NoAllocation, CounterSeesAllocations) {
  // The instrument works: a heap allocation is counted.
  const size_t before = g_allocations.load();
  auto* p = new Bytes(64);
  delete p;
  EXPECT_GE(g_allocations.load(), before + 1);
}

TEST(NoAllocation, RespondNeverAllocates) {
  // Inputs prepared up front: success, 420, classic, drops, long SOFTWARE.
  std::vector<Bytes> inputs = {
      Stun().bytes(),
      Stun().attr(attr::kUsername, "evtj:h6vY").attr(attr::kMessageIntegrity, Bytes(20, 1)).fingerprint().bytes(),
      Stun().attr(0x0040, Bytes{}).attr(attr::kChangeRequest, Bytes(4, 0)).fingerprint().bytes(),
      Stun().classic().bytes(),
      Stun().classic().attr(attr::kResponseAddress, Bytes(8, 0)).bytes(),
      Stun(0x0101).bytes(),
      Stun(0x0011).bytes(),
      Stun(0x0003).bytes(),
      Stun().fingerprint().attr(attr::kSoftware, "x").bytes(),
      Bytes(19, 0),
  };
  for (const Bytes& v : test::load_rfc5769_vectors()) inputs.push_back(v);
  const std::string long_sw(kMaxSoftwareBytes, 'x');
  ResponderConfig cfgs[6];
  cfgs[1].fingerprint = FingerprintPolicy::always;
  cfgs[2].fingerprint = FingerprintPolicy::never;
  cfgs[3].classic = false;
  cfgs[4].software = "stunbox";
  cfgs[5].software = long_sw;
  cfgs[5].fingerprint = FingerprintPolicy::always;
  Endpoint v4;
  v4.ip = IpAddress::v4({198, 18, 0, 1});
  v4.port = 1234;
  Endpoint v6;
  v6.ip.v6 = true;
  v6.ip.bytes[0] = 0x20;
  v6.ip.bytes[15] = 1;
  v6.port = 4321;
  std::vector<uint8_t> buf(kMaxResponseSize + 4096);

  size_t answered = 0;
  const size_t before = g_allocations.load();
  for (int round = 0; round < 200; ++round) {
    for (const Bytes& in : inputs) {
      for (const ResponderConfig& cfg : cfgs) {
        for (const Endpoint* c : {&v4, &v6}) {
          std::copy(in.begin(), in.end(), buf.begin());
          const Answer a = respond(cfg, buf.data(), in.size(), buf.size(), *c);
          answered += a.outcome != Outcome::drop;
        }
      }
    }
  }
  const size_t after = g_allocations.load();
  EXPECT_EQ(after - before, 0u);
  EXPECT_GT(answered, 0u);  // the loop exercised the answer paths
}

}  // namespace
}  // namespace stunbox::stun
