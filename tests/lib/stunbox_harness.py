"""Shared harness of the Python test drivers: the real stunbox with its output collected, PASS/FAIL checks,
free ports, STUN probes, stunbox-cli one-shots, /metrics scrapes, the final counters block, network namespaces.

Python 3 standard library only. A driver imports it by path, so it runs from meson with no PYTHONPATH:

    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import stunbox_harness as h

Every wait here is bounded; nothing here kills a process it did not start.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

SKIP = 77                 # meson's "skipped" exit code
MAGIC = 0x2112A442        # RFC 5389 section 6 magic cookie
FINGERPRINT_XOR = 0x5354554E  # RFC 5389 section 15.5
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
ATTR_SOFTWARE = 0x8022
ATTR_FINGERPRINT = 0x8028

READY_TIMEOUT = 15.0      # start to "stunbox: ready"
STOP_TIMEOUT = 5.0        # signal to exit
CLI_TIMEOUT = 10.0        # one stunbox-cli command
POLL_TIMEOUT = 5.0        # counters are published once per batch: a bounded wait for a value to show


# ---------------------------------------------------------------- checks

class Checks:
    """PASS/FAIL lines, one per check; the failures are kept for the verdict."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failures: list[str] = []

    def __call__(self, cond, what: str):
        print(("PASS " if cond else "FAIL ") + what, flush=True)
        if not cond:
            self.failures.append(what)
        return cond

    def verdict(self) -> int:
        """Prints the failures (if any) and a last line; 0 when every check passed, else 1."""
        if self.failures:
            print("%d failure(s):\n  %s" % (len(self.failures), "\n  ".join(self.failures)))
        print(f"{self.name}: " + ("PASS" if not self.failures else f"FAIL ({len(self.failures)})"), flush=True)
        return 0 if not self.failures else 1


# ---------------------------------------------------------------- the daemon

class Daemon:
    """A process (normally stunbox) with stdout and stderr collected line by line; waits on lines with a deadline."""

    def __init__(self, cmd: list[str], stdin=None, env: dict[str, str] | None = None) -> None:
        self.cmd = list(cmd)
        self.lines: list[str | None] = []  # None last once the output has ended
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL if stdin is None else stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of output
            self.cond.notify_all()

    def mark(self) -> int:
        """Where the next line will be: wait_line(..., start=mark) sees only what comes after now."""
        with self.cond:
            return len(self.lines)

    def wait_line(self, pattern: str, timeout: float, start: int = 0) -> int | None:
        """Index of the first line at or after `start` matching `pattern`; None on timeout or end of output."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    if line is None:
                        return None
                    if rx.search(line):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        return self.wait_line(r"^stunbox: ready", timeout) is not None

    def wait_eof(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.lines or self.lines[-1] is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def text_lines(self) -> list[str]:
        with self.cond:
            return [l for l in self.lines if l is not None]

    def text(self) -> str:
        return "\n".join(self.text_lines())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int | None:
        """Sends `sig`; the exit code, or None if it did not exit within `timeout` and had to be killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def terminate(self, timeout: float) -> tuple[int | None, float]:
        """SIGTERM, then the exit code and the seconds it took (None if it had to be killed)."""
        t0 = time.monotonic()
        rc = self.stop(signal.SIGTERM, timeout)
        return rc, time.monotonic() - t0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def final(self, timeout: float = STOP_TIMEOUT):
        """parse_final() of the whole output, once it has ended (the reader may trail the exited process)."""
        self.wait_eof(timeout)
        return parse_final(self.text_lines())

    def final_counters(self, timeout: float = STOP_TIMEOUT) -> dict[str, int] | None:
        """The final counters as one dict, drop reasons as "drop:<reason>"; None if the block is absent."""
        final = self.final(timeout)
        if final is None:
            return None
        counters, drops, _ = final
        return dict(counters, **{"drop:" + k: v for k, v in drops.items()})


class Stunbox(Daemon):
    """The real stunbox: config_text written to WORKDIR/stunbox.yaml (a fresh temp dir, removed at exit, when
    not given), then `[prefix...] EXE -c CONFIG [--set S]... [extra...]`."""

    def __init__(self, exe: str, config_text: str = "mode: socket\n", sets=(), workdir: str | None = None,
                 extra=(), prefix=(), stdin=None, env: dict[str, str] | None = None) -> None:
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="stunbox-test-")
            # Removed when the driver ends: tests read files there (e.g. a summary) after the server stopped.
            atexit.register(shutil.rmtree, workdir, ignore_errors=True)
        self.dir = workdir
        self.config = os.path.join(self.dir, "stunbox.yaml")
        with open(self.config, "w") as f:
            f.write(config_text)
        cmd = list(prefix) + [exe, "-c", self.config]
        for s in sets:
            cmd += ["--set", s]
        super().__init__(cmd + list(extra), stdin=stdin, env=env)


