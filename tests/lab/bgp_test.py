#!/usr/bin/env python3
"""Routed anycast in the netns lab with real routing software (issue 15): BIRD 2 as the router in sbx-cl
(AS 65000, multipath), BIRD 2 plus config/examples/bgp/stunbox-bgp-health in each appliance namespace,
peering over the data link through stunbox's exception path (a persistent TAP, stunbox0). No mock of the
kernel or of BGP.

    bgp_test.py --stunbox EXE --cli CLI --source-root DIR anycast|ecmp

anycast  scripts/netns-lab.sh up 2 --bgp, stunbox with config/examples/lab-exception.yaml: the routes to
         198.18.0.100/32 and 2001:2::100/128 appear in sbx-cl within 15 s of the ready line; STUN to both
         gets the client's own address in XOR-MAPPED-ADDRESS; `drain on` withdraws both within 10 s while
         STUN to the unicast 198.18.0.2 is still answered; `drain off` restores them; SIGKILL of stunbox
         withdraws them within 10 s (the router's hold timer: the box's own withdraw cannot leave). Before,
         during and after the drain: ping to 198.18.0.2 and 2001:2::2 (answered by stunbox), ping from the
         box's kernel to the router (through the exception path) and both BGP sessions Established without
         a flap.
ecmp     netns-lab.sh up 1 --bgp --appliances 2: a second appliance (sbx-dp2 on its own link) announces
         the same addresses; the router installs both paths, 64 flows from different source ports to
         198.18.0.100 (and 32 to 2001:2::100) are split between both boxes (each box's answer counters),
         and once the second box is SIGKILLed every flow is answered by the first.
Root only (exit 77 otherwise, or without BIRD 2: apt-get install bird2). Holds the netns lab's lock
(stunbox_harness.netns_lab_lock) while it uses the lab: the names are fixed. Prints the measured times.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stunbox_harness as h  # noqa: E402

check = h.Checks("bgp_test")
RUN = "/run/stunbox-lab"
ROUTER_NS = "sbx-cl"
ANY4, ANY6 = "198.18.0.100", "2001:2::100"
APPEAR_S, WITHDRAW_S = 15.0, 10.0


def sh(cmd, ns=None, timeout=30):
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, -999, e.stdout or "", "timed out")


def nexthops(addr):
    """The router's next hops for addr (empty when there is no route)."""
    out = sh(["ip", "-6" if ":" in addr else "-4", "route", "show", addr], ROUTER_NS).stdout
    return re.findall(r"via (\S+)", out)


def wait_paths(addr, want, limit):
    """Seconds until addr has `want` next hops (0 = no route), or None after `limit`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if len(nexthops(addr)) == want:
            return time.monotonic() - t0
        time.sleep(0.1)
    return None


def sessions():
    """{protocol: since} of the router's Established BGP sessions."""
    out = sh(["birdc", "-s", RUN + "/router.ctl", "show", "protocols"]).stdout
    return {m.group(1): m.group(2) for m in re.finditer(r"^(\S+)\s+BGP\s+\S+\s+up\s+(\S+)\s+Established", out, re.M)}


def same_sessions(a, b):
    """The same Established sessions, each up since the same moment. BIRD renders "since" from its monotonic
    clock at every `show protocols`, so the same moment can read a millisecond apart; a flap re-establishes
    the session seconds later (hold time, connect retry)."""
    def seconds(t):
        hh, mm, ss = t.split(":")
        return int(hh) * 3600 + int(mm) * 60 + float(ss)
    return a.keys() == b.keys() and all(abs(seconds(a[k]) - seconds(b[k])) < 0.5 for k in a)


def probe(root, ns, server, flows=1):
    r = sh(["python3", os.path.join(root, "tests", "lab", "stun_probe.py"), "--server", server, "--flows", str(flows)],
           ns, timeout=60 + flows * 3)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"flows": flows, "answered": 0, "mapped_ok": 0, "bad": [r.stdout + r.stderr]}


def answers_of(cli, sock, ns):
    """Binding success responses the box built so far (its console)."""
    r = sh([cli, "-s", sock, "show", "stun", "stats"], ns)
    return h.shown(r.stdout, "success responses:") or 0


