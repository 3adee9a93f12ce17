"""dpdk mode on net_pcap (metrics_e2e.py dpdk): exact /metrics counts after a pcap of N requests, and telemetry.

A pcap of crafted frames is the only way to put an exact number of requests
into a DPDK port without a NIC; the telemetry socket is queried directly
(SOCK_SEQPACKET, JSON) and through dpdk-telemetry.py.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pcap"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import packets as pk  # noqa: E402
import stunbox_harness as h  # noqa: E402
from stunbox_harness import scrape, total  # noqa: E402

READY_TIMEOUT = 10.0

PORT_MAC = pk.mac("02:70:63:61:70:00")  # net_pcap's fixed MAC for port 0
SERVER, CLIENT = pk.ip4("198.18.0.2"), pk.ip4("198.18.0.1")
STUN_PORT = 3478
N_RFC, N_CLASSIC, N_IND = 40, 3, 4


def frames():
    out = []
    for i in range(N_RFC + N_CLASSIC + N_IND):
        if i < N_RFC:
            payload = pk.stun_msg(0x0001, os.urandom(12))
        elif i < N_RFC + N_CLASSIC:
            tid = b"\x01" + os.urandom(15)  # never the magic cookie
            payload = pk.stun_msg(0x0001, tid, classic=True)
        else:
            payload = pk.stun_msg(0x0011, os.urandom(12))
        sport = 40000 + i
        l3 = pk.ipv4(CLIENT, SERVER, 17, pk.udp(CLIENT, SERVER, sport, STUN_PORT, payload, v6=False))
        out.append(pk.eth(PORT_MAC, bytes([2, 0, 0x5E, 0x10, 0, 1]), 0x0800, l3))
    return out


def telemetry_socket(prefix):
    for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk"), "/tmp/dpdk"):
        path = os.path.join(base, prefix, "dpdk_telemetry.v2")
        if os.path.exists(path):
            return path
    return None


def query(path, cmd):
    """One telemetry command over SOCK_SEQPACKET; returns the decoded JSON value of the command's key."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5.0)
    try:
        s.connect(path)
        info = json.loads(s.recv(16384).decode())
        s.send(cmd.encode())
        reply = json.loads(s.recv(1 << 20).decode())
        return info, reply.get(cmd.split(",")[0])
    finally:
        s.close()


