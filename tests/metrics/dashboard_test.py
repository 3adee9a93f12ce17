#!/usr/bin/env python3
"""The Grafana fleet dashboard (config/examples/grafana-stunbox-fleet.json) queries only what stunbox exports.

    dashboard_test.py --stunbox EXE --dashboard JSON

Parses the dashboard, takes every query (panel targets, nested rows, template variables), extracts the
stunbox_* metric names each names (each query must name at least one), and compares them with the metric
families the real daemon renders on /metrics (socket mode on loopback, with stats.metrics_listen): every
name must be exported. Also checks that the panels the fleet needs are there (answers, drops by reason,
health, drain, per-queue load, NIC misses). Exit 0 on pass, 1 with a line per failure.
"""

import argparse
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import stunbox_harness as h  # noqa: E402

check = h.Checks("dashboard_test")
METRIC = re.compile(r"\b(stunbox_[a-zA-Z0-9_]+)")


def queries(dash):
    """(where, expr) of every query in the dashboard."""
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                out.append(("panel %r" % p.get("title"), t.get("expr", "")))
            walk(p.get("panels", []))

    walk(dash.get("panels", []))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            out.append(("variable %r" % v.get("name"), q.get("query", "") if isinstance(q, dict) else q or ""))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunbox", required=True)
    ap.add_argument("--dashboard", required=True)
    args = ap.parse_args()
    with open(args.dashboard) as f:
        dash = json.load(f)

    mport = h.free_port(h.socket.SOCK_STREAM)
    srv = h.start(args.stunbox, "mode: socket\n",
                  h.socket_sets(["127.0.0.1:%d" % h.free_port()], 1, control="", metrics="127.0.0.1:%d" % mport))
    try:
        status, body, _ = h.scrape("http://127.0.0.1:%d/metrics" % mport)
    finally:
        h.stop_and_check(srv, check)
    check(status == 200, "/metrics answered (%s)" % status)
    exported = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    check(len(exported) > 20, "the daemon exports metric families (%d)" % len(exported))

    qs = queries(dash)
    check(len(qs) >= 10, "the dashboard has queries (%d)" % len(qs))
    used = set()
    for where, expr in qs:
        names = set(METRIC.findall(expr))
        # A counter's name is also its family's; histograms would add _bucket/_sum/_count (none exported).
        check(bool(names), "%s: the query names a stunbox metric: %r" % (where, expr))
        missing = sorted(n for n in names if n not in exported)
        check(not missing, "%s: every metric it names is exported (%s)" % (where, missing or "ok"))
        used |= names
    for need in ("stunbox_stun_responses_total", "stunbox_drops_total", "stunbox_health", "stunbox_drained",
                 "stunbox_rx_packets_total", "stunbox_port_rx_missed_total"):
        check(need in used, "the dashboard shows %s" % need)
    drops = [e for _, e in qs if "stunbox_drops_total" in e]
    check(any("reason" in e for e in drops), "drops are broken down by reason")
    check(any("queue" in e for _, e in qs if "stunbox_rx_packets_total" in e), "load is shown per queue")
    return check.verdict()


if __name__ == "__main__":
    sys.exit(main())