def socket_sets(listen, workers: int | None = 2, control: str | None = None, metrics: str | None = None) -> list[str]:
    """--set overrides for socket mode: listen addresses ("IP:PORT", "[IP6]:PORT"), workers (None: auto),
    control socket path ("" for none) and /metrics address when given."""
    sets = ["mode=socket", "socket.listen=[%s]" % ",".join('"%s"' % l for l in listen),
            "socket.workers=%s" % ("auto" if workers is None else workers)]
    if control is not None:
        sets.append('control.socket="%s"' % control)
    if metrics is not None:
        sets.append('stats.metrics_listen="%s"' % metrics)
    return sets


def start(exe: str, config_text: str = "mode: socket\n", sets=(), ready_timeout: float = READY_TIMEOUT,
          **kw) -> Stunbox:
    """A Stunbox that has printed its ready line; otherwise it is killed and the driver ends with its output."""
    srv = Stunbox(exe, config_text, sets, **kw)
    if not srv.wait_ready(ready_timeout):
        srv.stop(signal.SIGKILL)
        raise SystemExit("FAIL server did not print its ready line within %.0f s:\n%s" % (ready_timeout, srv.text()))
    return srv


def stop_and_check(srv: Daemon, check: Checks, sig: int = signal.SIGTERM) -> dict[str, int]:
    """Stops the server with `sig`: checks exit 0 and the final counters block; returns those counters."""
    rc = srv.stop(sig)
    check(rc == 0, "server exits 0 after %s (got %s)" % (signal.Signals(sig).name, rc))
    counters = srv.final_counters()
    check(counters is not None, "server printed its final counters")
    return counters or {}


# The rows of the final counters block, tried in this order (a drop row would also match a counter row).
_FINAL_ROWS = (
    ("queue", re.compile(r"^\s+port (\d+) queue (\d+) lcore \d+: rx (\d+) tx (\d+) drops (\d+)$")),
    ("drop", re.compile(r"^\s+drop (\w+)\s+(\d+)$")),
    ("counter", re.compile(r"^\s+(\w+)\s+(\d+)$")),
)


def parse_final(lines: list[str]) -> tuple[dict[str, int], dict[str, int], list[tuple[int, int, int, int, int]]] | None:
    """The `stunbox: final counters` block: (counters incl. "drops", drop reasons, per-queue rows
    (port, queue, rx, tx, drops) in dpdk mode); None if absent. The block ends at the first other line."""
    try:
        start_i = next(i for i, l in enumerate(lines) if l == "stunbox: final counters")
    except StopIteration:
        return None
    counters: dict[str, int] = {}
    drops: dict[str, int] = {}
    queues: list[tuple[int, int, int, int, int]] = []
    for line in lines[start_i + 1:]:
        kind, m = next(((kind, m) for kind, rx in _FINAL_ROWS if (m := rx.match(line))), (None, None))
        if kind == "queue":
            queues.append(tuple(int(g) for g in m.groups()))  # type: ignore[arg-type]
        elif kind == "drop":
            drops[m.group(1)] = int(m.group(2))
        elif kind == "counter":
            counters[m.group(1)] = int(m.group(2))
        else:
            break
    return counters, drops, queues


def mempool_lines(lines: list[str]) -> list[re.Match]:
    """dpdk mode at exit: `stunbox: mempool NAME: N in use after stop (baseline B)`, groups (NAME, N, B)."""
    rx = re.compile(r"^stunbox: mempool (\S+): (\d+) in use after stop \(baseline (\d+)\)$")
    return [m for m in (rx.match(l) for l in lines) if m]


def process_gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")


# ---------------------------------------------------------------- ports

