#!/usr/bin/env bash
# Reserves, mounts, shows and releases hugepages for stunbox's DPDK mode, per NUMA node.
# Installed as stunbox-hugepages (/usr/sbin); its --help is also its man page (man/meson.build).
set -euo pipefail

prog=${0##*/}
usage() {
  cat <<EOF
Usage: $prog reserve|mount|show|release [OPTIONS]

Reserves, mounts, shows and releases the hugepages that stunbox's DPDK mode
keeps its packet buffers in, per NUMA node. reserve, mount and release need
root.

Commands:
  reserve [--size 2M|1G] [--pages N] [--node N|all]
                  reserve N pages of the size on the node(s) (default 2M,
                  1024 pages per node, every node); says so when the kernel
                  gives fewer (fragmented memory: reserve at boot)
  mount [DIR]     mount hugetlbfs on DIR (default /dev/hugepages); DPDK's
                  --in-memory does not need it
  show            pages per node and size, /proc/meminfo, hugetlbfs mounts
                  (the default command)
  release [--size 2M|1G]
                  give every page of the size back on the node(s)

Options:
  --size 2M|1G    page size (default 2M)
  --pages N       pages per node for reserve (default 1024)
  --node N|all    NUMA node (default all)
  -h, --help      show this help and exit

1 GiB pages usually have to be reserved at boot on the kernel command line
(default_hugepagesz=1G hugepagesz=1G hugepages=4): see the stunbox deployment
guide (docs/deployment.md, "Hugepages").

Examples:
  $prog reserve --size 2M --pages 1024 --node all
  $prog mount /dev/hugepages
  $prog show
EOF
}

die() { echo "$prog: $*" >&2; exit 1; }

size=2M pages=1024 node=all
cmd=${1:-show}
shift || true
if [[ $cmd == -h || $cmd == --help ]]; then usage; exit 0; fi
while (($#)); do
  case "$1" in
    --size) size=${2:?--size needs 2M or 1G}; shift 2 ;;
    --pages) pages=${2:?--pages needs a number}; shift 2 ;;
    --node) node=${2:?--node needs a number or all}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
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
    echo "$prog: node $1: asked for $2 x $size, kernel gave $got (memory fragmented? reserve at boot: docs/deployment.md)" >&2
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
