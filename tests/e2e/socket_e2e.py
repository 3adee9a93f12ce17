#!/usr/bin/env python3
"""End-to-end tests of stunbox in socket mode: start the real binary on loopback and check it from outside.

    socket_e2e.py STUNBOX_EXE TEST [ARGS]

TEST is one of: blackbox VARIANT (default, fp-always, fp-never-software,
classic-off, one-worker-batch1), turnutils, debian-stun, wildcard, reload, stats, options, cli.
Every wait is bounded; the server is stopped (and killed if it hangs) in all
cases. Exit 0 on pass, 1 with a message per failure.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import stun_blackbox as bb  # noqa: E402
import stunbox_harness as h  # noqa: E402

READY_TIMEOUT = 10.0

check = h.Checks("socket_e2e")


def start(exe, port, sets=(), listen=None, config_text="mode: socket\n", workers=2):
    """The server in socket mode on `listen` (default 127.0.0.1 and ::1 on `port`), ready; the test ends if not."""
    listen = listen or ["127.0.0.1:%d" % port, "[::1]:%d" % port]
    return h.start(exe, config_text, h.socket_sets(listen, workers) + list(sets), ready_timeout=READY_TIMEOUT)


def stop_and_check(srv, sig=signal.SIGTERM):
    return h.stop_and_check(srv, check, sig)


# ---------------------------------------------------------------- tests

VARIANTS = {
    "default": ([], ["--fingerprint", "mirror"]),
    "fp-always": (["stun.fingerprint=always"], ["--fingerprint", "always"]),
    "fp-never-software": (["stun.fingerprint=never", "stun.software=stunbox-e2e/1"],
                          ["--fingerprint", "never", "--software", "stunbox-e2e/1"]),
    "classic-off": (["stun.classic=false"], ["--classic", "no"]),
    "one-worker-batch1": (["socket.batch=1"], []),
}

DROP_KINDS = {
    "drop_too_short": "stun_too_short",
    "drop_bad_top_bits": "stun_bad_top_bits",
    "drop_bad_length": "stun_bad_length",
    "drop_bad_attribute": "stun_bad_attribute",
    "drop_bad_fingerprint": "stun_bad_fingerprint",
    "drop_fingerprint_not_last": "stun_fingerprint_not_last",
    "drop_indication": "stun_indication",
    "drop_response": "stun_response",
    "drop_not_binding": "stun_not_binding",
    "drop_oversize": "sock_truncated",
    "classic_disabled": "stun_classic_disabled",
}


def test_blackbox(exe, variant):
    sets, bb_args = VARIANTS[variant]
    port = h.free_port_dual()
    srv = start(exe, port, sets, workers=1 if variant == "one-worker-batch1" else 2)
    summary = os.path.join(srv.dir, "summary.json")
    try:
        r = subprocess.run([sys.executable, os.path.join(HERE, "stun_blackbox.py"),
                            "--server", "127.0.0.1:%d" % port, "--server", "[::1]:%d" % port,
                            "--summary", summary] + bb_args, timeout=300)
        check(r.returncode == 0, "black-box checks (%s)" % variant)
    finally:
        c = stop_and_check(srv)
    with open(summary) as f:
        sent = json.load(f)
    g = lambda k: sent.get(k, 0)  # noqa: E731
    # Exact: every datagram we sent was received and classified (loopback does not lose them).
    check(c.get("rx_packets") == g("datagrams"), "rx_packets %s == datagrams sent %d" % (c.get("rx_packets"), g("datagrams")))
    check(c.get("rx_bytes") == g("bytes"), "rx_bytes %s == bytes sent %d" % (c.get("rx_bytes"), g("bytes")))
    answered = g("success") + g("classic")
    check(c.get("stun_success") == answered, "stun_success %s == %d" % (c.get("stun_success"), answered))
    check(c.get("stun_error") == g("error_420"), "stun_error %s == %d" % (c.get("stun_error"), g("error_420")))
    check(c.get("tx_packets") == answered + g("error_420"),
          "tx_packets %s == %d" % (c.get("tx_packets"), answered + g("error_420")))
    check(c.get("stun_requests", 0) >= g("success") + g("error_420"),
          "stun_requests %s >= %d" % (c.get("stun_requests"), g("success") + g("error_420")))
    check(c.get("stun_classic_requests", 0) >= g("classic"),
          "stun_classic_requests %s >= %d" % (c.get("stun_classic_requests"), g("classic")))
    for kind, reason in DROP_KINDS.items():
        if g(kind):
            check(c.get("drop:" + reason, 0) == g(kind),
                  "drop %s %s == %d sent" % (reason, c.get("drop:" + reason, 0), g(kind)))
    expected_drops = sum(g(k) for k in DROP_KINDS)
    check(c.get("drops") == expected_drops, "drops %s == %d" % (c.get("drops"), expected_drops))


def test_turnutils(exe):
    port = h.free_port_dual()
    srv = start(exe, port)
    try:
        for host in ("127.0.0.1", "::1"):
            r = subprocess.run(["turnutils_stunclient", "-p", str(port), host], capture_output=True, text=True,
                               timeout=30)
            m = re.search(r"UDP reflexive addr: (\S+):(\d+)", r.stdout)
            ok = r.returncode == 0 and m is not None
            check(ok, "turnutils_stunclient %s exits 0 and prints a reflexive address" % host)
            if ok:
                check(m.group(1) == host, "turnutils_stunclient %s reflexive IP %s" % (host, m.group(1)))
                p = int(m.group(2))
                check(1024 <= p <= 65535 and p != port, "turnutils_stunclient %s reflexive port %d is a client port"
                      % (host, p))
            else:
                print(r.stdout + r.stderr)
    finally:
        c = stop_and_check(srv)
    check(c.get("stun_success", 0) >= 2, "server counted turnutils' requests as answered (%s)" % c.get("stun_success"))


def test_debian_stun(exe):
    """Debian's `stun` client (classic requests carrying CHANGE-REQUEST) against the default config."""
    port = h.free_port_dual()
    srv = start(exe, port)
    try:
        h.debian_stun_client(check, "127.0.0.1", port, "127.0.0.1")
    finally:
        c = stop_and_check(srv)
    check(c.get("stun_success", 0) >= 1 and c.get("stun_error", 0) >= 2,
          "server counted the success and the two 420s (%s, %s)" % (c.get("stun_success"), c.get("stun_error")))


