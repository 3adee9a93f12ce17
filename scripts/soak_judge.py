#!/usr/bin/env python3
"""Judges one mode of a scripts/soak.sh run and writes its markdown summary.

Reads the sampler's CSV, stunbox's stdout/stderr and exit code, the load
generator's JSON lines, the hostile sender's summary and the mbuf probes;
prints the summary and one line per check (PASS/FAIL), writes the summary as
markdown to --md, and exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys

# Lines that mean the process crashed or tripped a check, whatever else it printed.
CRASH_RE = re.compile(r"(segmentation fault|sigsegv|sigbus|abort|panic|terminate called|sanitizer|core dumped|"
                      r"assert|stack trace|backtrace|double free|corrupted)", re.IGNORECASE)


def parse_final(lines: list[str]) -> tuple[dict[str, int], dict[str, int]] | None:
    """The `stunbox: final counters` block: (counters, drops by reason), or None when absent."""
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("stunbox: final counters"))
    except StopIteration:
        return None
    counters: dict[str, int] = {}
    drops: dict[str, int] = {}
    for line in lines[start + 1:]:
        m = re.match(r"^\s+drop (\w+)\s+(\d+)\s*$", line)
        if m:
            drops[m.group(1)] = int(m.group(2))
            continue
        m = re.match(r"^\s+(\w+)\s+(\d+)\s*$", line)
        if m:
            counters[m.group(1)] = int(m.group(2))
            continue
        if line.strip() and not line.startswith(" "):
            break
    return counters, drops


def read_lines(path: str) -> list[str]:
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def read_csv(path: str) -> list[dict[str, str]]:
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def num(row: dict[str, str], key: str) -> int | None:
    v = row.get(key, "")
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


class Judge:
    def __init__(self, a):
        self.a = a
        self.checks: list[tuple[bool, str]] = []

    def check(self, ok: bool, what: str) -> None:
        self.checks.append((bool(ok), what))

    def run(self) -> tuple[bool, str]:
        a = self.a
        md: list[str] = []
        out_lines, err_lines = read_lines(a.server_out), read_lines(a.server_err)
        final = parse_final(out_lines)
        counters, drops = final if final else ({}, {})
        value = lambda name: drops.get(name, counters.get(name, 0))  # noqa: E731

        # --- the server process
        self.check(a.server_rc == 0, f"stunbox exit code on SIGTERM: {a.server_rc} (expected 0)")
        self.check(final is not None, "stunbox printed its final counters")
        crashes = [l for l in out_lines + err_lines if CRASH_RE.search(l)]
        self.check(not crashes, "no crash/abort lines in stunbox's output" + (f": {crashes[:3]}" if crashes else ""))
        self.check(counters.get("rx_packets", 0) > 0, f"rx_packets grew: {counters.get('rx_packets', 0)}")

        # --- valid load
        loads = []
        for line in read_lines(a.load_json):
            try:
                loads.append(json.loads(line))
            except ValueError:
                pass
        sent = sum(l.get("sent", 0) for l in loads)
        valid = sum(l.get("valid", 0) for l in loads)
        invalid = sum(l.get("invalid", 0) for l in loads)
        lost = sum(l.get("lost", 0) for l in loads)
        late = sum(l.get("late", 0) for l in loads)
        reasons: dict[str, int] = {}
        for l in loads:
            for k, v in (l.get("invalid_reasons") or {}).items():
                reasons[k] = reasons.get(k, 0) + v
        loss = 100.0 * lost / sent if sent else 100.0
        dur = sum(l.get("duration_s", 0.0) for l in loads)
        self.check(bool(loads) and sent > 0, f"load generator ran: {len(loads)} segment(s), {sent} requests sent")
        self.check(invalid == 0, f"load: zero invalid answers (got {invalid}{' ' + str(reasons) if reasons else ''})")
        self.check(loss <= a.max_loss_pct, f"load: loss {loss:.4f}% <= {a.max_loss_pct}% ({lost} of {sent})")

        # --- hostile classes
        try:
            with open(a.hostile) as f:
                hostile = json.load(f)
        except (OSError, ValueError):
            hostile = {"classes": {}, "skipped": {"(all)": "no summary from soak_hostile.py"}}
        for name, why in hostile.get("skipped", {}).items():
            self.check(False, f"hostile class {name} could not run: {why}")
        classes = hostile.get("classes", {})
        self.check(bool(classes), f"hostile sender ran {len(classes)} classes")
        rows = []
        for name, c in classes.items():
            exp = c.get("expect", [])
            got = {e: value(e) for e in exp}
            self.check(c["sent"] > 0, f"{name}: sent {c['sent']}")
            for e, v in got.items():
                self.check(v > 0, f"{name}: counter {e} = {v} (> 0)")
            rule = c.get("replies_rule")
            if rule == "none":
                self.check(c["replies"] == 0, f"{name}: never answered (answers: {c['replies']})")
            elif rule == "error420":
                self.check(c["replies"] > 0 and c["bad_replies"] == 0,
                           f"{name}: answered with 420 ({c['replies']} answers, {c['bad_replies']} not a 420)")
            elif rule == "limited":
                bound = hostile.get("rate_pps", 0) * hostile.get("seconds", 0) + hostile.get("rate_burst", 0)
                self.check(0 < c["replies"] <= bound * 1.05 + 10 and c["bad_replies"] == 0,
                           f"{name}: held to limits.rate.pps: {c['replies']} answers of {c['sent']} "
                           f"(bound {bound:.0f} +5%)")
            elif rule == "most":
                self.check(c["replies"] >= 0.95 * c["sent"] and c["bad_replies"] == 0,
                           f"{name}: answered ({c['replies']} of {c['sent']}, {c['bad_replies']} bad)")
            rows.append((name, c, got))

        # --- memory
        samples = read_csv(a.csv)
        rss = [(float(r["t_s"]), num(r, "rss_kib"), num(r, "hwm_kib")) for r in samples if num(r, "rss_kib") is not None]
        warm = next((s for s in rss if s[0] >= a.warmup_s), None)
        after = [s for s in rss if warm and s[0] >= warm[0]]
        self.check(len(after) >= 3, f"RSS samples after the {a.warmup_s:.0f} s warm-up: {len(after)} (need >= 3)")
        growth = bound_kib = None
        if warm and after:
            end = after[-1]
            growth = end[1] - warm[1]
            bound_kib = max(a.rss_bound_kib, warm[1] * a.rss_bound_pct / 100.0)
            self.check(growth < bound_kib, f"RSS growth after warm-up {growth} KiB < {bound_kib:.0f} KiB "
                                           f"(max of {a.rss_bound_kib} KiB and {a.rss_bound_pct}% of {warm[1]} KiB)")

        # --- mbufs
        if a.mode == "dpdk":
            ok = a.mbuf_start is not None and a.mbuf_end is not None and a.mbuf_start == a.mbuf_end
            self.check(ok, f"mbufs in use back to the start-up level once idle: start {a.mbuf_start}, end {a.mbuf_end}")
            in_use = [num(r, "mbuf_in_use") for r in samples if num(r, "mbuf_in_use") is not None]

        verdict = all(ok for ok, _ in self.checks)

        # --- markdown
        md.append(f"#### {a.mode} mode: {'PASS' if verdict else 'FAIL'}\n")
        md.append(f"- duration: {a.minutes:g} min of traffic ({hostile.get('seconds', 0):.0f} s hostile, "
                  f"{dur:.0f} s of answered load); samples every {a.interval:g} s: {len(samples)} rows in `{a.csv_name}`")
        md.append(f"- server: {a.server_desc}")
        md.append(f"- valid load ({a.load_desc}): sent {sent}, valid {valid}, invalid {invalid}, "
                  f"lost {lost} ({loss:.4f}%, bound {a.max_loss_pct}%), late {late}; "
                  f"answers counted by stunbox: stun_success {counters.get('stun_success', 0)}, "
                  f"stun_error {counters.get('stun_error', 0)}")
        md.append(f"- server totals: rx_packets {counters.get('rx_packets', 0)}, tx_packets {counters.get('tx_packets', 0)}, "
                  f"drops {counters.get('drops', sum(drops.values()))}")
        if rss:
            first, last = rss[0], rss[-1]
            mx = max(s[1] for s in rss)
            md.append(f"- RSS: start {mib(first[1])} ({first[1]} KiB at {first[0]:.0f} s), "
                      f"warm {mib(warm[1]) if warm else 'n/a'} ({warm[1] if warm else '-'} KiB at "
                      f"{warm[0] if warm else 0:.0f} s), end {mib(last[1])} ({last[1]} KiB), max {mib(mx)}; "
                      f"growth after warm-up {growth if growth is not None else 'n/a'} KiB "
                      f"(bound {bound_kib:.0f} KiB)" if bound_kib is not None else "- RSS: too few samples")
            if a.mode == "dpdk" and last[2] is not None:
                md.append(f"- VmHWM: start {mib(first[2])}, end {mib(last[2])}")
        if a.mode == "dpdk":
            md.append(f"- mbufs in use: after start-up {a.mbuf_start}, idle after traffic {a.mbuf_end}, "
                      f"peak seen in samples {max(in_use) if in_use else 'n/a'} (samples under traffic are not atomic)")
        md.append("")
        md.append("| hostile class | sent | answers | counter(s) at exit | note |")
        md.append("|---|---:|---:|---|---|")
        for name, c, got in rows:
            cs = ", ".join(f"`{e}` {v}" for e, v in got.items()) or "(none specific)"
            answers = "-" if c.get("replies_rule") == "n/a" else c["replies"]  # raw frames: answers go to the kernel
            md.append(f"| {name} | {c['sent']} | {answers} | {cs} | {c.get('note', '')} |")
        md.append("")
        md.append("Drops by reason at exit: " + (", ".join(f"`{k}` {v}" for k, v in sorted(drops.items())) or "none"))
        md.append("")
        md.append("Checks:")
        md.append("")
        for ok, what in self.checks:
            if not ok:
                md.append(f"- FAIL {what}")
        md.append(f"- {sum(1 for ok, _ in self.checks if ok)} of {len(self.checks)} checks passed")
        md.append("")
        return verdict, "\n".join(md)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["socket", "dpdk"], required=True)
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--interval", type=float, default=5)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--csv-name", default="")
    ap.add_argument("--server-out", required=True)
    ap.add_argument("--server-err", required=True)
    ap.add_argument("--server-rc", type=int, required=True)
    ap.add_argument("--server-desc", default="")
    ap.add_argument("--load-json", required=True)
    ap.add_argument("--load-desc", default="")
    ap.add_argument("--hostile", required=True)
    ap.add_argument("--mbuf-start", type=lambda s: int(s) if s not in ("", "null") else None, default=None)
    ap.add_argument("--mbuf-end", type=lambda s: int(s) if s not in ("", "null") else None, default=None)
    ap.add_argument("--warmup-s", type=float, default=60)
    ap.add_argument("--rss-bound-kib", type=int, default=1024)
    ap.add_argument("--rss-bound-pct", type=float, default=2.0)
    ap.add_argument("--max-loss-pct", type=float, default=0.1)
    ap.add_argument("--md", required=True)
    a = ap.parse_args()
    a.csv_name = a.csv_name or a.csv
    j = Judge(a)
    verdict, md = j.run()
    with open(a.md, "w") as f:
        f.write(md + "\n")
    print(md)
    for ok, what in j.checks:
        if not ok:
            print(f"soak: {a.mode}: FAIL {what}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
