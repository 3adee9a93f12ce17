#!/usr/bin/env python3
"""Abuse controls against the real binary in socket mode (2 workers, loopback only).

    limits_e2e.py STUNBOX_EXE TEST      TEST: rate, acl, reload

rate:   127.0.0.2 floods from 64 source ports far above limits.rate.pps and is
        held to it (answers <= pps*T + burst + slack, >= 0.9*pps*T) while
        127.0.0.3 at a low rate gets every answer; deny list and source-port
        deny list each get no answer and their named drop counter.
acl:    a non-empty allow list answers only its members (acl_denied otherwise).
reload: SIGHUP with a new limits.rate.pps changes the rate live.
Every loop is bounded in count and time; the server is stopped in all cases.
"""

import os
import select
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stunbox_harness as h  # noqa: E402
from stunbox_harness import binding_request  # noqa: E402

READY_TIMEOUT = 10.0

check = h.Checks("limits_e2e")


def start(exe, port, config_text):
    """The server in socket mode (2 workers) on 127.0.0.1:port, ready; the test ends if not."""
    return h.start(exe, config_text, h.socket_sets(["127.0.0.1:%d" % port]), ready_timeout=READY_TIMEOUT)


def stop_and_check(srv):
    return h.stop_and_check(srv, check)


def udp(src_ip, src_port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src_ip, src_port))
    s.setblocking(False)
    return s


def ask(src_ip, port, src_port=0, timeout=1.0):
    """One Binding request from src_ip; True when answered within timeout."""
    s = udp(src_ip, src_port)
    try:
        s.sendto(binding_request(), ("127.0.0.1", port))
        r, _, _ = select.select([s], [], [], timeout)
        return bool(r) and len(s.recv(2048)) >= 20
    finally:
        s.close()


def drain(socks, timeout):
    """Reads every pending answer on socks until none arrives for `timeout` s; returns the count."""
    got = 0
    while True:
        r, _, _ = select.select(socks, [], [], timeout)
        if not r:
            return got
        for s in r:
            try:
                while True:
                    s.recv(2048)
                    got += 1
            except BlockingIOError:
                pass


def flood(src_ip, port, seconds, pps_target, nsocks=64, also=None):
    """Sends Binding requests from nsocks source ports of src_ip at about
    pps_target for `seconds`; counts answers. `also` is called every 50 ms
    (the low-rate client). Returns (answers, measured seconds, sent)."""
    socks = [udp(src_ip) for _ in range(nsocks)]
    req = binding_request()
    dest = ("127.0.0.1", port)
    sent = answers = 0
    max_sent = int(pps_target * seconds) + nsocks
    start = time.monotonic()
    next_also = start
    try:
        while True:
            now = time.monotonic()
            if now - start >= seconds or sent >= max_sent:
                break
            # Pace: catch up to pps_target * elapsed, one round of sockets at a time.
            due = min(int(pps_target * (now - start)) + nsocks, max_sent)
            while sent < due:
                try:
                    socks[sent % nsocks].sendto(req, dest)
                except BlockingIOError:
                    pass
                sent += 1
            answers += drain(socks, 0)
            if also and now >= next_also:
                also()
                next_also += 0.05
            time.sleep(0.002)
        elapsed = time.monotonic() - start
        answers += drain(socks, 0.3)
        return answers, elapsed, sent
    finally:
        for s in socks:
            s.close()


def within_rate(answers, pps, burst, seconds, what):
    # The server's clock is CLOCK_MONOTONIC_COARSE (a few ms) and the client's
    # window is measured around its sends: a little slack above, 1% or 2 tokens.
    hi = pps * seconds + burst + max(2, 0.01 * pps * seconds)
    lo = 0.9 * pps * seconds
    return check(lo <= answers <= hi, "%s: %d answers in %.2fs at %d pps, burst %d: within [%.0f, %.0f]"
                 % (what, answers, seconds, pps, burst, lo, hi))


def limits_yaml(pps, burst, extra=""):
    return "limits:\n  rate: {pps: %d, burst: %d}\n%s" % (pps, burst, extra)


