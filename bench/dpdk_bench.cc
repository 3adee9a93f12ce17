// The DPDK-path benchmark: the real lcore loop (lib/dpdk/lcore_loop) on a net_pcap vdev replaying Binding requests forever; Mpps and cycles per packet.
//
// It writes a pcap of requests, starts EAL with
// `--vdev net_pcap0,rx_pcap=FILE,infinite_rx=1` (no TX file: the PMD drops
// what is sent, the cheapest fair sink, and the same one testpmd gets in
// scripts/bench.sh), runs lcore_main on the first worker lcore for a bounded
// time, and prints one human line and one JSON line. Every received packet
// must be answered (checked from the loop's own counters). --workers N runs
// N lcores, each on its own vdev and queue (what RSS gives each lcore on a
// NIC), sharing one mempool like stunbox's lcores on one NUMA socket: the
// scaling check (cycles per packet should not grow with N).
#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_frames.h"
#include "dpdk/lcore_loop.h"

namespace sb = stunbox;

namespace {

struct Options {
  std::string pcap = "/tmp/stunbox-dpdk-bench.pcap";
  std::string kind = "v4_plain";
  double seconds = 3;
  unsigned burst = 32;
  unsigned flows = 1024;
  unsigned workers = 1;     // lcores, each with its own vdev
  bool write_only = false;  // write the pcap and exit (bench.sh feeds it to testpmd too)
  bool exception = false;   // the port has an exception path (its ring; no frame of the pcap goes there)
  bool steering = false;    // the port is shared by steering (PortIdentity::stun_only: xdp or flow)
  // What stunbox's default config runs (stats.top_sources_sample 64, the
  // default limits: source-port deny list, no rate): --sketch 0 and
  // --limits off take them away, --rate-pps N turns the per-source rate on.
  unsigned sketch = 64;
  bool limits = true;
  unsigned rate_pps = 0;
  unsigned rate_table = 0;    // limits.rate.table_size; 0 = the default
  bool general_only = false;  // the general path alone (select_poll's FramePath::general_only)
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "stunbox-dpdk-bench: %s\n", what.c_str());
  std::exit(1);
}

[[noreturn]] void usage(const std::string& what) {
  std::fprintf(stderr,
               "stunbox-dpdk-bench: %s\nusage: stunbox-dpdk-bench [--pcap FILE] [--kind v4_plain|v4_fingerprint|"
               "v6_plain|v6_fingerprint] [--seconds S (0.1..60)] [--burst N] [--flows N] [--workers N (1..8)] "
               "[--write-pcap-only] [--exception] [--sketch N (0 = off, else a power of two)] [--limits default|off] "
               "[--rate-pps N] [--rate-table N (limits.rate.table_size)] [--general-only] [--steering] -- EAL-ARGS (N worker lcores besides the main one)\n"
               "  --flows above 1024 also vary the client address (one source per flow: the limiter's table)\n",
               what.c_str());
  std::exit(2);
}

// One frame per flow: distinct client ports and transaction ids.
bool write_pcap(const Options& o) {
  const sb::bench::Lab lab;
  sb::bench::StunKind sk = sb::bench::StunKind::plain;
  bool v6 = false;
  if (o.kind == "v4_plain") {
  } else if (o.kind == "v4_fingerprint") {
    sk = sb::bench::StunKind::fingerprint;
  } else if (o.kind == "v6_plain") {
    v6 = true;
  } else if (o.kind == "v6_fingerprint") {
    v6 = true;
    sk = sb::bench::StunKind::fingerprint;
  } else {
    usage("--kind: unknown " + o.kind);
  }
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  pcap_dumper_t* d = pcap_dump_open(dead, o.pcap.c_str());
  if (d == nullptr) {
    std::fprintf(stderr, "stunbox-dpdk-bench: %s: %s\n", o.pcap.c_str(), pcap_geterr(dead));
    pcap_close(dead);
    return false;
  }
  for (unsigned i = 0; i < o.flows; ++i) {
    const auto payload = sb::bench::stun_request(sk, i);
    // Client ports 20000-59999: clear of every port the default limits deny (11211, 5353, ...).
    const auto port = static_cast<uint16_t>(o.flows > 1024 ? 20000 + i % 40000 : 10000 + i);
    sb::bench::Lab flow = lab;
    if (o.flows > 1024) {
      // One source address per flow: 10.0.0.0/8 and 2001:db8::/64 host parts.
      flow.client_v4 = sb::IpAddress::v4({10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)});
      auto a6 = sb::pkt::ip("2001:db8::1").bytes;
      a6[12] = static_cast<uint8_t>(i >> 24), a6[13] = static_cast<uint8_t>(i >> 16), a6[14] = static_cast<uint8_t>(i >> 8),
      a6[15] = static_cast<uint8_t>(i);
      flow.client_v6 = sb::IpAddress::v6_of(a6);
    }
    const auto f = v6 ? sb::bench::udp6_frame(flow, port, payload) : sb::bench::udp4_frame(flow, port, payload);
    pcap_pkthdr h{};
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());
  }
  pcap_dump_close(d);
  pcap_close(dead);
  return true;
}

