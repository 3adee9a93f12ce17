// Per-worker counters: cache-line aligned, written only by their owner, published once per batch, summed by readers.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/drop_reason.h"

namespace stunbox {

// X(name, description): everything counted besides drops.
#define STUNBOX_COUNTERS(X)                                                       \
  X(rx_packets, "packets (datagrams in socket mode) received")                   \
  X(rx_bytes, "bytes received (L2 frame in dpdk mode, UDP payload in socket mode)") \
  X(tx_packets, "packets (datagrams) sent")                                      \
  X(tx_bytes, "bytes sent")                                                      \
  X(stun_requests, "RFC 5389/8489 Binding requests (magic cookie present)")      \
  X(stun_classic_requests, "RFC 3489 classic Binding requests (no magic cookie)") \
  X(stun_success, "Binding Success Responses built")                             \
  X(stun_error, "Binding Error Responses built (420 Unknown Attribute, 400 Bad Request)") \
  X(stun_change_ip, "RFC 5780: CHANGE-REQUEST to change the IP, answered from the other IP") \
  X(stun_change_port, "RFC 5780: CHANGE-REQUEST to change the port, answered from the other port") \
  X(stun_change_ip_port, "RFC 5780: CHANGE-REQUEST to change both, answered from the diagonal endpoint") \
  X(stun_response_port, "RFC 5780: RESPONSE-PORT honoured (reply sent to that port)") \
  X(arp_replies, "ARP replies built")                                            \
  X(ndp_adverts, "IPv6 Neighbor Advertisements built")                           \
  X(icmp_echo_replies, "ICMP echo replies built")                                 \
  X(icmp6_echo_replies, "ICMPv6 echo replies built")                              \
  X(exception_to_kernel, "frames for the box the data path does not answer, handed to the kernel (exception path)") \
  X(exception_from_kernel, "frames the kernel sent through the exception interface, sent out of the port") \
  X(mld_reports, "MLDv2 reports built in answer to MLD queries (dpdk)")          \
  X(announcements, "gratuitous ARPs, unsolicited NAs and MLDv2 reports sent after a link-up (dpdk)")

enum class Counter : uint8_t {
#define STUNBOX_X(name, desc) name,
  STUNBOX_COUNTERS(STUNBOX_X)
#undef STUNBOX_X
};

inline constexpr size_t kCounterCount = 0
#define STUNBOX_X(name, desc) +1
    STUNBOX_COUNTERS(STUNBOX_X)
#undef STUNBOX_X
    ;

inline constexpr std::string_view kCounterNames[kCounterCount] = {
#define STUNBOX_X(name, desc) #name,
    STUNBOX_COUNTERS(STUNBOX_X)
#undef STUNBOX_X
};

inline constexpr std::string_view kCounterDescriptions[kCounterCount] = {
#define STUNBOX_X(name, desc) desc,
    STUNBOX_COUNTERS(STUNBOX_X)
#undef STUNBOX_X
};

inline constexpr std::string_view name(Counter c) { return kCounterNames[static_cast<size_t>(c)]; }

// Slot layout shared by the local and published forms: counters, then drops.
inline constexpr size_t kSlotCount = kCounterCount + kDropReasonCount;
inline constexpr size_t slot(Counter c) { return static_cast<size_t>(c); }
inline constexpr size_t slot(DropReason r) { return kCounterCount + static_cast<size_t>(r); }

// A worker's private accumulator for one batch: plain integers, no atomics.
struct LocalCounters {
  std::array<uint64_t, kSlotCount> v{};
  void add(Counter c, uint64_t n = 1) { v[slot(c)] += n; }
  void drop(DropReason r, uint64_t n = 1) { v[slot(r)] += n; }
  uint64_t get(Counter c) const { return v[slot(c)]; }
  uint64_t get(DropReason r) const { return v[slot(r)]; }
};

// A worker's published counters. Writer: the owning worker only (relaxed
// load+store, no RMW needed). Readers: anyone, relaxed loads; values only grow.
struct alignas(64) WorkerCounters {
  std::array<std::atomic<uint64_t>, kSlotCount> v{};

  // Adds the batch's local counts and zeroes them. Called once per batch.
  void publish(LocalCounters& local) {
    for (size_t i = 0; i < kSlotCount; ++i) {
      if (local.v[i] != 0) {
        v[i].store(v[i].load(std::memory_order_relaxed) + local.v[i], std::memory_order_relaxed);
        local.v[i] = 0;
      }
    }
  }
  uint64_t get(size_t i) const { return v[i].load(std::memory_order_relaxed); }
};

// A reader's point-in-time sum over workers.
struct Snapshot {
  std::array<uint64_t, kSlotCount> v{};
  uint64_t get(Counter c) const { return v[slot(c)]; }
  uint64_t get(DropReason r) const { return v[slot(r)]; }
  uint64_t total_drops() const {
    uint64_t t = 0;
    for (size_t i = kCounterCount; i < kSlotCount; ++i) t += v[i];
    return t;
  }
  void add(const WorkerCounters& w) {
    for (size_t i = 0; i < kSlotCount; ++i) v[i] += w.get(i);
  }
  static Snapshot sum(std::span<const WorkerCounters> workers) {
    Snapshot s;
    for (const auto& w : workers) s.add(w);
    return s;
  }
};

}  // namespace stunbox