def connectivity(what, want_sessions):
    for addr, fam in (("198.18.0.2", "-4"), ("2001:2::2", "-6")):
        r = sh(["ping", fam, "-c", "2", "-i", "0.2", "-W", "1", addr], ROUTER_NS)
        check(r.returncode == 0, "%s: ping %s from the router answered" % (what, addr))
    for addr, fam in (("198.18.0.1", "-4"), ("2001:2::1", "-6")):
        r = sh(["ping", fam, "-c", "2", "-i", "0.2", "-W", "1", addr], "sbx-dp")
        check(r.returncode == 0, "%s: the box's kernel pings the router at %s (exception path)" % (what, addr))
    now = sessions()
    check(same_sessions(now, want_sessions),
          "%s: the BGP sessions are Established and never flapped (%s)" % (what, now))


class Box:
    """stunbox in an appliance namespace; killed (our own child, by PID) at the end."""

    def __init__(self, args, ns, sets=()):
        self.ns = ns
        self.sock = "%s/%s.sock" % (RUN, ns)
        cfg = os.path.join(args.source_root, "config", "examples", "lab-exception.yaml")
        self.srv = h.Daemon(["ip", "netns", "exec", ns, args.stunbox, "-c", cfg,
                             "--set", 'control.socket="%s"' % self.sock] + [x for s in sets for x in ("--set", s)])

    def ready(self):
        ok = self.srv.wait_ready(30)
        if not ok:
            print(self.srv.text())
        return ok


def lab(args, *words):
    r = sh([os.path.join(args.source_root, "scripts", "netns-lab.sh")] + list(words), timeout=120)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
    return r.returncode == 0


def case_anycast(args):
    if not check(lab(args, "up", "2", "--bgp"), "netns-lab.sh up 2 --bgp"):
        return
    box = Box(args, "sbx-dp")
    try:
        if not check(box.ready(), "stunbox ready in sbx-dp"):
            return
        for addr in (ANY4, ANY6):
            t = wait_paths(addr, 1, APPEAR_S)
            check(t is not None, "route to %s appears in sbx-cl within %.0f s of ready (%s)" %
                  (addr, APPEAR_S, "%.1f s" % t if t is not None else "never"))
        for addr, client in ((ANY4, "198.18.0.1"), (ANY6, "2001:2::1")):
            p = probe(args.source_root, ROUTER_NS, addr, 4)
            check(p["answered"] == 4 and p["mapped_ok"] == 4,
                  "STUN to %s: 4 of 4 answered, XOR-MAPPED-ADDRESS = the client's own %s:port (%s)" % (addr, client, p))
        time.sleep(1)
        established = sessions()
        check(len(established) == 2, "both BGP sessions (IPv4, IPv6) Established: %s" % established)
        connectivity("before drain", established)

        r = sh([args.cli, "-s", box.sock, "drain", "on"], "sbx-dp")
        check(r.returncode == 0, "drain on accepted")
        for addr in (ANY4, ANY6):
            t = wait_paths(addr, 0, WITHDRAW_S)
            check(t is not None, "drain on withdraws %s within %.0f s (%s)" %
                  (addr, WITHDRAW_S, "%.1f s" % t if t is not None else "never"))
        p = probe(args.source_root, ROUTER_NS, "198.18.0.2", 4)
        check(p["answered"] == 4 and p["mapped_ok"] == 4, "drained: STUN to the unicast 198.18.0.2 still answered (%s)" % p)
        connectivity("drained", established)

        r = sh([args.cli, "-s", box.sock, "drain", "off"], "sbx-dp")
        for addr in (ANY4, ANY6):
            t = wait_paths(addr, 1, WITHDRAW_S)
            check(t is not None, "drain off restores %s within %.0f s (%s)" %
                  (addr, WITHDRAW_S, "%.1f s" % t if t is not None else "never"))
        p = probe(args.source_root, ROUTER_NS, ANY4, 4)
        check(p["mapped_ok"] == 4, "STUN to %s answered again (%s)" % (ANY4, p))
        connectivity("after drain off", established)

        box.srv.proc.kill()  # SIGKILL: no withdraw can leave the box
        for addr in (ANY4, ANY6):
            t = wait_paths(addr, 0, WITHDRAW_S)
            check(t is not None, "SIGKILL of stunbox withdraws %s within %.0f s (%s)" %
                  (addr, WITHDRAW_S, "%.1f s" % t if t is not None else "never"))
    finally:
        box.srv.kill()
        if check.failures:
            for f in ("hook-sbx-dp.log", "bird-sbx-dp.log", "bird-router.log"):
                print("--- " + f)
                print(sh(["tail", "-20", os.path.join(RUN, f)]).stdout)
            print("--- stunbox\n" + box.srv.text())


