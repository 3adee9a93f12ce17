#!/usr/bin/env python3
"""Link down and up under the real stunbox in dpdk mode: the watcher's lines, the counters, serving resumes by itself.

Usage: link_flap_test.py --stunbox PATH --cli PATH

stunbox runs on net_tap in a network namespace of our own (sbxf-lf-PID).
net_tap reads its link from the kernel interface's flags (IFF_UP and
IFF_RUNNING), so `ip link set IF down/up` flips the port's link from
outside. The kernel side of the TAP device is the client (198.19.1.1/24),
stunbox owns 198.19.1.2. Sequence: a Binding request is answered; link down
-> `stunbox: port 0 link down` within 5 s, /metrics stunbox_link_up 0, and
requests go unanswered; link up -> `stunbox: port 0 link up ...` within 5 s,
requests answered again within 10 s with no restart of anything; the change
count is 2 in `show port info 0` and in stunbox_link_changes_total;
SIGTERM -> exit 0, and every mbuf is back in the mempool.

Announcements (issue 14): a raw socket on the kernel side of the TAP device
sees, after the link comes up again, a gratuitous ARP, an unsolicited NA
and an MLDv2 report from the port's MAC; they were sent by the lcore that
owns the queue (the final counters count them as `announcements`, a counter
only the lcore writes), never by the main lcore. An MLD general query sent
from the kernel side is answered with an MLDv2 report of the port's
solicited-node group (final counter mld_reports).

Needs root (network namespace, TAP device); exit 77 (skipped) otherwise or
when no namespace can be made. The namespace is always removed and stunbox
always stopped.
"""

from __future__ import annotations

import argparse
import errno
import os
import json
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stunbox_harness as h  # noqa: E402
from stunbox_harness import SKIP, Checks, Daemon, ip  # noqa: E402

APP_V4, CL_V4 = "198.19.1.2", "198.19.1.1"
APP_V6 = "2001:2:1::2"
CAPTURE_S = 5.0
STUN_PORT = 3478          # inside our own namespace: no other server can be there
METRICS_PORT = 9478       # likewise
READY_TIMEOUT_S = 30
LINE_TIMEOUT_S = 5        # the watcher looks every 250 ms
RESUME_TIMEOUT_S = 10
EXIT_TIMEOUT_S = 20


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mld_query(src_mac: bytes) -> bytes:
    """An MLDv2 general query from fe80::1 to ff02::1 (hop limit 1, Hop-by-Hop Router Alert)."""
    src, dst = socket.inet_pton(socket.AF_INET6, "fe80::1"), socket.inet_pton(socket.AF_INET6, "ff02::1")
    body = struct.pack("!BBHHH", 130, 0, 0, 1000, 0) + bytes(16) + struct.pack("!BBH", 2, 125, 0)
    c = csum(src + dst + struct.pack("!IxxxB", len(body), 58) + body)
    body = body[:2] + struct.pack("!H", c) + body[4:]
    hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])
    ip6 = struct.pack("!IHBB", 0x60000000, len(hbh) + len(body), 0, 1) + src + dst
    return bytes.fromhex("333300000001") + src_mac + b"\x86\xdd" + ip6 + hbh + body


def classify(f: bytes, app_mac: bytes) -> str | None:
    """What an announcement frame from the app is: garp, na, mld; None for anything else."""
    if len(f) < 14 or f[6:12] != app_mac:
        return None
    et = struct.unpack("!H", f[12:14])[0]
    if et == 0x0806 and len(f) >= 42 and f[20:22] == b"\x00\x01" and f[28:32] == f[38:42] == socket.inet_aton(APP_V4):
        return "garp"
    if et == 0x86DD and len(f) >= 62:
        if f[20] == 58 and f[54] == 136:
            return "na"
        if f[20] == 0 and f[54] == 58 and f[62] == 143:
            return "mld"
    return None


