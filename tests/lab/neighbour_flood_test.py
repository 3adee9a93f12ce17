#!/usr/bin/env python3
"""The netns lab with one queue: an ICMP echo flood at 10x limits.l3_pps must not starve ARP and NDP.

Usage: neighbour_flood_test.py --stunbox PATH [--source-root DIR]

scripts/netns-lab.sh up 1, stunbox on net_af_packet with one queue (so ARP,
ICMP and NDP all reach the same lcore, as on a NIC that hashes them to queue
0) and limits.l3_pps 200. From sbx-cl, raw frames: echo requests (IPv4 and
IPv6) at 10x limits.l3_pps for FLOOD_S seconds and, all through the flood,
an ARP request and a neighbour solicitation every PROBE_EVERY_S seconds,
each from a source address of its own so that every answer is matched to
its request. Every ARP and NS request must be answered, the echo replies
must stay within the echo budget (the flood was really policed), and the
final counters must show l3_policed > 0 and nd_policed = 0.

Root only; exits 77 (meson: skipped) when not root or when this machine
cannot create network namespaces. Run it under flock /tmp/stunbox-lab.lock
(the lab's namespace names are fixed). In client mode (--client, run by the
test inside sbx-cl) it sends and counts, and prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "pcap"))
import packets as pk  # noqa: E402
import stunbox_harness as h  # noqa: E402

CLIENT_NS, APPLIANCE_NS = "sbx-cl", "sbx-dp"
CLIENT_IF, APPLIANCE_IF = "sbx-cl0", "sbx-dp0"
APP_V4, APP_V6 = "198.18.0.2", "2001:2::2"
CL_V4, CL_V6 = "198.18.0.1", "2001:2::1"
L3_PPS = 200              # limits.l3_pps for this run: the echo budget per lcore
FLOOD_FACTOR = 10         # echo requests per second = FLOOD_FACTOR * L3_PPS
FLOOD_S = 8.0             # flood duration
PROBE_EVERY_S = 0.1       # one ARP request and one NS per interval during the flood
SETTLE_S = 2.0            # after the flood: time for the last answers to arrive
RETRANSMIT_S = 1.0        # a probe unanswered this long is sent once more (as a neighbour does)
READY_TIMEOUT_S = 30
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


# ---------------------------------------------------------------- client mode (inside sbx-cl)

def client(args) -> int:
    """Sends the flood and the probes on CLIENT_IF, counts the answers, prints one JSON line."""
    app_mac = pk.mac(args.app_mac)
    with open(f"/sys/class/net/{CLIENT_IF}/address") as f:
        my_mac = pk.mac(f.read().strip())
    c4, s4, c6, s6 = pk.ip4(CL_V4), pk.ip4(APP_V4), pk.ip6(CL_V6), pk.ip6(APP_V6)
    sn = pk.solicited_node(s6)

    def echo(i: int) -> bytes:
        body = struct.pack("!HH", 0x5a5a, i & 0xFFFF) + b"flood" * 4
        if i % 2:
            return pk.eth(app_mac, my_mac, pk.ETH_IPV6, pk.ipv6(c6, s6, pk.PROTO_ICMP6, pk.icmp6(c6, s6, 128, 0, body)))
        return pk.eth(app_mac, my_mac, pk.ETH_IPV4, pk.ipv4(c4, s4, pk.PROTO_ICMP, pk.icmp4(8, 0, body)))

    # Probe i comes from its own source address: its answer is addressed there.
    def arp_source(i: int) -> bytes:
        return pk.ip4(f"198.18.0.{100 + i % 150}") if i < 150 else pk.ip4(f"198.18.1.{i % 250 + 1}")

    def ns_source(i: int) -> bytes:
        return pk.ip6(f"2001:2::1:{i:x}")

    def arp_request(i: int) -> bytes:
        return pk.eth(pk.BROADCAST, my_mac, pk.ETH_ARP, pk.arp(1, my_mac, arp_source(i), b"\0" * 6, s4))

    def neighbour_solicitation(i: int) -> bytes:
        src = ns_source(i)
        return pk.eth(pk.multicast_mac_v6(sn), my_mac, pk.ETH_IPV6,
                      pk.ipv6(src, sn, pk.PROTO_ICMP6, pk.icmp6(src, sn, 135, 0, pk.ns_body(s6, my_mac)), hop_limit=255))

    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((CLIENT_IF, 0))
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.bind((CLIENT_IF, ETH_P_ALL))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    rx.settimeout(0.2)

    arp_waiting: dict[bytes, int] = {}  # source address -> probe index, until answered
    ns_waiting: dict[bytes, int] = {}
    lock = threading.Lock()
    got = {"echo_replies": 0, "arp_answered": 0, "ns_answered": 0, "retransmitted": 0}
    sent_at: dict[int, float] = {}  # probe index -> when it was (re)sent; dropped once retransmitted
    done = threading.Event()

    def receive() -> None:
        while not done.is_set():
            try:
                frame, addr = rx.recvfrom(2048)
            except socket.timeout:
                continue
            if addr[2] == PACKET_OUTGOING or frame[6:12] != app_mac:
                continue
            try:
                f = pk.parse_frame(frame)
            except ValueError:
                continue
            icmp_type = f.ip_payload[0] if f.proto in (pk.PROTO_ICMP, pk.PROTO_ICMP6) and f.ip_payload else -1
            with lock:
                if f.ethertype == pk.ETH_ARP and len(f.l3) >= 28 and f.l3[6:8] == b"\x00\x02":
                    # RFC 826 reply: sender = the appliance, target = the probe's source.
                    if f.l3[14:18] == s4 and arp_waiting.pop(bytes(f.l3[24:28]), None) is not None:
                        got["arp_answered"] += 1
                elif f.v6 and icmp_type == 136:
                    # RFC 4861 NA for our target, to the solicitation's source.
                    if f.ip_payload[8:24] == s6 and ns_waiting.pop(bytes(f.ip_dst), None) is not None:
                        got["ns_answered"] += 1
                elif icmp_type == (129 if f.v6 else 0):
                    got["echo_replies"] += 1

    def retransmit(now: float) -> None:
        """A neighbour unanswered after RETRANSMIT_S asks once more, as ARP and NDP do (RFC 1122 s2.3.2.1,
        RFC 4861 s7.2.2): a frame the veth or the packet socket dropped on a loaded machine is not a policer's
        doing. A starved budget stays starved: the retransmission falls in the same flood."""
        with lock:
            waiting = set(arp_waiting.values()) | set(ns_waiting.values())
        for i, t in list(sent_at.items()):
            if now - t < RETRANSMIT_S:
                continue
            del sent_at[i]  # once
            if i not in waiting:
                continue
            got["retransmitted"] += 1
            if arp_source(i) in arp_waiting:
                tx.send(arp_request(i))
            if ns_source(i) in ns_waiting:
                tx.send(neighbour_solicitation(i))

    reader = threading.Thread(target=receive, daemon=True)
    reader.start()
    rate = args.flood_pps
    echoes = probes = 0
    start = time.monotonic()
    next_probe = start
    while (now := time.monotonic()) - start < args.seconds:
        # Paced in 1 ms steps: as many echoes as the rate owes by now.
        while echoes < int((now - start) * rate):
            tx.send(echo(echoes))
            echoes += 1
        if now >= next_probe:
            with lock:
                arp_waiting[arp_source(probes)] = probes
                ns_waiting[ns_source(probes)] = probes
            tx.send(arp_request(probes))
            tx.send(neighbour_solicitation(probes))
            sent_at[probes] = now
            probes += 1
            next_probe += args.probe_every
        retransmit(now)
        time.sleep(0.001)
    flood_s = time.monotonic() - start
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        with lock:
            if not arp_waiting and not ns_waiting:
                break
        time.sleep(0.05)
    done.set()
    reader.join(1)
    with lock:
        print(json.dumps(dict(got, echo_sent=echoes, probes=probes, flood_seconds=round(flood_s, 2),
                              flood_pps=round(echoes / flood_s), arp_unanswered=len(arp_waiting),
                              ns_unanswered=len(ns_waiting))))
    return 0


# ---------------------------------------------------------------- the test

def run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, -999, e.stdout or "", f"{e.stderr or ''}\n(timed out after {timeout}s)")


def can_make_netns() -> str | None:
    probe = f"sbx-probe-{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"cannot create a network namespace: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def test(args) -> int:
    if os.geteuid() != 0:
        print("neighbour_flood_test: SKIP: needs root (network namespaces, veth, AF_PACKET)")
        return h.SKIP
    why = can_make_netns()
    if why:
        print(f"neighbour_flood_test: SKIP: {why}")
        return h.SKIP
    check = h.Checks("neighbour_flood_test")
    lab = os.path.join(args.source_root, "scripts", "netns-lab.sh")
    with open(os.path.join(args.source_root, "config", "examples", "lab-af_packet.yaml")) as f:
        config_text = f.read()
    srv = None
    try:
        up = run([lab, "up", "1"], 60)
        if not check(up.returncode == 0, "netns-lab.sh up 1" + ("" if up.returncode == 0 else f"\n{up.stdout}{up.stderr}")):
            return check.verdict()
        sets = ['dpdk.ports[0].device="net_af_packet0,iface=sbx-dp0,qpairs=1"', "dpdk.ports[0].queues=1",
                f"limits.l3_pps={L3_PPS}", 'control.socket=""']
        srv = h.Stunbox(os.path.abspath(args.stunbox), config_text, sets, prefix=["ip", "netns", "exec", APPLIANCE_NS])
        if not check(srv.wait_ready(READY_TIMEOUT_S), f"stunbox (af_packet, 1 queue) ready within {READY_TIMEOUT_S}s"):
            print(srv.text())
            return check.verdict()
        mac = run(["ip", "-n", APPLIANCE_NS, "-br", "link", "show", APPLIANCE_IF], 10).stdout.split()[2]
        flood_pps = FLOOD_FACTOR * L3_PPS
        res = run(["ip", "netns", "exec", CLIENT_NS, sys.executable, os.path.abspath(__file__), "--client",
                   "--app-mac", mac, "--flood-pps", str(flood_pps), "--seconds", str(FLOOD_S),
                   "--probe-every", str(PROBE_EVERY_S)], FLOOD_S + SETTLE_S + 30)
        try:
            r = json.loads(res.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            check(False, f"client output readable: {res.stdout[-500:]} {res.stderr[-1500:]}")
            return check.verdict()
        print(f"neighbour_flood_test: client: {r}", flush=True)
        check(r["flood_pps"] >= 0.9 * flood_pps,
              f"echo flood at {r['flood_pps']}/s for {r['flood_seconds']}s (10x limits.l3_pps {L3_PPS} = {flood_pps}/s)")
        check(r["arp_answered"] == r["probes"] and r["probes"] >= FLOOD_S / PROBE_EVERY_S * 0.9,
              f"every ARP request answered during the flood: {r['arp_answered']}/{r['probes']} "
              f"({r['retransmitted']} probe(s) retransmitted once)")
        check(r["ns_answered"] == r["probes"],
              f"every neighbour solicitation answered during the flood: {r['ns_answered']}/{r['probes']}")
        # A retransmission covers a frame a loaded machine dropped, not a starved budget.
        check(r["retransmitted"] <= r["probes"] // 10,
              f"at most a tenth of the probes needed a retransmission ({r['retransmitted']} of {r['probes']})")
        # The echo budget: a tenth of a second's burst, then L3_PPS per second (slack for the
        # clock granularity of one read per burst).
        budget = L3_PPS * (r["flood_seconds"] + SETTLE_S) + L3_PPS / 10
        check(0 < r["echo_replies"] <= budget * 1.1,
              f"echo replies held to the echo budget: {r['echo_replies']} of {r['echo_sent']} (budget ~{budget:.0f})")
        rc = srv.stop(timeout=h.STOP_TIMEOUT * 4)
        check(rc == 0, f"SIGTERM -> exit code {rc}")
        final = srv.final()
        if check(final is not None, "final counters printed"):
            counters, drops, _ = final
            check(drops.get("l3_policed", 0) > 0, f"l3_policed {drops.get('l3_policed', 0)} > 0")
            check(drops.get("nd_policed", 0) == 0, f"nd_policed {drops.get('nd_policed', 0)} = 0")
            check(counters.get("arp_replies", 0) >= r["probes"] and counters.get("ndp_adverts", 0) >= r["probes"],
                  f"arp_replies {counters.get('arp_replies')} and ndp_adverts {counters.get('ndp_adverts')} "
                  f">= {r['probes']} probes")
        if check.failures:
            print("--- stunbox output\n" + srv.text())
    finally:
        if srv is not None and srv.proc.poll() is None:
            srv.stop(timeout=h.STOP_TIMEOUT * 4)
        down = run([lab, "down"], 60)
        if down.returncode != 0:
            print(f"neighbour_flood_test: netns-lab.sh down failed: {down.stdout}{down.stderr}")
    return check.verdict()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stunbox")
    ap.add_argument("--source-root", default=os.path.normpath(os.path.join(HERE, "..", "..")))
    ap.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--app-mac", help=argparse.SUPPRESS)
    ap.add_argument("--flood-pps", type=int, default=FLOOD_FACTOR * L3_PPS, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=FLOOD_S, help=argparse.SUPPRESS)
    ap.add_argument("--probe-every", type=float, default=PROBE_EVERY_S, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        return client(args)
    if not args.stunbox:
        ap.error("--stunbox is required")
    lock = h.netns_lab_lock()  # noqa: F841 (held until exit)
    return test(args)


if __name__ == "__main__":
    sys.exit(main())
