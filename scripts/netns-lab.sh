#!/usr/bin/env bash
# A two-namespace veth lab for running the DPDK appliance without a DPDK NIC.
#
#   scripts/netns-lab.sh up [QUEUES] [--exception | --steering xdp|flow] [--bgp [--appliances N]]
#                                      create (or recreate) the lab, QUEUES veth queues (default 2)
#   scripts/netns-lab.sh down          remove it (and the BIRD daemons and health hooks it started)
#   scripts/netns-lab.sh status        show what exists
#
# Layout (RFC 2544 / RFC 5180 benchmarking ranges, never routed):
#   netns sbx-cl: sbx-cl0 198.18.0.1/24, 2001:2::1/64   <-- veth -->   netns sbx-dp: sbx-dp0 (no kernel address)
# stunbox runs in sbx-dp on sbx-dp0 (net_af_packet or net_af_xdp) and owns
# 198.18.0.2 and 2001:2::2; the client kernel finds it by ARP/NDP on its own.
#
# --exception (the routed model, config/examples/lab-exception.yaml): sbx-dp
# also gets stunbox0, a persistent TAP that stunbox attaches to as its
# exception interface, holding 198.18.0.2/24 and 2001:2::2/64 for the
# kernel (BGP, SSH, its own pings); the raw veth is kept from the kernel's
# IP stack (rp_filter, arp_ignore; IPv6 off), as a NIC bound to vfio-pci is.
#
# --steering xdp|flow (the port shared with the kernel, config/examples/
# lab-af_xdp-steer.yaml and lab-bifurcated.yaml): the kernel keeps sbx-dp0
# and holds 198.18.0.2/24 and 2001:2::2/64 on it (it answers ARP, NDP, ping
# and BGP there); stunbox takes only STUN, through its XDP program (xdp) or
# net_tap's flow rules on a remote interface (flow). No TAP is made.
#
# --bgp (implies --exception unless --steering is given): sbx-cl becomes the router, BIRD 2 in AS 65000
# with multipath (fib_multipath_hash_policy=1), and each appliance namespace
# runs BIRD 2 (config/examples/bgp/bird-appliance.conf, AS 65001) on
# stunbox0 plus the health hook (config/examples/bgp/stunbox-bgp-health)
# against /run/stunbox-lab/NS.sock (over sbx-dp0 itself with --steering): the anycast 198.18.0.100/32 and
# 2001:2::100/128 are announced while that stunbox is healthy.
# --appliances N (default 1): more appliance namespaces, each on a link of
# its own to the router: sbx-dp2 on 198.18.1.0/24 and 2001:2:0:1::/64, ...
# Runtime files (BIRD sockets, logs, pids): /run/stunbox-lab.
set -euo pipefail

readonly kClientNs=sbx-cl
readonly kApplianceNs=sbx-dp
readonly kClientIf=sbx-cl0
readonly kApplianceIf=sbx-dp0
readonly kClientV4=198.18.0.1/24
readonly kClientV6=2001:2::1/64
readonly kTapIf=stunbox0
readonly kRunDir=/run/stunbox-lab
kSourceRoot=$(cd "$(dirname "$0")/.." && pwd)
readonly kSourceRoot

die() { echo "netns-lab: $*" >&2; exit 1; }

usage() {
  echo "usage: $0 up [QUEUES] [--exception | --steering xdp|flow] [--bgp [--appliances N]] | down | status" >&2
  exit 2
}

need_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces and veth need CAP_NET_ADMIN): sudo $0 $*"
  command -v ip >/dev/null || die "'ip' not found: apt-get install iproute2"
}

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

