#!/usr/bin/env python3
"""The real stunbox in dpdk mode with something missing: each case must end in exactly one stderr line and exit 1.

Usage: startup_errors_test.py --stunbox PATH

Cases: no worker lcore, a vdev EAL cannot parse, a vdev whose driver fails
to probe (af_packet on a missing interface), an lcore map naming an lcore
EAL does not have, a bad EAL argument after `--`, too many queues for the
device, and (root with no hugepages reserved only) missing hugepages. No
packets are sent; every run is bounded by a timeout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

BASE_EAL = ["--no-pci", "--no-huge", "-m", "128", "--no-shconf", "--file-prefix", f"sbxerr-{os.getpid()}"]


def yaml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox", required=True)
    args = ap.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "null.yaml")
        with open(cfg, "w") as f:
            f.write("mode: dpdk\ndpdk:\n  eal: " + yaml_list(BASE_EAL + ["--lcores", "0@0,1@0"]) +
                    "\n  ports:\n    - device: net_null0\n      addresses: [\"198.18.0.2/24\"]\n")
        cases = [
            ("no worker lcore", ["--set", "dpdk.eal=" + yaml_list(BASE_EAL + ["-l", "0"])], [],
             "stunbox: need at least one worker lcore besides the main lcore: give EAL -l 0-1 or more"),
            ("vdev EAL cannot parse", ["--set", "dpdk.ports[0].device=net_bogus0"], [],
             "stunbox: dpdk.ports[0].device \"net_bogus0\": no such device (probe failed)"),
            ("vdev probe fails", ["--set", "dpdk.ports[0].device=net_af_packet0,iface=sbx-none0"], [],
             "stunbox: dpdk.ports[0].device \"net_af_packet0,iface=sbx-none0\": no such device (probe failed)"),
            ("lcore not in EAL", ["--set", "dpdk.ports[0].queues=1", "--set", "dpdk.lcores={5: [\"0:0\"]}"], [],
             "stunbox: dpdk.lcores: lcore 5 is not enabled in EAL (-l/--lcores)"),
            ("bad EAL argument", [], ["--", "--bogus-flag"],
             "stunbox: EAL init failed: Invalid argument: stunbox: unrecognized option '--bogus-flag'"),
            ("too many queues", [], [], None),
        ]
        if os.geteuid() == 0 and open("/proc/sys/vm/nr_hugepages").read().strip() == "0":
            cases.append(("no hugepages", ["--set", "dpdk.eal=" + yaml_list(
                ["--no-pci", "--no-shconf", "--lcores", "0@0,1@0", "--file-prefix", f"sbxerr-{os.getpid()}"])], [],
                "(no hugepages reserved: reserve some (scripts/hugepages.sh) or add --no-huge to dpdk.eal)"))
        for name, sets, tail, want in cases:
            if name == "too many queues":
                # net_pcap with one rx/tx pcap pair has exactly one queue pair; ask for two.
                empty = os.path.join(tmp, "empty.pcap")
                with open(empty, "wb") as f:
                    f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
                dev = f"net_pcap0,rx_pcap={empty},tx_pcap={os.path.join(tmp, 'out.pcap')}"
                sets = ["--set", f"dpdk.ports[0].device={dev}", "--set", "dpdk.ports[0].queues=2"]
                want = f"stunbox: dpdk.ports[0].queues 2: device \"{dev}\" supports at most 1 queue pairs"
            r = subprocess.run([args.stunbox, "-c", cfg] + sets + tail, capture_output=True, text=True, timeout=60)
            lines = [l for l in r.stderr.splitlines() if l.strip()]
            ok = r.returncode == 1 and len(lines) == 1 and (lines[0] == want or (want.startswith("(") and want in lines[0])
                                                           or lines[0].startswith(want + ": "))
            print(("PASS " if ok else "FAIL ") + f"{name}: exit {r.returncode}, stderr {lines!r}", flush=True)
            if not ok:
                print(f"     expected exit 1 and one line: {want!r}")
                failures += 1
    subprocess.run(["rm", "-rf", f"/var/run/dpdk/sbxerr-{os.getpid()}", f"/tmp/dpdk/sbxerr-{os.getpid()}"],
                   stderr=subprocess.DEVNULL)  # EAL runtime dirs of our prefix
    print("startup_errors_test: " + ("PASS" if failures == 0 else f"FAIL ({failures})"))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
