#!/usr/bin/env python3
"""The netns lab end to end: the real stunbox on net_af_packet or net_af_xdp in one namespace, real kernel clients in the other.

Usage: lab_test.py --stunbox PATH --backend af_packet|af_xdp [--source-root DIR]

For the backend: scripts/netns-lab.sh up 2, stunbox started in sbx-dp with
config/examples/lab-<backend>.yaml, then from sbx-cl: a warm-up probe; the
kernel must have resolved 198.18.0.2 (ARP) and 2001:2::2 (NDP) on its own;
turnutils_stunclient prints the right reflexive address over IPv4 and IPv6;
Debian's `stun -v` gets its CHANGE-REQUEST 0 answered and its change requests 420;
ping and ping -6 are answered; tests/e2e/stun_blackbox.py (the socket-mode
checks) passes against the DPDK path; a closed-loop load from many source
ports gets every answer right; SIGTERM -> exit 0, and the per-queue counters
show every queue received traffic. The lab is always taken down.

Needs root; exits 77 (meson: skipped) when not root or when this machine
cannot create network namespaces or veth pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stunbox_harness as h  # noqa: E402

SKIP = 77
CLIENT_NS, APPLIANCE_NS = "sbx-cl", "sbx-dp"
CLIENT_IF, APPLIANCE_IF = "sbx-cl0", "sbx-dp0"
APP_V4, APP_V6 = "198.18.0.2", "2001:2::2"
CL_V4, CL_V6 = "198.18.0.1", "2001:2::1"
STUN_PORT = 3478
QUEUES = 2
READY_TIMEOUT_S = 30
EXIT_TIMEOUT_S = 20
LOAD_SOCKETS = 64       # distinct source ports per family: both queues get flows
LOAD_REQUESTS = 3000    # closed loop: one request in flight per socket
LOAD_TIME_S = 60
MAGIC = 0x2112A442
DEBIAN_STUN_420S = 2    # Debian's `stun`: its change-IP and change-port requests (no RFC 5780 pair here)


class Lab:
    def __init__(self, args) -> None:
        self.root = args.source_root
        self.exe = os.path.abspath(args.stunbox)
        self.backend = args.backend
        self.script = os.path.join(self.root, "scripts", "netns-lab.sh")
        self.config = os.path.join(self.root, "config", "examples", f"lab-{self.backend}.yaml")
        self.proc: subprocess.Popen | None = None
        self.out_lines: list[str] = []
        self.err_lines: list[str] = []
        self.failures: list[str] = []
        self.ready = threading.Event()

    # --- bookkeeping -------------------------------------------------------

    def check(self, cond: bool, what: str) -> bool:
        print(("PASS " if cond else "FAIL ") + what, flush=True)
        if not cond:
            self.failures.append(what)
        return cond

    def run(self, cmd: list[str], timeout: float = 30, ns: str | None = None) -> subprocess.CompletedProcess:
        if ns:
            cmd = ["ip", "netns", "exec", ns] + cmd
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            return subprocess.CompletedProcess(cmd, -999, e.stdout or "", (e.stderr or "") + f"\n(timed out after {timeout}s)")

    # --- the appliance -----------------------------------------------------

    def _reader(self, stream, sink: list[str], watch_ready: bool) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))
            if watch_ready and line.startswith("stunbox: ready"):
                self.ready.set()

    def start(self) -> bool:
        cmd = ["ip", "netns", "exec", APPLIANCE_NS, self.exe, "-c", self.config]
        print("lab: " + " ".join(cmd), flush=True)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        threading.Thread(target=self._reader, args=(self.proc.stdout, self.out_lines, True), daemon=True).start()
        threading.Thread(target=self._reader, args=(self.proc.stderr, self.err_lines, False), daemon=True).start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self.ready.wait(0.1):
                return True
        return self.ready.is_set()

    def stop(self) -> int | None:
        """SIGTERM to our own child only; returns its exit code (None if it would not stop)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                return None
        time.sleep(0.2)  # let the reader threads drain the pipes (they end at EOF)
        return self.proc.returncode

    def dump(self) -> None:
        print("--- stunbox stdout\n" + "\n".join(self.out_lines) + "\n--- stunbox stderr\n" + "\n".join(self.err_lines))

    # --- checks from the client namespace -----------------------------------

    def appliance_mac(self) -> str:
        res = self.run(["ip", "-br", "link", "show", APPLIANCE_IF], ns=APPLIANCE_NS)
        return res.stdout.split()[2].lower() if res.returncode == 0 and len(res.stdout.split()) > 2 else "?"

    def client_py(self, code: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return self.run([sys.executable, "-c", code], timeout=timeout, ns=CLIENT_NS)

    def warm_up(self) -> None:
        # The kernel drops what it queued while ARP/NDP resolve: retry, bounded.
        code = f"""
import socket, struct, os, select, sys
for host, fam in (("{APP_V4}", socket.AF_INET), ("{APP_V6}", socket.AF_INET6)):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for attempt in range(10):
        tx = os.urandom(12)
        s.sendto(struct.pack("!HHI", 1, 0, {MAGIC}) + tx, (host, {STUN_PORT}))
        if select.select([s], [], [], 0.5)[0] and s.recv(2048)[8:20] == tx:
            print(host, "answered after", attempt + 1, "tries"); break
    else:
        print(host, "never answered"); sys.exit(1)
"""
        res = self.client_py(code)
        self.check(res.returncode == 0, f"warm-up STUN probes answered over IPv4 and IPv6: {res.stdout.strip()} {res.stderr.strip()}")

    def neighbours(self, mac: str) -> None:
        res = self.run(["ip", "-n", CLIENT_NS, "neigh", "show", "dev", CLIENT_IF])
        table = res.stdout
        print("lab: client neighbour table:\n" + table.rstrip(), flush=True)
        for addr, how in ((APP_V4, "ARP"), (APP_V6, "NDP")):
            line = next((l for l in table.splitlines() if l.split()[:1] == [addr]), "")
            self.check(f"lladdr {mac}" in line and re.search(r"\b(REACHABLE|STALE|DELAY|PROBE)\b", line) is not None
                       and "PERMANENT" not in line and "NOARP" not in line,
                       f"kernel resolved {addr} by {how} to the appliance's MAC {mac} (entry: {line or 'none'})")

    def stunclient(self) -> None:
        for server, expect in ((APP_V4, CL_V4), (APP_V6, CL_V6)):
            res = self.run(["turnutils_stunclient", server], timeout=20, ns=CLIENT_NS)
            m = re.findall(r"UDP reflexive addr: (\S+):(\d+)", res.stdout)
            ok = res.returncode == 0 and bool(m) and all(ip == expect for ip, _ in m)
            self.check(ok, f"turnutils_stunclient {server} -> reflexive address {m[0][0] if m else 'none'} "
                           f"(expected {expect})" + ("" if ok else f"\n{res.stdout}{res.stderr}"))
        # Debian's `stun` (IPv4 only): classic requests carrying CHANGE-REQUEST 0, then 4 and 2.
        h.debian_stun_client(self.check, APP_V4, STUN_PORT, CL_V4, prefix=("ip", "netns", "exec", CLIENT_NS))

    def ping(self) -> None:
        for flag, addr in (("-4", APP_V4), ("-6", APP_V6)):
            res = self.run(["ping", flag, "-c", "3", "-i", "0.2", "-W", "2", addr], timeout=20, ns=CLIENT_NS)
            self.check(res.returncode == 0 and " 0% packet loss" in res.stdout,
                       f"ping {flag} {addr} answered" + ("" if res.returncode == 0 else f"\n{res.stdout}{res.stderr}"))

    def blackbox(self, summary_path: str) -> None:
        script = os.path.join(self.root, "tests", "e2e", "stun_blackbox.py")
        res = self.run([sys.executable, script, "--server", f"{APP_V4}:{STUN_PORT}", "--server",
                        f"[{APP_V6}]:{STUN_PORT}", "--summary", summary_path], timeout=240, ns=CLIENT_NS)
        fails = [l for l in res.stdout.splitlines() if l.startswith("FAIL")]
        npass = sum(1 for l in res.stdout.splitlines() if l.startswith("PASS"))
        self.check(res.returncode == 0 and npass > 0,
                   f"stun_blackbox.py against the DPDK path: {npass} checks passed, {len(fails)} failed"
                   + ("" if res.returncode == 0 else "\n" + "\n".join(fails or [res.stdout[-3000:], res.stderr[-2000:]])))

    def load(self) -> tuple[int, int]:
        """Closed-loop load from LOAD_SOCKETS source ports per family; returns (sent, answered right)."""
        code = LOAD_CLIENT.format(v4=APP_V4, v6=APP_V6, port=STUN_PORT, nsock=LOAD_SOCKETS, total=LOAD_REQUESTS,
                                  limit=LOAD_TIME_S, magic=MAGIC)
        res = self.client_py(code, timeout=LOAD_TIME_S + 30)
        try:
            r = json.loads(res.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.check(False, f"load client output unreadable: {res.stdout[-500:]} {res.stderr[-1500:]}")
            return 0, 0
        print(f"lab: load: {r}", flush=True)
        self.check(r["bad"] == 0, f"load: every reply valid (txid, XOR-MAPPED-ADDRESS = the socket's own address): "
                                  f"{r['bad']} bad")
        # Closed loop with retries: on a quiet veth nothing should be lost for good.
        self.check(r["answered"] >= r["requests"] * 0.99 and r["requests"] >= LOAD_REQUESTS * 0.9,
                   f"load: {r['answered']}/{r['requests']} requests answered from {2 * LOAD_SOCKETS} source ports "
                   f"in {r['seconds']:.1f}s ({r['timeouts']} timeouts)")
        return r["requests"], r["answered"]


# A closed-loop client run inside sbx-cl (stdlib only): each socket keeps one
# request in flight; a reply is valid when its txid matches and its
# XOR-MAPPED-ADDRESS is the socket's own address and port.
LOAD_CLIENT = r"""
import json, os, select, socket, struct, time
MAGIC = {magic}
def xor_addr(msg, tx):
    off = 20
    while off + 4 <= len(msg):
        t, l = struct.unpack_from("!HH", msg, off)
        if t == 0x0020:
            v = msg[off + 4:off + 4 + l]
            port = struct.unpack_from("!H", v, 2)[0] ^ (MAGIC >> 16)
            key = struct.pack("!I", MAGIC) + tx
            ip = bytes(a ^ b for a, b in zip(v[4:], key))
            return socket.inet_ntop(socket.AF_INET if v[1] == 1 else socket.AF_INET6, ip), port
        off += 4 + l + (-l % 4)
    return None
socks = []
for host, fam, bind in (("{v4}", socket.AF_INET, "198.18.0.1"), ("{v6}", socket.AF_INET6, "2001:2::1")):
    for _ in range({nsock}):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((bind, 0))
        s.setblocking(False)
        socks.append((s, (host, {port}), s.getsockname()[:2]))
state = {{}}
requests = answered = bad = timeouts = 0
start = time.monotonic()
def send(i):
    global requests
    s, dst, _ = socks[i]
    tx = os.urandom(12)
    s.sendto(struct.pack("!HHI", 1, 0, MAGIC) + tx, dst)
    state[i] = (tx, time.monotonic())
    requests += 1
for i in range(len(socks)):
    if requests < {total}:
        send(i)
fd = {{socks[i][0].fileno(): i for i in range(len(socks))}}
while state and time.monotonic() - start < {limit}:
    r, _, _ = select.select([x[0] for x in socks], [], [], 0.05)
    for s in r:
        i = fd[s.fileno()]
        try:
            msg = s.recv(2048)
        except BlockingIOError:
            continue
        if i not in state or msg[8:20] != state[i][0]:
            continue  # a late answer to a request already given up on
        mapped = xor_addr(msg, state[i][0])
        if msg[:2] == b"\x01\x01" and mapped == (socks[i][2][0], socks[i][2][1]):
            answered += 1
        else:
            bad += 1
        del state[i]
        if requests < {total}:
            send(i)
    now = time.monotonic()
    for i, (tx, t0) in list(state.items()):
        if now - t0 > 1.0:
            timeouts += 1
            del state[i]
            if requests < {total}:
                send(i)
print(json.dumps(dict(requests=requests, answered=answered, bad=bad, timeouts=timeouts,
                      seconds=time.monotonic() - start)))
"""


def can_make_netns() -> str | None:
    """None when namespaces and veth work here, else why not."""
    probe = f"sbx-probe-{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create a network namespace: {r.stderr.strip()}"
    try:
        r = subprocess.run(["ip", "-n", probe, "link", "add", "sbxp0", "type", "veth", "peer", "name", "sbxp1"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return f"cannot create a veth pair: {r.stderr.strip()}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def parse_final(lines: list[str]) -> tuple[dict[str, int], dict[str, int], dict[tuple[int, int], tuple[int, int, int]]]:
    counters, drops, queues = {}, {}, {}
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("stunbox: final counters"))
    except StopIteration:
        return counters, drops, queues
    for line in lines[start + 1:]:
        m = re.match(r"^\s+port (\d+) queue (\d+) lcore \d+: rx (\d+) tx (\d+) drops (\d+)", line)
        if m:
            queues[(int(m.group(1)), int(m.group(2)))] = tuple(int(m.group(k)) for k in (3, 4, 5))
            continue
        m = re.match(r"^\s+drop (\w+)\s+(\d+)\s*$", line)
        if m:
            drops[m.group(1)] = int(m.group(2))
            continue
        m = re.match(r"^\s+(\w+)\s+(\d+)(\s|$)", line)
        if m:
            counters[m.group(1)] = int(m.group(2))
    return counters, drops, queues


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stunbox", required=True)
    ap.add_argument("--backend", choices=["af_packet", "af_xdp"], required=True)
    ap.add_argument("--source-root", default=os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..")))
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("lab_test: SKIP: needs root (network namespaces, veth, AF_PACKET/AF_XDP sockets)")
        return SKIP
    why = can_make_netns()
    if why:
        print(f"lab_test: SKIP: {why}")
        return SKIP
    missing = [t for t in ("turnutils_stunclient", "stun", "ping", "ethtool") if not any(
        os.access(os.path.join(d, t), os.X_OK) for d in os.environ.get("PATH", "/usr/bin:/usr/sbin").split(":") +
        ["/usr/sbin", "/sbin"])]
    if missing:
        print(f"lab_test: FAIL: missing tools {missing} (scripts/setup.sh installs coturn, stun-client, iputils-ping, ethtool)")
        return 1

    lock = h.netns_lab_lock()  # noqa: F841 (held until exit)
    lab = Lab(args)
    # meson's timeout sends SIGTERM: unwind through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    summary = tempfile.NamedTemporaryFile(prefix="stunbox-lab-summary-", suffix=".json", delete=False)
    summary.close()
    try:
        up = lab.run([lab.script, "up", str(QUEUES)], timeout=60)
        if not lab.check(up.returncode == 0, f"netns-lab.sh up {QUEUES}" + ("" if up.returncode == 0 else f"\n{up.stdout}{up.stderr}")):
            return 1
        if not lab.check(lab.start(), f"stunbox ({args.backend}) printed its ready line within {READY_TIMEOUT_S}s"):
            lab.stop()
            lab.dump()
            return 1
        mac = lab.appliance_mac()
        lab.warm_up()
        lab.neighbours(mac)
        lab.stunclient()
        lab.ping()
        lab.blackbox(summary.name)
        lab.load()
        rc = lab.stop()
        lab.check(rc == 0, f"SIGTERM -> stunbox exit code {rc} (expected 0)")

        counters, drops, queues = parse_final(lab.out_lines)
        if lab.check(bool(counters), "final counters printed"):
            lab.check(len(queues) == QUEUES and all(q[0] > 0 for q in queues.values()),
                      f"every queue received traffic: " + ", ".join(
                          f"port {p} queue {q}: rx {v[0]} tx {v[1]} drops {v[2]}" for (p, q), v in sorted(queues.items())))
            lab.check(counters.get("arp_replies", 0) > 0 and counters.get("ndp_adverts", 0) > 0,
                      f"ARP replies {counters.get('arp_replies')} and NDP adverts {counters.get('ndp_adverts')} counted")
            lab.check(counters.get("icmp_echo_replies", 0) >= 3 and counters.get("icmp6_echo_replies", 0) >= 3,
                      f"echo replies counted: v4 {counters.get('icmp_echo_replies')}, v6 {counters.get('icmp6_echo_replies')}")
            # The black box is the only source of malformed STUN, and of 420s
            # besides the two change requests of Debian's `stun` (stunclient):
            # the DPDK path must have counted each under its own reason.
            try:
                with open(summary.name) as fh:
                    sent = json.load(fh)
            except (OSError, ValueError):
                sent = {}
            if lab.check(bool(sent), "stun_blackbox.py wrote its summary"):
                want = sent.get("error_420", 0) + DEBIAN_STUN_420S
                lab.check(counters.get("stun_error") == want,
                          f"stun_error {counters.get('stun_error')} = 420 cases sent {want}")
                for kind, n in sorted(sent.items()):
                    if not kind.startswith("drop_") or kind == "drop_oversize":
                        continue  # oversize datagrams arrive as IP fragments: dropped below STUN
                    reason = "stun_" + kind[len("drop_"):]
                    lab.check(drops.get(reason, 0) == n, f"drop {reason} = {drops.get(reason, 0)}, black box sent {n}")
        if lab.failures:
            lab.dump()
    finally:
        if lab.proc is not None and lab.proc.poll() is None:
            lab.stop()
        down = subprocess.run([lab.script, "down"], capture_output=True, text=True, timeout=60)
        if down.returncode != 0:
            print(f"lab_test: netns-lab.sh down failed: {down.stdout}{down.stderr}")
        os.unlink(summary.name)
    print(f"lab_test ({args.backend}): " + ("PASS" if not lab.failures else f"{len(lab.failures)} failure(s)"))
    return 0 if not lab.failures else 1


if __name__ == "__main__":
    sys.exit(main())