ONE_QUEUE = ['dpdk.eal=["--no-pci", "--no-huge", "-m", "256", "--no-shconf", "--lcores", "0@0,1@1"]']


def ports_set(v4, v6):
    return ('dpdk.ports=[{device: "net_af_packet0,iface=sbx-dp0,qpairs=1", queues: 1, '
            'addresses: ["%s", "%s", "198.18.0.100/32", "2001:2::100/128"], '
            'exception: {iface: stunbox0, pps: 20000}}]' % (v4, v6))


def case_ecmp(args):
    if not check(lab(args, "up", "1", "--bgp", "--appliances", "2"), "netns-lab.sh up 1 --bgp --appliances 2"):
        return
    boxes = [Box(args, "sbx-dp", ONE_QUEUE + [ports_set("198.18.0.2/24", "2001:2::2/64")]),
             Box(args, "sbx-dp2", ONE_QUEUE + [ports_set("198.18.1.2/24", "2001:2:0:1::2/64")])]
    try:
        if not check(all(b.ready() for b in boxes), "stunbox ready in sbx-dp and sbx-dp2"):
            return
        for addr in (ANY4, ANY6):
            t = wait_paths(addr, 2, 20)
            check(t is not None, "the router has two paths to %s (%s): %s" %
                  (addr, "%.1f s" % t if t is not None else "never", nexthops(addr)))
        for addr, flows in ((ANY4, 64), (ANY6, 32)):
            before = [answers_of(args.cli, b.sock, b.ns) for b in boxes]
            p = probe(args.source_root, ROUTER_NS, addr, flows)
            after = [answers_of(args.cli, b.sock, b.ns) for b in boxes]
            split = [a - b for a, b in zip(after, before)]
            check(p["mapped_ok"] == flows, "%d flows to %s all answered with the right address (%s)" % (flows, addr, p))
            check(all(n >= flows // 10 for n in split),
                  "flows to %s split between both boxes: %s" % (addr, split))
        boxes[1].srv.proc.kill()
        for addr in (ANY4, ANY6):
            t = wait_paths(addr, 1, WITHDRAW_S)
            check(t is not None, "SIGKILL of the second box leaves one path to %s within %.0f s (%s)" %
                  (addr, WITHDRAW_S, "%.1f s" % t if t is not None else "never"))
        before = answers_of(args.cli, boxes[0].sock, "sbx-dp")
        p = probe(args.source_root, ROUTER_NS, ANY4, 64)
        after = answers_of(args.cli, boxes[0].sock, "sbx-dp")
        check(p["mapped_ok"] == 64 and after - before == 64,
              "all 64 flows now answered by the first box (%s, its answers +%d)" % (p, after - before))
        # The first box stops cleanly after carrying BGP both ways through its exception path:
        # every mbuf back in its pool, the exception traffic counted.
        c = h.stop_and_check(boxes[0].srv, check)
        for name in ("exception_to_kernel", "exception_from_kernel"):
            check(c.get(name, 0) > 0, "the exception path carried frames: %s %s" % (name, c.get(name)))
        pools = h.mempool_lines(boxes[0].srv.text_lines())
        check(bool(pools) and all(m.group(2) == m.group(3) for m in pools),
              "every mbuf back after stop, exception path included: %s" % [m.group(0) for m in pools])
    finally:
        for b in boxes:
            b.srv.kill()
        if check.failures:
            for b in boxes:
                print("--- stunbox %s\n%s" % (b.ns, b.srv.text()))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("case", choices=["anycast", "ecmp"])
    args = ap.parse_args()
    args.stunbox, args.cli = os.path.abspath(args.stunbox), os.path.abspath(args.cli)
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, TAP, BIRD)")
        return h.SKIP
    if shutil.which("bird") is None or shutil.which("birdc") is None:
        print("SKIP: BIRD 2 is not installed (apt-get install bird2; scripts/setup.sh --test installs it)")
        return h.SKIP
    lock = h.netns_lab_lock()  # noqa: F841 (held until exit: the lab's names are fixed)
    t0 = time.monotonic()
    try:
        {"anycast": case_anycast, "ecmp": case_ecmp}[args.case](args)
    finally:
        lab(args, "down")
    print("bgp_test %s: %.0f s" % (args.case, time.monotonic() - t0))
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