def test_rate(exe):
    port = h.free_port_dual()
    srv = start(exe, port, "mode: socket\n" + limits_yaml(200, 20, '  deny: ["127.0.0.4/32"]\n'))
    try:
        low = {"asked": 0, "answered": 0}

        def low_rate():
            low["asked"] += 1
            low["answered"] += ask("127.0.0.3", port, timeout=1.0)

        answers, secs, sent = flood("127.0.0.2", port, 2.0, 8000, also=low_rate)
        check(sent >= 20 * 200 * 2 * 0.5, "flood sent %d requests (far above 200/s)" % sent)
        within_rate(answers, 200, 20, secs, "127.0.0.2 flooding from 64 ports")
        check(low["asked"] >= 20 and low["answered"] == low["asked"],
              "127.0.0.3 at a low rate during the flood: %d of %d answered" % (low["answered"], low["asked"]))
        check(not ask("127.0.0.4", port, timeout=0.5), "127.0.0.4 (limits.deny) gets no answer")
        denied_port = None
        for p in (11211, 1900, 5353, 389, 161, 123):
            try:
                s = udp("127.0.0.3", p)
                s.close()
                denied_port = p
                break
            except OSError:
                continue
        check(denied_port is not None, "a default deny_source_ports port is bindable on 127.0.0.3")
        if denied_port:
            check(not ask("127.0.0.3", port, src_port=denied_port, timeout=0.5),
                  "127.0.0.3 from source port %d (deny_source_ports) gets no answer" % denied_port)
        check(ask("127.0.0.3", port), "127.0.0.3 from an ordinary port is still answered")
    finally:
        c = stop_and_check(srv)
    check(c.get("drop:rate_limited", 0) >= sent - answers - 200 and c.get("drop:rate_limited", 0) > 0,
          "final counters: rate_limited %s" % c.get("drop:rate_limited"))
    check(c.get("drop:acl_denied") == 1, "final counters: acl_denied 1 (got %s)" % c.get("drop:acl_denied"))
    check(c.get("drop:source_port_denied") == 1,
          "final counters: source_port_denied 1 (got %s)" % c.get("drop:source_port_denied"))


def test_acl(exe):
    port = h.free_port_dual()
    srv = start(exe, port, 'mode: socket\nlimits:\n  allow: ["127.0.0.3/32", "127.0.1.0/24"]\n')
    try:
        check(ask("127.0.0.3", port), "127.0.0.3 (in allow) answered")
        check(ask("127.0.1.77", port), "127.0.1.77 (in allow 127.0.1.0/24) answered")
        check(not ask("127.0.0.5", port, timeout=0.5), "127.0.0.5 (not in allow) gets no answer")
    finally:
        c = stop_and_check(srv)
    check(c.get("drop:acl_denied") == 1, "final counters: acl_denied 1 (got %s)" % c.get("drop:acl_denied"))
    check(c.get("stun_success") == 2, "final counters: stun_success 2 (got %s)" % c.get("stun_success"))


def test_reload(exe):
    port = h.free_port_dual()
    base = 'mode: socket\nsocket: {listen: ["127.0.0.1:%d"], workers: 2}\n' % port
    srv = h.start(exe, base + limits_yaml(100, 10), ready_timeout=READY_TIMEOUT)
    try:
        answers, secs, _ = flood("127.0.0.6", port, 1.5, 6000)
        within_rate(answers, 100, 10, secs, "before reload (pps 100)")
        with open(srv.config, "w") as f:
            f.write(base + limits_yaml(500, 10))
        mark = srv.mark()
        srv.proc.send_signal(signal.SIGHUP)
        i = srv.wait_line(r"^stunbox: reload", 5.0, mark)
        check(i is not None and "reloaded" in srv.lines[i] and "NOT applied" not in srv.lines[i],
              "SIGHUP: reloaded, nothing left for a restart: %r" % (srv.lines[i] if i is not None else None))
        # The old entry's TAT may run up to burst/old_pps (100 ms) ahead; let it pass.
        time.sleep(0.2)
        answers, secs, _ = flood("127.0.0.6", port, 1.5, 6000)
        within_rate(answers, 500, 10, secs, "after reload (pps 500), same source")
    finally:
        stop_and_check(srv)


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("rate", "acl", "reload"):
        raise SystemExit(__doc__)
    {"rate": test_rate, "acl": test_acl, "reload": test_reload}[sys.argv[2]](sys.argv[1])
    sys.exit(check.verdict())


if __name__ == "__main__":
    main()
