#!/usr/bin/env python3
"""Health and drain end to end on the real daemon in socket mode (issue 15).

    health_test.py --stunbox EXE --cli CLI CASE

drain          /healthz, `stunbox-cli health`, `show health` and the stunbox_health/stunbox_drained gauges
               while healthy, after `drain on` (503 "drained", exit 1, STUN still answered) and after
               `drain off` (200 "ok", exit 0); `drain` with a bad argument is refused (exit 1).
start-drained  health.start_drained: drained from the ready line on, answering, until `drain off`.
drain-on-stop  --drain-on-stop 3: SIGTERM drains (503, exit 1) while STUN is still answered, and the
               process exits 0 only after the drain period; a second SIGTERM during a drain period
               (health.drain_on_stop_s 60) stops it at once. A bad --drain-on-stop value is exit 2.
no-daemon      `stunbox-cli health` with nothing on the socket exits 2.
Every wait is bounded; exit 0 on pass, 1 with a line per failure.
"""

import argparse
import os
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stunbox_harness as h  # noqa: E402

check = h.Checks("health_test")


def start(args, tmp, extra_sets=(), extra=()):
    port = h.free_port()
    mport = h.free_port(h.socket.SOCK_STREAM)
    sock = os.path.join(tmp, "ctl.sock")
    sets = h.socket_sets(["127.0.0.1:%d" % port], 2, control=sock, metrics="127.0.0.1:%d" % mport)
    srv = h.start(args.stunbox, "mode: socket\n", sets + list(extra_sets), workdir=tmp, extra=extra)
    return srv, port, sock, "http://127.0.0.1:%d" % mport


def scrape_healthz(base):
    """(status, body) of /healthz, the body kept for 503 too (urllib raises on it)."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def expect_state(args, sock, base, port, healthy: bool, reason: str, what: str):
    status, body = scrape_healthz(base)
    want = (200, "ok\n") if healthy else (503, reason + "\n")
    check((status, body) == want, "%s: /healthz is %s %r (got %s %r)" % (what, want[0], want[1], status, body))
    rc, out, err = h.cli(args.cli, sock, "health")
    if healthy:
        check(rc == 0 and out == "healthy\n", "%s: stunbox-cli health exits 0, 'healthy' (got %d %r %r)" % (what, rc, out, err))
    else:
        check(rc == 1 and err == "unhealthy: %s\n" % reason,
              "%s: stunbox-cli health exits 1, 'unhealthy: %s' on stderr (got %d %r %r)" % (what, reason, rc, out, err))
    samples = h.parse_metrics(h.scrape(base + "/metrics")[1])
    check(h.total(samples, "stunbox_health") == (1 if healthy else 0), "%s: stunbox_health %d" % (what, healthy))
    drained = reason == "drained"
    check(h.total(samples, "stunbox_drained") == (1 if drained else 0), "%s: stunbox_drained %d" % (what, drained))
    check(h.send_requests(port, 3) == 3, "%s: STUN still answered (3 of 3)" % what)


def case_drain(args, tmp):
    srv, port, sock, base = start(args, tmp)
    try:
        expect_state(args, sock, base, port, True, "", "healthy box")
        rc, out, _ = h.cli(args.cli, sock, "show", "health")
        check(rc == 0 and "Health: healthy" in out and "Workers: 2 of 2 progressing" in out and "Port 0 link: up" in out,
              "show health lists the verdict, the workers and the link:\n" + out)
        rc, out, _ = h.cli(args.cli, sock, "drain", "on")
        check(rc == 0 and out.startswith("drain on"), "drain on accepted (%d %r)" % (rc, out))
        expect_state(args, sock, base, port, False, "drained", "drained box")
        check(srv.wait_line(r"^stunbox: drain on", 3) is not None, "the daemon logs 'drain on'")
        rc, _, err = h.cli(args.cli, sock, "drain", "maybe")
        check(rc == 1 and "expected 'on' or 'off'" in err, "drain maybe refused (%d %r)" % (rc, err))
        rc, out, _ = h.cli(args.cli, sock, "drain", "off")
        check(rc == 0 and out.startswith("drain off"), "drain off accepted (%d %r)" % (rc, out))
        expect_state(args, sock, base, port, True, "", "undrained box")
    finally:
        h.stop_and_check(srv, check)


def case_start_drained(args, tmp):
    srv, port, sock, base = start(args, tmp, ["health.start_drained=true"])
    try:
        check(srv.wait_line(r"^stunbox: drained \(health.start_drained\)", 3) is not None, "start drained is logged")
        expect_state(args, sock, base, port, False, "drained", "started drained")
        h.cli(args.cli, sock, "drain", "off")
        expect_state(args, sock, base, port, True, "", "after drain off")
    finally:
        h.stop_and_check(srv, check)


def case_drain_on_stop(args, tmp):
    srv, port, sock, base = start(args, tmp, extra=["--drain-on-stop", "3"])
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    check(srv.wait_line(r"^stunbox: stop requested: drained, serving 3 s more", 3) is not None,
          "SIGTERM with --drain-on-stop 3 is logged as a drain")
    expect_state(args, sock, base, port, False, "drained", "draining before stop")
    check(srv.proc.poll() is None, "still running during the drain period")
    try:
        rc = srv.proc.wait(10)
    except h.subprocess.TimeoutExpired:
        rc = None
    took = time.monotonic() - t0
    check(rc == 0 and 2.8 <= took <= 8, "exits 0 after the drain period (rc %s after %.1f s)" % (rc, took))
    check(srv.final_counters() is not None, "final counters printed after the drain")

    # A second signal during a long drain stops at once.
    srv, port, sock, base = start(args, tempfile.mkdtemp(prefix="stunbox-health-", dir=tmp),
                                  ["health.drain_on_stop_s=60"])
    srv.proc.send_signal(signal.SIGTERM)
    check(srv.wait_line(r"^stunbox: stop requested: drained, serving 60 s more", 3) is not None, "60 s drain begins")
    t0 = time.monotonic()
    rc = srv.stop(signal.SIGTERM, 10)
    check(rc == 0 and time.monotonic() - t0 < 5, "a second SIGTERM stops at once, exit 0 (rc %s)" % rc)

    for bad in ("x", "3601", "-1"):
        p = h.subprocess.run([args.stunbox, "--drain-on-stop", bad, "--check-config", "/dev/null"],
                             capture_output=True, text=True, timeout=10)
        check(p.returncode == 2 and "--drain-on-stop" in p.stderr,
              "--drain-on-stop %s is a usage error, exit 2 (%d %r)" % (bad, p.returncode, p.stderr))


def case_no_daemon(args, tmp):
    rc, _, err = h.cli(args.cli, os.path.join(tmp, "nobody.sock"), "health")
    check(rc == 2 and "cannot connect" in err, "stunbox-cli health without a daemon exits 2 (%d %r)" % (rc, err))


CASES = {"drain": case_drain, "start-drained": case_start_drained, "drain-on-stop": case_drain_on_stop,
         "no-daemon": case_no_daemon}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="stunbox-health-") as tmp:
        CASES[args.case](args, tmp)
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
