#!/usr/bin/env bash
# A two-namespace veth lab for running the DPDK appliance without a DPDK NIC.
#
#   scripts/netns-lab.sh up [QUEUES]   create (or recreate) the lab, QUEUES veth queues (default 2)
#   scripts/netns-lab.sh down          remove it
#   scripts/netns-lab.sh status        show what exists
#
# Layout (RFC 2544 / RFC 5180 benchmarking ranges, never routed):
#   netns sbx-cl: sbx-cl0 198.18.0.1/24, 2001:2::1/64   <-- veth -->   netns sbx-dp: sbx-dp0 (no kernel address)
# stunbox runs in sbx-dp on sbx-dp0 (net_af_packet or net_af_xdp) and owns
# 198.18.0.2 and 2001:2::2; the client kernel finds it by ARP/NDP on its own.
set -euo pipefail

readonly kClientNs=sbx-cl
readonly kApplianceNs=sbx-dp
readonly kClientIf=sbx-cl0
readonly kApplianceIf=sbx-dp0
readonly kClientV4=198.18.0.1/24
readonly kClientV6=2001:2::1/64

die() { echo "netns-lab: $*" >&2; exit 1; }

usage() {
  echo "usage: $0 up [QUEUES] | down | status" >&2
  exit 2
}

need_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces and veth need CAP_NET_ADMIN): sudo $0 $*"
  command -v ip >/dev/null || die "'ip' not found: apt-get install iproute2"
}

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

lab_down() {
  # Deleting a namespace destroys the veth end inside it, and with it the peer.
  local ns
  for ns in "$kClientNs" "$kApplianceNs"; do
    if ns_exists "$ns"; then ip netns del "$ns"; fi
  done
  # A half-built lab may have left the pair in the root namespace.
  if ip link show "$kClientIf" >/dev/null 2>&1; then ip link del "$kClientIf"; fi
  if ip link show "$kApplianceIf" >/dev/null 2>&1; then ip link del "$kApplianceIf"; fi
}

# Offloads off via ethtool where it exists; missing ethtool is a warning only
# for the appliance side (af_packet copes), but client TX checksumming must be
# off or the appliance sees partial checksums (veth passes CHECKSUM_PARTIAL).
set_offloads() {
  local ns=$1 ifname=$2 required=$3
  shift 3
  if ! command -v ethtool >/dev/null; then
    [[ $required == yes ]] && die "'ethtool' not found (needed to turn off TX checksum offload on $ifname): apt-get install ethtool"
    echo "netns-lab: warning: ethtool not found, offloads on $ifname left as they are" >&2
    return 0
  fi
  # Each feature on its own: a kernel that lacks one must not block the rest.
  local feature
  for feature in "$@"; do
    ip netns exec "$ns" ethtool -K "$ifname" "$feature" off >/dev/null 2>&1 || true
  done
  if [[ $required == yes ]]; then
    ip netns exec "$ns" ethtool -k "$ifname" | grep -q '^tx-checksumming: off' ||
      die "could not turn TX checksumming off on $ifname"
  fi
}

lab_up() {
  local queues=$1
  if ! [[ $queues =~ ^[0-9]+$ ]] || ((queues < 1 || queues > 64)); then
    die "QUEUES must be 1..64, got '$queues'"
  fi
  lab_down

  ip netns add "$kClientNs"
  ip netns add "$kApplianceNs"
  ip link add "$kClientIf" numtxqueues "$queues" numrxqueues "$queues" type veth \
    peer name "$kApplianceIf" numtxqueues "$queues" numrxqueues "$queues"
  ip link set "$kClientIf" netns "$kClientNs"
  ip link set "$kApplianceIf" netns "$kApplianceNs"

  # Client side: a plain host with both address families.
  ip -n "$kClientNs" link set lo up
  ip -n "$kClientNs" addr add "$kClientV4" dev "$kClientIf"
  ip -n "$kClientNs" addr add "$kClientV6" dev "$kClientIf" nodad
  set_offloads "$kClientNs" "$kClientIf" yes tx rx gro gso tso
  ip -n "$kClientNs" link set "$kClientIf" up

  # Appliance side: no kernel address, and no IPv6 on the interface so the
  # kernel neither answers NDP nor sends RS/MLD reports of its own. af_packet
  # and af_xdp still see IPv6 frames: disable_ipv6 only stops the IPv6 stack.
  ip -n "$kApplianceNs" link set lo up
  ip netns exec "$kApplianceNs" sysctl -qw "net.ipv6.conf.$kApplianceIf.disable_ipv6=1"
  # GRO would merge frames before af_packet sees them; checksum offloads
  # would hand the PMD replies it must not rely on.
  set_offloads "$kApplianceNs" "$kApplianceIf" no tx rx gro gso tso
  ip -n "$kApplianceNs" link set "$kApplianceIf" up
  ip -n "$kApplianceNs" link set "$kApplianceIf" xdp off 2>/dev/null || true

  local mac
  mac=$(ip -n "$kApplianceNs" -br link show "$kApplianceIf" | awk '{print $3}')
  cat <<EOF
netns-lab: up, $queues queue(s) per veth end
  $kClientNs: $kClientIf ${kClientV4%/*}, ${kClientV6%/*}
  $kApplianceNs: $kApplianceIf (MAC $mac, no kernel address; stunbox owns 198.18.0.2 and 2001:2::2)
next:
  ip netns exec $kApplianceNs build/app/stunbox/stunbox -c config/examples/lab-af_packet.yaml
    (or config/examples/lab-af_xdp.yaml; both expect QUEUES=2)
  ip netns exec $kClientNs turnutils_stunclient 198.18.0.2
  ip netns exec $kClientNs turnutils_stunclient 2001:2::2
  ip netns exec $kClientNs ping -c 3 198.18.0.2
  $0 down
EOF
}

lab_status() {
  local ns
  for ns in "$kClientNs" "$kApplianceNs"; do
    if ns_exists "$ns"; then
      echo "== netns $ns"
      ip -n "$ns" -br addr show
      if [[ $ns == "$kClientNs" ]]; then ip -n "$ns" neigh show dev "$kClientIf" 2>/dev/null || true; fi
    else
      echo "== netns $ns: absent"
    fi
  done
}

cmd=${1:-}
case $cmd in
  up)
    (($# <= 2)) || usage
    need_root "$@"
    lab_up "${2:-2}"
    ;;
  down)
    (($# == 1)) || usage
    need_root "$@"
    lab_down
    echo "netns-lab: down"
    ;;
  status)
    (($# == 1)) || usage
    need_root "$@"
    lab_status
    ;;
  *) usage ;;
esac
