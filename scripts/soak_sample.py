#!/usr/bin/env python3
"""Samples a running stunbox for scripts/soak.sh: RSS, counters (Prometheus endpoint) and, in dpdk mode, mbufs in use.

    soak_sample.py run   --pid PID --metrics HOST:PORT --csv FILE [--interval 5] [--max-seconds N] [--stop-file F]
    soak_sample.py probe --pid PID --metrics HOST:PORT

`run` appends one CSV row every --interval seconds until the stop file
appears, the process exits or --max-seconds pass; `probe` prints one sample
as JSON.

mbufs in use (dpdk): the stunbox_mempool_in_use gauge of the same endpoint
(rte_mempool_in_use_count summed over the pools: mbufs in RX/TX descriptors
and in bursts being answered; lcore caches count as free). It is a racy
read while lcores run, so soak.sh compares it only while the data path is
idle.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.request

def proc_status(pid: int) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])  # kB
    except OSError:
        pass
    return out


def scrape(metrics: str) -> dict[str, int] | None:
    """Sums the Prometheus counters over their port/queue/worker labels: counter name -> value."""
    try:
        with urllib.request.urlopen(f"http://{metrics}/metrics", timeout=3) as r:
            text = r.read().decode()
    except OSError:
        return None
    out: dict[str, int] = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        m = re.match(r"^(\w+)(?:\{([^}]*)\})?\s+(\S+)", line)
        if not m:
            continue
        name, labels, value = m.group(1), dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")), m.group(3)
        key = {
            "stunbox_drops_total": lambda: labels.get("reason"),
            "stunbox_rx_packets_total": lambda: "rx_packets",
            "stunbox_tx_packets_total": lambda: "tx_packets",
            "stunbox_stun_requests_total": lambda: "stun_requests" if labels.get("kind") == "rfc5389" else "stun_classic_requests",
            "stunbox_stun_responses_total": lambda: "stun_success" if labels.get("result") == "success" else "stun_error",
            "stunbox_mempool_in_use": lambda: "mbuf_in_use",
            "stunbox_l3_replies_total": lambda: {"arp": "arp_replies", "ndp": "ndp_adverts", "icmp_echo": "icmp_echo_replies",
                                                 "icmp6_echo": "icmp6_echo_replies"}.get(labels.get("kind", "")),
        }.get(name)
        if key is None:
            continue
        k = key()
        if k:
            out[k] = out.get(k, 0) + int(float(value))
    return out


def sample(pid: int, metrics: str | None, t0: float) -> dict:
    st = proc_status(pid)
    row = {"t_s": round(time.monotonic() - t0, 1), "rss_kib": st.get("VmRSS", ""), "hwm_kib": st.get("VmHWM", "")}
    counters = scrape(metrics) if metrics else None
    row["mbuf_in_use"] = counters.get("mbuf_in_use", "") if counters else ""
    row["counters"] = counters
    return row


BASE_COLUMNS = ["t_s", "rss_kib", "hwm_kib", "mbuf_in_use", "rx_packets", "tx_packets", "stun_requests",
                "stun_classic_requests", "stun_success", "stun_error", "arp_replies", "ndp_adverts",
                "icmp_echo_replies", "icmp6_echo_replies", "drops_total"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cmd", choices=["run", "probe"])
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--metrics", help="HOST:PORT of stats.metrics_listen")
    ap.add_argument("--csv")
    ap.add_argument("--interval", type=float, default=5)
    ap.add_argument("--max-seconds", type=float, default=4000)
    ap.add_argument("--stop-file")
    args = ap.parse_args()

    t0 = time.monotonic()
    if args.cmd == "probe":
        print(json.dumps(sample(args.pid, args.metrics, t0)))
        return 0

    if not args.csv:
        ap.error("run needs --csv")
    reasons: list[str] | None = None
    with open(args.csv, "w") as out:
        next_t = t0
        while time.monotonic() - t0 < args.max_seconds:
            if args.stop_file and os.path.exists(args.stop_file):
                break
            if not os.path.exists(f"/proc/{args.pid}"):
                break
            row = sample(args.pid, args.metrics, t0)
            c = row.pop("counters") or {}
            if reasons is None and not c:
                print("soak_sample: metrics endpoint not answering yet", file=sys.stderr)
            elif reasons is None:
                # Drop reasons: every name the endpoint exports (all of them, zero or not).
                reasons = sorted(k for k in c if k not in BASE_COLUMNS)
                out.write(",".join(BASE_COLUMNS + reasons) + "\n")
            if reasons is not None:
                row.update({k: c.get(k, "") for k in BASE_COLUMNS[4:] + reasons if k != "drops_total"})
                row["drops_total"] = sum(c.get(r, 0) for r in reasons) if c else ""
                out.write(",".join(str(row.get(k, "")) for k in BASE_COLUMNS + reasons) + "\n")
                out.flush()
            next_t += args.interval
            while time.monotonic() < next_t:
                if args.stop_file and os.path.exists(args.stop_file):
                    break
                time.sleep(min(0.2, max(0.0, next_t - time.monotonic())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
