#!/usr/bin/env python3
"""Prints the Markdown tables of counters and drop reasons from lib/core (used to keep docs/operations.md complete)."""
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent


def entries(path, macro):
    text = (root / path).read_text()
    body = text.split(f"#define {macro}(X)", 1)[1]
    body = body.split("\n\n", 1)[0]
    return re.findall(r'X\((\w+),\s*"((?:[^"\\]|\\.)*)"\)', body)


def table(rows):
    out = ["| name | meaning |", "|---|---|"]
    out += [f"| `{n}` | {d} |" for n, d in rows]
    return "\n".join(out)


which = sys.argv[1] if len(sys.argv) > 1 else "all"
if which in ("counters", "all"):
    print(table(entries("lib/core/counters.h", "STUNBOX_COUNTERS")))
if which == "all":
    print()
if which in ("drops", "all"):
    print(table(entries("lib/core/drop_reason.h", "STUNBOX_DROP_REASONS")))
