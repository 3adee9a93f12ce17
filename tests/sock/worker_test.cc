// The socket worker in-process over loopback, driven one wakeup at a time (as poll_queue drives a DPDK queue).
#include "sock/worker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "config/config.h"
#include "sock/bind.h"
#include "stun/message.h"

namespace stunbox::sock {
namespace {

constexpr int kWaitMs = 2000;  // bound on one wakeup; loopback delivers at once

// One worker with one socket on 127.0.0.1 (a kernel-picked port), and a client socket.
class WorkerTest : public ::testing::Test {
 protected:
  void start(const config::LimitsSection& limits = {}, unsigned batch = 4) {
    config::SocketSection sc;
    sc.listen = {config::ListenAddress{config::IpAddress{false, {127, 0, 0, 1}}, 0, "127.0.0.1:0"}};
    targets_ = {make_target(sc.listen[0])};
    auto sockets = bind_workers(targets_, 1, sc);
    ASSERT_TRUE(sockets) << sockets.message();
    ASSERT_TRUE(shared_.init());
    responder_ = std::make_unique<stun::ResponderConfig>();
    policy_ = std::make_unique<limits::Policy>(limits);
    limiter_ = std::make_unique<limits::Limiter>(1024);
    shared_.responder.store(responder_.get());
    shared_.policy.store(policy_.get());
    shared_.limiter = limiter_.get();
    worker_ = std::make_unique<Worker>(std::move((*sockets)[0]), std::vector<SocketRole>{SocketRole{}}, batch, shared_, &counters_,
                                       usage_, sources_);
    ASSERT_TRUE(worker_->prepare());
    server_.sin_family = AF_INET;
    server_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server_.sin_port = htons(static_cast<uint16_t>(std::stoi(targets_[0].text.substr(targets_[0].text.rfind(':') + 1))));
    client_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(client_, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(client_, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    timeval tv{0, 200000};
    setsockopt(client_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void TearDown() override {
    if (client_ >= 0) ::close(client_);
  }

  void send(const std::vector<uint8_t>& d) {
    ASSERT_EQ(::sendto(client_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&server_), sizeof server_),
              static_cast<ssize_t>(d.size()));
  }
  // The next datagram for the client, or empty after the receive timeout.
  std::vector<uint8_t> receive() {
    std::vector<uint8_t> buf(4096);
    const ssize_t n = ::recv(client_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }
  uint16_t client_port() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(client_, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
  }
  Snapshot counters() const {
    Snapshot s;
    s.add(counters_);
    return s;
  }
  static std::vector<uint8_t> binding_request(uint8_t id) {
    std::vector<uint8_t> m = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
    for (int i = 0; i < 12; ++i) m.push_back(static_cast<uint8_t>(id + i));
    return m;
  }

  std::vector<BindTarget> targets_;
  Shared shared_;
  std::unique_ptr<stun::ResponderConfig> responder_;
  std::unique_ptr<limits::Policy> policy_;
  std::unique_ptr<limits::Limiter> limiter_;
  WorkerCounters counters_;
  WorkerUsageCounters usage_;
  SourceSketch sources_;
  std::unique_ptr<Worker> worker_;
  sockaddr_in server_{};
  int client_ = -1;
};

TEST_F(WorkerTest, AnswersABatchWithTheClientsOwnAddress) {
  start();
  for (uint8_t id = 0; id < 3; ++id) send(binding_request(static_cast<uint8_t>(16 * id)));
  int got = 0;
  for (int i = 0; i < 3 && got < 3; ++i) got += worker_->run_once(kWaitMs);
  ASSERT_EQ(got, 3);
  for (uint8_t id = 0; id < 3; ++id) {
    const std::vector<uint8_t> r = receive();
    ASSERT_EQ(r.size(), 32u);
    EXPECT_EQ(load_be16(r.data()), stun::kBindingSuccess);
    EXPECT_EQ(r[8], static_cast<uint8_t>(16 * id)) << "transaction id echoed, in order";
    stun::MessageView v(r.data(), r.size());
    auto xma = v.find(stun::attr::kXorMappedAddress);
    ASSERT_TRUE(xma.has_value());
    EXPECT_EQ(static_cast<uint16_t>(load_be16(xma->value + 2) ^ 0x2112), client_port());
    EXPECT_EQ(load_be32(xma->value + 4) ^ stun::kMagicCookie, 0x7F000001u);
  }
  const Snapshot s = counters();
  EXPECT_EQ(s.get(Counter::rx_packets), 3u);
  EXPECT_EQ(s.get(Counter::stun_requests), 3u);
  EXPECT_EQ(s.get(Counter::stun_success), 3u);
  EXPECT_EQ(s.get(Counter::tx_packets), 3u);
  EXPECT_GE(usage_.progress.load(), 1u);
}

TEST_F(WorkerTest, MalformedAndOversizeAreDroppedByName) {
  start();
  send({0x00, 0x01, 0x00});                       // shorter than a STUN header
  send(std::vector<uint8_t>(kDataRoom + 100, 0));  // larger than a slot: MSG_TRUNC
  int got = 0;
  for (int i = 0; i < 2 && got < 2; ++i) got += worker_->run_once(kWaitMs);
  ASSERT_EQ(got, 2);
  EXPECT_TRUE(receive().empty());
  const Snapshot s = counters();
  EXPECT_EQ(s.get(DropReason::stun_too_short), 1u);
  EXPECT_EQ(s.get(DropReason::sock_truncated), 1u);
  EXPECT_EQ(s.get(Counter::tx_packets), 0u);
}

TEST_F(WorkerTest, LimitsRefuseAfterTheResponderSaidYes) {
  config::LimitsSection l;
  l.deny = {config::IpPrefix{config::IpAddress{false, {127, 0, 0, 0}}, 8, "127.0.0.0/8"}};
  start(l);
  send(binding_request(1));
  ASSERT_EQ(worker_->run_once(kWaitMs), 1);
  EXPECT_TRUE(receive().empty());
  EXPECT_EQ(counters().get(DropReason::acl_denied), 1u);
  EXPECT_EQ(counters().get(Counter::stun_requests), 1u);
}

TEST_F(WorkerTest, StopEndsTheLoop) {
  start();
  shared_.request_stop();
  EXPECT_EQ(worker_->run_once(kWaitMs), -1);
  worker_->serve();  // returns at once: stop is set and the eventfd stays readable
}

}  // namespace
}  // namespace stunbox::sock
