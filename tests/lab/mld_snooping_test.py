#!/usr/bin/env python3
"""A switch with MLD snooping learns the box's solicited-node group from its MLDv2 report after a link-up.

Usage: mld_snooping_test.py --stunbox PATH

stunbox runs on net_tap in a network namespace of our own (sbxm-PID) and
owns 2001:2:2::2/64. The kernel side of the TAP device is enslaved to a
Linux bridge with MLD snooping on (mcast_snooping 1, MLDv2): the switch of
issue 14. Without reports from the box, a snooping switch stops forwarding
the router's neighbour solicitations to ff02::1:ff00:2 and IPv6 dies.
Sequence: the TAP device is enslaved once stunbox serves, then its link goes
down and up; the link-up announcements (sent by the lcore that owns the
queue) include an MLDv2 report, and `bridge mdb show` must list
ff02::1:ff00:2 on the TAP port within 10 s. SIGTERM -> exit 0.

Needs root (network namespace, TAP device, bridge); exit 77 (skipped)
otherwise or when no namespace or bridge can be made. The namespace is
always removed and stunbox always stopped.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stunbox_harness as h  # noqa: E402
from stunbox_harness import SKIP, Checks, Daemon, ip  # noqa: E402

APP_V6 = "2001:2:2::2"
GROUP = "ff02::1:ff00:2"
READY_TIMEOUT_S = 30
LEARN_TIMEOUT_S = 10
EXIT_TIMEOUT_S = 20


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("mld_snooping_test: SKIP: needs root (network namespace, TAP device, bridge)")
        return SKIP
    check = Checks("mld_snooping_test")
    pid = os.getpid()
    ns, tap, br = f"sbxm-{pid}", f"sbxm{pid}", "sbxmbr0"
    workdir = h.begin_namespace_run("mld_snooping_test", ns)
    if workdir is None:
        return SKIP
    cfg = os.path.join(workdir, "tap.yaml")
    with open(cfg, "w") as f:
        f.write(f"""mode: dpdk
dpdk:
  eal: ["--no-pci", "--no-huge", "-m", "256", "--no-shconf", "--file-prefix", "{ns}", "--lcores", "0@0,1@0"]
  ports:
    - device: "net_tap0,iface={tap}"
      queues: 1
      addresses: ["{APP_V6}/64"]
  idle: adaptive
  link_wait_ms: 1000
control: {{socket: ""}}
""")
    daemon = None
    try:
        r = ip("-n", ns, "link", "add", br, "type", "bridge", "mcast_snooping", "1", "mcast_mld_version", "2")
        if r.returncode != 0:
            print(f"mld_snooping_test: SKIP: cannot create a snooping bridge: {r.stderr.strip()}")
            return SKIP
        daemon = Daemon(["ip", "netns", "exec", ns, args.stunbox, "-c", cfg])
        if not check(daemon.wait_ready(READY_TIMEOUT_S), f"dpdk mode on net_tap ready within {READY_TIMEOUT_S} s"):
            print("\n".join(daemon.text_lines()))
            return check.verdict()
        mark = daemon.mark()
        for cmd in (["link", "set", tap, "master", br], ["link", "set", br, "up"], ["link", "set", tap, "down"]):
            r = ip("-n", ns, *cmd)
            check(r.returncode == 0, "ip " + " ".join(cmd) + (": " + r.stderr.strip() if r.returncode else ""))
        # The watcher looks every 250 ms: the down must be seen before the up counts as a link-up.
        check(daemon.wait_line(r"^stunbox: port 0 link down$", 5, mark) is not None, "stunbox saw the link go down")
        mdb = subprocess.run(["bridge", "-n", ns, "mdb", "show"], capture_output=True, text=True).stdout
        check(GROUP not in mdb, f"before the link-up: {GROUP} not learned ({mdb.strip()!r})")
        mark = daemon.mark()
        check(ip("-n", ns, "link", "set", tap, "up").returncode == 0, f"ip link set {tap} up")
        check(daemon.wait_line(r"^stunbox: port 0 link up", 5, mark) is not None, "stunbox saw the link come up")
        deadline = time.monotonic() + LEARN_TIMEOUT_S
        learned = False
        while time.monotonic() < deadline and not learned:
            mdb = subprocess.run(["bridge", "-n", ns, "mdb", "show"], capture_output=True, text=True).stdout
            learned = any(GROUP in l and tap in l for l in mdb.splitlines())
            if not learned:
                time.sleep(0.2)
        check(learned, f"the snooping bridge learned {GROUP} on {tap} from the box's MLDv2 report ({mdb.strip()!r})")
        rc, took = daemon.terminate(EXIT_TIMEOUT_S)
        check(rc == 0, f"SIGTERM -> exit 0 (got {rc} after {took:.1f} s)")
        daemon.wait_eof(5)
        final = h.parse_final(daemon.text_lines())
        ann = final[0].get("announcements", 0) if final else 0
        check(ann >= 2, f"final counters: announcements >= 2 (NA and MLDv2 report, sent by the lcore): {ann}")
    finally:
        h.end_namespace_run(daemon, ns, workdir)
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