def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port free on 127.0.0.1 right now (the server then binds it)."""
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def free_port_dual() -> int:
    """A UDP port free on 127.0.0.1, ::1 and the IPv4 wildcard right now (wildcard binds use it too)."""
    for _ in range(50):
        s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        w4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s4.bind(("127.0.0.1", 0))
            port = s4.getsockname()[1]
            s6.bind(("::1", port))
            s4.close()
            w4.bind(("0.0.0.0", port))
            return port
        except OSError:
            continue
        finally:
            for s in (s4, s6, w4):
                s.close()
    raise RuntimeError("no free UDP port found on both 127.0.0.1 and ::1")


# ---------------------------------------------------------------- STUN

def stun_attr(atype: int, value: bytes) -> bytes:
    """One STUN attribute: type, length, value, zero padding to 4 bytes."""
    return struct.pack("!HH", atype, len(value)) + value + b"\0" * (-len(value) % 4)


def binding_request(fingerprint: bool = False, attrs: bytes = b"") -> bytes:
    """An RFC 5389 Binding request with a random transaction id (bytes 8..20), `attrs`, FINGERPRINT when asked."""
    tid = os.urandom(12)
    if not fingerprint:
        return struct.pack("!HHI", BINDING_REQUEST, len(attrs), MAGIC) + tid + attrs
    head = struct.pack("!HHI", BINDING_REQUEST, len(attrs) + 8, MAGIC) + tid + attrs
    crc = (zlib.crc32(head) ^ FINGERPRINT_XOR) & 0xFFFFFFFF
    return head + struct.pack("!HHI", ATTR_FINGERPRINT, 4, crc)


def answers(data: bytes, req: bytes) -> bool:
    """True if `data` is a Binding success response to `req` (same transaction id)."""
    return len(data) >= 20 and struct.unpack("!H", data[:2])[0] == BINDING_SUCCESS and data[8:20] == req[8:20]


def stun_attrs(data: bytes) -> dict[int, bytes]:
    """{type: value} of the attributes of a STUN message (empty when there are none or `data` is short)."""
    out, off = {}, 20
    while off + 4 <= len(data):
        t, n = struct.unpack("!HH", data[off:off + 4])
        out[t] = data[off + 4:off + 4 + n]
        off += 4 + ((n + 3) & ~3)
    return out


def debian_stun_client(check: Checks, server: str, port: int, client_ip: str, prefix: tuple[str, ...] = (),
                       alternate: tuple[str, int] | None = None) -> None:
    """Debian's `stun -v` (package stun-client, RFC 3489, IPv4 only) against server:port: its first request
    (classic, CHANGE-REQUEST 0) must get a Binding success whose MAPPED-ADDRESS is the client's own address;
    its change requests (flags 4 = change IP, 2 = change port) get 420 while no RFC 5780 pair is configured.
    With `alternate` (the pair's alternate IP and port: server:port is its primary endpoint) they must be
    answered from the changed endpoint, and the NAT test must end "Primary: Open" with no error.
    `prefix` runs it elsewhere (e.g. ip netns exec NS)."""
    try:
        r = subprocess.run(list(prefix) + ["stun", f"{server}:{port}", "-v"], capture_output=True, text=True,
                           timeout=30)
    except subprocess.TimeoutExpired:
        check(False, f"stun -v {server}:{port} finished within 30 s")
        return
    out = r.stdout + r.stderr
    opened = re.search(r"Opened port (\d+) with fd", out)
    sent = re.findall(r"Encoding ChangeRequest: (\d+)\s+About to send msg of len \d+ to ([\d.]+):(\d+)", out)
    to_server = [int(flags) for flags, ip, p in sent if ip == server and int(p) == port]
    if not check(opened is not None and to_server[:3] == [0, 4, 2],
                 f"stun -v {server}:{port}: sent CHANGE-REQUEST 0, 4, 2 to the server (sent {to_server})"):
        print(out)
        return
    # Each received message: the attribute lines printed before "Received message of type T id=K".
    msgs, attrs = {}, []
    for line in out.splitlines():
        m = re.match(r"Received message of type (\d+)\s+id=(\d+)", line)
        if m:
            msgs[int(m.group(2))] = (int(m.group(1)), attrs)
            attrs = []
        elif not line.startswith("Received stun message"):
            attrs.append(line.strip())
    own = f"{client_ip}:{opened.group(1)}"
    first = msgs.get(1)
    ok = first is not None and first[0] == 0x0101 and f"MappedAddress = {own}" in first[1]
    check(ok, f"stun -v {server}:{port}: CHANGE-REQUEST 0 answered with a Binding success, MappedAddress = {own}"
          + ("" if ok else f"\n{out}"))
    for tid, flags in ((2, 4), (3, 2)):
        got = msgs.get(tid)
        if alternate is not None:
            source = f"{alternate[0]}:{port}" if flags == 4 else f"{server}:{alternate[1]}"
            ok = got is not None and got[0] == 0x0101 and f"SourceAddress = {source}" in got[1]
            what = f"a Binding success from {source}"
        else:
            ok = got is not None and got[0] == 0x0111 and any(a.startswith("ErrorCode = 4 20") for a in got[1])
            what = "420 Unknown Attribute"
        check(ok, f"stun -v {server}:{port}: CHANGE-REQUEST {flags} answered with {what}" + ("" if ok else f"\n{out}"))
    if alternate is not None:
        ok = "Primary: Open" in out and "ErrorCode" not in out
        check(ok, f"stun -v {server}:{port}: NAT test says \"Primary: Open\", no error lines" + ("" if ok else f"\n{out}"))


def _exchange(s: socket.socket, dest: tuple[str, int], attrs: bytes = b"") -> tuple[bytes, bytes | None]:
    """A fresh Binding request (with `attrs`) sent on `s` and the first datagram back within the socket's timeout."""
    req = binding_request(attrs=attrs)
    s.sendto(req, dest)
    try:
        return req, s.recvfrom(2048)[0]
    except socket.timeout:
        return req, None


def send_requests(port: int, n: int, timeout: float = 2.0, source: str | None = None,
                  server: str = "127.0.0.1") -> int:
    """n Binding requests one at a time, one send each (exact counts), from a socket bound to `source`
    when given; how many got their success response within `timeout`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    if source is not None:
        s.bind((source, 0))
    answered = 0
    try:
        for _ in range(n):
            req, data = _exchange(s, (server, port))
            answered += data is not None and answers(data, req)
    finally:
        s.close()
    return answered


def stun_answered(server: str, port: int, tries: int, wait_s: float) -> bool:
    """One Binding request per try (a fresh transaction each); True as soon as one gets its success response."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(tries):
            req = binding_request()
            try:
                s.sendto(req, (server, port))
            except OSError:  # e.g. ENETUNREACH while a link is down: unanswered
                time.sleep(wait_s)
                continue
            deadline = time.monotonic() + wait_s
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([s], [], [], left)
                if not r:
                    break
                try:
                    data = s.recv(2048)
                except OSError:
                    break
                if answers(data, req):
                    return True
        return False
    finally:
        s.close()


def reply_attrs(port: int, retries: int = 3, server: str = "127.0.0.1", attrs: bytes = b"") -> dict[int, bytes] | None:
    """The attributes of the answer to a Binding request without FINGERPRINT, carrying `attrs` (up to
    `retries` sends of a fresh transaction, 1 s each), or None when none was answered."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    try:
        for _ in range(retries):
            req, data = _exchange(s, (server, port), attrs)
            if data is not None and len(data) >= 20 and data[8:20] == req[8:20]:
                return stun_attrs(data)
    finally:
        s.close()
    return None


# ---------------------------------------------------------------- console

def cli(exe: str, sock: str | None, *words: str, timeout: float = CLI_TIMEOUT) -> tuple[int, str, str]:
    """stunbox-cli once (`-s SOCK` when given); (exit code, stdout, stderr)."""
    p = subprocess.run([exe] + (["-s", sock] if sock else []) + list(words), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def shown(text: str, label: str) -> int | None:
    """The integer after `label` and white space in console output (e.g. "RX-packets:"), or None."""
    m = re.search(re.escape(label) + r"\s+(\d+)", text)
    return int(m.group(1)) if m else None


def poll(fn, expected, timeout: float = POLL_TIMEOUT):
    """Calls fn() until it returns `expected` or `timeout` passes; the last value."""
    deadline = time.monotonic() + timeout
    got = fn()
    while got != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        got = fn()
    return got


def notify_sink(path: str, timeout: float = 5.0) -> socket.socket:
    """What systemd listens on, bound at `path` (pass it as NOTIFY_SOCKET): recv() gets READY=1, WATCHDOG=1, ..."""
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(path)
    sink.settimeout(timeout)
    return sink


# ---------------------------------------------------------------- /metrics

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(url: str, timeout: float = 5.0) -> tuple[int, str, str]:
    """(status, body, content type) of a GET; an HTTP error status with an empty body."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, "", ""


def parse_metrics(text: str, check: Checks | None = None) -> list[tuple[str, dict[str, str], float]]:
    """[(name, {labels}, value)] of a text exposition (format 0.0.4); with `check`, also checks that every
    line is well formed and that each sample's TYPE came before it."""
    out, types, bad = [], {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("# HELP ") or not line:
            continue
        m = SAMPLE.match(line)
        if not m:
            bad.append(line)
            continue
        out.append((m.group(1), dict(LABEL.findall(m.group(3) or "")), float(m.group(4))))
        if m.group(1) not in types:
            bad.append("no TYPE before " + line)
    if check is not None:
        check(not bad, "every /metrics line is well formed (%s)" % bad[:3])
    return out


def total(samples, name: str, **want: str) -> float:
    """sum(name{want}) over parsed samples."""
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in want.items()))


