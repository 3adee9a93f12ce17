#!/usr/bin/env bash
# Instructions per call of the STUN responder and the frame rewrite, from callgrind (exact and repeatable on a
# busy machine, unlike cycles): total instructions of N calls minus the harness's own loop, divided by N.
#
# Usage: scripts/instr-count.sh [BUILD_DIR] [N]      (default build, 200000)
# Prints one line per case: "respond_v4  123.4 instructions per call".
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-200000}
exe=$build/bench/stunbox-instr-count
command -v valgrind >/dev/null || { echo "instr-count: valgrind not found: apt-get install valgrind" >&2; exit 1; }
[[ -x $exe ]] || { echo "instr-count: $exe not built (ninja -C $build bench/stunbox-instr-count)" >&2; exit 1; }
total() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" "$1" "$n" 2>&1 >/dev/null |
    awk '/Collected/ {print $4}'
}
base=$(total empty)
for what in respond_v4 respond_v6 respond_fp_v4 reflect_sw_v4 reflect_sw_v6 reflect_offload_v4 reflect_sw_fp_v4; do
  t=$(total "$what")
  awk -v w="$what" -v t="$t" -v b="$base" -v n="$n" 'BEGIN { printf "%-20s %7.1f instructions per call\n", w, (t - b) / n }'
done
# Issue 14 item 7: per answered request, each against its own harness loop.
base=$(total per_reply_base)
for what in sketch_every sketch_sample64 global_cas global_claim; do
  t=$(total "$what")
  awk -v w="$what" -v t="$t" -v b="$base" -v n="$n" 'BEGIN { printf "%-20s %7.1f instructions per call\n", w, (t - b) / n }'
done
base=$(total clock_base)
for what in clock_coarse clock_tsc; do
  t=$(total "$what")
  awk -v w="$what" -v t="$t" -v b="$base" -v n="$n" 'BEGIN { printf "%-20s %7.1f instructions per call\n", w, (t - b) / n }'
done