def run(exe, check, parse, wait_metric):
    """check: the driver's Checks; parse, wait_metric: its /metrics helpers (they check the format as they go)."""
    prefix = "sbxmet-%d" % os.getpid()
    work = tempfile.mkdtemp(prefix="stunbox-metrics-dpdk-")
    mport = h.free_port(socket.SOCK_STREAM)
    srv = None
    try:
        pk.write_pcap(os.path.join(work, "in.pcap"), frames())
        cfg = os.path.join(work, "dpdk.yaml")
        with open(cfg, "w") as f:
            f.write("""mode: dpdk
stun: {ports: [%d]}
dpdk:
  # No --no-shconf: the telemetry socket and rte_pdump need EAL's runtime dir.
  eal: ["--no-pci", "--no-huge", "-m", "256", "--file-prefix", "%s", "--lcores", "0@0,1@0"]
  ports:
    - device: "net_pcap0,rx_pcap=%s/in.pcap,tx_pcap=%s/out.pcap"
      queues: 1
      addresses: ["198.18.0.2/24"]
  idle: adaptive
  link_wait_ms: 0
control: {socket: ""}
stats: {metrics_listen: "127.0.0.1:%d"}
""" % (STUN_PORT, prefix, work, work, mport))
        sink = h.notify_sink(os.path.join(work, "notify.sock"))
        with open(cfg) as f:
            srv = h.Stunbox(exe, f.read(), env=dict(os.environ, NOTIFY_SOCKET=os.path.join(work, "notify.sock"),
                                                    WATCHDOG_USEC="400000"))
        if not check(srv.wait_ready(READY_TIMEOUT), "dpdk mode on net_pcap is ready"):
            print(srv.text())
            return 1
        notes = []
        try:
            while len(notes) < 3:
                notes.append(sink.recv(4096).decode())
        except socket.timeout:
            pass
        check(notes[:1] == ["READY=1\nSTATUS=dpdk mode, 1 port, 1 lcore"] and notes[1:] == ["WATCHDOG=1"] * 2,
              "dpdk: READY=1 then WATCHDOG=1 pings while the lcore progresses (%s)" % notes)
        out = srv.text()
        check("live capture (dpdk-dumpcap) unavailable" not in out, "rte_pdump_init succeeded")
        url = "http://127.0.0.1:%d/metrics" % mport
        got = wait_metric(url, "stunbox_stun_requests_total", N_RFC, timeout=10.0, kind="rfc5389")
        check(got == N_RFC, "dpdk: requests{kind=rfc5389} is exactly %d (got %s)" % (N_RFC, got))
        got = wait_metric(url, "stunbox_stun_responses_total", N_RFC + N_CLASSIC, result="success")
        check(got == N_RFC + N_CLASSIC, "dpdk: responses{result=success} is exactly %d (got %s)" % (N_RFC + N_CLASSIC, got))
        got = wait_metric(url, "stunbox_drops_total", N_IND, reason="stun_indication")
        check(got == N_IND, "dpdk: drops{reason=stun_indication} is exactly %d (got %s)" % (N_IND, got))
        s = parse(scrape(url)[1])
        check(total(s, "stunbox_stun_requests_total", kind="classic") == N_CLASSIC, "dpdk: classic requests exact")
        check(total(s, "stunbox_build_info", mode="dpdk") == 1, "dpdk: build_info{mode=dpdk}")
        n_all = N_RFC + N_CLASSIC + N_IND
        check(total(s, "stunbox_rx_packets_total") == n_all, "dpdk: queue rx_packets is exactly %d" % n_all)
        check(total(s, "stunbox_port_rx_packets_total", port="0") == n_all,
              "dpdk: ethdev rx packets is exactly %d (%s)" % (n_all, total(s, "stunbox_port_rx_packets_total")))
        check(any(n == "stunbox_link_up" and l.get("port") == "0" for n, l, _ in s), "dpdk: link_up{port=0} present")
        xs = {l.get("name") for n, l, _ in s if n == "stunbox_port_xstat" and l.get("port") == "0"}
        check({"rx_missed_errors", "rx_mbuf_allocation_errors"} <= xs and "rx_good_packets" not in xs,
              "dpdk: stunbox_port_xstat{port=0} carries ethdev's drop counters only (%s)" % sorted(xs))
        check(any(n == "stunbox_worker_info" and l.get("worker") == "1" and l.get("queues") == "0:0" for n, l, _ in s),
              "dpdk: lcore 1 serves 0:0")
        check(total(s, "stunbox_worker_stalled") == 0, "dpdk: no lcore stalled")
        check(scrape("http://127.0.0.1:%d/" % mport)[0] == 404, "dpdk: other paths are 404")

        path = telemetry_socket(prefix)
        if check(path is not None, "telemetry socket exists for --file-prefix %s" % prefix):
            info, listing = query(path, "/")
            check(info.get("pid") == srv.proc.pid, "telemetry socket belongs to our stunbox")
            for cmd in ("/stunbox/stats", "/stunbox/drops", "/stunbox/lcores", "/stunbox/config", "/ethdev/stats"):
                check(cmd in (listing or []), "telemetry lists %s" % cmd)
            _, stats = query(path, "/stunbox/stats")
            check(stats and stats.get("stun_requests") == N_RFC and stats.get("stun_classic_requests") == N_CLASSIC
                  and stats.get("stun_success") == N_RFC + N_CLASSIC and stats.get("drops") == N_IND,
                  "/stunbox/stats has the exact counts (%s)" % stats)
            _, q0 = query(path, "/stunbox/stats,0")
            check(q0 and q0.get("port") == 0 and q0.get("lcore") == 1 and q0.get("rx_packets") == n_all,
                  "/stunbox/stats,0 is queue 0 on lcore 1 (%s)" % q0)
            _, bad = query(path, "/stunbox/stats,7")
            check(bad is None, "/stunbox/stats,7 (no such queue) answers null (%s)" % bad)
            _, drops = query(path, "/stunbox/drops")
            check(drops and drops.get("stun_indication") == N_IND and "tx_ring_full" in drops,
                  "/stunbox/drops names every reason (%d keys)" % len(drops or {}))
            _, lcores = query(path, "/stunbox/lcores")
            check(lcores and lcores.get("lcores") == [1] and lcores.get("stalled") == [0], "/stunbox/lcores (%s)" % lcores)
            _, l1 = query(path, "/stunbox/lcores,1")
            check(l1 and l1.get("queues") == "0:0" and l1.get("progress", 0) > 0, "/stunbox/lcores,1 (%s)" % l1)
            _, conf = query(path, "/stunbox/config")
            check(conf and conf.get("mode") == "dpdk" and "mode: dpdk" in conf.get("yaml", []),
                  "/stunbox/config has the YAML lines")
            tool = shutil.which("dpdk-telemetry.py")
            if tool:
                r = subprocess.run([tool, "-f", prefix], input="/stunbox/stats\n/ethdev/stats,0\n",
                                   capture_output=True, text=True, timeout=30)
                check(r.returncode == 0 and '"stun_requests": %d' % N_RFC in r.stdout and '"ipackets"' in r.stdout,
                      "dpdk-telemetry.py -f PREFIX reads /stunbox/stats beside /ethdev/stats")
        rc = srv.stop()
        check(rc == 0, "dpdk: exits 0 after SIGTERM (got %s)" % rc)
        sink.settimeout(0.5)
        rest = []
        try:
            while True:
                rest.append(sink.recv(4096).decode())
        except socket.timeout:
            pass
        check(any(m.startswith("STOPPING=1") for m in rest), "dpdk: STOPPING=1 at SIGTERM")
        sink.close()
        srv = None
    finally:
        if srv is not None:
            srv.stop(signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)
        h.remove_eal_runtime(prefix)
    return None
