// A socket-mode worker: its own SO_REUSEPORT sockets, epoll + eventfd, and the recvmmsg -> respond -> sendmmsg batch loop.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "core/counters.h"
#include "core/result.h"
#include "core/source_sketch.h"
#include "limits/limiter.h"
#include "sock/fd.h"
#include "stun/responder.h"

namespace stunbox::sock {

// Largest datagram we accept; anything longer arrives with MSG_TRUNC and is
// dropped. A slot also has room for the response, which may be longer than
// the request (the responder grows the message in place).
inline constexpr size_t kDataRoom = 2048;

// A worker's time accounting. worker: wo (relaxed stores), readers: ro.
struct alignas(64) WorkerUsageCounters {
  std::atomic<uint64_t> busy_ns{0};
  std::atomic<uint64_t> total_ns{0};
  std::atomic<uint64_t> progress{0};
};

// State shared between the main thread and the workers.
struct Shared {
  std::atomic<const stun::ResponderConfig*> responder{nullptr};  // main: wo, workers: ro (once per batch)
  std::atomic<const limits::Policy*> policy{nullptr};            // main: wo, workers: ro (once per batch)
  std::atomic<bool> stop{false};                                  // main: wo, workers: ro
  limits::Limiter* limiter = nullptr;  // shared buckets; set before the workers start, outlives them
  Fd stop_event;  // eventfd, written once by main; never read, so it stays readable for every worker
  // Test hook (STUNBOX_TEST_STALL_AFTER_PACKETS=N): the first worker to have
  // received N datagrams stops making progress until stop, so tests can see
  // the health monitor withhold WATCHDOG=1 and /metrics report the stall.
  // main: wo (before the workers start); workers: claim once (exchange to 0).
  std::atomic<uint64_t> test_stall_after{0};

  // Creates the stop eventfd. Error: "eventfd: ...".
  Status init();
  // Sets stop and wakes every worker for good.
  void request_stop();
};

// What one bound address is for (the same in every worker).
struct SocketRole {
  bool v6 = false;
  // The RFC 5780 endpoint this address is, if it is one (site.pair null: plain STUN).
  stun::Rfc5780Site site;
  // RFC 5780: the index of the socket of each endpoint of site.pair,
  // [alternate IP * 2 + alternate port], so a reply leaves where the rule says.
  std::array<uint32_t, 4> endpoint_socket{};
};

class Worker {
 public:
  // sockets[a] and roles[a]: this worker's socket for bound address a;
  // counters[a]: its counters for that address.
  Worker(std::vector<Fd> sockets, std::vector<SocketRole> roles, unsigned batch, Shared& shared,
         WorkerCounters* counters, WorkerUsageCounters& usage, SourceSketch& sources);

  // Allocates every per-packet buffer up front; the serving loop allocates nothing.
  Status prepare();
  // Serves until shared.stop (or the stall test hook); the thread body.
  void serve();
  // One epoll_wait of at most timeout_ms and the batches it makes ready.
  // Returns the datagrams received, or -1 when stop was signalled. Tests
  // drive a worker with it, the way poll_queue drives a DPDK queue.
  int run_once(int timeout_ms);

 private:
  bool test_hook_stall(unsigned got);
  unsigned drain(uint32_t sock_index);
  int receive_batch(uint32_t sock_index);
  uint8_t* slot(unsigned i);
  void prepare_reply(unsigned out, unsigned i, uint16_t length, bool v6_socket, bool pktinfo);
  void send_replies(int fd, unsigned count);
  // RFC 5780 replies that leave through another endpoint's socket (rare: change requests).
  void send_elsewhere(unsigned count);

  std::vector<Fd> sockets_;
  std::vector<SocketRole> roles_;
  unsigned batch_;
  Shared& shared_;
  WorkerCounters* counters_;
  WorkerUsageCounters& usage_;
  SourceSketch& sources_;  // this worker: wo (record per datagram, publish per wakeup); console: read()
  LocalCounters local_;
  limits::GlobalCredit credit_;  // this worker's claimed tokens of limits.global_pps
  uint64_t test_seen_ = 0;  // datagrams seen, counted only while the stall hook is armed
  uint64_t start_ns_ = 0;   // first run_once
  uint64_t busy_ns_ = 0;    // time spent on wakeups that carried datagrams
  Fd epoll_;
  std::vector<uint8_t> data_;
  std::vector<uint8_t> rx_ctrl_;
  std::vector<uint8_t> tx_ctrl_;
  std::vector<sockaddr_storage> peers_;
  std::vector<iovec> rx_iov_;
  std::vector<iovec> tx_iov_;
  std::vector<mmsghdr> rx_msgs_;
  std::vector<mmsghdr> tx_msgs_;
  // Replies for another socket than the one the batch came in on: tx_msgs_
  // entries from the back (tx_msgs_[batch - 1 - k]) and their socket.
  std::vector<uint32_t> elsewhere_socket_;
  std::vector<epoll_event> events_;
};

}  // namespace stunbox::sock
