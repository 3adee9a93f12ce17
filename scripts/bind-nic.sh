#!/usr/bin/env bash
# Binds a NIC to the driver stunbox's DPDK mode needs (wraps dpdk-devbind.py).
# Installed as stunbox-bind-nic (/usr/sbin); its --help is also its man page (man/meson.build).
set -euo pipefail

prog=${0##*/}
usage() {
  cat <<EOF
Usage: $prog status|bind|unbind [PCI_ADDR...]

Binds the ports of a NIC to the driver stunbox's DPDK mode needs, or gives
them back to the kernel (a wrapper of dpdk-devbind.py, Debian package dpdk).
bind and unbind need root.

Commands:
  status                  the network devices and their drivers (the default)
  bind PCI_ADDR...        Intel ixgbe, i40e, ice, igb, igc: to vfio-pci (loads
                          the module; refuses a port whose kernel interface is
                          up). Mellanox mlx4/mlx5 ports are left alone: they
                          are bifurcated and stay on the kernel driver
  unbind PCI_ADDR DRIVER  give the port back to a kernel driver (e.g. i40e)

Options:
  -h, --help              show this help and exit

vfio-pci needs the IOMMU on (intel_iommu=on iommu=pt): see the stunbox
deployment guide (docs/deployment.md, "Intel NICs"). Bind from the console or
a management NIC, never over the port being bound.

Examples:
  $prog status
  $prog bind 0000:03:00.0 0000:03:00.1
  $prog unbind 0000:03:00.0 i40e
EOF
}

die() { echo "$prog: $*" >&2; exit 1; }

cmd=${1:-status}
shift || true
if [[ $cmd == -h || $cmd == --help ]]; then usage; exit 0; fi
devbind=$(command -v dpdk-devbind.py || true)
[[ -n "$devbind" ]] || die "dpdk-devbind.py not found: apt-get install dpdk"

driver_of() {  # current kernel driver of a PCI address, or empty
  local link=/sys/bus/pci/devices/$1/driver
  [[ -e $link ]] && basename "$(readlink -f "$link")" || true
}

case "$cmd" in
  status)
    "$devbind" --status-dev net ;;
  bind)
    (($#)) || die "bind needs at least one PCI address (see: $prog status)"
    [[ $(id -u) -eq 0 ]] || die "bind needs root"
    for dev in "$@"; do
      [[ -e /sys/bus/pci/devices/$dev ]] || die "$dev: no such PCI device (addresses look like 0000:3b:00.0)"
      drv=$(driver_of "$dev")
      case "$drv" in
        mlx5_core|mlx4_core)
          echo "$dev: Mellanox ($drv) is bifurcated: leave it on $drv; DPDK's mlx5 PMD uses it through rdma-core (install rdma-core, ibverbs-providers). Nothing to do."
          continue ;;
        vfio-pci)
          echo "$dev: already on vfio-pci"; continue ;;
      esac
      for ifdir in /sys/bus/pci/devices/"$dev"/net/*; do
        [[ -e $ifdir ]] || continue
        if [[ $(cat "$ifdir/operstate") == up ]]; then
          die "$dev: its kernel interface $(basename "$ifdir") is up (in use?): ip link set $(basename "$ifdir") down first"
        fi
      done
      modprobe vfio-pci || die "cannot load vfio-pci (is the IOMMU enabled? intel_iommu=on iommu=pt, see docs/deployment.md)"
      "$devbind" --bind=vfio-pci "$dev"
      echo "$dev: $drv -> vfio-pci"
    done
    "$devbind" --status-dev net ;;
  unbind)
    (($# == 2)) || die "unbind needs PCI_ADDR DRIVER (e.g. 0000:3b:00.0 i40e)"
    [[ $(id -u) -eq 0 ]] || die "unbind needs root"
    "$devbind" --bind="$2" "$1"
    "$devbind" --status-dev net ;;
  *) die "unknown command '$cmd': status | bind | unbind" ;;
esac
