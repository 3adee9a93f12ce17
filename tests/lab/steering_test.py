#!/usr/bin/env python3
"""A port shared with the kernel by steering (issue 16), in the netns lab: the kernel keeps sbx-dp0 and its
addresses, stunbox gets STUN only.

    steering_test.py --stunbox EXE --cli CLI --source-root DIR xdp|flow

xdp   config/examples/lab-af_xdp-steer.yaml (net_af_xdp with stunbox's XDP program). First with two veth
      queues: stunbox must refuse to start with one line naming dpdk.ports[0].steering (STUN hashed to the
      second queue would reach the kernel). Then with one queue (netns-lab.sh up 1 --steering xdp, which routes
      198.18.0.100 via 198.18.0.2 in sbx-cl): STUN to 198.18.0.2, 2001:2::2 and the anycast 198.18.0.100 answered with the client's own address; ping to both
      unicast addresses and a UDP datagram to a port stunbox does not serve reach the kernel of sbx-dp (a
      socket there gets it); stunbox's counters show only the STUN it answered (no ARP, NDP, echo, drop); a
      clean stop and the XDP program gone from sbx-dp0. Then SIGKILL: the program stays, and the next start
      removes it (its owner is gone) with a warning and serves.
flow  config/examples/lab-bifurcated.yaml (net_tap remote=sbx-dp0 in isolated mode, one rule per address to
      queue 0): the same checks, every mbuf back after stop, and `show port info` lists the rules. net_tap builds them on tc flower,
      skbedit and the multiq qdisc: where the kernel lacks any of them (probed on a veth in a scratch
      namespace) the case is skipped with a message saying which.
Root only (77 otherwise). Holds the netns lab's lock while it uses the lab.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import stunbox_harness as h  # noqa: E402

check = h.Checks("steering_test")
CL, DP = "sbx-cl", "sbx-dp"
SOCK = "/run/stunbox-lab/sbx-dp.sock"
EXAMPLE = {"xdp": "lab-af_xdp-steer.yaml", "flow": "lab-bifurcated.yaml"}
KERNEL_PORT = 9999  # UDP, not in stun.ports: the kernel's


def sh(cmd, ns=None, timeout=30, stdin=None):
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=stdin)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, -999, e.stdout or "", "timed out")


def lab(args, *words):
    r = sh([os.path.join(args.source_root, "scripts", "netns-lab.sh")] + list(words), timeout=120)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
    return r.returncode == 0


def missing_tc_features():
    """What net_tap's flow rules need that this kernel lacks (tc flower, skbedit, multiq): [] when all there."""
    ns = "sbx-tcprobe"
    h.netns_del(ns)
    missing = []
    try:
        if sh(["ip", "netns", "add", ns]).returncode != 0:
            return ["network namespaces"]
        sh(["ip", "-n", ns, "link", "add", "tcp0", "type", "veth", "peer", "name", "tcp1"])
        sh(["ip", "-n", ns, "link", "set", "tcp0", "up"])
        sh(["tc", "qdisc", "add", "dev", "tcp0", "ingress"], ns)
        if sh(["tc", "filter", "add", "dev", "tcp0", "ingress", "protocol", "ip", "flower", "dst_ip", "198.18.0.2",
               "action", "pass"], ns).returncode != 0:
            missing.append("tc flower (cls_flower)")
        if sh(["tc", "filter", "add", "dev", "tcp0", "ingress", "protocol", "ipv6", "matchall", "action", "skbedit",
               "queue_mapping", "0"], ns).returncode != 0 and \
                sh(["tc", "filter", "add", "dev", "tcp0", "ingress", "protocol", "ipv6", "flower", "action", "skbedit",
                    "queue_mapping", "0"], ns).returncode != 0:
            missing.append("tc skbedit (act_skbedit)")
        if sh(["tc", "qdisc", "add", "dev", "tcp0", "root", "handle", "1:", "multiq"], ns).returncode != 0:
            missing.append("the multiq qdisc (sch_multiq)")
    finally:
        h.netns_del(ns)
    return missing


