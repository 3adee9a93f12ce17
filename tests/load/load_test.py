#!/usr/bin/env python3
"""Black-box tests of stunbox-load against fake_server.py (well-behaved and broken on purpose) and the real stunbox.

usage: load_test.py --load STUNBOX_LOAD [--stunbox STUNBOX] CASE
Exit 0 pass, 1 fail, 77 skip (meson's skip code).
"""
import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import stunbox_harness as h  # noqa: E402
from stunbox_harness import SKIP  # noqa: E402

FAKE = os.path.join(HERE, "fake_server.py")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def read_line(proc, deadline):
    """One line of proc's stdout, waiting at most until deadline (monotonic)."""
    buf = b""
    fd = proc.stdout.fileno()
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failure("timed out waiting for output")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            ch = os.read(fd, 1)
            if not ch:
                raise Failure("process ended before the expected line")
            buf += ch
    return buf.decode().strip()


class FakeServer:
    def __init__(self, mode):
        self.mode = mode
        self.seen = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            [sys.executable, FAKE, "--mode", self.mode, "--watch-stdin", "--lifetime", "110"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = read_line(self.proc, time.monotonic() + 10)
        check(line.startswith("PORT "), f"fake server said {line!r}")
        self.port = int(line.split()[1])
        return self

    def wait_first_request(self, timeout=10):
        line = read_line(self.proc, time.monotonic() + timeout)
        check(line == "FIRST", f"fake server said {line!r}")

    def __exit__(self, *exc):
        try:  # communicate() closes stdin; the server exits on end of stdin
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        for line in out.decode().splitlines():
            if line.startswith("SEEN "):
                self.seen = tuple(int(x) for x in line.split()[1:])
        return False


class Load:
    exe = None

    @staticmethod
    def run(args, timeout=90):
        t0 = time.monotonic()
        p = subprocess.run([Load.exe] + args, capture_output=True, timeout=timeout)
        wall = time.monotonic() - t0
        out = p.stdout.decode()
        err = p.stderr.decode()
        lines = out.strip().splitlines()
        report = None
        if lines:
            try:
                report = json.loads(lines[-1])
            except ValueError:
                report = None
        sys.stdout.write(f"$ stunbox-load {' '.join(args)}\n{out}{err}rc={p.returncode} wall={wall:.2f}s\n")
        return p.returncode, report, err, wall


def servers(port, v6=True):
    s = ["--server", f"127.0.0.1:{port}"]
    if v6:
        s += ["--server", f"[::1]:{port}"]
    return s


def expect_fail(mode, reason, extra=(), count=200):
    """A server misbehaving in `mode` must make the run fail with `reason` counted."""
    with FakeServer(mode) as fs:
        rc, rep, _, _ = Load.run(servers(fs.port) + ["--count", str(count), "--sockets", "8",
                                                      "--timeout", "500"] + list(extra))
    check(rc == 1, f"{mode}: exit {rc}, want 1")
    check(rep is not None, "no JSON line")
    check(rep["pass"] is False, "pass should be false")
    got = rep["invalid_reasons"].get(reason, 0)
    check(got > 0, f"{mode}: invalid_reasons.{reason} = {got}, want > 0; got {rep['invalid_reasons']}")
    check(rep["invalid"] == sum(rep["invalid_reasons"].values()), "invalid != sum of reasons")
    check(rep["sent"] == count, f"sent {rep['sent']}, want {count}")
    return rep


# ---- cases against the fake server ------------------------------------------

def case_good_closed():
    with FakeServer("good") as fs:
        rc, rep, _, _ = Load.run(servers(fs.port) + ["--count", "3000", "--sockets", "16", "--window", "4",
                                                      "--fingerprint"])
    check(rc == 0, f"exit {rc}")
    check(rep["sent"] == 3000 and rep["valid"] == 3000, f"sent/valid {rep['sent']}/{rep['valid']}")
    check(rep["lost"] == 0 and rep["invalid"] == 0 and rep["late"] == 0, "loss or invalid")
    check(rep["received"] == 3000, "received")
    check(0 < rep["p50_us"] <= rep["p90_us"] <= rep["p99_us"] <= rep["max_us"], "latency order")
    check(rep["rps"] > 0 and rep["cpu_ns_per_resp"] is None, "rps / cpu")
    check(fs.seen[0] == 3000, f"server saw {fs.seen}")
    check(fs.seen[1] == 2, f"server saw {fs.seen[1]} source addresses, want 2 (127.0.0.1, ::1)")


def case_good_open_loop():
    with FakeServer("good") as fs:
        rc, rep, _, wall = Load.run(servers(fs.port) + ["--rate", "1000", "--duration", "1.5", "--threads", "2",
                                                         "--timeout", "500"])
    check(rc == 0, f"exit {rc}")
    # Paced: 1.5 s at 1000/s; Python on a busy 2-core box may lag a little.
    check(1300 <= rep["sent"] <= 1520, f"sent {rep['sent']}, want about 1500")
    check(rep["valid"] == rep["sent"], "every request answered")
    check(wall < 1.5 + 0.5 + 3, f"run took {wall:.2f}s")


def case_bind_sources():
    binds = [f"127.0.0.{i}" for i in range(2, 10)]
    args = []
    for b in binds:
        args += ["--bind", b]
    with FakeServer("good") as fs:
        rc, rep, _, _ = Load.run(servers(fs.port, v6=False) + args + ["--count", "800", "--sockets", "16"])
    check(rc == 0, f"exit {rc}")
    check(rep["valid"] == 800, "valid")
    check(fs.seen[1] == len(binds), f"server saw {fs.seen[1]} source addresses, want {len(binds)}")


def case_classic():
    with FakeServer("good") as fs:
        rc, rep, _, _ = Load.run(servers(fs.port) + ["--count", "500", "--classic", "--sockets", "4"])
    check(rc == 0, f"exit {rc}")
    check(rep["valid"] == 500, "valid")


def case_wrong_xor():
    rep = expect_fail("wrong_xor", "wrong_address")
    check(rep["invalid_reasons"]["wrong_address"] == 200 and rep["valid"] == 0, "all wrong")
    check(rep["lost"] == 0, "answered requests are not lost")


def case_wrong_txid():
    rep = expect_fail("wrong_txid", "unknown_txid", extra=["--max-loss", "100"])
    check(rep["lost"] == 200, f"lost {rep['lost']}: unmatched answers leave every request unanswered")


def case_bad_cookie():
    expect_fail("bad_cookie", "bad_cookie", extra=["--max-loss", "100"])


def case_bad_fingerprint():
    expect_fail("bad_fingerprint", "bad_fingerprint", extra=["--fingerprint"])


def case_fingerprint_not_last():
    expect_fail("fp_not_last", "fingerprint_not_last")


def case_duplicate():
    rep = expect_fail("duplicate", "duplicate")
    # The run ends once every request is answered, so the last few copies may
    # arrive after it; every one read must be flagged.
    dup = rep["invalid_reasons"]["duplicate"]
    check(rep["valid"] == 200 and 100 <= dup <= 200, f"valid {rep['valid']}, duplicates {dup}")
    check(rep["received"] == rep["valid"] + dup, "received = valid + duplicates")


def case_error_response():
    expect_fail("error_response", "error_response")


def case_no_address():
    expect_fail("no_address", "no_mapped_address")


def case_bad_length():
    expect_fail("bad_length", "bad_length", extra=["--max-loss", "100"])


def case_legacy():
    for mode in ("legacy_mapped", "legacy_8020"):
        expect_fail(mode, "legacy_address")
        with FakeServer(mode) as fs:
            rc, rep, _, _ = Load.run(servers(fs.port) + ["--count", "200", "--sockets", "4", "--legacy"])
        check(rc == 0, f"{mode} with --legacy: exit {rc}")
        check(rep["valid"] == 200, "valid")
    # Both forms present and right: fine without --legacy.
    with FakeServer("both_forms") as fs:
        rc, rep, _, _ = Load.run(servers(fs.port) + ["--count", "200", "--sockets", "4"])
    check(rc == 0 and rep["valid"] == 200, "both forms")


def case_loss():
    with FakeServer("drop_half") as fs:
        rc, rep, _, _ = Load.run(servers(fs.port) + ["--count", "400", "--sockets", "8", "--timeout", "300"])
        check(rc == 1, f"exit {rc}, want 1 at 50% loss")
        check(rep["lost"] == 200 and rep["valid"] == 200, f"lost {rep['lost']} valid {rep['valid']}")
        check(abs(rep["loss_pct"] - 50.0) < 0.01, f"loss_pct {rep['loss_pct']}")
        rc, rep, _, _ = Load.run(servers(fs.port) + ["--count", "400", "--sockets", "8", "--timeout", "300",
                                                      "--max-loss", "60"])
        check(rc == 0, f"exit {rc}, want 0 with --max-loss 60")


def case_silent_bounded():
    with FakeServer("silent") as fs:
        rc, rep, _, wall = Load.run(servers(fs.port) + ["--count", "100", "--sockets", "4", "--timeout", "300"])
    check(rc == 1, f"exit {rc}")
    check(rep["sent"] == 100 and rep["lost"] == 100 and rep["received"] == 0, "all lost")
    check(wall < 5, f"took {wall:.2f}s; the drain must end after --timeout")


def case_no_listener():
    # Nobody on the port: ICMP port unreachable must not wedge or crash the run.
    port = h.free_port()
    rc, rep, _, wall = Load.run(["--server", f"127.0.0.1:{port}", "--duration", "0.5", "--sockets", "4",
                                 "--timeout", "200", "--window", "2"])
    check(rc == 1, f"exit {rc}")
    check(rep is not None and rep["valid"] == 0, "no valid answers")
    check(wall < 5, f"took {wall:.2f}s")


def case_server_cpu():
    with FakeServer("good") as fs:
        rc, rep, _, _ = Load.run(servers(fs.port) + ["--count", "2000", "--sockets", "8",
                                                      "--server-pid", str(fs.proc.pid)])
    check(rc == 0, f"exit {rc}")
    cpu = rep["cpu_ns_per_resp"]
    # Python spends microseconds per answer; zero would mean nothing was measured.
    check(cpu is not None and cpu > 1000, f"cpu_ns_per_resp {cpu}")


def case_sigint():
    with FakeServer("good") as fs:
        p = subprocess.Popen([Load.exe] + servers(fs.port) + ["--duration", "60", "--sockets", "4",
                                                              "--window", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            fs.wait_first_request()
            t0 = time.monotonic()
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        stopped_in = time.monotonic() - t0
    sys.stdout.write(out.decode() + err.decode())
    check(p.returncode == 0, f"exit {p.returncode}")
    rep = json.loads(out.decode().strip().splitlines()[-1])
    check(rep["valid"] > 0 and rep["lost"] == 0, "answers before the interrupt, none lost")
    check(stopped_in < 3, f"took {stopped_in:.2f}s to stop")


def case_usage():
    bad = [
        [],
        ["--server", "127.0.0.1:9"],                                  # unbounded
        ["--server", "8.8.8.8:3478", "--count", "1"],                 # outside the allowed ranges
        ["--server", "[2001:db8::1]:3478", "--count", "1"],
        ["--server", "127.0.0.1:9", "--duration", "601"],
        ["--server", "127.0.0.1:9", "--count", "0"],
        ["--server", "127.0.0.1:9", "--count", "5", "--frobnicate"],
        ["--server", "127.0.0.1", "--count", "5"],
        ["--server", "127.0.0.1:9", "--count", "5", "--rate", "10", "--window", "3"],
        ["--server", "127.0.0.1:9", "--count", "5", "--server-pid", "0"],
    ]
    for args in bad:
        rc, _, err, _ = Load.run(args)
        check(rc == 2, f"{args}: exit {rc}, want 2")
        lines = err.strip().splitlines()
        check(len(lines) == 1 and lines[0].startswith("stunbox-load: "), f"{args}: stderr {err!r}")
    p = subprocess.run([Load.exe, "--help"], capture_output=True, timeout=10)
    check(p.returncode == 0 and b"--max-loss" in p.stdout, "--help")


# ---- the real stunbox --------------------------------------------------------

def case_real_stunbox(stunbox, source_root):
    if not stunbox:
        print("no --stunbox given")
        return SKIP
    probe = subprocess.run([stunbox, "--help"], capture_output=True, timeout=10)
    if probe.returncode != 0:
        print("stunbox --help fails: the server is not built yet (stub); skipping")
        return SKIP
    port = h.free_port_dual()
    config = os.path.join(source_root or os.path.join(HERE, "..", ".."), "config", "stunbox.yaml")
    check(os.path.exists(config), f"no {config}")
    cmd = [stunbox, "-c", config]
    for s in h.socket_sets([f"127.0.0.1:{port}", f"[::1]:{port}"], 1):
        cmd += ["--set", s]
    print("$ " + " ".join(cmd))
    srv = h.Daemon(cmd)
    try:
        # Ready when it answers (bounded wait, no fixed sleep).
        deadline = time.monotonic() + 15
        while True:
            check(srv.proc.poll() is None, f"stunbox exited with {srv.proc.returncode}")
            p = subprocess.run([Load.exe, "--quiet", "--server", f"127.0.0.1:{port}", "--count", "1",
                                "--sockets", "1", "--timeout", "200"], capture_output=True, timeout=10)
            if p.returncode == 0:
                break
            check(time.monotonic() < deadline, "stunbox did not answer within 15 s")
        base = servers(port) + ["--sockets", "16"]
        rc, rep, _, _ = Load.run(base + ["--count", "5000", "--fingerprint", "--server-pid", str(srv.proc.pid)])
        check(rc == 0 and rep["valid"] == 5000, "RFC 8489 requests with FINGERPRINT")
        check(rep["cpu_ns_per_resp"] is not None and rep["cpu_ns_per_resp"] > 0, "server CPU measured")
        rc, rep, _, _ = Load.run(base + ["--count", "2000", "--classic"])
        check(rc == 0 and rep["valid"] == 2000, "RFC 3489 classic requests")
        binds = []
        for i in range(2, 6):
            binds += ["--bind", f"127.0.0.{i}"]
        rc, rep, _, _ = Load.run(servers(port, v6=False) + binds + ["--rate", "2000", "--duration", "1",
                                                                      "--threads", "2"])
        check(rc == 0 and rep["valid"] == rep["sent"] > 0, "open loop from several source addresses")
    finally:
        rc = srv.stop(signal.SIGTERM, timeout=10)
        srv.wait_eof(5)
        sys.stdout.write((srv.text() + "\n")[-2000:])
    check(rc == 0, f"stunbox exit {rc} after SIGTERM")
    return 0


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--load", required=True)
    ap.add_argument("--stunbox")
    ap.add_argument("--source-root", help="the repository (for config/stunbox.yaml)")
    ap.add_argument("case", choices=sorted(CASES) + ["all"])
    args = ap.parse_args()
    Load.exe = args.load
    names = sorted(n for n in CASES if n != "real_stunbox") if args.case == "all" else [args.case]
    failed = []
    for name in names:
        try:
            rc = CASES[name](args.stunbox, args.source_root) if name == "real_stunbox" else CASES[name]()
            if rc == SKIP:
                return SKIP
            print(f"--- {name}: ok")
        except (Failure, subprocess.TimeoutExpired, KeyError, TypeError, ValueError) as e:
            print(f"--- {name}: FAIL: {e!r}")
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