def capture_main(iface: str, app_mac: str, query: bool) -> int:
    """Runs inside the namespace: counts the app's announcement frames for CAPTURE_S seconds."""
    mac = bytes.fromhex(app_mac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    s.settimeout(0.2)
    print("ready", flush=True)
    if query:
        own = bytes.fromhex(open(f"/sys/class/net/{iface}/address").read().strip().replace(":", ""))
        s.send(mld_query(own))
    seen = {"garp": 0, "na": 0, "mld": 0}
    end = time.monotonic() + CAPTURE_S
    while time.monotonic() < end:
        try:
            f, addr = s.recvfrom(4096)
        except socket.timeout:
            continue
        except OSError as e:  # ENETDOWN once: the socket was bound while the interface was down
            if e.errno == errno.ENETDOWN:
                continue
            raise
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        k = classify(f, mac)
        if k:
            seen[k] += 1
    print(json.dumps(seen), flush=True)
    return 0


def in_ns_main(args) -> int:
    """Runs inside the namespace (re-executed via ip netns exec)."""
    if args.probe:
        tries, wait = int(args.probe[0]), float(args.probe[1])
        ok = h.stun_answered(APP_V4, STUN_PORT, tries, wait)
        print("answered" if ok else "unanswered")
        return 0 if ok else 1
    with urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=5) as r:
        sys.stdout.write(r.read().decode())
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox")
    ap.add_argument("--cli")
    ap.add_argument("--probe", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--scrape", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--capture", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--query", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.capture:
        return capture_main(args.capture[0], args.capture[1], args.query)
    if args.probe or args.scrape:
        return in_ns_main(args)
    if os.geteuid() != 0:
        print("link_flap_test: SKIP: needs root (network namespace, TAP device)")
        return SKIP
    check = Checks("link_flap_test")
    pid = os.getpid()
    ns, tap = f"sbxf-lf-{pid}", f"sbxfl{pid}"  # interface names <= 15 characters
    workdir = h.begin_namespace_run("link_flap_test", ns)
    if workdir is None:
        return SKIP
    ctl = os.path.join(workdir, "ctl.sock")
    cfg = os.path.join(workdir, "tap.yaml")
    with open(cfg, "w") as f:
        f.write(f"""mode: dpdk
stun: {{ports: [{STUN_PORT}]}}
dpdk:
  eal: ["--no-pci", "--no-huge", "-m", "256", "--no-shconf", "--file-prefix", "{ns}", "--lcores", "0@0,1@0"]
  ports:
    - device: "net_tap0,iface={tap}"
      queues: 1
      addresses: ["{APP_V4}/24", "{APP_V6}/64"]
  idle: adaptive
  link_wait_ms: 1000
control: {{socket: "{ctl}"}}
stats: {{period: 0, metrics_listen: "127.0.0.1:{METRICS_PORT}"}}
""")
    in_ns = ["ip", "netns", "exec", ns]
    me = [sys.executable, os.path.abspath(__file__)]

    def probe(tries: int, wait: float) -> bool:
        r = subprocess.run(in_ns + me + ["--probe", str(tries), str(wait)], capture_output=True, text=True,
                           timeout=tries * wait + 30)
        return r.returncode == 0

    def start_capture(mac: str, query: bool = False) -> subprocess.Popen:
        c = subprocess.Popen(in_ns + me + ["--capture", tap, mac] + (["--query"] if query else []),
                             stdout=subprocess.PIPE, text=True)
        ready = c.stdout.readline().strip()
        check(ready == "ready", f"capture on {tap} started ({ready!r})")
        return c

    def capture_result(c: subprocess.Popen) -> dict:
        try:
            out, _ = c.communicate(timeout=CAPTURE_S + 30)
        except subprocess.TimeoutExpired:
            c.kill()
            return {}
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {}

    def metric(name: str) -> int | None:
        r = subprocess.run(in_ns + me + ["--scrape"], capture_output=True, text=True, timeout=30)
        m = re.search(r"^" + re.escape(name) + r'\{port="0"\} (\d+)$', r.stdout, re.M)
        return int(m.group(1)) if m else None

    daemon = None
    try:
        daemon = Daemon(in_ns + [args.stunbox, "-c", cfg])
        if not check(daemon.wait_ready(READY_TIMEOUT_S), f"dpdk mode on net_tap ready within {READY_TIMEOUT_S} s"):
            print("\n".join(daemon.text_lines()))
            return check.verdict()
        for cmd in (["link", "set", "lo", "up"], ["addr", "add", f"{CL_V4}/24", "dev", tap]):
            r = ip("-n", ns, *cmd)
            check(r.returncode == 0, "ip " + " ".join(cmd) + (": " + r.stderr.strip() if r.returncode else ""))
        check(probe(5, 1.0), "link up: a Binding request is answered")
        check(metric("stunbox_link_up") == 1 and metric("stunbox_link_changes_total") == 0,
              "/metrics: stunbox_link_up 1, stunbox_link_changes_total 0")

        mark = daemon.mark()
        check(ip("-n", ns, "link", "set", tap, "down").returncode == 0, f"ip link set {tap} down")
        i = daemon.wait_line(r"^stunbox: port 0 link down$", LINE_TIMEOUT_S, mark)
        check(i is not None, f"`stunbox: port 0 link down` printed within {LINE_TIMEOUT_S} s")
        check(metric("stunbox_link_up") == 0, "/metrics: stunbox_link_up 0 while down")
        check(not probe(3, 0.5), "link down: Binding requests go unanswered")

        m = re.search(r"^  port 0 \(id \d+\) \S+ driver \S+ mac ([0-9a-f:]{17}) ", daemon.text(), re.M)
        app_mac = m.group(1) if m else "00:00:00:00:00:00"
        check(m is not None, f"the summary names port 0's MAC ({app_mac})")
        cap = start_capture(app_mac)
        mark = daemon.mark()
        check(ip("-n", ns, "link", "set", tap, "up").returncode == 0, f"ip link set {tap} up")
        i = daemon.wait_line(r"^stunbox: port 0 link up ", LINE_TIMEOUT_S, mark)
        up_line = daemon.text_lines()[i] if i is not None else ""
        check(i is not None and re.match(r"^stunbox: port 0 link up (\d+ Mbps|, speed unknown,) (full|half)-duplex$",
                                         up_line) is not None,
              f"`stunbox: port 0 link up ...` printed within {LINE_TIMEOUT_S} s ({up_line!r})")
        seen = capture_result(cap)
        check(seen.get("garp", 0) >= 1 and seen.get("na", 0) >= 1 and seen.get("mld", 0) >= 1,
              f"after link-up: a gratuitous ARP, an unsolicited NA and an MLDv2 report from {app_mac} ({seen})")
        cap = start_capture(app_mac, query=True)
        seen = capture_result(cap)
        check(seen.get("mld", 0) >= 1, f"an MLD general query is answered with an MLDv2 report ({seen})")
        # Bringing the interface down dropped its connected route; up restores it (the address stays).
        check(probe(int(RESUME_TIMEOUT_S / 0.5), 0.5),
              f"link up again: Binding requests answered again within {RESUME_TIMEOUT_S} s, nothing restarted")
        rc, out, _ = h.cli(args.cli, ctl, "show", "port", "info", "0")
        m = re.search(r"Link changes: (\d+)", out)
        check(rc == 0 and m is not None and int(m.group(1)) == 2,
              f"show port info 0: Link changes 2 ({m.group(0) if m else out.strip()!r})")
        check("Link status: up" in out, "show port info 0: Link status up")
        ups, changes = metric("stunbox_link_up"), metric("stunbox_link_changes_total")
        check(ups == 1 and changes == 2, f"/metrics: stunbox_link_up 1 ({ups}), stunbox_link_changes_total 2 ({changes})")

        rc, took = daemon.terminate(EXIT_TIMEOUT_S)
        check(rc == 0, f"SIGTERM -> exit 0 (got {rc} after {took:.1f} s)")
        daemon.wait_eof(5)
        lines = daemon.text_lines()
        link_lines = [l for l in lines if re.match(r"^stunbox: port \d+ link ", l)]
        check(len(link_lines) == 2, f"exactly two link lines printed: {link_lines}")
        final = h.parse_final(lines)
        check(final is not None and final[0].get("stun_success", 0) >= 2, "final counters: stun_success >= 2")
        # Counted by the lcore that sent them on its own queue (the main lcore never writes that counter).
        ann = final[0].get("announcements", 0) if final else 0
        check(ann >= 3, f"final counters: announcements >= 3, sent by the lcore ({ann})")
        mld = final[0].get("mld_reports", 0) if final else 0
        check(mld >= 1, f"final counters: mld_reports >= 1 ({mld})")
        pools = h.mempool_lines(lines)
        check(len(pools) == 1 and pools[0].group(2) == pools[0].group(3),
              f"mempool back to baseline at exit: {[m.group(0) for m in pools]}")
    finally:
        h.end_namespace_run(daemon, ns, workdir)
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