def probe(args, server, flows=2):
    r = sh(["python3", os.path.join(args.source_root, "tests", "lab", "stun_probe.py"), "--server", server,
            "--flows", str(flows)], CL, timeout=60)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"flows": flows, "answered": 0, "mapped_ok": 0, "bad": [r.stdout + r.stderr]}


def kernel_gets_udp():
    """A UDP datagram from sbx-cl to 198.18.0.2:KERNEL_PORT reaches a socket of sbx-dp's kernel (bounded)."""
    listener = ("import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('198.18.0.2',%d))\n"
                "s.settimeout(8)\nprint('bound',flush=True)\ntry:\n d,a=s.recvfrom(100)\n print(d.decode())\n"
                "except socket.timeout:\n print('none')\n") % KERNEL_PORT
    p = subprocess.Popen(["ip", "netns", "exec", DP, "python3", "-c", listener], stdout=subprocess.PIPE, text=True)
    try:
        if p.stdout.readline().strip() != "bound":
            return False
        sender = ("import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                  "for i in range(5):\n s.sendto(b'for-the-kernel',('198.18.0.2',%d)); time.sleep(0.3)\n") % KERNEL_PORT
        sh(["python3", "-c", sender], CL, timeout=10)
        out, _ = p.communicate(timeout=10)
        return "for-the-kernel" in out
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def serve_and_check(args, model):
    cfg = os.path.join(args.source_root, "config", "examples", EXAMPLE[model])
    srv = h.Daemon(["ip", "netns", "exec", DP, args.stunbox, "-c", cfg])
    try:
        if not check(srv.wait_ready(30), "stunbox ready with steering %s" % model):
            print(srv.text())
            return
        for server, client in (("198.18.0.2", "198.18.0.1"), ("2001:2::2", "2001:2::1"),
                               ("198.18.0.100", "198.18.0.1")):
            p = probe(args, server)
            check(p["answered"] == 2 and p["mapped_ok"] == 2,
                  "STUN to %s answered by stunbox with the client's own %s:port (%s)" % (server, client, p))
        for addr, fam in (("198.18.0.2", "-4"), ("2001:2::2", "-6")):
            r = sh(["ping", fam, "-c", "2", "-i", "0.2", "-W", "1", addr], CL)
            check(r.returncode == 0, "ping %s answered (by the kernel of sbx-dp)" % addr)
        check(kernel_gets_udp(), "UDP to 198.18.0.2:%d (not served) reaches a socket of sbx-dp's kernel" % KERNEL_PORT)
        out = sh([args.cli, "-s", SOCK, "show", "stun", "stats"], DP).stdout
        seen = {k: h.shown(out, k) for k in ("received:", "success responses:", "drops total:", "ARP replies:",
                                             "NDP adverts:", "ICMP echo replies:", "ICMPv6 echo replies:")}
        check(seen["received:"] == 6 and seen["success responses:"] == 6 and seen["drops total:"] == 0 and
              all(seen[k] == 0 for k in ("ARP replies:", "NDP adverts:", "ICMP echo replies:", "ICMPv6 echo replies:")),
              "stunbox received the 6 STUN requests only and answered them, nothing else (%s)" % seen)
        info = sh([args.cli, "-s", SOCK, "show", "port", "info", "0"], DP).stdout
        check("Steering: " + model in info, "show port info names the steering (%s)" %
              [line for line in info.splitlines() if "Steering" in line])
        if model == "flow":
            rules = [line for line in info.splitlines() if line.strip().startswith("Flow rule:")]
            check(len(rules) == 4 and all("pattern eth / " in r and "actions queue index 0" in r for r in rules),
                  "show port info lists 4 rules (one per address), each from eth to queue 0: %s" % rules)
        c = h.stop_and_check(srv, check)
        check(c.get("rx_packets") == 6, "final counters: rx_packets 6 (%s)" % c.get("rx_packets"))
        if model == "flow":
            # (net_af_xdp in DPDK 22.11 keeps its UMEM's mbufs after close, steering or not: no check there.)
            pools = h.mempool_lines(srv.text_lines())
            check(bool(pools) and all(m.group(2) == m.group(3) for m in pools),
                  "every mbuf back after stop: %s" % [m.group(0) for m in pools])
        if model == "xdp":
            link = sh(["ip", "-n", DP, "link", "show", "sbx-dp0"]).stdout
            check("prog/xdp" not in link, "the XDP program left sbx-dp0 with stunbox")
    finally:
        srv.kill()
        if check.failures:
            print("--- stunbox\n" + srv.text())


def case_xdp(args):
    prog = os.path.join(os.path.dirname(args.stunbox), "..", "..", "bpf", "stunbox_steer.bpf.o")
    if not os.path.exists(prog):
        print("SKIP: the XDP steering program was not built (clang and libbpf-dev at build time): " + prog)
        return h.SKIP
    if not check(lab(args, "up", "2", "--steering", "xdp"), "netns-lab.sh up 2 --steering xdp"):
        return None
    cfg = os.path.join(args.source_root, "config", "examples", EXAMPLE["xdp"])
    r = sh([args.stunbox, "-c", cfg], DP, timeout=60)
    err = r.stderr.strip().splitlines()
    check(r.returncode == 1 and len(err) == 1 and err[0].startswith("stunbox: dpdk.ports[0].steering xdp: sbx-dp0 "
                                                                     "has 2 RX queue(s)"),
          "two veth queues, one used: exit 1 with one line naming the key (rc %s: %s)" % (r.returncode, err))
    if not check(lab(args, "up", "1", "--steering", "xdp"), "netns-lab.sh up 1 --steering xdp"):
        return None
    serve_and_check(args, "xdp")
    # Killed, stunbox cannot detach its program; the next start removes it (its owner is gone) and serves.
    cfg_sets = [os.path.join(args.source_root, "config", "examples", EXAMPLE["xdp"])]
    srv = h.Daemon(["ip", "netns", "exec", DP, args.stunbox, "-c"] + cfg_sets)
    try:
        check(srv.wait_ready(30), "stunbox ready again")
        srv.proc.kill()
        srv.proc.wait(10)
        check("prog/xdp" in sh(["ip", "-n", DP, "link", "show", "sbx-dp0"]).stdout,
              "SIGKILL leaves the XDP program on sbx-dp0")
    finally:
        srv.kill()
    srv = h.Daemon(["ip", "netns", "exec", DP, args.stunbox, "-c"] + cfg_sets)
    try:
        ready = srv.wait_ready(30)
        check(ready and any("removed the XDP program" in line and "left on sbx-dp0 when it was killed" in line
                            for line in srv.text_lines()),
              "the next start removes the left program with a warning and serves")
        p = probe(args, "198.18.0.2")
        check(p["mapped_ok"] == 2, "STUN answered after the restart (%s)" % p)
        h.stop_and_check(srv, check)
    finally:
        srv.kill()
        if check.failures:
            print("--- stunbox\n" + srv.text())
    return None


def case_flow(args):
    missing = missing_tc_features()
    if missing:
        print("SKIP: net_tap's flow rules (the bifurcated model's lab) need %s, which this kernel lacks; "
              "the rule construction is covered by the flow_rules unit test" % ", ".join(missing))
        return h.SKIP
    if not check(lab(args, "up", "1", "--steering", "flow"), "netns-lab.sh up 1 --steering flow"):
        return None
    serve_and_check(args, "flow")
    return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("model", choices=["xdp", "flow"])
    args = ap.parse_args()
    args.stunbox, args.cli = os.path.abspath(args.stunbox), os.path.abspath(args.cli)
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, AF_XDP, TAP)")
        return h.SKIP
    lock = h.netns_lab_lock()  # noqa: F841 (held until exit: the lab's names are fixed)
    t0 = time.monotonic()
    try:
        skipped = {"xdp": case_xdp, "flow": case_flow}[args.model](args)
    finally:
        lab(args, "down")
    if skipped is not None:
        return skipped
    print("steering_test %s: %.0f s" % (args.model, time.monotonic() - t0))
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