def test_wildcard(exe):
    port = h.free_port_dual()
    srv = start(exe, port, listen=["0.0.0.0:%d" % port, "[::]:%d" % port])
    try:
        # A request to 127.0.0.2 (a loopback alias) must be answered from 127.0.0.2.
        for target in ("127.0.0.2", "127.0.0.1", "::1"):
            fam = socket.AF_INET6 if ":" in target else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0))
            s.settimeout(1.0)
            req = bb.binding()
            got = None
            for _ in range(bb.RETRIES):
                s.sendto(req, (target, port))
                try:
                    data, src = s.recvfrom(2048)
                except socket.timeout:
                    continue
                if data[4:20] == req[4:20]:
                    got = (data, src)
                    break
            s.close()
            if not check(got is not None, "wildcard bind: answer to a request sent to %s" % target):
                continue
            check(got[1][0] == target and got[1][1] == port,
                  "wildcard bind: reply to %s comes from %s:%d" % (target, got[1][0], got[1][1]))
        r = subprocess.run([sys.executable, os.path.join(HERE, "stun_blackbox.py"), "--server",
                            "127.0.0.2:%d" % port, "--clients", "10"], timeout=300)
        check(r.returncode == 0, "black-box checks against 127.0.0.2 with a wildcard bind")
    finally:
        stop_and_check(srv)


def fp_in_reply(port):
    """Sends a request without FINGERPRINT; True if the reply carries one."""
    c = bb.Client(bb.Target("127.0.0.1:%d" % port), {})
    try:
        reply, _ = c.transact(bb.binding(), "success")
        return reply.count(bb.A_FINGERPRINT) == 1
    finally:
        c.close()


def test_reload(exe):
    port = h.free_port_dual()
    listen = 'socket: {listen: ["127.0.0.1:%d"], workers: 2}\n' % port
    srv = start(exe, port, config_text="mode: socket\nstun: {fingerprint: never}\n" + listen)
    try:
        check(not fp_in_reply(port), "before reload: fingerprint never -> no FINGERPRINT")
        # Live change: fingerprint; restart-only change: batch (listen and
        # workers come from --set, which a reload re-applies, so they stay).
        with open(srv.config, "w") as f:
            f.write("mode: socket\nstun: {fingerprint: always}\n" +
                    'socket: {listen: ["127.0.0.1:%d"], workers: 3, batch: 16}\n' % port)
        mark = srv.mark()
        srv.proc.send_signal(signal.SIGHUP)
        i = srv.wait_line(r"^stunbox: reload", 5.0, mark)
        check(i is not None, "SIGHUP: reload line printed")
        if i is not None:
            line = srv.lines[i]
            check("reloaded" in line and "socket.batch" in line and "restart" in line
                  and "socket.workers" not in line,
                  "reload line names socket.batch (only) as needing a restart: %r" % line)
        check(fp_in_reply(port), "after reload: fingerprint always -> FINGERPRINT added")
        # A broken file on reload keeps the running config.
        with open(srv.config, "w") as f:
            f.write("mode: socket\nstun: {fingerprint: sometimes}\n")
        mark = srv.mark()
        srv.proc.send_signal(signal.SIGHUP)
        i = srv.wait_line(r"^stunbox: reload", 5.0, mark)
        check(i is not None and "failed" in srv.lines[i] and "stun.fingerprint" in srv.lines[i],
              "bad file on reload: one failure line naming the key: %r" % (srv.lines[i] if i is not None else None))
        check(fp_in_reply(port), "after failed reload: still serving with the previous settings")
    finally:
        stop_and_check(srv)


