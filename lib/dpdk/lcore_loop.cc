// The lcore poll loop: receive a burst, rewrite each mbuf in place into its reply, send the replies on the same queue.
#include "dpdk/lcore_loop.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include <array>
#include <bit>
#include <optional>

#include "frame/fast_path.h"

namespace stunbox::dpdk {
namespace {

// Largest burst the config allows (config validates dpdk.burst 1..512).
constexpr uint16_t kMaxBurst = 512;
// How far ahead of the packet being processed its successors' data is prefetched.
constexpr uint16_t kPrefetchAhead = 4;
// Polls between two looks at the stop flag.
constexpr unsigned kPollsPerStopCheck = 64;
// The ol_flags bits that describe the mbuf's buffer rather than the packet:
// the only ones a reply keeps from its request (testpmd's swap engines do the same).
constexpr uint64_t kBufferFlags = RTE_MBUF_F_EXTERNAL | RTE_MBUF_F_INDIRECT;
// adaptive idle: empty polls before rte_pause, and before short sleeps.
constexpr unsigned kPauseAfterEmpty = 256;
constexpr unsigned kSleepAfterEmpty = 4096;
constexpr unsigned kIdleSleepUs = 50;

frame::CsumState csum_state(uint64_t flags, uint64_t mask, uint64_t good, uint64_t bad) {
  const uint64_t v = flags & mask;
  if (v == good) return frame::CsumState::good;
  if (v == bad) return frame::CsumState::bad;
  return frame::CsumState::unknown;  // UNKNOWN or NONE (NONE: data valid, checksum not), verify in software
}

// What the NIC verified, taken only where its packet type says it looked.
// i40e and ixgbe set IP_CKSUM_GOOD | L4_CKSUM_GOOD whenever no error bit is
// up, whatever the frame: ICMP, ICMPv6, ARP, frames they did not parse (ice
// checks L3L4P and reports UNKNOWN there; mlx5 reports per layer). So the L4
// flag counts only for UDP, the one L4 protocol they check, and the IPv4 flag
// only for a frame they classified as IPv4: its header checksum is part of
// that parse (i40e L3L4P, ixgbe IPCS), and a header they could not parse has
// no IPv4 packet type. Everything else is verified in software by reflect.
frame::RxHints rx_hints(uint64_t flags, uint32_t ptype) {
  frame::RxHints h;
  if (RTE_ETH_IS_IPV4_HDR(ptype)) {
    h.ip = csum_state(flags, RTE_MBUF_F_RX_IP_CKSUM_MASK, RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_RX_IP_CKSUM_BAD);
  }
  if ((ptype & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_UDP) {
    h.udp = csum_state(flags, RTE_MBUF_F_RX_L4_CKSUM_MASK, RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_BAD);
  }
  return h;
}

// The counter of each reply kind, indexed by ReplyKind: one indexed add per
// reply instead of a switch (its jump table was an indirect branch per packet).
constexpr std::array<Counter, 7> kReplyCounter = {
    Counter::stun_success,      Counter::stun_error,         Counter::arp_replies, Counter::ndp_adverts,
    Counter::icmp_echo_replies, Counter::icmp6_echo_replies, Counter::mld_reports,
};
static_assert(static_cast<size_t>(frame::ReplyKind::stun_success) == 0 &&
              static_cast<size_t>(frame::ReplyKind::stun_error) == 1 &&
              static_cast<size_t>(frame::ReplyKind::arp_reply) == 2 &&
              static_cast<size_t>(frame::ReplyKind::ndp_advert) == 3 &&
              static_cast<size_t>(frame::ReplyKind::icmp_echo_reply) == 4 &&
              static_cast<size_t>(frame::ReplyKind::icmp6_echo_reply) == 5 &&
              static_cast<size_t>(frame::ReplyKind::mld_report) == 6);

// Frames the verdict gave to the kernel (frame::for_kernel), to the port's
// exception ring: policed by the port's shared bucket, never waited for (a
// full ring drops). Out of line: the STUN path pays only the branch to it.
[[gnu::noinline]] void hand_to_kernel(QueueContext& q, rte_mbuf** pkts, uint16_t n) {
  ExceptionPath& x = *q.exception;
  LocalCounters& c = q.local;
  const uint64_t now = limits::now_ns();
  rte_mbuf* rejected[kMaxBurst];
  uint16_t n_ok = 0, n_rejected = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (!x.to_kernel_bucket.allow(x.interval_ns, x.burst, now)) {
      rejected[n_rejected++] = m;
      continue;
    }
    m->ol_flags &= kBufferFlags;  // RX flags mean nothing to the TAP's TX
    pkts[n_ok++] = m;
  }
  c.drop(DropReason::exception_policed, n_rejected);
  const unsigned queued = rte_ring_mp_enqueue_burst(x.to_kernel, reinterpret_cast<void**>(pkts), n_ok, nullptr);
  c.add(Counter::exception_to_kernel, queued);
  for (uint16_t i = static_cast<uint16_t>(queued); i < n_ok; ++i) rejected[n_rejected++] = pkts[i];
  c.drop(DropReason::exception_full, n_ok - queued);
  if (n_rejected != 0) rte_pktmbuf_free_bulk(rejected, n_rejected);
}

// One received burst. kTwoPass: the policy has a per-source rate (see below).
template <bool kRxHints, bool kTxOffload, bool kFast, bool kTwoPass>
[[gnu::always_inline]] inline uint16_t handle_burst(QueueContext& q, rte_mbuf** pkts, const uint16_t n,
                                                    const limits::Policy* policy) {
  rte_mbuf* dropped[kMaxBurst];
  uint16_t n_drop = 0;
  rte_mbuf* kernel[kMaxBurst];
  uint16_t n_kernel = 0;
  uint16_t n_tx = 0;
  uint64_t tx_bytes = 0;
  LocalCounters& c = q.local;
  // One load per burst: a reload swaps the pointer; the old options stay alive.
  const stun::ResponderConfig& stun_cfg = *q.stun.load(std::memory_order_acquire);
  // One clock read per burst (the TSC, scaled), only when limits are on.
  const uint64_t now =
      policy == nullptr ? 0 : q.lcore_tsc != nullptr ? limits::ns_from_tsc(*q.lcore_tsc) : limits::now_ns();

  // What follows the rewrite of a frame to answer: the abuse controls (a
  // denied reply is freed, never sent), the counters, the mbuf's TX fields.
  // rate_key: Limiter::prefetch's key for a STUN reply, or 0.
  const auto answer = [&](rte_mbuf* m, const frame::Verdict v, uint64_t rate_key) __attribute__((always_inline)) {
    const bool stun_reply = v.udp();
    if (policy != nullptr) {
      // Checked after the rewrite, which swapped the addresses: the request's
      // source is now the reply's destination.
      std::optional<DropReason> denied;
      if (stun_reply && q.limiter != nullptr) {
        denied = q.limiter->check(*policy, frame::reply_peer(rte_pktmbuf_mtod(m, const uint8_t*), v), now,
                                  q.global_credit, rate_key);
      } else if (!stun_reply && q.l3 != nullptr) {
        // MLD reports keep neighbour resolution alive through snooping switches: the same budget.
        const bool neighbour = v.kind == frame::ReplyKind::arp_reply || v.kind == frame::ReplyKind::ndp_advert ||
                               v.kind == frame::ReplyKind::mld_report;
        denied = q.l3->check(*policy, neighbour, now);
      }
      if (denied) {
        c.drop(*denied);
        dropped[n_drop++] = m;
        return;
      }
    }
    c.add(kReplyCounter[static_cast<size_t>(v.kind)]);
    stun::count_rfc5780(v.rfc5780_bits(), c);
    if (q.sources != nullptr && stun_reply) {
      // The reply's destination is the request's source.
      const EndpointRef peer = frame::reply_peer(rte_pktmbuf_mtod(m, const uint8_t*), v);
      q.sources->record(peer.addr, peer.v6);
    }
    m->data_len = v.length;
    m->pkt_len = v.length;
    uint64_t ol = 0;
    if constexpr (kTxOffload) {
      if (stun_reply) {
        // One 64-bit store of the whole tx_offload word (l2_len, l3_len, the rest 0), not two
        // read-modify-writes of its bitfields.
        m->tx_offload = rte_mbuf_tx_offload(v.l2_len, v.l3_len, 0, 0, 0, 0, 0);
        ol = v.ipv6() ? (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM)
                      : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
      }
    }
    // RX flags must not leak into TX (drivers read ol_flags as TX requests),
    // but the flags that say what the mbuf's buffer is must stay: an mbuf
    // with an external buffer attached (mlx5 hands out every frame above
    // mprq_max_memcpy_len that way) or an indirect one, stripped of its flag,
    // is freed as a direct mbuf: the buffer's reference leaks and the mbuf
    // returns to our pool still pointing at memory that is not its own.
    m->ol_flags = (m->ol_flags & kBufferFlags) | ol;
    tx_bytes += v.length;
    pkts[n_tx++] = m;  // pack the replies to the front of the burst (n_tx never passes the index read)
  };

  // With a per-source rate, two passes over the burst: the first rewrites
  // every frame, keeps the ones to answer (packed to the front of pkts, their
  // verdicts beside them) and prefetches each STUN reply's bucket, so the
  // rate table's cache misses (one per source when there are many) overlap
  // instead of stalling one after another; the second answers them in packet
  // order, the checks exactly as one pass would run them. Without a rate
  // (nothing to fetch) one pass answers each frame as it is rewritten.
  // (Its own instantiation: the one-pass loop keeps none of this state live.)
  // Verdicts as their 64-bit words: an array of Verdict would be value-initialised (a 4 KiB memset per burst).
  uint64_t verdicts[kTwoPass ? kMaxBurst : 1];
  uint64_t rate_keys[kTwoPass ? kMaxBurst : 1];
  uint16_t n_answer = 0;
  c.add(Counter::rx_packets, n);
  uint64_t rx_bytes = 0;
  for (uint16_t i = 0; i < n && i < kPrefetchAhead; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    rte_mbuf* m = pkts[i];
    rx_bytes += m->pkt_len;
    if (m->nb_segs > 1) {
      c.drop(DropReason::mbuf_multi_segment);
      dropped[n_drop++] = m;
      continue;
    }
    frame::RxHints hints;
    if constexpr (kRxHints) hints = rx_hints(m->ol_flags, m->packet_type);
    const size_t len = m->data_len;
    uint8_t* const data = rte_pktmbuf_mtod(m, uint8_t*);
    const size_t capacity = len + rte_pktmbuf_tailroom(m);
    const frame::Verdict v =
        kFast ? frame::reflect_inline<kTxOffload>(data, len, capacity, *q.port, stun_cfg, hints)
              : frame::reflect_general<kTxOffload>(data, len, capacity, *q.port, stun_cfg, hints);
    if (v.request == stun::RequestKind::rfc5389) c.add(Counter::stun_requests);
    else if (v.request == stun::RequestKind::classic) c.add(Counter::stun_classic_requests);
    if (!v.tx) {
      // The classification is the verdict's (frame::route): for the box but not answered here.
      if (q.exception != nullptr && frame::for_kernel(v.reason)) [[unlikely]] {
        kernel[n_kernel++] = m;
        continue;
      }
      c.drop(v.reason);
      dropped[n_drop++] = m;
      continue;
    }
    if constexpr (kTwoPass) {
      rate_keys[n_answer] = v.udp() ? q.limiter->prefetch(*policy, frame::reply_peer(data, v)) : 0;
      verdicts[n_answer] = std::bit_cast<uint64_t>(v);
      pkts[n_answer++] = m;
    } else {
      answer(m, v, 0);
    }
  }
  if constexpr (kTwoPass) {
    for (uint16_t i = 0; i < n_answer; ++i) answer(pkts[i], std::bit_cast<frame::Verdict>(verdicts[i]), rate_keys[i]);
  }

  uint16_t sent = 0;
  for (int attempt = 0; attempt < kTxTries && sent < n_tx; ++attempt) {
    sent += rte_eth_tx_burst(q.port_id, q.queue_id, pkts + sent, n_tx - sent);
  }
  if (sent < n_tx) {
    // Still ours: the sent ones now belong to the driver and are not touched.
    for (uint16_t i = sent; i < n_tx; ++i) {
      tx_bytes -= pkts[i]->pkt_len;
      dropped[n_drop++] = pkts[i];
    }
    c.drop(DropReason::tx_ring_full, n_tx - sent);
  }
  c.add(Counter::rx_bytes, rx_bytes);
  c.add(Counter::tx_packets, sent);
  c.add(Counter::tx_bytes, tx_bytes);
  if (n_drop != 0) rte_pktmbuf_free_bulk(dropped, n_drop);
  if (n_kernel != 0) hand_to_kernel(q, kernel, n_kernel);
  q.counters.publish(c);
  return n;
}

template <bool kRxHints, bool kTxOffload, bool kFast>
uint16_t poll_impl(QueueContext& q) {
  rte_mbuf* pkts[kMaxBurst];
  const uint16_t n = rte_eth_rx_burst(q.port_id, q.queue_id, pkts, q.burst);
  if (n == 0) return 0;
  // One load per burst: a reload swaps the pointer; the old policy stays alive.
  const limits::Policy* policy = q.limits.load(std::memory_order_acquire);
  if (policy != nullptr && policy->rate_interval_ns() != 0 && q.limiter != nullptr)
    return handle_burst<kRxHints, kTxOffload, kFast, true>(q, pkts, n, policy);
  return handle_burst<kRxHints, kTxOffload, kFast, false>(q, pkts, n, policy);
}

// Frames one service_exception moves each way at most.
constexpr uint16_t kExceptionBurst = 32;

}  // namespace

unsigned service_exception(QueueContext& q) {
  ExceptionPath& x = *q.exception;
  LocalCounters& c = q.local;
  rte_mbuf* pkts[kExceptionBurst];
  // Queued by the port's lcores -> the kernel.
  const unsigned n_in = rte_ring_sc_dequeue_burst(x.to_kernel, reinterpret_cast<void**>(pkts), kExceptionBurst, nullptr);
  if (n_in != 0) {
    const uint16_t sent = rte_eth_tx_burst(x.tap_port_id, 0, pkts, static_cast<uint16_t>(n_in));
    if (sent < n_in) {
      rte_pktmbuf_free_bulk(pkts + sent, n_in - sent);
      c.drop(DropReason::exception_full, n_in - sent);
    }
  }
  // The kernel -> the wire, on this queue's own TX queue.
  const uint16_t n_out = rte_eth_rx_burst(x.tap_port_id, 0, pkts, kExceptionBurst);
  if (n_out != 0) {
    const uint64_t now = limits::now_ns();
    rte_mbuf* dropped[kExceptionBurst];
    uint16_t n_tx = 0, n_drop = 0;
    for (uint16_t i = 0; i < n_out; ++i) {
      rte_mbuf* m = pkts[i];
      if (m->nb_segs > 1) {
        c.drop(DropReason::mbuf_multi_segment);
        dropped[n_drop++] = m;
      } else if (!x.from_kernel_bucket.allow(now, x.interval_ns, x.burst)) {
        c.drop(DropReason::exception_policed);
        dropped[n_drop++] = m;
      } else {
        m->ol_flags &= kBufferFlags;  // the kernel asked for no offload
        pkts[n_tx++] = m;
      }
    }
    uint16_t sent = 0;
    for (int attempt = 0; attempt < kTxTries && sent < n_tx; ++attempt) {
      sent += rte_eth_tx_burst(q.port_id, q.queue_id, pkts + sent, n_tx - sent);
    }
    for (uint16_t i = sent; i < n_tx; ++i) dropped[n_drop++] = pkts[i];
    c.drop(DropReason::exception_full, n_tx - sent);
    c.add(Counter::exception_from_kernel, sent);
    if (n_drop != 0) rte_pktmbuf_free_bulk(dropped, n_drop);
  }
  q.counters.publish(c);
  return n_in + n_out;
}

template <bool kFast>
PollFn select_poll_path(bool rx_csum_hints, bool tx_csum_offload) {
  if (rx_csum_hints) return tx_csum_offload ? &poll_impl<true, true, kFast> : &poll_impl<true, false, kFast>;
  return tx_csum_offload ? &poll_impl<false, true, kFast> : &poll_impl<false, false, kFast>;
}

PollFn select_poll(bool rx_csum_hints, bool tx_csum_offload, FramePath path) {
  return path == FramePath::fast ? select_poll_path<true>(rx_csum_hints, tx_csum_offload)
                                 : select_poll_path<false>(rx_csum_hints, tx_csum_offload);
}

unsigned drain_control(const LcoreWork& work) {
  if (work.control == nullptr || rte_ring_empty(work.control)) return 0;
  constexpr unsigned kMax = 32;
  void* objs[kMax];
  const unsigned n = rte_ring_sc_dequeue_burst(work.control, objs, kMax, nullptr);
  unsigned sent = 0;
  for (unsigned i = 0; i < n; ++i) {
    rte_mbuf* m = static_cast<rte_mbuf*>(objs[i]);
    QueueContext* q = nullptr;
    for (QueueContext* c : work.queues) {
      if (c->port_id == m->port) {
        q = c;
        break;
      }
    }
    if (q == nullptr || rte_eth_tx_burst(q->port_id, q->queue_id, &m, 1) != 1) {
      rte_pktmbuf_free(m);
      continue;
    }
    ++sent;
    q->local.add(Counter::announcements);
    q->counters.publish(q->local);
  }
  return sent;
}

int lcore_main(void* arg) {
  const LcoreWork& work = *static_cast<const LcoreWork*>(arg);
  LcoreUsage unused;
  LcoreUsage& usage = work.usage != nullptr ? *work.usage : unused;
  unsigned empty_polls = 0;
  // One TSC read per poll: the cycles since the previous read belong to this
  // poll (and any idle pause/sleep before it), busy when it carried packets.
  const uint64_t start = rte_rdtsc();
  if (work.tsc != nullptr) *work.tsc = start;
  uint64_t prev = start;
  uint64_t busy = 0;
  uint64_t loops = 0;
  while (!work.stop->load(std::memory_order_acquire)) {
    usage.busy_cycles.store(busy, std::memory_order_relaxed);
    usage.total_cycles.store(prev - start, std::memory_order_relaxed);
    usage.loops.store(++loops, std::memory_order_relaxed);
    if (work.sources != nullptr) work.sources->publish();  // no-op when nothing was recorded
    drain_control(work);  // announcements after a link-up: one look at the ring's indices when empty
    for (QueueContext* q : work.queues)
      if (q->exception_owner) service_exception(*q);
    for (unsigned i = 0; i < kPollsPerStopCheck; ++i) {
      unsigned got = 0;
      for (QueueContext* q : work.queues) got += poll_queue(*q);
      const uint64_t now = rte_rdtsc();
      if (got != 0) busy += now - prev;
      prev = now;
      if (work.tsc != nullptr) *work.tsc = now;  // the limiter's clock for the next polls
      if (work.idle == config::Idle::poll) continue;
      if (got != 0) {
        empty_polls = 0;
      } else if (++empty_polls > kSleepAfterEmpty) {
        // Nothing to do for a while: give the CPU back (a lab on 2 vCPUs needs it for its clients).
        rte_delay_us_sleep(kIdleSleepUs);
      } else if (empty_polls > kPauseAfterEmpty) {
        rte_pause();
      }
    }
  }
  if (work.sources != nullptr) work.sources->publish();  // the last polls' sources too
  return 0;
}

}  // namespace stunbox::dpdk
