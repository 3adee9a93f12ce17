#!/usr/bin/env bash
# Instructions per packet of the whole DPDK lcore loop, PMD included, from callgrind (exact and repeatable on a
# busy machine, unlike cycles): stunbox's lcore thread (stunbox-dpdk-bench) and testpmd 5tswap's forwarding
# thread on the same net_pcap stream, and the difference ("added over 5tswap"), split by function.
#
# Usage: scripts/loop-instr-count.sh [--build DIR] [--kind KIND] [--no-testpmd] [-- BENCH-ARGS...]
#   KIND: v4_plain (default), v6_plain, v4_fingerprint, v6_fingerprint; BENCH-ARGS go to stunbox-dpdk-bench
#   (e.g. --sketch 0 --limits off, or --flows 65536 --rate-pps 1000000).
# Each program runs about 0.3 s of TSC time under valgrind (a minute or two of wall time); --no-huge, loopback
# only, bounded by timeouts. Packets: stunbox's rx_packets over the whole run, testpmd's accumulated RX-packets.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
kind=v4_plain
testpmd=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift ;;
    --kind) kind=$2; shift ;;
    --no-testpmd) testpmd=0 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "loop-instr-count: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
bench=$build/bench/stunbox-dpdk-bench
command -v valgrind >/dev/null || { echo "loop-instr-count: valgrind not found: apt-get install valgrind" >&2; exit 1; }
[[ -x $bench ]] || { echo "loop-instr-count: $bench not built (ninja -C $build bench/stunbox-dpdk-bench)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/stunbox-loop-instr.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
eal=(-l "0,1" --no-pci --no-huge -m 512 --no-shconf --log-level=error)

# Per-function instructions per packet of one callgrind file: "N.N  function [object]".
per_packet() {  # per_packet FILE PACKETS
  callgrind_annotate --inclusive=no "$1" 2>/dev/null |
    awk -v p="$2" '/^ *[0-9,]+ / && !/PROGRAM TOTALS/ { n = $1; gsub(",", "", n); if (n / p >= 0.5) {
      line = $0; sub(/^ *[0-9,]+ +(\( *[0-9.]+%\) +)?/, "", line); printf "  %7.1f  %s\n", n / p, line } }' | cut -c1-160
}
total() { awk '/^summary:/ {print $2}' "$1"; }

"$bench" --kind "$kind" --pcap "$tmp/$kind.pcap" --write-pcap-only
json=$(timeout 600 valgrind --tool=callgrind --callgrind-out-file="$tmp/stunbox.cg" \
  --toggle-collect='stunbox::dpdk::lcore_main(void*)' "$bench" --kind "$kind" --pcap "$tmp/$kind.pcap" --seconds 0.3 \
  "$@" -- "${eal[@]}" 2>/dev/null | tail -n1)
sp=$(grep -o '"rx_total":[0-9]*' <<<"$json" | cut -d: -f2)
[[ -n "$sp" && "$sp" -gt 0 ]] || { echo "loop-instr-count: stunbox-dpdk-bench gave no packet count: $json" >&2; exit 1; }
st=$(total "$tmp/stunbox.cg")
echo "stunbox-dpdk-bench --kind $kind $*: $(awk -v t="$st" -v p="$sp" 'BEGIN {printf "%.1f", t / p}') instructions per packet (lcore thread, $sp packets)"
per_packet "$tmp/stunbox.cg" "$sp"
[[ $testpmd -eq 1 ]] || exit 0

command -v dpdk-testpmd >/dev/null || { echo "loop-instr-count: dpdk-testpmd not found (apt-get install dpdk)" >&2; exit 1; }
timeout -s INT 60 valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$tmp/testpmd.cg.%p" \
  dpdk-testpmd "${eal[@]}" --vdev "net_pcap0,rx_pcap=$tmp/$kind.pcap,infinite_rx=1" -- --forward-mode=5tswap \
  --no-flush-rx --rxd=1024 --txd=1024 --burst=32 --total-num-mbufs=8191 --mbcache=256 >"$tmp/testpmd.log" 2>&1 || true
tp=$(grep -A1 'Accumulated forward statistics' "$tmp/testpmd.log" | grep -o 'RX-packets: *[0-9]*' | grep -o '[0-9]*$' || true)
[[ -n "$tp" && "$tp" -gt 0 ]] || { echo "loop-instr-count: testpmd forwarded nothing (see its log)" >&2; tail -n5 "$tmp/testpmd.log" >&2; exit 1; }
# The forwarding lcore's thread: the one that spent the most instructions in the PMD (the main thread's
# start-up can spend more in all on a busy machine).
fwd=""; pmd_best=0
for f in "$tmp"/testpmd.cg.*-*; do
  pmd=$(callgrind_annotate --inclusive=no "$f" 2>/dev/null |
    awk '/librte_net_pcap/ { n = $1; gsub(",", "", n); s += n } END { print s + 0 }')
  if [[ $pmd -gt $pmd_best ]]; then pmd_best=$pmd; fwd=$f; fi
done
[[ -n "$fwd" ]] || { echo "loop-instr-count: no testpmd thread ran the PMD" >&2; exit 1; }
best=$(total "$fwd")
echo "dpdk-testpmd 5tswap: $(awk -v t="$best" -v p="$tp" 'BEGIN {printf "%.1f", t / p}') instructions per packet (forwarding thread, $tp packets)"
per_packet "$fwd" "$tp"
awk -v a="$st" -v b="$sp" -v c="$best" -v d="$tp" 'BEGIN {printf "added over 5tswap: %.1f instructions per packet\n", a / b - c / d}'
