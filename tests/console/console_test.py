#!/usr/bin/env python3
"""The console end to end: the real stunbox with a control socket in a temp dir, driven by the real stunbox-cli.

    console_test.py --stunbox EXE --cli CLI TEST

TEST: counts (exact counts in show stun/port/queue/lcore stats, clear
baselines vs the final counters), clients (several clients at once, bad
command -> 1, no daemon -> 2, stale socket replaced and removed at exit),
pty (interactive stunbox-cli through a pseudo-terminal, TAB completion),
reload (console reload, set stats-period), foreground (stunbox --interactive,
EOF keeps serving), dpdk (dpdk mode on net_null: port info, lcore busy %,
port stats, live reload of stun options; exit 77 = skipped when built
without DPDK), top (show top sources orders two client addresses sending
3:1 with counts within the shown error bound).
Every wait is bounded; servers are stopped (killed if they hang) in all
cases. Exit 0 on pass, 1 with a line per failure.
"""

import argparse
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stunbox_harness as h  # noqa: E402
from stunbox_harness import CLI_TIMEOUT, READY_TIMEOUT, STOP_TIMEOUT, send_requests, shown  # noqa: E402

check = h.Checks("console_test")


def send_junk(port, n):
    """n datagrams too short to be STUN (dropped as stun_too_short, no answer)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(n):
        s.sendto(b"junk", ("127.0.0.1", port))
    s.close()


def cli(args, *words, sock=None):
    """Runs stunbox-cli once; returns (exit code, stdout, stderr)."""
    return h.cli(args.cli, sock, *words)


def rows_of(out):
    """The rows of a console table (lines starting with a number after the header), split into fields."""
    return [l.split() for l in out.splitlines()[1:] if re.match(r"^\s+\d", l)]


def socket_server(args, tmp, workers=2, sets=(), extra=(), stdin=None, config_text="mode: socket\n"):
    port = h.free_port()
    sock = os.path.join(tmp, "run", "ctl.sock")
    srv = h.Stunbox(args.stunbox, config_text, h.socket_sets(["127.0.0.1:%d" % port], workers, control=sock)
                    + list(sets), workdir=tmp, extra=extra, stdin=stdin)
    ok = srv.wait_ready(READY_TIMEOUT)
    return srv, port, sock, ok


# ---------------------------------------------------------------------------

def test_counts(args, tmp):
    srv, port, sock, ok = socket_server(args, tmp)
    try:
        if not check(ok, "socket mode with control.socket starts"):
            return
        st = os.stat(sock)
        check(oct(st.st_mode & 0o777) == "0o660", "control socket mode 0660 (%s)" % oct(st.st_mode & 0o777))
        check(oct(os.stat(os.path.dirname(sock)).st_mode & 0o777) == "0o750", "socket directory created 0750")
        n, junk = 37, 3
        got = send_requests(port, n)
        check(got == n, "%d of %d requests answered" % (got, n))
        send_junk(port, junk)
        send_requests(port, 1)  # a round trip after the junk: it has been counted by then
        n += 1

        rc, out, err = cli(args, "show", "stun", "stats", sock=sock)
        check(rc == 0, "show stun stats exits 0 (%d %s)" % (rc, err.strip()))
        check(shown(out, "requests (RFC 5389/8489):") == n, "show stun stats: exactly %d requests" % n)
        check(shown(out, "success responses:") == n, "show stun stats: exactly %d success responses" % n)
        check(shown(out, "drop stun_too_short") == junk, "show stun stats: %d stun_too_short drops" % junk)
        check(shown(out, "drops total:") == junk, "show stun stats: drops total %d" % junk)

        rc, out, _ = cli(args, "show", "port", "stats", "all", sock=sock)
        check(rc == 0 and "NIC statistics for port 0" in out, "show port stats all: testpmd block for port 0")
        check(shown(out, "RX-packets:") == n + junk, "RX-packets: %s == %d" % (shown(out, "RX-packets:"), n + junk))
        check(shown(out, "TX-packets:") == n, "TX-packets: %s == %d" % (shown(out, "TX-packets:"), n))
        check(shown(out, "RX-bytes:") == 20 * n + 4 * junk, "RX-bytes: %s" % shown(out, "RX-bytes:"))
        for key in ("RX-missed:", "RX-errors:", "RX-nombuf:", "TX-errors:", "TX-bytes:", "Throughput (since last show)",
                    "Rx-pps:", "Rx-bps:", "Tx-pps:", "Tx-bps:"):
            check(key in out, "show port stats has %s" % key)

        rc, out, _ = cli(args, "show", "queue", "stats", sock=sock)
        rows = rows_of(out)
        check(len(rows) == 2, "show queue stats: one row per worker (%d)" % len(rows))
        check(sum(int(r[3]) for r in rows) == n + junk, "show queue stats: rx-packets sum to %d" % (n + junk))
        check(sum(int(r[6]) for r in rows) == n, "show queue stats: stun-resp sum to %d" % n)

        rc, out, _ = cli(args, "show", "lcore", "stats", sock=sock)
        rows = rows_of(out)
        check(rc == 0 and len(rows) == 2, "show lcore stats: one row per worker")
        check(sum(int(r[2]) for r in rows) == n + junk and sum(int(r[3]) for r in rows) == n,
              "show lcore stats: packets and responses add up")
        check(all(re.match(r"^\d+\.\d%$", r[5]) for r in rows), "show lcore stats: busy %% column")
        loops1 = [int(r[7]) for r in rows]
        # Loops keep moving with no traffic (the workers wake at least every 100 ms).
        deadline = time.monotonic() + 3
        moved = False
        while time.monotonic() < deadline and not moved:
            _, out2, _ = cli(args, "show", "lcore", "stats", sock=sock)
            rows2 = rows_of(out2)
            moved = len(rows2) == 2 and all(int(b[7]) > a for a, b in zip(loops1, rows2))
        check(moved, "show lcore stats: every worker's loop counter advances while idle")

        rc, out, _ = cli(args, "show", "port", "info", "0", sock=sock)
        check(rc == 0 and "127.0.0.1:%d" % port in out and "Link status: up" in out, "show port info 0")
        rc, out, _ = cli(args, "show", "port", "xstats", "0", sock=sock)
        check(rc == 0 and re.search(r"stun_success: %d\b" % n, out) is not None, "show port xstats 0: stun_success")
        rc, out, _ = cli(args, "show", "config", sock=sock)
        check(rc == 0 and "workers: 2" in out and "socket: \"%s\"" % sock in out, "show config: effective YAML")

        # clear: the console's baseline; the counters themselves go on.
        rc, out, _ = cli(args, "clear", "stun", "stats", sock=sock)
        check(rc == 0, "clear stun stats")
        rc, out, _ = cli(args, "show", "stun", "stats", sock=sock)
        check(shown(out, "requests (RFC 5389/8489):") == 0 and shown(out, "drops total:") == 0,
              "after clear: shown requests and drops are 0")
        more = 5
        check(send_requests(port, more) == more, "more requests answered")
        rc, out, _ = cli(args, "show", "stun", "stats", sock=sock)
        check(shown(out, "requests (RFC 5389/8489):") == more, "after clear: counts restart (%d)" % more)
        rc, out, _ = cli(args, "clear", "port", "stats", "all", sock=sock)
        rc, out, _ = cli(args, "show", "port", "stats", "0", sock=sock)
        check(shown(out, "RX-packets:") == 0 and shown(out, "TX-packets:") == 0, "after clear port stats: 0 shown")
        check(send_requests(port, 2) == 2, "two more answered")
        rc, out, _ = cli(args, "show", "port", "stats", "0", sock=sock)
        check(shown(out, "RX-packets:") == 2, "after clear port stats: counts restart")
    finally:
        code = srv.stop()
    check(code == 0, "SIGTERM: exit 0")
    final = srv.final_counters() or {}
    total = n + more + 2
    check(final.get("stun_requests") == total, "final counters keep the total %s == %d (clear is only a baseline)"
          % (final.get("stun_requests"), total))
    check(final.get("drop:stun_too_short") == junk, "final counters keep the drops")
    check(not os.path.exists(sock), "control socket removed at exit")


def test_clients(args, tmp):
    # A stale socket (a file nobody listens on) from a crashed daemon is replaced.
    sockdir = os.path.join(tmp, "run")
    os.makedirs(sockdir, exist_ok=True)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(os.path.join(sockdir, "ctl.sock"))
    stale.close()
    srv, port, sock, ok = socket_server(args, tmp)
    try:
        if not check(ok, "starts over a stale socket file"):
            print(srv.text())
            return
        # Three clients at once: two raw connections with interleaved commands and the CLI.
        a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        a.settimeout(CLI_TIMEOUT)
        b.settimeout(CLI_TIMEOUT)
        a.connect(sock)
        b.connect(sock)

        def ask(s, line):
            s.sendall(line.encode() + b"\n")
            buf = b""
            while not re.search(rb"(^|\n)\x04[01q]\n", buf):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            return buf.decode(errors="replace")

        a.sendall(b"show stun")  # a partial line on a: must not block b
        rb = ask(b, "show stun stats")
        check("STUN statistics" in rb and rb.endswith("\x040\n"), "client b answered while a is mid-line")
        rc, out, _ = cli(args, "show", "port", "stats", "all", sock=sock)
        check(rc == 0 and "NIC statistics" in out, "stunbox-cli works while two clients are attached")
        ra = ask(a, " stats")
        check("STUN statistics" in ra, "client a's line completed later is answered")
        rb = ask(b, "bogus")
        check(rb.endswith("\x041\n") and "unknown command" in rb, "error status on the wire for a bad command")
        rb = ask(b, "quit")
        check(rb.endswith("\x04q\n"), "quit: end line with status q")
        check(b.recv(10) == b"", "quit: server closes the connection")
        a.close()
        b.close()

        rc, out, err = cli(args, "show", "bogus", sock=sock)
        check(rc == 1 and "unknown command" in err, "bad command: exit 1, reason on stderr (%d %r)" % (rc, err.strip()))
        rc, out, err = cli(args, "show", "port", "stats", "9", sock=sock)
        check(rc == 1 and "no port 9" in err, "bad port: exit 1 (%r)" % err.strip())
        rc, out, err = cli(args, "set", "stats-period", "x", sock=sock)
        check(rc == 1 and "expected a number of seconds" in err, "bad argument: exit 1 (%r)" % err.strip())
        rc, out, err = cli(args, "help", sock=sock)
        check(rc == 0 and "show port stats all|<port>" in out and "set stats-period <seconds>" in out, "help lists commands")
        # A second daemon must not steal a live socket.
        other_dir = os.path.join(tmp, "other")
        os.makedirs(other_dir)
        other = h.Stunbox(args.stunbox, "mode: socket\n",
                          h.socket_sets(["127.0.0.1:%d" % h.free_port()], 1, control=sock), workdir=other_dir)
        i = other.wait_line(r"^stunbox: ready", READY_TIMEOUT)
        check(i is not None and re.search(r"warning: control.socket .*another process is serving it", other.text()),
              "second daemon on the same socket: warning, does not take it over")
        other.stop()
        rc, out, _ = cli(args, "show", "config", sock=sock)
        check(rc == 0 and str(port) in out, "the first daemon still owns its socket")
    finally:
        code = srv.stop()
    check(code == 0, "exit 0")
    rc, out, err = cli(args, "show", "stun", "stats", sock=sock)
    check(rc == 2 and sock in err, "no daemon: exit 2 naming the socket (%d %r)" % (rc, err.strip()))


def read_until(fd, pattern, timeout):
    """Reads the pty until the regex matches the collected output; returns it (or what came)."""
    rx = re.compile(pattern)
    buf = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk.decode(errors="replace")
        if rx.search(buf):
            return buf, True
    return buf, False


def test_pty(args, tmp):
    srv, port, sock, ok = socket_server(args, tmp)
    pid = None
    try:
        if not check(ok, "server starts"):
            return
        check(send_requests(port, 3) == 3, "3 requests answered")
        env = dict(os.environ, HOME=tmp, TERM="xterm")
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(args.cli, [args.cli, "-s", sock], env)
        out, ok = read_until(fd, r"stunbox> ", CLI_TIMEOUT)
        check(ok, "interactive prompt 'stunbox> ' appears")
        os.write(fd, b"show lc\t")
        # libedit echoes the completed rest ("ore ") after moving the cursor.
        out, ok = read_until(fd, r"show lc[\s\S]*ore ", CLI_TIMEOUT)
        check(ok, "TAB completes 'show lc' to 'show lcore ' (%r)" % out)
        os.write(fd, b"st\t\n")  # completes to "stats ": the only word after "show lcore"
        out, ok = read_until(fd, r"busy%[\s\S]*stunbox> ", CLI_TIMEOUT)
        check(ok and "port:queues" in out, "completed command runs: lcore table shown")
        os.write(fd, b"show stun stats\n")
        out, ok = read_until(fd, r"success responses:\s+3[\s\S]*stunbox> ", CLI_TIMEOUT)
        check(ok, "show stun stats in the interactive console: 3 responses")
        os.write(fd, b"show nothing\n")
        out, ok = read_until(fd, r"unknown command[\s\S]*stunbox> ", CLI_TIMEOUT)
        check(ok, "bad command: error shown, console goes on")
        os.write(fd, b"quit\n")
        read_until(fd, r"bye", CLI_TIMEOUT)
        deadline = time.monotonic() + CLI_TIMEOUT
        status = None
        while time.monotonic() < deadline:
            wpid, st = os.waitpid(pid, os.WNOHANG)
            if wpid == pid:
                status = st
                break
            read_until(fd, r"$^", 0.1)  # drain
        check(status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "quit: stunbox-cli exits 0")
        pid = None
        os.close(fd)
        check(os.path.exists(os.path.join(tmp, ".stunbox_history")), "history saved to ~/.stunbox_history")
        check(send_requests(port, 1) == 1, "daemon still serving after the console quit")
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        check(srv.stop() == 0, "exit 0")


def test_reload(args, tmp):
    srv, port, sock, ok = socket_server(args, tmp, config_text="mode: socket\nstun:\n  software: \"\"\n")
    try:
        if not check(ok, "server starts"):
            return
        rc, out, _ = cli(args, "show", "config", sock=sock)
        check('software: ""' in out, "show config before reload")
        with open(srv.config, "w") as f:
            f.write("mode: socket\nstun:\n  software: \"console-reload\"\nsocket:\n  batch: 7\n")
        rc, out, err = cli(args, "reload", sock=sock)
        check(rc == 0 and "reloaded" in out and "applied" in out, "reload via the console applies (%r)" % out.strip())
        check("socket.batch" in out, "reload names what needs a restart: %r" % out.strip())
        rc, out, _ = cli(args, "show", "config", sock=sock)
        check('software: "console-reload"' in out, "show config after reload has the new stun.software")
        # What is in effect, not what the file says: socket.batch needs a restart.
        check("  batch: 32\n" in out and "batch: 7" not in out,
              "show config after reload keeps the batch in effect (32), not the file's 7")
        rc, out, _ = cli(args, "show", "port", "info", "0", sock=sock)
        check("Batch: 32 datagrams" in out, "show port info after reload shows the batch in effect (%r)" % out)
        with open(srv.config, "w") as f:
            f.write("mode: socket\nstun:\n  fingerprint: sometimes\n")
        rc, out, err = cli(args, "reload", sock=sock)
        check(rc == 0 and "reload failed" in out and "stun.fingerprint" in out, "bad file: reload failed, named (%r)" % out)
        check(send_requests(port, 2) == 2, "still serving after the failed reload")

        rc, out, _ = cli(args, "set", "stats-period", "1", sock=sock)
        check(rc == 0 and "every 1 s" in out, "set stats-period 1")
        i = srv.wait_line(r"^stunbox: stats", 4.0)
        check(i is not None, "a periodic stats block within 4 s")
        if i is not None:
            j = srv.wait_line(r"NIC statistics for port 0", 2.0, i)
            check(j is not None, "periodic block carries the testpmd port block")
            check("\x1b[" not in srv.text(), "no screen-clearing escapes when stdout is not a TTY")
        cli(args, "set", "stats-period", "0", sock=sock)
    finally:
        check(srv.stop() == 0, "exit 0")


def test_foreground(args, tmp):
    r, w = os.pipe()
    srv, port, sock, ok = socket_server(args, tmp, extra=["--interactive"], stdin=r)
    os.close(r)
    try:
        if not check(ok, "stunbox --interactive starts"):
            return
        check(send_requests(port, 4) == 4, "4 requests answered")
        # Counters are published once per batch, right after the batch's
        # sendmmsg: a reply can reach the client just before its count is
        # visible, so ask again (bounded) until the count catches up.
        i = None
        for _ in range(10):
            os.write(w, b"show stun stats\n")
            i = srv.wait_line(r"success responses:\s+4$", 0.5)
            if i is not None:
                break
        check(i is not None, "the terminal console answers show stun stats (4)")
        os.write(w, b"show port stats all\n")
        check(srv.wait_line(r"NIC statistics for port 0", 5.0) is not None, "terminal console: show port stats all")
        rc, out, _ = cli(args, "show", "stun", "stats", sock=sock)
        check(rc == 0 and shown(out, "success responses:") == 4, "control socket works beside --interactive")
        os.close(w)
        w = None
        check(srv.wait_line(r"console input closed \(EOF\); still serving", 5.0) is not None, "EOF: console closes")
        check(srv.proc.poll() is None and send_requests(port, 2) == 2, "EOF: stunbox keeps serving")
    finally:
        if w is not None:
            os.close(w)
        check(srv.stop() == 0, "exit 0")

    # quit at the --interactive prompt stops stunbox, as testpmd's quit does.
    r, w = os.pipe()
    srv, port, sock, ok = socket_server(args, tmp, extra=["--interactive"], stdin=r)
    os.close(r)
    try:
        check(ok, "second --interactive run starts")
        os.write(w, b"quit\n")
        try:
            code = srv.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            code = None
        check(code == 0, "quit on the terminal console stops stunbox with exit 0")
        check(srv.wait_line(r"^stunbox: final counters", 2.0) is not None, "final counters printed after quit")
    finally:
        os.close(w)
        srv.stop()


DPDK_PREFIX = "sbxcon-%d" % os.getpid()


def dpdk_config(extra=""):
    """dpdk mode on one net_null port (an endless stream of frames, no root needed); `extra`: more dpdk keys."""
    prefix = DPDK_PREFIX
    eal = ["--no-pci", "--no-huge", "-m", "128", "--no-shconf", "--file-prefix", prefix, "--lcores", "0@0,1@0"]
    return ("mode: dpdk\ndpdk:\n  eal: [" + ", ".join('"%s"' % e for e in eal) + "]\n"
            "  idle: adaptive\n  link_wait_ms: 0\n" + extra + "  ports:\n    - device: net_null0\n"
            "      addresses: [\"198.18.0.2/24\", \"2001:2::2/64\"]\n")


def dpdk_server(args, tmp, cfg):
    """Starts stunbox on dpdk_config() text with a control socket; exits 77 (skip) without DPDK support."""
    sock = os.path.join(tmp, "ctl.sock")
    srv = h.Stunbox(args.stunbox, cfg, ['control.socket="%s"' % sock], workdir=tmp)
    if srv.wait_line(r"built without DPDK|mode is dpdk but", 0.5) is not None:
        srv.stop()
        print("SKIP stunbox built without DPDK")
        sys.exit(77)
    ok = check(srv.wait_line(r"^stunbox: ready", READY_TIMEOUT) is not None, "dpdk mode on net_null starts")
    if not ok:
        print(srv.text())
    return srv, sock, ok


def test_dpdk(args, tmp):
    cfg = dpdk_config()
    srv, sock, ok = dpdk_server(args, tmp, cfg)
    try:
        if not ok:
            return
        rc, out, err = cli(args, "show", "port", "info", "0", sock=sock)
        check(rc == 0 and "Driver: net_null" in out, "show port info 0: driver (%r)" % err)
        for key in ("MAC address: ", "Queues: 1 RX/TX pairs", "RX checksum: ", "TX IPv4/UDP checksum: ",
                    "Addresses: 198.18.0.2/24 2001:2::2/64", "Link status: "):
            check(key in out, "show port info 0 has %r" % key)
        # net_null receives an endless stream: the lcore is busy and RX grows.
        time.sleep(0.3)
        rc, out, _ = cli(args, "show", "lcore", "stats", sock=sock)
        rows = rows_of(out)
        check(rc == 0 and len(rows) == 1 and rows[0][0] == "1" and rows[0][1] == "0:0", "show lcore stats: lcore 1 serves 0:0")
        if rows:
            busy = float(rows[0][6].rstrip("%"))
            check(0.0 < busy <= 100.0, "show lcore stats: busy %% since start is positive (%s)" % rows[0][6])
            check(int(rows[0][2]) > 0, "show lcore stats: packets counted")
        rc, out, _ = cli(args, "show", "port", "stats", "0", sock=sock)
        rx1 = shown(out, "RX-packets:")
        check(rc == 0 and rx1 is not None and rx1 > 0, "show port stats 0: RX-packets from the ethdev (%s)" % rx1)
        rc, out, _ = cli(args, "show", "port", "xstats", "0", sock=sock)
        check(rc == 0 and "rx_good_packets:" in out, "show port xstats 0: ethdev xstats")
        rc, out, _ = cli(args, "show", "stun", "stats", sock=sock)
        check(rc == 0 and shown(out, "drops total:") > 0, "show stun stats: null frames dropped and counted")
        rc, out, _ = cli(args, "show", "queue", "stats", sock=sock)
        check(rc == 0 and re.search(r"^\s+0\s+0\s+1\s+\d+", out, re.M) is not None, "show queue stats: port 0 queue 0 lcore 1")
        rc, out, _ = cli(args, "show", "top", "sources", sock=sock)
        check(rc == 0 and "(1 worker sketch merged)" in out and "nothing recorded yet" in out,
              "show top sources in dpdk mode: one lcore sketch, no STUN from net_null (%r)" % out)
        rc, out, _ = cli(args, "reload", sock=sock)
        check(rc == 0 and "stats.period applied" in out and "NOT applied" not in out,
              "reload of an unchanged file in dpdk mode: %r" % out.strip())
        with open(srv.config, "w") as f:
            f.write(cfg + "stun:\n  fingerprint: never\n  software: \"dpdk-reload\"\nstats:\n  period: 0\n")
        rc, out, _ = cli(args, "reload", sock=sock)
        check(rc == 0 and "stun.fingerprint" in out and "stun.software" in out and "applied" in out
              and "NOT applied" not in out, "reload in dpdk mode applies the stun options live: %r" % out.strip())
        rc, out, _ = cli(args, "show", "config", sock=sock)
        check("fingerprint: never" in out and 'software: "dpdk-reload"' in out, "show config after the dpdk reload")
        with open(srv.config, "w") as f:
            f.write(dpdk_config("  burst: 16\n") +
                    "stun:\n  fingerprint: never\n  software: \"dpdk-reload\"\n  ports: [3479]\n")
        rc, out, _ = cli(args, "reload", sock=sock)
        check(rc == 0 and "NOT applied (need a restart): stun.ports" in out and "dpdk" in out,
              "stun.ports and the dpdk section need a restart: %r" % out.strip())
        # The console shows what is in effect, not what the file says.
        rc, out, _ = cli(args, "show", "config", sock=sock)
        check("  burst: 32\n" in out and "burst: 16" not in out and "ports: [3478]" in out,
              "show config after the reload keeps dpdk.burst 32 and stun.ports [3478] in effect")
    finally:
        code = srv.stop()
        h.remove_eal_runtime(DPDK_PREFIX)
    check(code == 0, "dpdk: SIGTERM exit 0")
    check(not os.path.exists(sock), "dpdk: control socket removed at exit")


def top_rows(out):
    """{prefix: (requests, share%, error)} from show top sources, in the order shown."""
    rows = []
    for l in out.splitlines():
        m = re.match(r"^\s+(\d+)\s+(\S+/\d+)\s+(\d+)\s+([\d.]+)%\s+(\d+)$", l)
        if m:
            rows.append((m.group(2), int(m.group(3)), float(m.group(4)), int(m.group(5))))
    return rows


def test_top(args, tmp):
    # Every packet recorded (no sampling), so the counts are exact.
    srv, port, sock, ok = socket_server(args, tmp, sets=["stats.top_sources_sample=1"])
    try:
        if not check(ok, "server starts"):
            return
        rc, out, _ = cli(args, "show", "top", "sources", sock=sock)
        check(rc == 0 and "nothing recorded yet" in out, "show top sources before traffic: nothing yet (%r)" % out)
        heavy, light = 60, 20
        check(send_requests(port, heavy, source="127.0.0.1") == heavy, "%d requests from 127.0.0.1 answered" % heavy)
        check(send_requests(port, light, source="127.0.0.2") == light, "%d requests from 127.0.0.2 answered" % light)
        # Sketches are published once per worker wakeup, right after the
        # replies leave: ask again (bounded) until both are counted.
        rows = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            rc, out, err = cli(args, "show", "top", "sources", sock=sock)
            rows = top_rows(out)
            if rc == 0 and sum(r[1] for r in rows) >= heavy + light:
                break
            time.sleep(0.05)
        check(rc == 0 and "Top 10 source prefixes of %d packets recorded" % (heavy + light) in out,
              "show top sources header: default 10, %d recorded (%r)" % (heavy + light, out.splitlines()[:1]))
        check(len(rows) == 2, "two source prefixes shown (%s)" % rows)
        if len(rows) == 2:
            check(rows[0][0] == "127.0.0.1/32" and rows[1][0] == "127.0.0.2/32", "heaviest first: %s" % rows)
            for (prefix, count, share, error), real in zip(rows, (heavy, light)):
                check(abs(count - real) <= error, "%s: %d within +-%d of the true %d" % (prefix, count, error, real))
            check(rows[0][2] == 75.0 and rows[1][2] == 25.0, "shares 75%% and 25%% (%s)" % rows)
        rc, out, _ = cli(args, "show", "top", "sources", "1", sock=sock)
        rows = top_rows(out)
        check(rc == 0 and len(rows) == 1 and rows[0][0] == "127.0.0.1/32", "show top sources 1: only the heaviest")
        rc, out, err = cli(args, "show", "top", "sources", "0", sock=sock)
        check(rc == 1 and "out of range" in err, "show top sources 0: error, exit 1 (%r)" % err.strip())
        rc, out, _ = cli(args, "help", sock=sock)
        check("show top sources [<count>]" in out, "help lists show top sources")
    finally:
        check(srv.stop() == 0, "exit 0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("test", choices=["counts", "clients", "pty", "reload", "foreground", "dpdk", "top"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="stunbox-console-") as tmp:
        globals()["test_" + args.test](args, tmp)
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
