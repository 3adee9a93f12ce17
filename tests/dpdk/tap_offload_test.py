#!/usr/bin/env python3
"""The real stunbox on net_tap in a private network namespace: the hardware-checksum variant end to end.

Usage: tap_offload_test.py --stunbox PATH

net_tap offers RX and TX IPv4/UDP checksum offloads, so stunbox picks
reflect<true> and sets the mbuf TX offload flags (l2_len/l3_len, ol_flags);
the kernel on the other side of the TAP device then verifies every checksum
of every reply, so a wrong offload setup shows up as lost replies. Checks:
the summary reports "rx checksum hw, tx ipv4/udp checksum hw" and RSS over
two queues; IPv4 and IPv6 Binding requests from many source ports all get
the right XOR-MAPPED-ADDRESS; ping answered; SIGTERM -> exit 0 with per-queue
counters. Needs root (exit 77 = skipped otherwise). The namespace is always
removed and stunbox always stopped.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time

SKIP = 77
MAGIC = 0x2112A442
APP_V4, APP_V6 = "198.18.0.2", "2001:2::2"
CL_V4, CL_V6 = "198.18.0.1", "2001:2::1"
STUN_PORT = 3478
READY_TIMEOUT_S = 30
EXIT_TIMEOUT_S = 20
FLOWS = 40

failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(("PASS " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def stun_request(txid: bytes) -> bytes:
    return struct.pack("!HHI", 0x0001, 0, MAGIC) + txid


def xor_mapped(reply: bytes, txid: bytes) -> tuple[str, int] | None:
    if len(reply) < 20:
        return None
    mtype, mlen, cookie = struct.unpack("!HHI", reply[:8])
    if mtype != 0x0101 or cookie != MAGIC or reply[8:20] != txid or mlen + 20 != len(reply):
        return None
    off = 20
    while off + 4 <= len(reply):
        atype, alen = struct.unpack("!HH", reply[off:off + 4])
        val = reply[off + 4:off + 4 + alen]
        if atype == 0x0020:
            port = struct.unpack("!H", val[2:4])[0] ^ (MAGIC >> 16)
            key = struct.pack("!I", MAGIC) + txid
            addr = bytes(a ^ k for a, k in zip(val[4:], key))
            fam = socket.AF_INET if val[1] == 1 else socket.AF_INET6
            return socket.inet_ntop(fam, addr), port
        off += 4 + ((alen + 3) & ~3)
    return None


def client(ns: str) -> None:
    """Runs inside the namespace (re-executed via ip netns exec): one request per source port, closed loop."""
    bad = 0
    answered = 0
    for fam, server, mine in ((socket.AF_INET, APP_V4, CL_V4), (socket.AF_INET6, APP_V6, CL_V6)):
        for i in range(FLOWS):
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.bind((mine, 0))
            txid = os.urandom(12)
            got = None
            for _ in range(3):  # the first packets may wait for ARP/NDP
                s.sendto(stun_request(txid), (server, STUN_PORT))
                r, _, _ = select.select([s], [], [], 1.0)
                if r:
                    got = xor_mapped(s.recv(2048), txid)
                    break
            if got is None:
                bad += 1
            elif got != (mine, s.getsockname()[1]):
                bad += 1
            else:
                answered += 1
            s.close()
            if bad >= 5:  # broken: do not spend minutes on timeouts
                break
    print(f"answered {answered} bad {bad}", flush=True)
    sys.exit(0 if bad == 0 else 1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox")
    ap.add_argument("--client", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        client(args.client)
    if os.geteuid() != 0:
        print("tap_offload_test: needs root (network namespace, TAP device): skipped")
        return SKIP
    ns = f"sbxtap-{os.getpid()}"
    if run(["ip", "netns", "add", ns]).returncode != 0:
        print("tap_offload_test: cannot create a network namespace: skipped")
        return SKIP
    proc = None
    workdir = f"/tmp/{ns}"
    os.makedirs(workdir, exist_ok=True)
    cfg = os.path.join(workdir, "tap.yaml")
    with open(cfg, "w") as f:
        f.write(f"""mode: dpdk
stun: {{ports: [{STUN_PORT}]}}
dpdk:
  eal: ["--no-pci", "--no-huge", "-m", "256", "--no-shconf", "--file-prefix", "{ns}",
        "--lcores", "0@0,1@0,2@{1 if (os.cpu_count() or 1) > 1 else 0}"]
  ports:
    - device: "net_tap0,iface=sbxtap0"
      queues: 2
      addresses: ["{APP_V4}/24", "{APP_V6}/64"]
  idle: adaptive
  link_wait_ms: 1000
""")
    try:
        out_path = os.path.join(workdir, "stdout")
        out = open(out_path, "w+")
        proc = subprocess.Popen(["ip", "netns", "exec", ns, args.stunbox, "-c", cfg], stdout=out,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + READY_TIMEOUT_S
        text = ""
        while time.monotonic() < deadline and proc.poll() is None:
            out.seek(0)
            text = out.read()
            if "stunbox: ready" in text:
                break
            time.sleep(0.05)
        check("stunbox: ready" in text, f"ready line within {READY_TIMEOUT_S}s")
        if "stunbox: ready" not in text:
            print(text, proc.stderr.read() if proc.poll() is not None else "")
            return 1
        check("rx checksum hw, tx ipv4/udp checksum hw" in text, "net_tap port uses the hardware checksum variant")
        check(re.search(r"^\s+rss ipv4 ipv4-udp ipv6 ipv6-udp", text, re.M) is not None, "RSS programmed on 2 queues")

        n = ["ip", "netns", "exec", ns]
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", f"{CL_V4}/24", "dev", "sbxtap0"],
                    ["ip", "addr", "add", f"{CL_V6}/64", "dev", "sbxtap0", "nodad"]):
            r = run(n + cmd)
            check(r.returncode == 0, " ".join(cmd) + (": " + r.stderr.strip() if r.returncode else ""))
        r = run(n + [sys.executable, os.path.abspath(__file__), "--client", ns], timeout=120)
        check(r.returncode == 0, f"every IPv4/IPv6 Binding request from {FLOWS} source ports each answered "
              f"correctly through the kernel's checksum checks ({r.stdout.strip()})")
        r = run(n + ["ping", "-c", "2", "-W", "2", APP_V4], timeout=20)
        check(r.returncode == 0, f"ping {APP_V4} answered")

        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, f"SIGTERM -> exit 0 (got {rc})")
        out.seek(0)
        text = out.read()
        queues = re.findall(r"port 0 queue (\d) lcore \d+: rx (\d+) tx (\d+) drops (\d+)", text)
        check(len(queues) == 2, f"per-queue final counters printed: {queues}")
        m = re.search(r"^\s+stun_success\s+(\d+)", text, re.M)
        check(m is not None and int(m.group(1)) >= 2 * FLOWS, f"stun_success >= {2 * FLOWS}")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        run(["ip", "netns", "del", ns])
        subprocess.run(["rm", "-rf", workdir, f"/var/run/dpdk/{ns}"])  # EAL's runtime dir for our prefix
    print("tap_offload_test: " + ("PASS" if not failures else f"FAIL ({len(failures)})"))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