def metric(url: str, name: str, check: Checks | None = None, **want: str) -> float:
    """sum(name{want}) in a fresh scrape of url."""
    return total(parse_metrics(scrape(url)[1], check), name, **want)


# ---------------------------------------------------------------- network namespaces (root)

def ip(*words: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip"] + list(words), capture_output=True, text=True, timeout=30)


# scripts/netns-lab.sh's namespaces (sbx-cl, sbx-dp) have fixed names: every test and script that brings
# the lab up holds this lock for as long as it uses it, so two runs never share or tear down one lab.
NETNS_LAB_LOCK = "/tmp/stunbox-netns-lab.lock"


def netns_lab_lock(timeout: float = 600.0):
    """Takes the netns lab's lock (blocking up to `timeout` seconds); the returned file holds it until closed
    or the process ends. Raises TimeoutError when another run keeps the lab longer."""
    import fcntl
    f = open(NETNS_LAB_LOCK, "a")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.monotonic() > deadline:
                f.close()
                raise TimeoutError("the netns lab stayed in use by another run for %.0f s" % timeout)
            time.sleep(0.5)


def netns_del(*names: str) -> None:
    for ns in names:
        ip("netns", "del", ns)


def veth_namespaces(ns_client: str, if_client: str, addr_client: str, ns_app: str, if_app: str) -> str | None:
    """Two fresh namespaces joined by a veth: the client end up with addr_client/24 (and lo up), the
    appliance end up with no address and IPv6 off, offloads off on both. None on success, else why not."""
    netns_del(ns_client, ns_app)
    for cmd in (["netns", "add", ns_client], ["netns", "add", ns_app],
                ["-n", ns_client, "link", "add", if_client, "type", "veth", "peer", "name", if_app, "netns", ns_app],
                ["-n", ns_client, "addr", "add", addr_client + "/24", "dev", if_client],
                ["-n", ns_client, "link", "set", if_client, "up"], ["-n", ns_client, "link", "set", "lo", "up"],
                ["-n", ns_app, "link", "set", if_app, "up"]):
        r = ip(*cmd)
        if r.returncode != 0:
            return "ip %s: %s" % (" ".join(cmd), r.stderr.strip())
    ip("netns", "exec", ns_app, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % if_app)
    # As scripts/netns-lab.sh: with TX checksum offload the client's datagrams reach af_packet with
    # partial checksums (dropped as bad), and GRO would merge frames before the PMD sees them.
    for ns, ifname in ((ns_client, if_client), (ns_app, if_app)):
        for feature in ("tx", "rx", "gro", "gso", "tso"):
            ip("netns", "exec", ns, "ethtool", "-K", ifname, feature, "off")
        if "tx-checksumming: off" not in ip("netns", "exec", ns, "ethtool", "-k", ifname).stdout:
            return "cannot turn off TX checksum offload on %s (ethtool missing?)" % ifname
    return None


def remove_eal_runtime(prefix: str) -> None:
    """EAL leaves its runtime dir (config, telemetry socket) behind for a --file-prefix."""
    for base in ("/var/run/dpdk", "/tmp/dpdk"):
        shutil.rmtree(os.path.join(base, prefix), ignore_errors=True)


def begin_namespace_run(test: str, ns: str) -> str | None:
    """A fresh namespace `ns` (a stale one of that name deleted) and the work directory /tmp/NS
    (created if missing) for a test's daemon: the directory, or None after printing TEST: SKIP and why."""
    netns_del(ns)
    r = ip("netns", "add", ns)
    if r.returncode != 0:
        print(f"{test}: SKIP: cannot create a network namespace: {r.stderr.strip()}")
        return None
    workdir = f"/tmp/{ns}"
    os.makedirs(workdir, exist_ok=True)
    return workdir


def end_namespace_run(daemon, ns: str, workdir: str) -> None:
    """A test's teardown around a daemon in namespace `ns` whose EAL file prefix is `ns`: the daemon
    killed if still there, the namespace deleted, its work directory and EAL runtime dir removed."""
    if daemon is not None:
        daemon.kill()
    netns_del(ns)
    shutil.rmtree(workdir, ignore_errors=True)
    remove_eal_runtime(ns)


# ---------------------------------------------------------------- stunbox-load

def finish_load(proc: subprocess.Popen, timeout: float, interrupt: bool = False) -> dict:
    """Waits for a stunbox-load run (SIGINT first when `interrupt`: stop sending now) and returns its JSON
    report, the last line of stdout; killed after `timeout`; {} (with its output printed) when there is none."""
    if interrupt and proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        print(out, err)
        return {}