// Nanoseconds the thread named `comm` of this process has run on a CPU
// (schedstat), or -1. On a shared machine the lcore does not own its CPU:
// the packets over this on-CPU time give the cost per packet that the
// wall-clock rate hides.
long long thread_run_ns(const std::string& comm) {
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return -1;
  long long ns = -1;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string base = "/proc/self/task/";
    base.append(e->d_name);
    std::ifstream c(base + "/comm");
    std::string name;
    std::getline(c, name);
    if (name != comm) continue;
    std::ifstream st(base + "/schedstat");
    st >> ns;
    break;
  }
  closedir(d);
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--write-pcap-only") {
      o.write_only = true;
      continue;
    }
    if (a == "--exception") {
      o.exception = true;
      continue;
    }
    if (a == "--steering") {
      o.steering = true;
      continue;
    }
    if (a == "--general-only") {
      o.general_only = true;
      continue;
    }
    if (i + 1 >= argc) usage(a + ": missing value");
    const std::string v = argv[++i];
    if (a == "--pcap") o.pcap = v;
    else if (a == "--kind") o.kind = v;
    else if (a == "--seconds") o.seconds = std::atof(v.c_str());
    else if (a == "--burst") o.burst = static_cast<unsigned>(std::atoi(v.c_str()));
    else if (a == "--flows") o.flows = static_cast<unsigned>(std::atoi(v.c_str()));
    else if (a == "--workers") o.workers = static_cast<unsigned>(std::atoi(v.c_str()));
    else if (a == "--sketch") o.sketch = static_cast<unsigned>(std::atoi(v.c_str()));
    else if (a == "--limits" && (v == "default" || v == "off")) o.limits = v == "default";
    else if (a == "--rate-pps") o.rate_pps = static_cast<unsigned>(std::atoi(v.c_str()));
    else if (a == "--rate-table") o.rate_table = static_cast<unsigned>(std::atoi(v.c_str()));
    else usage("unknown option " + a);
  }
  if (!(o.seconds >= 0.1 && o.seconds <= 60) || o.burst < 1 || o.burst > 512 || o.flows < 1 || o.flows > 1048576 ||
      o.workers < 1 || o.workers > 8 || (o.sketch & (o.sketch - 1)) != 0 || (o.rate_pps != 0 && !o.limits) ||
      (o.rate_table != 0 && (o.rate_table < 1024 || o.rate_table > 16777216 || (o.rate_table & (o.rate_table - 1)) != 0)))
    usage("--seconds 0.1..60, --burst 1..512, --flows 1..1048576, --workers 1..8, --sketch 0 or a power of two, "
          "--rate-pps needs --limits default, --rate-table a power of two 1024..16777216");
  if (!write_pcap(o)) return 1;
  if (o.write_only) return 0;

  std::vector<std::string> eal = {"stunbox-dpdk-bench"};
  for (; i < argc; ++i) eal.emplace_back(argv[i]);
  for (unsigned w = 0; w < o.workers; ++w) {
    eal.push_back("--vdev");
    eal.push_back("net_pcap_bench" + std::to_string(w) + ",rx_pcap=" + o.pcap + ",infinite_rx=1");
  }
  std::vector<char*> eal_argv;
  for (auto& s : eal) eal_argv.push_back(s.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) fail("EAL init failed");

  // The identity the pcap's frames are addressed to; net_pcap has no
  // checksum offloads, so the loop verifies and fills checksums in software,
  // exactly the variant stunbox selects for this device.
  sb::frame::PortIdentity identity = sb::bench::port_identity(sb::bench::Lab{});
  // A port shared with the kernel by steering (xdp, flow): STUN is answered
  // as on any port; only the ARP/NDP/MLD/echo branches look at the flag.
  identity.stun_only = o.steering;
  const sb::stun::ResponderConfig stun_cfg;
  std::atomic<bool> stop{false};
  // The limits as lib/dpdk/dpdk_backend sets them up (one policy, one shared table, per-lcore policers and credit).
  sb::config::LimitsSection limits_cfg;
  limits_cfg.rate.pps = o.rate_pps;
  if (o.rate_table != 0) limits_cfg.rate.table_size = o.rate_table;
  limits_cfg.rate.burst = 1u << 30;  // never over: every request must still be answered (the bench checks it)
  const sb::limits::Policy policy(limits_cfg);
  sb::limits::set_tsc_hz(rte_get_tsc_hz());
  sb::limits::Limiter limiter(limits_cfg.rate.table_size);

  struct Worker {
    unsigned lcore = 0;
    uint16_t port_id = 0;
    std::unique_ptr<sb::dpdk::QueueContext> q;
    std::unique_ptr<sb::dpdk::ExceptionPath> exception;
    std::unique_ptr<sb::SourceSketch> sketch;
    sb::limits::L3Policer l3;
    sb::limits::GlobalCredit credit;
    uint64_t tsc = 0;
    sb::dpdk::LcoreWork work;
    std::string comm;  // the lcore thread's name, for its schedstat
  };
  std::vector<Worker> workers(o.workers);
  rte_mempool* pool = nullptr;
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (unsigned w = 0; w < o.workers; ++w, lcore = rte_get_next_lcore(lcore, 1, 0)) {
    if (lcore >= RTE_MAX_LCORE)
      fail("too few worker lcores: give EAL " + std::to_string(o.workers + 1) + " lcores (main + workers)");
    Worker& wk = workers[w];
    wk.lcore = lcore;
    const std::string name = "net_pcap_bench" + std::to_string(w);
    if (rte_eth_dev_get_port_by_name(name.c_str(), &wk.port_id) != 0) fail(name + " not probed");
    const int socket = rte_eth_dev_socket_id(wk.port_id) < 0 ? 0 : rte_eth_dev_socket_id(wk.port_id);
    if (pool == nullptr) {
      // 8191 mbufs per worker, as testpmd gets with --total-num-mbufs=8191 for one; infinite_rx
      // holds one mbuf per frame of the pcap besides, so a large stream gets that many more.
      const unsigned per_worker = o.flows <= 4096 ? 8192 : o.flows + 8192;
      pool = rte_pktmbuf_pool_create("bench_pool", per_worker * o.workers - 1, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
      if (pool == nullptr) fail("mempool: out of memory");
    }
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(wk.port_id, 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(wk.port_id, 0, 1024, static_cast<unsigned>(socket), nullptr, pool) != 0 ||
        rte_eth_tx_queue_setup(wk.port_id, 0, 1024, static_cast<unsigned>(socket), nullptr) != 0 ||
        rte_eth_dev_start(wk.port_id) != 0)
      fail("port setup failed");
    wk.q = std::make_unique<sb::dpdk::QueueContext>();
    wk.q->port_id = wk.port_id;
    wk.q->queue_id = 0;
    wk.q->lcore = lcore;
    wk.q->burst = static_cast<uint16_t>(o.burst);
    wk.q->port = &identity;
    wk.q->stun = &stun_cfg;
    wk.q->poll = sb::dpdk::select_poll(false, false, o.general_only ? sb::dpdk::FramePath::general_only
                                                                    : sb::dpdk::FramePath::fast);
    if (o.sketch != 0) {
      // What dpdk_backend gives each lcore: /32 and /64 prefixes, one answered request in `sketch` recorded.
      wk.sketch = std::make_unique<sb::SourceSketch>(16, 32, 64, sb::config::log2_of(o.sketch));
      wk.q->sources = wk.sketch.get();
      wk.work.sources = wk.sketch.get();
    }
    if (o.limits) {
      wk.q->limits.store(&policy, std::memory_order_release);
      wk.q->limiter = &limiter;
      wk.q->l3 = &wk.l3;
      wk.q->global_credit = &wk.credit;
      wk.q->lcore_tsc = &wk.tsc;
      wk.work.tsc = &wk.tsc;
    }
    if (o.exception) {
      // What the STUN path costs on a port with an exception path: the
      // classification branch only (every frame here is answered).
      wk.exception = std::make_unique<sb::dpdk::ExceptionPath>();
      const std::string ring = "bench_exc" + std::to_string(w);
      wk.exception->to_kernel = rte_ring_create(ring.c_str(), 1024, socket, RING_F_SC_DEQ);
      if (wk.exception->to_kernel == nullptr) fail("exception ring");
      wk.exception->interval_ns = 1000000000ull / 20000;
      wk.exception->burst = 2000;
      wk.q->exception = wk.exception.get();
    }
    wk.work.lcore = lcore;
    wk.work.queues.push_back(wk.q.get());
    wk.work.idle = sb::config::Idle::poll;
    wk.work.stop = &stop;
    wk.comm = "rte-worker-" + std::to_string(lcore);
  }

  // Warm-up (caches, pool), then the measured interval.
  for (Worker& wk : workers) rte_eal_remote_launch(sb::dpdk::lcore_main, &wk.work, wk.lcore);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto rx_all = [&] {
    uint64_t n = 0;
    for (const Worker& wk : workers) n += wk.q->counters.get(sb::slot(sb::Counter::rx_packets));
    return n;
  };
  // Summed over the lcores; -1 when schedstat cannot be read.
  auto run_all = [&] {
    long long ns = 0;
    for (const Worker& wk : workers) {
      const long long t = thread_run_ns(wk.comm);
      if (t < 0) return -1LL;
      ns += t;
    }
    return ns;
  };
  const uint64_t rx0 = rx_all();
  const long long run0 = run_all();
  const uint64_t tsc0 = rte_rdtsc();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const uint64_t rx1 = rx_all();
  const long long run1 = run_all();
  const uint64_t tsc1 = rte_rdtsc();
  stop.store(true, std::memory_order_release);
  for (const Worker& wk : workers) rte_eal_wait_lcore(wk.lcore);

  sb::Snapshot s;
  for (const Worker& wk : workers) s.add(wk.q->counters);
  const uint64_t pkts = rx1 - rx0;
  const double secs = static_cast<double>(tsc1 - tsc0) / static_cast<double>(rte_get_tsc_hz());
  const double mpps = static_cast<double>(pkts) / secs / 1e6;
  // Wall-clock cycles per packet of one lcore: N lcores share the packets.
  const double cycles = pkts == 0 ? 0 : static_cast<double>(tsc1 - tsc0) * o.workers / static_cast<double>(pkts);
  const uint64_t answered = s.get(sb::Counter::stun_success);
  const double hz = static_cast<double>(rte_get_tsc_hz());
  const double on_cpu_s = (run0 < 0 || run1 < run0) ? secs * o.workers : static_cast<double>(run1 - run0) / 1e9;
  const double share = on_cpu_s / (secs * o.workers);
  const double cycles_on_cpu = pkts == 0 ? 0 : on_cpu_s * hz / static_cast<double>(pkts);
  const bool ok = pkts > 0 && answered == s.get(sb::Counter::rx_packets) && s.total_drops() == 0;
  std::printf("stunbox-dpdk-bench: %s burst %u on %u lcore(s) from %u: %.2f Mpps, %.1f cycles/packet per lcore "
              "(tsc %.2f GHz); the lcores were on their CPUs %.0f%% of the time: %.1f cycles/packet on CPU; "
              "rx %llu answered %llu drops %llu\n",
              o.kind.c_str(), o.burst, o.workers, workers[0].lcore, mpps, cycles, hz / 1e9, share * 100,
              cycles_on_cpu, static_cast<unsigned long long>(s.get(sb::Counter::rx_packets)),
              static_cast<unsigned long long>(answered), static_cast<unsigned long long>(s.total_drops()));
  std::printf("{\"kind\":\"%s\",\"flows\":%u,\"sketch\":%u,\"limits\":%s,\"rate_pps\":%u,\"rate_table\":%u,\"path\":\"%s\",\"burst\":%u,\"workers\":%u,\"mpps\":%.4f,\"cycles_per_packet\":%.2f,"
              "\"tsc_hz\":%llu,\"packets\":%llu,\"seconds\":%.4f,\"cpu_share\":%.4f,"
              "\"cycles_per_packet_on_cpu\":%.2f,\"answered_all\":%s,\"rx_total\":%llu}\n",
              o.kind.c_str(), o.flows, o.sketch, o.limits ? "true" : "false", o.rate_pps,
              limits_cfg.rate.table_size, o.general_only ? "general" : "fast", o.burst, o.workers, mpps, cycles, static_cast<unsigned long long>(rte_get_tsc_hz()),
              static_cast<unsigned long long>(pkts), secs, share, cycles_on_cpu, ok ? "true" : "false",
              static_cast<unsigned long long>(s.get(sb::Counter::rx_packets)));
  std::fflush(stdout);
  for (const Worker& wk : workers) {
    rte_eth_dev_stop(wk.port_id);
    rte_eth_dev_close(wk.port_id);
  }
  rte_eal_cleanup();
  return ok ? 0 : 1;
}
