#!/usr/bin/env python3
"""The real stunbox binary with /metrics, systemd notify and DPDK telemetry.

    metrics_e2e.py STUNBOX_EXE TEST

TEST is one of:
  socket      socket mode: after N requests /metrics shows exactly N (requests and
              success), drops by reason, build_info, 404 for other paths;
  bad-listen  a malformed stats.metrics_listen and a port already in use each
              give one stderr line and exit 1;
  notify      NOTIFY_SOCKET + WATCHDOG_USEC: READY=1 after the ready line,
              WATCHDOG=1 pings, STOPPING=1 at SIGTERM;
  stall       the stall test hook freezes a worker: /metrics shows it stalled
              and the WATCHDOG=1 pings stop;
  dpdk        dpdk mode on net_null: /metrics answers and telemetry
              /stunbox/stats, /stunbox/drops, /stunbox/lcores, /stunbox/config answer.
Every wait is bounded; the server is stopped (killed if it hangs) in all cases.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import stun_blackbox as bb  # noqa: E402
import stunbox_harness as h  # noqa: E402
from stunbox_harness import scrape, total  # noqa: E402

READY_TIMEOUT = 10.0

check = h.Checks("metrics_e2e")


def parse(text):
    """[(name, {labels}, value)], checking the exposition format as it goes."""
    return h.parse_metrics(text, check)


def wait_metric(url, name, expected, timeout=5.0, **want):
    """Scrapes until sum(name{want}) == expected (counters are published once per batch) or timeout."""
    return h.poll(lambda: total(parse(scrape(url)[1]), name, **want), expected, timeout)


def exchange(sock, addr, msg, want_reply=True, retries=3):
    for _ in range(retries):
        sock.sendto(msg, addr)
        if not want_reply:
            return None
        try:
            data, _ = sock.recvfrom(2048)
            if data[4:20] == msg[4:20]:  # cookie and transaction id (16-byte id for RFC 3489)
                return data
        except socket.timeout:
            continue
    return None


def start_socket(exe, sets=(), env=None):
    port = h.free_port_dual()
    mport = h.free_port(socket.SOCK_STREAM)
    srv = h.Stunbox(exe, "mode: socket\n", h.socket_sets(["127.0.0.1:%d" % port], 2, control="",
                                                        metrics="127.0.0.1:%d" % mport) + list(sets), env=env)
    return srv, port, mport


def stop_and_check(srv):
    return h.stop_and_check(srv, check)


# ---------------------------------------------------------------- tests

def test_socket(exe):
    srv, port, mport = start_socket(exe)
    try:
        if not check(srv.wait_ready(READY_TIMEOUT), "server ready"):
            print(srv.text())
            return
        url = "http://127.0.0.1:%d/metrics" % mport
        check(srv.wait_line(r"^stunbox: metrics on %s$" % re.escape(url), 1.0) is not None,
              "start-up names the metrics URL")
        status, body, ctype = scrape(url)
        check(status == 200, "GET /metrics answers 200 (got %s)" % status)
        check(ctype.startswith("text/plain; version=0.0.4"), "content type is the 0.0.4 text format (%r)" % ctype)
        s = parse(body)
        check(total(s, "stunbox_stun_requests_total") == 0, "no requests counted before traffic")
        check(total(s, "stunbox_build_info", mode="socket") == 1, "build_info{mode=socket} is 1")
        check(any(n == "stunbox_build_info" and l.get("version") for n, l, _ in s), "build_info has a version")
        check(total(s, "stunbox_process_resident_memory_bytes") > 0, "resident memory reported")
        check(total(s, "stunbox_process_start_time_seconds") > time.time() - 3600, "process start time is recent")
        check(total(s, "stunbox_link_up") == 1, "the listen socket counts as link up")
        check(len({l["worker"] for n, l, _ in s if n == "stunbox_worker_stalled"}) == 2, "one stalled gauge per worker")
        reasons = {l["reason"] for n, l, _ in s if n == "stunbox_drops_total"}
        check(len(reasons) >= 40 and "stun_indication" in reasons, "every drop reason is exported (%d)" % len(reasons))

        for path in ("/", "/metric", "/metrics/x", "/favicon.ico"):
            st, _, _ = scrape("http://127.0.0.1:%d%s" % (mport, path))
            check(st == 404, "GET %s answers 404 (got %s)" % (path, st))

        n_rfc, n_classic, n_ind, n_resp = 150, 7, 5, 3
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.settimeout(1.0)
        addr = ("127.0.0.1", port)
        answered = 0
        for i in range(n_rfc):
            # Fresh socket now and then: several source ports spread over both workers.
            if i % 25 == 0:
                c.close()
                c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                c.settimeout(1.0)
            # One send per request: a retry would count twice, and exactness is the point.
            answered += exchange(c, addr, bb.binding(), retries=1) is not None
        for _ in range(n_classic):
            answered += exchange(c, addr, bb.classic_binding(), retries=1) is not None
        for _ in range(n_ind):
            exchange(c, addr, bb.message(0x0011), want_reply=False)
        for _ in range(n_resp):
            exchange(c, addr, bb.message(0x0101), want_reply=False)
        c.close()
        check(answered == n_rfc + n_classic, "every request answered over loopback (%d)" % answered)

        got = wait_metric(url, "stunbox_stun_requests_total", n_rfc, kind="rfc5389")
        check(got == n_rfc, "requests{kind=rfc5389} sum is exactly %d (got %s)" % (n_rfc, got))
        got = wait_metric(url, "stunbox_stun_requests_total", n_classic, kind="classic")
        check(got == n_classic, "requests{kind=classic} sum is exactly %d (got %s)" % (n_classic, got))
        got = wait_metric(url, "stunbox_stun_responses_total", n_rfc + n_classic, result="success")
        check(got == n_rfc + n_classic, "responses{result=success} is exactly %d (got %s)" % (n_rfc + n_classic, got))
        got = wait_metric(url, "stunbox_drops_total", n_ind, reason="stun_indication")
        check(got == n_ind, "drops{reason=stun_indication} is exactly %d (got %s)" % (n_ind, got))
        got = wait_metric(url, "stunbox_drops_total", n_resp, reason="stun_response")
        check(got == n_resp, "drops{reason=stun_response} is exactly %d (got %s)" % (n_resp, got))
        s = parse(scrape(url)[1])
        n_all = n_rfc + n_classic + n_ind + n_resp
        check(total(s, "stunbox_rx_packets_total") == n_all, "rx_packets is exactly %d" % n_all)
        check(total(s, "stunbox_tx_packets_total") == n_rfc + n_classic, "tx_packets is exactly the answers")
        check(total(s, "stunbox_drops_total") == n_ind + n_resp, "no other drop counted")
        check(total(s, "stunbox_stun_responses_total", result="error") == 0, "no error responses")
        check(total(s, "stunbox_port_rx_packets_total", port="0") == n_all, "port 0 rx_packets is exactly %d" % n_all)
        check(total(s, "stunbox_worker_stalled") == 0, "no worker stalled")
        # Counters never go backwards between scrapes.
        again = parse(scrape(url)[1])
        check(total(again, "stunbox_stun_requests_total") >= total(s, "stunbox_stun_requests_total"),
              "counters do not go backwards")
    finally:
        stop_and_check(srv)


def test_bad_listen(exe):
    port = h.free_port_dual()
    base = ["--set", "socket.listen=[\"127.0.0.1:%d\"]" % port, "--set", "control.socket=\"\""]
    with tempfile.TemporaryDirectory(prefix="stunbox-metrics-") as d:
        cfg = os.path.join(d, "s.yaml")
        with open(cfg, "w") as f:
            f.write("mode: socket\nstats:\n  metrics_listen: \"localhost:9478\"\n")
        r = subprocess.run([exe, "-c", cfg] + base, capture_output=True, text=True, timeout=20)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 1, "malformed metrics_listen exits 1 (got %d)" % r.returncode)
        check(len(lines) == 1 and re.search(r"s\.yaml:3: stats\.metrics_listen: bad address \"localhost:9478\"",
                                            r.stderr) is not None,
              "one line naming file, line and key: %r" % r.stderr)

    # A port somebody else holds.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    mport = holder.getsockname()[1]
    try:
        r = subprocess.run([exe, "-c", "/dev/null"] + base + ["--set", "stats.metrics_listen=\"127.0.0.1:%d\"" % mport],
                           capture_output=True, text=True, timeout=20)
        want = "stunbox: stats.metrics_listen 127.0.0.1:%d: cannot bind: Address already in use" % mport
        check(r.returncode == 1, "metrics port in use exits 1 (got %d)" % r.returncode)
        check(r.stderr.strip() == want, "one clear line: %r" % r.stderr)
        check("ready" not in r.stdout, "no ready line when /metrics cannot bind")
    finally:
        holder.close()


def test_notify(exe):
    with tempfile.TemporaryDirectory(prefix="stunbox-notify-") as d:
        path = os.path.join(d, "notify.sock")
        sink = h.notify_sink(path)
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
        env.pop("WATCHDOG_PID", None)
        srv, port, mport = start_socket(exe, env=env)
        try:
            try:
                first = sink.recv(4096).decode()
            except socket.timeout:
                first = ""
            check(first.startswith("READY=1\nSTATUS=socket mode, 2 workers"), "first notification is READY=1 with STATUS (%r)" % first)
            # The ready line is printed and flushed before READY=1 is sent.
            check(srv.wait_line(r"^stunbox: ready: socket mode", 2.0) is not None, "ready line printed")
            pings = 0
            t0 = time.monotonic()
            while pings < 4 and time.monotonic() - t0 < 5.0:
                try:
                    if sink.recv(4096) == b"WATCHDOG=1":
                        pings += 1
                except socket.timeout:
                    break
            elapsed = time.monotonic() - t0
            check(pings == 4, "WATCHDOG=1 pings arrive while workers are idle but healthy (%d)" % pings)
            # Half of WATCHDOG_USEC: 4 pings take about 0.8 s, never much less.
            check(0.5 < elapsed < 3.0, "pings come at about half of WATCHDOG_USEC (4 in %.2fs)" % elapsed)
            # The counter is bumped just after the datagram leaves: poll (bounded).
            deadline = time.monotonic() + 2.0
            counted = 0
            while counted < 4 and time.monotonic() < deadline:
                counted = total(parse(scrape("http://127.0.0.1:%d/metrics" % mport)[1]), "stunbox_watchdog_pings_total")
                time.sleep(0.02)
            check(counted >= 4, "/metrics counts the watchdog pings (%s)" % counted)
            srv.proc.send_signal(signal.SIGTERM)
            stopping = False
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                try:
                    msg = sink.recv(4096).decode()
                except socket.timeout:
                    break
                if msg.startswith("STOPPING=1"):
                    stopping = True
                    break
            check(stopping, "STOPPING=1 at SIGTERM")
        finally:
            stop_and_check(srv)
            sink.close()


def test_stall(exe):
    """The stall test hook freezes the only worker after 3 datagrams: pings stop, /metrics shows it."""
    with tempfile.TemporaryDirectory(prefix="stunbox-stall-") as d:
        path = os.path.join(d, "notify.sock")
        sink = h.notify_sink(path)
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000", STUNBOX_TEST_STALL_AFTER_PACKETS="3")
        srv, port, mport = start_socket(exe, ["socket.workers=1"], env=env)
        url = "http://127.0.0.1:%d/metrics" % mport
        try:
            msgs = []
            while len([m for m in msgs if m == "WATCHDOG=1"]) < 2:
                try:
                    msgs.append(sink.recv(4096).decode())
                except socket.timeout:
                    break
            check(msgs[:1] and msgs[0].startswith("READY=1") and msgs.count("WATCHDOG=1") == 2,
                  "READY=1 then watchdog pings before the stall (%s)" % msgs)
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.settimeout(2.0)
            answers = sum(exchange(c, ("127.0.0.1", port), bb.binding(), retries=1) is not None for _ in range(3))
            c.close()
            check(answers == 3, "the 3 requests before the stall are answered (%d)" % answers)
            deadline = time.monotonic() + 5.0
            stalled = 0
            while stalled != 1 and time.monotonic() < deadline:
                stalled = total(parse(scrape(url)[1]), "stunbox_worker_stalled", worker="0")
                time.sleep(0.05)
            check(stalled == 1, "/metrics shows worker 0 stalled")
            # Pings already queued before the stall was noticed are drained; none may follow.
            sink.settimeout(0.0)
            try:
                while True:
                    sink.recv(4096)
            except BlockingIOError:
                pass
            sink.settimeout(1.2)  # three ping periods
            try:
                late = sink.recv(4096).decode()
            except socket.timeout:
                late = ""
            check(late == "", "no WATCHDOG=1 while a worker is stalled (%r)" % late)
        finally:
            stop_and_check(srv)
            sink.close()


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    exe, test = os.path.abspath(sys.argv[1]), sys.argv[2]
    tests = {"socket": test_socket, "bad-listen": test_bad_listen, "notify": test_notify, "stall": test_stall}
    if test == "dpdk":
        import metrics_dpdk  # noqa: E402  (kept apart: needs DPDK tools)
        rc = metrics_dpdk.run(exe, check, parse, wait_metric)
        if rc is not None:
            return rc
    elif test in tests:
        tests[test](exe)
    else:
        print("unknown test %r" % test)
        return 2
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
