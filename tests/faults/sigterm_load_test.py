#!/usr/bin/env python3
"""SIGTERM while stunbox-load is flowing, in socket mode and in dpdk mode: clean stop, final counters that add up.

Usage: sigterm_load_test.py socket|dpdk --stunbox PATH --cli PATH --load PATH

socket  stunbox (2 workers) on a free 127.0.0.1 port; stunbox-load open loop
        at 40000 requests/s from 64 sockets for at most 30 s.
dpdk    stunbox on net_af_packet (2 queue pairs, 2 lcores) on a veth between
        two namespaces of our own (198.19.2.0/24); stunbox-load from the
        client namespace, open loop at 5000/s (what af_packet sustains on a
        2-vCPU box) for at most 30 s. Root only (77 = skipped otherwise).

In both: once the server has answered at least N requests (read over the
control socket with stunbox-cli, bounded wait) and its count is still
moving, stunbox gets SIGTERM. Then: exit 0 within 10 s; the process is gone;
the control socket file is removed; `stunbox: final counters` is printed and
parses; received == sent + drops (every packet is either answered or dropped
under one named reason) and the drop total is the sum of the reasons;
per-queue rows (dpdk) sum to the totals; sent >= the answers the load
generator received, none of them invalid; dpdk: every mbuf is back in the
mempool (`stunbox: mempool NAME: N in use after stop (baseline B)`, N == B).
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
from stunbox_harness import SKIP, Checks, Daemon  # noqa: E402

READY_TIMEOUT_S = 30
ANSWERED_TIMEOUT_S = 20   # to reach N answers
EXIT_TIMEOUT_S = 10       # SIGTERM to exit
LOAD_DURATION_S = 30      # upper bound; the load is stopped early once the server is gone
LOAD_STOP_TIMEOUT_S = 15

APP_V4, CL_V4 = "198.19.2.2", "198.19.2.1"


def answered(cli: str, ctl: str) -> int | None:
    rc, out, _ = h.cli(cli, ctl, "show", "stun", "stats")
    return h.shown(out, "success responses:") if rc == 0 else None


def run(check: Checks, args, cmd: list[str], load_cmd: list[str], ctl: str, min_answers: int, dpdk: bool,
        warm_up: list[str] | None = None) -> None:
    daemon = Daemon(cmd)
    load = None
    try:
        if not check(daemon.wait_ready(READY_TIMEOUT_S), f"ready within {READY_TIMEOUT_S} s"):
            print("\n".join(daemon.text_lines()))
            return
        if warm_up:
            # ARP first: the kernel keeps only a few datagrams while it resolves.
            r = subprocess.run(warm_up, capture_output=True, text=True, timeout=15)
            check(r.returncode == 0, "warm-up: the appliance answers ping (ARP resolved)")
        load = subprocess.Popen(load_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Wait on the condition (N answered), then see the count still moving: SIGTERM lands under load.
        deadline = time.monotonic() + ANSWERED_TIMEOUT_S
        got = answered(args.cli, ctl) or 0
        while got < min_answers and time.monotonic() < deadline and load.poll() is None:
            time.sleep(0.05)
            got = answered(args.cli, ctl) or 0
        if not check(got >= min_answers, f"server answered >= {min_answers} under load before SIGTERM ({got})"):
            return
        deadline = time.monotonic() + 5
        again = answered(args.cli, ctl) or 0
        while again <= got and time.monotonic() < deadline:
            time.sleep(0.02)
            again = answered(args.cli, ctl) or 0
        check(again > got and load.poll() is None, f"answers still flowing when SIGTERM is sent ({got} -> {again})")

        pid = daemon.proc.pid  # `ip netns exec` execs stunbox: this is stunbox's PID
        rc, took = daemon.terminate(EXIT_TIMEOUT_S)
        check(rc == 0, f"SIGTERM under load -> exit 0 within {EXIT_TIMEOUT_S} s (got {rc} after {took:.2f} s)")
        check(h.process_gone(pid), f"process {pid} is gone (no worker or lcore thread left behind)")
        check(not os.path.exists(ctl), "control socket file removed at exit")
        daemon.wait_eof(5)
        lines = daemon.text_lines()

        # The load: stop sending now (it still waits up to --timeout for answers) and read its report.
        res = h.finish_load(load, LOAD_STOP_TIMEOUT_S, interrupt=True)

        final = h.parse_final(lines)
        if not check(final is not None and "rx_packets" in final[0] and "drops" in final[0],
                     "`stunbox: final counters` printed and parses"):
            print("\n".join(lines[-40:]))
            return
        counters, drops, queues = final
        rx, tx, total_drops = counters["rx_packets"], counters["tx_packets"], counters["drops"]
        check(rx == tx + total_drops, f"rx_packets {rx} == tx_packets {tx} + drops {total_drops}")
        check(total_drops == sum(drops.values()), f"drops {total_drops} == sum of the named reasons {drops}")
        check(counters.get("stun_success", 0) >= got, f"stun_success {counters.get('stun_success')} >= {got} seen live")
        received = res.get("received")
        check(received is not None and 0 < received <= tx,
              f"tx_packets {tx} >= responses the load received ({received})")
        check(res.get("invalid") == 0, f"no invalid answer ({res.get('invalid')} {res.get('invalid_reasons')})")
        if dpdk:
            check(len(queues) == 2 and sum(q[2] for q in queues) == rx and sum(q[3] for q in queues) == tx
                  and sum(q[4] for q in queues) == total_drops,
                  f"per-queue rows sum to the totals: {queues}")
            pools = h.mempool_lines(lines)
            check(len(pools) >= 1 and all(m.group(2) == m.group(3) for m in pools),
                  f"every mbuf back in the mempool after stop: {[m.group(0) for m in pools]}")
    finally:
        if load is not None and load.poll() is None:
            load.kill()
            load.wait(10)
        daemon.kill()


def socket_mode(check: Checks, args, tmp: str) -> None:
    port = h.free_port()
    ctl = os.path.join(tmp, "ctl.sock")
    cfg = os.path.join(tmp, "socket.yaml")
    with open(cfg, "w") as f:
        f.write(f"""mode: socket