# The processes the lab started, by their pid files only.
stop_lab_daemons() {
  local f pid
  for f in "$kRunDir"/*.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
    rm -f "$f"
  done
}

# Appliance namespaces: sbx-dp, then sbx-dp2, sbx-dp3, ...
appliance_ns() { if (($1 == 1)); then echo "$kApplianceNs"; else echo "$kApplianceNs$1"; fi; }

lab_down() {
  stop_lab_daemons
  # Deleting a namespace destroys the veth end inside it, and with it the peer.
  local ns
  for ns in "$kClientNs" "$kApplianceNs" $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${kApplianceNs}[0-9]+$" || true); do
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

# The exception model in appliance namespace $1: the persistent TAP with the
# box's unicast addresses $2 (IPv4/len) and $3 (IPv6/len); the veth $4 kept
# from the kernel's own IP stack.
exception_side() {
  local ns=$1 v4=$2 v6=$3 veth=$4
  ip -n "$ns" tuntap add dev "$kTapIf" mode tap multi_queue
  # IPv6 addresses stay while stunbox is not attached (link down).
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$kTapIf.keep_addr_on_down=1"
  ip -n "$ns" addr add "$v4" dev "$kTapIf"
  ip -n "$ns" addr add "$v6" dev "$kTapIf" nodad
  ip -n "$ns" link set "$kTapIf" up
  # af_packet sees every frame and so does the kernel: strict reverse-path
  # filtering drops IPv4 that enters on the veth (its source is routed via
  # the TAP), and arp_ignore 8 keeps the kernel from answering ARP there.
  ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$veth.rp_filter=1" "net.ipv4.conf.$veth.arp_ignore=8" \
    "net.ipv4.ip_forward=0"
}

# The steering models in appliance namespace $1: the kernel keeps the veth $4
# and holds the box's unicast addresses $2 and $3 on it; stunbox takes STUN
# only (its XDP program, or flow rules), so nothing else needs keeping away.
steering_side() {
  local ns=$1 v4=$2 v6=$3 veth=$4
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$veth.disable_ipv6=0"
  ip -n "$ns" addr add "$v4" dev "$veth"
  ip -n "$ns" addr add "$v6" dev "$veth" nodad
}

# The kernel's side of appliance namespace $1 for the model of the lab ($5: exception or steering).
kernel_side() {
  if [[ $5 == steering ]]; then steering_side "$1" "$2" "$3" "$4"; else exception_side "$1" "$2" "$3" "$4"; fi
}

# The client (or router) end of a veth: a plain host with both address
# families.  client_end NS IF V4/LEN V6/LEN
client_end() {
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$1" addr add "$4" dev "$2" nodad
  set_offloads "$1" "$2" yes tx rx gro gso tso
  ip -n "$1" link set "$2" up
}

# An appliance end of a veth: no kernel address, and no IPv6 on the interface
# so the kernel neither answers NDP nor sends RS/MLD reports of its own.
# af_packet and af_xdp still see IPv6 frames: disable_ipv6 only stops the IPv6
# stack. GRO would merge frames before af_packet sees them; checksum offloads
# would hand the PMD replies it must not rely on.  appliance_end NS IF
appliance_end() {
  ip -n "$1" link set lo up
  ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
  set_offloads "$1" "$2" no tx rx gro gso tso
  ip -n "$1" link set "$2" up
}

# Runs "$@" with every descriptor above 2 closed: the daemons the lab starts
# must not inherit the caller's (the lab lock of `flock /tmp/stunbox-lab.lock`
# held by a BIRD would block every later lab run).
without_fds() { (exec_without_fds "$@"); }
# The same in the calling (sub)shell: `exec_without_fds CMD &` makes $! the
# command's own pid (a `( ... )` inside a background job would fork once more,
# and killing $! would leave the command running).
exec_without_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then eval "exec $fd>&-"; fi
  done
  exec "$@"
}

# BIRD 2 with config $2 in namespace $1, control socket and pid in kRunDir.
start_bird() {
  local ns=$1 conf=$2 name=$3
  without_fds ip netns exec "$ns" bird -c "$conf" -s "$kRunDir/$name.ctl" -P "$kRunDir/bird-$name.pid" ||
    die "BIRD did not start in $ns (config $conf)"
}

lab_up() {
  local queues=$1 exception=$2 bgp=$3 appliances=$4 steering=$5
  if ! [[ $queues =~ ^[0-9]+$ ]] || ((queues < 1 || queues > 64)); then
    die "QUEUES must be 1..64, got '$queues'"
  fi
  lab_down

  if [[ $bgp == yes ]]; then
    command -v bird >/dev/null || die "'bird' not found (BIRD 2): apt-get install bird2"
    [[ -n $steering ]] || exception=yes
  fi
  ip netns add "$kClientNs"
  ip netns add "$kApplianceNs"
  ip link add "$kClientIf" numtxqueues "$queues" numrxqueues "$queues" type veth \
    peer name "$kApplianceIf" numtxqueues "$queues" numrxqueues "$queues"
  ip link set "$kClientIf" netns "$kClientNs"
  ip link set "$kApplianceIf" netns "$kApplianceNs"

  ip -n "$kClientNs" link set lo up
  client_end "$kClientNs" "$kClientIf" "$kClientV4" "$kClientV6"
  appliance_end "$kApplianceNs" "$kApplianceIf"
  ip -n "$kApplianceNs" link set "$kApplianceIf" xdp off 2>/dev/null || true

  local model=none
  [[ $exception == yes ]] && model=exception
  [[ -n $steering ]] && model=steering
  if [[ $model != none ]]; then
    mkdir -p "$kRunDir"
    kernel_side "$kApplianceNs" 198.18.0.2/24 2001:2::2/64 "$kApplianceIf" "$model"
  fi
  if [[ $bgp == yes ]]; then
    lab_bgp "$queues" "$appliances" "$model"
  elif [[ $model == steering ]]; then
    # Without BGP, static routes to the service addresses via the box's
    # unicast address, as a router would have (the kernel of sbx-dp does not
    # hold them, so nothing there answers ARP/NDP for them).
    ip -n "$kClientNs" route add 198.18.0.100/32 via 198.18.0.2
    ip -n "$kClientNs" -6 route add 2001:2::100/128 via 2001:2::2
  fi

  local mac
  mac=$(ip -n "$kApplianceNs" -br link show "$kApplianceIf" | awk '{print $3}')
  if [[ $model == steering ]]; then
    local example=lab-af_xdp-steer.yaml extra=""
    [[ $steering == flow ]] && example=lab-bifurcated.yaml
    [[ $bgp == yes ]] && extra=", BGP (BIRD 2), $appliances appliance(s); sbx-cl is the router (AS 65000, multipath)"
    cat <<EOF
netns-lab: up, steering model ($steering)$extra
  $kClientNs: $kClientIf ${kClientV4%/*}, ${kClientV6%/*}
  $kApplianceNs: $kApplianceIf (MAC $mac, $queues queue(s)) 198.18.0.2/24, 2001:2::2/64 for the kernel; stunbox takes STUN only
next:
  ip netns exec $kApplianceNs build/app/stunbox/stunbox -c config/examples/$example
  ip netns exec $kClientNs turnutils_stunclient 198.18.0.2
  ip netns exec $kClientNs ping -c 3 198.18.0.2            (the kernel of $kApplianceNs answers)
  $0 down
EOF
    return
  fi
  if [[ $exception == yes ]]; then
    local extra=""
    [[ $bgp == yes ]] && extra=", BGP (BIRD 2), $appliances appliance(s); sbx-cl is the router (AS 65000, multipath)"
    cat <<EOF
netns-lab: up, exception model$extra
  $kClientNs: $kClientIf ${kClientV4%/*}, ${kClientV6%/*}
  $kApplianceNs: $kApplianceIf (MAC $mac) for stunbox; $kTapIf (persistent TAP) 198.18.0.2/24, 2001:2::2/64 for the kernel
next:
  ip netns exec $kApplianceNs build/app/stunbox/stunbox -c config/examples/lab-exception.yaml
  ip netns exec $kClientNs ip route show 198.18.0.100          (with --bgp: via 198.18.0.2 while healthy)
  ip netns exec $kClientNs turnutils_stunclient 198.18.0.100
  $0 down
EOF
    return
  fi
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

# The router in sbx-cl and one BIRD + health hook per appliance namespace.
lab_bgp() {
  local queues=$1 appliances=$2 model=$3 i ns rif v4net v6net conf hook cli
  ip netns exec "$kClientNs" sysctl -qw net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1 \
    net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  cli=$kSourceRoot/build/app/stunbox-cli/stunbox-cli
  [[ -x $cli ]] || cli=stunbox-cli
  hook=$kSourceRoot/config/examples/bgp/stunbox-bgp-health
  conf=$kRunDir/router.conf
  cp "$kSourceRoot/config/examples/bgp/bird-router-lab.conf" "$conf"
  for ((i = 1; i <= appliances; i++)); do
    ns=$(appliance_ns "$i")
    v4net=198.18.$((i - 1))
    v6net=2001:2:0:$((i - 1))
    if ((i > 1)); then
      rif=sbx-cl$((i - 1))
      ip netns add "$ns"
      ip link add "$rif" netns "$kClientNs" numtxqueues "$queues" numrxqueues "$queues" type veth \
        peer name "$kApplianceIf" netns "$ns" numtxqueues "$queues" numrxqueues "$queues"
      client_end "$kClientNs" "$rif" "$v4net.1/24" "$v6net::1/64"
      appliance_end "$ns" "$kApplianceIf"
      kernel_side "$ns" "$v4net.2/24" "$v6net::2/64" "$kApplianceIf" "$model"
    fi
    cat >>"$conf" <<EOF

protocol bgp ${ns//-/_}_4 from appliance {
  neighbor $v4net.2 as 65001;
  ipv4 { import all; export none; };
}
protocol bgp ${ns//-/_}_6 from appliance {
  neighbor $v6net::2 as 65001;
  ipv6 { import all; export none; };
}
EOF
    # The appliance's speaker: the shipped example with this box's values.
    sed -e "s/^define ROUTER_ID = .*/define ROUTER_ID = $v4net.2;/" \
      -e "s/^define ROUTER4 = .*/define ROUTER4 = $v4net.1;/" \
      -e "s/^define ROUTER6 = .*/define ROUTER6 = $v6net::1;/" \
      -e "s|^log syslog all;|log \"$kRunDir/bird-$ns.log\" all;|" \
      "$kSourceRoot/config/examples/bgp/bird-appliance.conf" >"$kRunDir/$ns.conf"
    start_bird "$ns" "$kRunDir/$ns.conf" "$ns"
    exec_without_fds ip netns exec "$ns" setsid "$hook" --cli "$cli" --socket "$kRunDir/$ns.sock" --birdc-socket "$kRunDir/$ns.ctl" \
      --interval 0.5 </dev/null >>"$kRunDir/hook-$ns.log" 2>&1 &
    echo $! >"$kRunDir/hook-$ns.pid"
  done
  sed -i "s|^log syslog all;|log \"$kRunDir/bird-router.log\" all;|" "$conf"
  start_bird "$kClientNs" "$conf" router
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
    shift
    queues=2 exception=no bgp=no appliances=1 steering=
    while (($# > 0)); do
      case $1 in
        --exception) exception=yes ;;
        --bgp) bgp=yes ;;
        --steering)
          (($# >= 2)) || usage
          steering=$2
          shift
          [[ $steering == xdp || $steering == flow ]] || die "--steering must be xdp or flow, got '$steering'"
          ;;
        --appliances)
          (($# >= 2)) || usage
          appliances=$2
          shift
          [[ $appliances =~ ^[1-9]$ ]] || die "--appliances must be 1..9, got '$appliances'"
          ;;
        -*) usage ;;
        *) queues=$1 ;;
      esac
      shift
    done
    [[ -n $steering && $exception == yes ]] && die "--exception and --steering are two models: pick one"
    need_root up
    lab_up "$queues" "$exception" "$bgp" "$appliances" "$steering"
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