def test_stats(exe):
    port = h.free_port_dual()
    srv = start(exe, port, ["stats.period=1"])
    try:
        fp_in_reply(port)
        i = srv.wait_line(r"^stunbox: stats", 3.5)
        check(i is not None, "stats.period=1: a stats block within 3.5 s")
        if i is not None:
            j = srv.wait_line(r"rx_packets\s+\d+\s+[\d.]+/s", 1.0, i)
            check(j is not None, "stats block has rx_packets with a rate")
    finally:
        stop_and_check(srv, signal.SIGINT)


def test_options(exe):
    """workers: auto, pin, rcvbuf/sndbuf: one worker per online CPU, each pinned to its own CPU."""
    port = h.free_port_dual()
    ncpu = os.sysconf("SC_NPROCESSORS_ONLN")
    srv = start(exe, port, ["socket.pin=true", "socket.rcvbuf=262144", "socket.sndbuf=262144"], workers=None)
    try:
        ready = [l for l in srv.lines if l and l.startswith("stunbox: ready")][0]
        want = "%d worker%s" % (ncpu, "" if ncpu == 1 else "s")
        check(want in ready, "workers: auto -> %s (%r)" % (want, ready))
        pinned = []
        task_dir = "/proc/%d/task" % srv.proc.pid
        for tid in sorted(os.listdir(task_dir), key=int):
            if int(tid) == srv.proc.pid:
                continue
            with open(os.path.join(task_dir, tid, "comm")) as f:
                if not f.read().startswith("sbx-worker"):
                    continue  # the console and metrics threads are not pinned
            with open(os.path.join(task_dir, tid, "status")) as f:
                allowed = re.search(r"^Cpus_allowed_list:\s*(\S+)$", f.read(), re.M).group(1)
            pinned.append(allowed)
        check(sorted(pinned) == sorted(str(i) for i in range(ncpu)),
              "pin: worker threads pinned to CPUs %s (got %s)" % (list(range(ncpu)), pinned))
        for host in ("127.0.0.1", "::1"):
            c = bb.Client(bb.Target(("[%s]:%d" if ":" in host else "%s:%d") % (host, port)), {})
            try:
                reply, _ = c.transact(bb.binding(), "success")
                check(reply.type == bb.BINDING_SUCCESS, "answers %s with pin and buffer sizes set" % host)
            except bb.CheckFailed as e:
                check(False, "answers %s: %s" % (host, e))
            finally:
                c.close()
    finally:
        stop_and_check(srv)


