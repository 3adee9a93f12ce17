#!/usr/bin/env bash
# Reserves, mounts, shows and releases hugepages for stunbox's DPDK mode, per NUMA node.
#   scripts/hugepages.sh reserve [--size 2M|1G] [--pages N] [--node N|all]   (default 2M, 1024 pages per node)
#   scripts/hugepages.sh mount [DIR]                                           (default /dev/hugepages)
#   scripts/hugepages.sh show
#   scripts/hugepages.sh release [--size 2M|1G]
# For boot-time reservation (needed for 1G pages on most kernels) see docs/deployment.md.
set -euo pipefail

die() { echo "hugepages.sh: $*" >&2; exit 1; }

size=2M pages=1024 node=all
cmd=${1:-show}
shift || true
while (($#)); do
  case "$1" in
    --size) size=${2:?--size needs 2M or 1G}; shift 2 ;;
    --pages) pages=${2:?--pages needs a number}; shift 2 ;;
    --node) node=${2:?--node needs a number or all}; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) if [[ $cmd == mount ]]; then mnt=$1; shift; else die "unknown argument '$1' (see --help)"; fi ;;
  esac
done

case "$size" in
  2M|2m) kb=2048 ;;
  1G|1g) kb=1048576 ;;
  *) die "--size must be 2M or 1G, got '$size'" ;;
esac
[[ "$pages" =~ ^[0-9]+$ ]] || die "--pages must be a number, got '$pages'"

nodes() {
  if [[ "$node" == all ]]; then
    ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | sed 's/.*node//' || echo 0
  else
    echo "$node"
  fi
}

set_pages() {  # node count
  local f=/sys/devices/system/node/node$1/hugepages/hugepages-${kb}kB/nr_hugepages
  if [[ ! -e $f ]]; then
    # No NUMA sysfs (some VMs): fall back to the global knob.
    f=/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages
    [[ -e $f ]] || die "this kernel has no ${size} hugepages (no $f)"
  fi
  echo "$2" > "$f" || die "cannot write $f (root needed)"
  local got
  got=$(cat "$f")
  if ((got < $2)); then
    echo "hugepages.sh: node $1: asked for $2 x $size, kernel gave $got (memory fragmented? reserve at boot: docs/deployment.md)" >&2
  fi
}

show() {
  for d in /sys/devices/system/node/node[0-9]*; do
    [[ -d $d ]] || continue
    for h in "$d"/hugepages/hugepages-*; do
      printf '%s %-18s total %6s free %6s\n' "$(basename "$d")" "$(basename "$h")" \
        "$(cat "$h/nr_hugepages")" "$(cat "$h/free_hugepages")"
    done
  done
  grep -E '^Huge' /proc/meminfo
  mount | grep -E 'type hugetlbfs' || echo "no hugetlbfs mounted (DPDK's --in-memory does not need one)"
}

case "$cmd" in
  reserve)
    [[ $(id -u) -eq 0 ]] || die "reserve needs root"
    for n in $(nodes); do set_pages "$n" "$pages"; done
    show ;;
  release)
    [[ $(id -u) -eq 0 ]] || die "release needs root"
    for n in $(nodes); do set_pages "$n" 0; done
    show ;;
  mount)
    [[ $(id -u) -eq 0 ]] || die "mount needs root"
    mnt=${mnt:-/dev/hugepages}
    mkdir -p "$mnt"
    mountpoint -q "$mnt" || mount -t hugetlbfs -o pagesize=$size nodev "$mnt"
    show ;;
  show) show ;;
  *) die "unknown command '$cmd': reserve | mount | show | release" ;;
esac