socket:
  listen: ["127.0.0.1:{port}"]
  workers: 2
control: {{socket: "{ctl}"}}
stats: {{period: 0}}
""")
    load = [args.load, "--server", f"127.0.0.1:{port}", "--sockets", "64", "--rate", "40000",
            "--duration", str(LOAD_DURATION_S), "--timeout", "500", "--max-loss", "100", "--quiet"]
    run(check, args, [args.stunbox, "-c", cfg], load, ctl, 20000, dpdk=False)


def dpdk_mode(check: Checks, args, tmp: str) -> int | None:
    if os.geteuid() != 0:
        print("sigterm_load_test dpdk: SKIP: needs root (network namespaces, AF_PACKET)")
        return SKIP
    pid = os.getpid()
    ns_cl, ns_dp = f"sbxf-st-{pid}-cl", f"sbxf-st-{pid}-dp"
    if_cl, if_dp = f"sbxfs{pid}c", f"sbxfs{pid}d"  # <= 15 characters
    try:
        why = h.veth_namespaces(ns_cl, if_cl, CL_V4, ns_dp, if_dp)
        if why is not None:
            print(f"sigterm_load_test dpdk: SKIP: {why}")
            return SKIP
        ctl = os.path.join(tmp, "ctl.sock")
        cfg = os.path.join(tmp, "dpdk.yaml")
        cpu2 = 1 if (os.cpu_count() or 1) > 1 else 0
        with open(cfg, "w") as f:
            f.write(f"""mode: dpdk
stun: {{ports: [3478]}}
dpdk:
  eal: ["--no-pci", "--no-huge", "-m", "256", "--no-shconf", "--file-prefix", "{ns_dp}",
        "--lcores", "0@0,1@0,2@{cpu2}"]
  ports:
    - device: "net_af_packet0,iface={if_dp},qpairs=2"
      queues: 2
      addresses: ["{APP_V4}/24"]
  idle: adaptive
  link_wait_ms: 3000
control: {{socket: "{ctl}"}}
stats: {{period: 0}}
""")
        in_cl = ["ip", "netns", "exec", ns_cl]
        load = in_cl + [args.load, "--server", f"{APP_V4}:3478", "--sockets", "32", "--rate", "5000",
                        "--duration", str(LOAD_DURATION_S), "--timeout", "500", "--max-loss", "100", "--quiet"]
        run(check, args, ["ip", "netns", "exec", ns_dp, args.stunbox, "-c", cfg], load, ctl, 5000, dpdk=True,
            warm_up=in_cl + ["ping", "-c", "1", "-W", "2", APP_V4])
        return None
    finally:
        h.netns_del(ns_cl, ns_dp)
        h.remove_eal_runtime(ns_dp)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["socket", "dpdk"])
    ap.add_argument("--stunbox", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--load", required=True)
    args = ap.parse_args()
    check = Checks(f"sigterm_load_test {args.mode}")
    tmp = f"/tmp/sbxf-st-{os.getpid()}"
    os.makedirs(tmp, exist_ok=True)
    try:
        if args.mode == "socket":
            socket_mode(check, args, tmp)
        elif dpdk_mode(check, args, tmp) == SKIP:
            return SKIP
    finally:
        subprocess.run(["rm", "-rf", tmp])
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
