#!/usr/bin/env python3
"""The real stunbox in dpdk mode with something missing: each case must end in exactly one stderr line and exit 1.

Usage: startup_errors_test.py --stunbox PATH

Cases: no worker lcore, a vdev EAL cannot parse, a vdev whose driver fails
to probe (af_packet on a missing interface), an lcore map naming an lcore
EAL does not have, a bad EAL argument after `--`, too many queues for the
device, and (root with no hugepages reserved only) missing hugepages.
Root only, in a network namespace of our own with a veth pair (removed in
every case): ports that probe but cannot be set up as configured: more
queues than net_tap (16) or net_af_packet's qpairs offer, and an MTU over
what net_tap or net_af_packet take (their max_rx_pktlen), each naming its
YAML key; after each, no process is left in the namespace. No packets are
sent; every run is bounded by a timeout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

BASE_EAL = ["--no-pci", "--no-huge", "-m", "128", "--no-shconf", "--file-prefix", f"sbxerr-{os.getpid()}"]
EMPTY_PCAP = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")


def yaml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def netns_up(ns: str, veth: str) -> str | None:
    """A namespace with one veth pair (both ends up) for the root-only cases; None on success, else why not."""
    for cmd in (["ip", "netns", "add", ns],
                ["ip", "-n", ns, "link", "add", veth + "a", "type", "veth", "peer", "name", veth + "b"],
                ["ip", "-n", ns, "link", "set", veth + "a", "up"], ["ip", "-n", ns, "link", "set", veth + "b", "up"]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            return " ".join(cmd) + ": " + r.stderr.strip()
    return None


def dev(spec: str) -> list[str]:
    return ["--set", f"dpdk.ports[0].device={spec}"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox", required=True)
    args = ap.parse_args()
    failures = 0
    ns, veth = f"sbxerr-{os.getpid()}", f"sbxe{os.getpid()}"  # interface names <= 15 characters
    in_ns: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "null.yaml")
        with open(cfg, "w") as f:
            f.write("mode: dpdk\ndpdk:\n  eal: " + yaml_list(BASE_EAL + ["--lcores", "0@0,1@0"]) +
                    "\n  ports:\n    - device: net_null0\n      addresses: [\"198.18.0.2/24\"]\n")
        # net_pcap with one rx/tx pcap pair has exactly one queue pair.
        empty = os.path.join(tmp, "empty.pcap")
        with open(empty, "wb") as f:
            f.write(EMPTY_PCAP)
        pcap = f"net_pcap0,rx_pcap={empty},tx_pcap={os.path.join(tmp, 'out.pcap')}"
        # (name, --set arguments, arguments after --, the one stderr line, run in our namespace)
        cases = [
            ("no worker lcore", ["--set", "dpdk.eal=" + yaml_list(BASE_EAL + ["-l", "0"])], [],
             "stunbox: need at least one worker lcore besides the main lcore: give EAL -l 0-1 or more", False),
            ("vdev EAL cannot parse", dev("net_bogus0"), [],
             "stunbox: dpdk.ports[0].device \"net_bogus0\": no such device (probe failed)", False),
            ("vdev probe fails", dev("net_af_packet0,iface=sbx-none0"), [],
             "stunbox: dpdk.ports[0].device \"net_af_packet0,iface=sbx-none0\": no such device (probe failed)", False),
            ("lcore not in EAL", ["--set", "dpdk.ports[0].queues=1", "--set", "dpdk.lcores={5: [\"0:0\"]}"], [],
             "stunbox: dpdk.lcores: lcore 5 is not enabled in EAL (-l/--lcores)", False),
            ("bad EAL argument", [], ["--", "--bogus-flag"],
             "stunbox: EAL init failed: Invalid argument: stunbox: unrecognized option '--bogus-flag'", False),
            ("too many queues", dev(pcap) + ["--set", "dpdk.ports[0].queues=2"], [],
             f"stunbox: dpdk.ports[0].queues 2: device \"{pcap}\" supports at most 1 queue pairs", False),
        ]
        if os.geteuid() == 0 and open("/proc/sys/vm/nr_hugepages").read().strip() == "0":
            cases.append(("no hugepages", ["--set", "dpdk.eal=" + yaml_list(
                ["--no-pci", "--no-shconf", "--lcores", "0@0,1@0", "--file-prefix", f"sbxerr-{os.getpid()}"])], [],
                "(no hugepages reserved: reserve some (scripts/hugepages.sh) or add --no-huge to dpdk.eal)", False))
        # Ports that probe but refuse the configuration (root: a TAP device, AF_PACKET sockets).
        if os.geteuid() != 0:
            print("SKIP root-only port cases (net_tap, net_af_packet): not root")
        elif (why := netns_up(ns, veth)) is not None:
            print(f"SKIP root-only port cases: cannot create a namespace with a veth pair: {why}")
        else:
            in_ns = ["ip", "netns", "exec", ns]
            tap = f"net_tap0,iface={veth}t"
            afp = f"net_af_packet0,iface={veth}a,qpairs=2"
            cases += [
                ("net_tap: more queues than the device has", dev(tap) + ["--set", "dpdk.ports[0].queues=17"], [],
                 f"stunbox: dpdk.ports[0].queues 17: device \"{tap}\" supports at most 16 queue pairs", True),
                ("net_af_packet: more queues than qpairs", dev(afp) + ["--set", "dpdk.ports[0].queues=3"], [],
                 f"stunbox: dpdk.ports[0].queues 3: device \"{afp}\" supports at most 2 queue pairs", True),
                ("net_tap: MTU over the device's frame limit", dev(tap) + ["--set", "dpdk.ports[0].mtu=1505"], [],
                 "stunbox: dpdk.ports[0].mtu 1505: device net_tap0 accepts 46..1504 (frames up to 1522 bytes)", True),
                ("net_af_packet: jumbo MTU",
                 dev(afp) + ["--set", "dpdk.ports[0].mtu=9000", "--set", "dpdk.mempool.data_room=10240"], [],
                 "stunbox: dpdk.ports[0].mtu 9000: device net_af_packet0 accepts 46..1500 (frames up to 1518 bytes)",
                 True),
            ]
        try:
            for name, sets, tail, want, root in cases:
                cmd = (in_ns if root else []) + [args.stunbox, "-c", cfg] + sets + tail
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
                lines = [l for l in r.stderr.splitlines() if l.strip()]
                ok = r.returncode == 1 and len(lines) == 1 and (
                    lines[0] == want or (want.startswith("(") and want in lines[0]) or lines[0].startswith(want + ": "))
                left = ""
                if root:
                    # `ip netns exec` execs stunbox, so its exit is stunbox's; nothing may stay in the namespace.
                    left = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True,
                                          timeout=30).stdout.strip()
                    ok = ok and left == ""
                print(("PASS " if ok else "FAIL ") + f"{name}: exit {r.returncode}, stderr {lines!r}" +
                      (f", processes left in {ns}: {left}" if left else ""), flush=True)
                if not ok:
                    print(f"     expected exit 1 and one line: {want!r}")
                    failures += 1
        finally:
            if in_ns:
                subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
    subprocess.run(["rm", "-rf", f"/var/run/dpdk/sbxerr-{os.getpid()}", f"/tmp/dpdk/sbxerr-{os.getpid()}"],
                   stderr=subprocess.DEVNULL)  # EAL runtime dirs of our prefix
    print("startup_errors_test: " + ("PASS" if failures == 0 else f"FAIL ({failures})"))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