def run_cli(exe, args, timeout=10, cwd=None):
    return subprocess.run([exe] + args, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def test_cli(exe):
    tmp = tempfile.mkdtemp(prefix="stunbox-cli-")
    r = run_cli(exe, ["--help"])
    check(r.returncode == 0, "--help exits 0")
    for opt in ("-c, --config", "--set", "--check-config", "--help", "--version", "--", "SIGHUP", "SIGTERM",
                "Exit codes", "Example", "socket", "dpdk"):
        check(opt in r.stdout, "--help mentions %r" % opt)
    r = run_cli(exe, ["--version"])
    check(r.returncode == 0 and re.match(r"^stunbox \d+\.\d+\.\d+\n", r.stdout) is not None,
          "--version prints 'stunbox X.Y.Z' (%r)" % r.stdout)
    check("DPDK support" in r.stdout, "--version says whether DPDK support is built in")

    good = os.path.join(tmp, "good.yaml")
    with open(good, "w") as f:
        f.write('mode: socket\nsocket:\n  listen: ["127.0.0.1:5000"]\n  workers: 2\n')
    r = run_cli(exe, ["--check-config", good])
    check(r.returncode == 0 and r.stdout == good + ": OK\n", "--check-config good file: '%s: OK', exit 0 (%r)"
          % (good, r.stdout))
    r = run_cli(exe, ["--check-config", good, "--set", "socket.workers=4"])
    check(r.returncode == 0 and r.stdout == good + ": OK\n", "--check-config with a valid --set: OK")

    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("mode: socket\nsocket:\n  workerz: 2\n")
    r = run_cli(exe, ["--check-config", bad])
    lines = r.stderr.splitlines()
    check(r.returncode == 1, "--check-config bad file exits 1 (%d)" % r.returncode)
    check(len(lines) == 1 and lines[0].startswith(bad + ":3:") and "workerz" in lines[0],
          "--check-config bad file: one line naming file, line 3 and the key (%r)" % r.stderr)
    r = run_cli(exe, ["--check-config", good, "--set", "socket.batch=0"])
    check(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "batch" in r.stderr,
          "--check-config with a bad --set: one line, exit 1 (%r)" % r.stderr)
    r = run_cli(exe, ["--check-config", os.path.join(tmp, "missing.yaml")])
    check(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "missing.yaml" in r.stderr,
          "--check-config missing file: one line, exit 1 (%r)" % r.stderr)

    # Running with a bad config: the config's line prefixed with "stunbox: ", exit 1.
    r = run_cli(exe, ["-c", bad])
    check(r.returncode == 1 and r.stderr.startswith("stunbox: " + bad + ":3:") and len(r.stderr.splitlines()) == 1,
          "bad config at start: 'stunbox: FILE:3: ...', exit 1 (%r)" % r.stderr)

    r = run_cli(exe, ["--foo"])
    check(r.returncode == 2 and r.stderr == "stunbox: unknown option '--foo' (see --help)\n",
          "unknown option: exact line, exit 2 (%d %r)" % (r.returncode, r.stderr))
    r = run_cli(exe, ["-x"])
    check(r.returncode == 2 and "unknown option '-x'" in r.stderr, "unknown short option: exit 2")
    r = run_cli(exe, ["--config"])
    check(r.returncode == 2 and "--config" in r.stderr and len(r.stderr.splitlines()) == 1,
          "missing argument: one line, exit 2 (%r)" % r.stderr)
    r = run_cli(exe, ["--set", "novalue"])
    check(r.returncode == 2 and len(r.stderr.splitlines()) == 1, "--set without '=': exit 2 (%r)" % r.stderr)
    r = run_cli(exe, ["stray"])
    check(r.returncode == 2, "stray argument: exit 2")
    r = run_cli(exe, ["-c", good, "--", "-l", "0"])
    check(r.returncode == 2 and "mode is socket" in r.stderr, "EAL arguments with mode socket: refused (%r)" % r.stderr)
    # No -c and no config/stunbox.yaml in the working directory (nor installed): one line, exit 1.
    if not os.path.exists("/etc/stunbox/stunbox.yaml"):
        r = run_cli(exe, [], cwd=tmp)
        check(r.returncode == 1 and "config/stunbox.yaml" in r.stderr and len(r.stderr.splitlines()) == 1,
              "no config file found: one line, exit 1 (%r)" % r.stderr)
    # The default path is relative to the working directory.
    os.makedirs(os.path.join(tmp, "config"))
    with open(os.path.join(tmp, "config", "stunbox.yaml"), "w") as f:
        f.write("mode: socket\nsocket: {workerz: 1}\n")
    r = run_cli(exe, [], cwd=tmp)
    check(r.returncode == 1 and "config/stunbox.yaml:2:" in r.stderr, "default config/stunbox.yaml is read (%r)"
          % r.stderr)

    # Bind conflict: a second server on a port already served fails with one line.
    port = h.free_port_dual()
    srv = start(exe, port, listen=["127.0.0.1:%d" % port])
    try:
        r = run_cli(exe, ["-c", good, "--set", 'socket.listen=["127.0.0.1:%d"]' % port])
        check(r.returncode == 1 and r.stderr == "stunbox: cannot bind 127.0.0.1:%d: Address already in use\n" % port,
              "port in use: 'stunbox: cannot bind ...: Address already in use', exit 1 (%r)" % r.stderr)
        c = bb.Client(bb.Target("127.0.0.1:%d" % port), {})
        try:
            reply, _ = c.transact(bb.binding(), "success")
            check(reply.type == bb.BINDING_SUCCESS, "first server still answers after the failed second start")
        except bb.CheckFailed as e:
            check(False, "first server still answers: %s" % e)
        finally:
            c.close()
    finally:
        stop_and_check(srv, signal.SIGINT)
    # Prompt stop while idle: SIGINT answered within STOP_TIMEOUT with exit 0 (checked by stop_and_check above).


TESTS = {"blackbox": test_blackbox, "turnutils": test_turnutils, "debian-stun": test_debian_stun,
         "wildcard": test_wildcard, "reload": test_reload, "stats": test_stats, "options": test_options, "cli": test_cli}


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in TESTS:
        print(__doc__)
        return 2
    exe, test = os.path.abspath(sys.argv[1]), sys.argv[2]
    if test == "blackbox":
        test_blackbox(exe, sys.argv[3] if len(sys.argv) > 3 else "default")
    else:
        TESTS[test](exe)
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
