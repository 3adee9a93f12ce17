#!/usr/bin/env bash
# Binds a NIC to the driver stunbox's DPDK mode needs (wraps dpdk-devbind.py).
#   scripts/bind-nic.sh status
#   scripts/bind-nic.sh bind PCI_ADDR [PCI_ADDR...]      (Intel ixgbe/i40e/ice/igb/igc -> vfio-pci)
#   scripts/bind-nic.sh unbind PCI_ADDR DRIVER            (give the port back to a kernel driver)
# Mellanox ConnectX (mlx5) is bifurcated: it stays on the kernel's mlx5_core driver and
# DPDK drives it through rdma-core; it must NOT be bound to vfio-pci.
set -euo pipefail

die() { echo "bind-nic.sh: $*" >&2; exit 1; }
devbind=$(command -v dpdk-devbind.py || true)
[[ -n "$devbind" ]] || die "dpdk-devbind.py not found: apt-get install dpdk"

cmd=${1:-status}
shift || true

driver_of() {  # current kernel driver of a PCI address, or empty
  local link=/sys/bus/pci/devices/$1/driver
  [[ -e $link ]] && basename "$(readlink -f "$link")" || true
}

case "$cmd" in
  status)
    "$devbind" --status-dev net ;;
  bind)
    (($#)) || die "bind needs at least one PCI address (see: $0 status)"
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
  -h|--help) sed -n '2,7p' "$0" ;;
  *) die "unknown command '$cmd': status | bind | unbind" ;;
esac
