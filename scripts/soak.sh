#!/usr/bin/env bash
# Soak test: N minutes of valid and hostile traffic against the real stunbox in socket and dpdk mode; judges memory, mbufs, counters.
#
#   sudo scripts/soak.sh [--minutes N] [--mode socket|dpdk|both] [--build DIR] [--out FILE] [--dir DIR]
#
#   --minutes N   minutes of traffic per mode (default 10; decimals allowed, 0.5..60)
#   --mode M      socket, dpdk or both (default both)
#   --build DIR   meson build directory with the binaries (default build)
#   --out FILE    also write the markdown summary to FILE
#   --dir DIR     keep samples (CSV), server logs and reports here (default /tmp/stunbox-soak-DATE)
#
# Per mode: start the real stunbox (socket: 127.0.0.1 + ::1 on a free port;
# dpdk: the netns lab on net_af_packet), run stunbox-load (open loop, every
# answer validated) and scripts/soak_hostile.py at the same time, sample RSS,
# counters and (dpdk) mbufs in use every 5 s (scripts/soak_sample.py), stop
# stunbox with SIGTERM and judge (scripts/soak_judge.py). Exit 1 if any check
# failed, with one line per failed check. See docs/soak.md.
set -euo pipefail

readonly kInterval=5            # seconds between samples
readonly kValidRate=2000        # valid requests/s (half IPv4 over 9 sources, half IPv6)
readonly kRatePps=2500          # limits.rate.pps: above any valid source, far below the flood
readonly kRateBurst=250
readonly kFloodPps=8000         # one source, 3.2x limits.rate.pps
readonly kClassPps=40           # each malformed-STUN class
readonly kChurnPps=100          # a new source port per request
readonly kRawPps=40             # each raw-frame class (dpdk)
readonly kPingPps=1500          # ping flood, 3x limits.l3_pps (dpdk)
readonly kL3Pps=500
readonly kSpoofPps=300          # valid requests from spoofed 198.19.0.0/16 sources (dpdk)
readonly kMaxLossPct=0.1        # valid load: lost/sent bound
readonly kRssBoundKib=1024      # RSS growth bound after warm-up (with kRssBoundPct)
readonly kRssBoundPct=2
readonly kReadyTimeout=30
readonly kStopTimeout=30

die() { echo "soak: $*" >&2; exit 2; }

usage() {
  sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

cmdline="$0 $*"
minutes=10
mode=both
build=build
out=""
keep_dir=""
while (($#)); do
  case $1 in
    --minutes) minutes=${2:-}; shift 2 ;;
    --mode) mode=${2:-}; shift 2 ;;
    --build) build=${2:-}; shift 2 ;;
    --out) out=${2:-}; shift 2 ;;
    --dir) keep_dir=${2:-}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "soak: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ $minutes =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--minutes must be a number, got '$minutes'"
seconds=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }')
((seconds >= 30 && seconds <= 3600)) || die "--minutes must be between 0.5 and 60, got '$minutes'"
case $mode in socket|dpdk|both) ;; *) die "--mode must be socket, dpdk or both, got '$mode'" ;; esac
[[ $(id -u) -eq 0 ]] || die "must run as root (source ports 53/123, network namespaces, AF_PACKET): sudo $0"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ $build = /* ]] || build=$root/$build
stunbox=$build/app/stunbox/stunbox
load=$build/app/stunbox-load/stunbox-load
if [[ ! -x $stunbox || ! -x $load ]]; then
  # A fresh checkout: the packages the lab and the clients need, then the build.
  echo "soak: building into $build" >&2
  "$root/scripts/setup.sh" --test >&2 || die "scripts/setup.sh --test failed"
  [[ -f $build/build.ninja ]] || meson setup "$build" "$root" >/dev/null || die "meson setup $build failed"
  ninja -C "$build" app/stunbox/stunbox app/stunbox-load/stunbox-load >/dev/null || die "build failed: ninja -C $build"
fi
for exe in "$stunbox" "$load"; do
  [[ -x $exe ]] || die "$exe not found: build first (ninja -C $build)"
done
# Warm-up: the first minute (or the first half of a short run) is excluded from the RSS judgement.
warmup=$((seconds / 2 < 60 ? seconds / 2 : 60))
stamp=$(date -u +%Y%m%d-%H%M%S)
keep_dir=${keep_dir:-/tmp/stunbox-soak-$stamp}
mkdir -p "$keep_dir"
work=$(mktemp -d /tmp/stunbox-soak-work.XXXXXX)
dpdk_prefix=sbxsoak$$
lab_up=0
started=()   # PIDs this script started and has not reaped yet

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local pid
  for pid in "${started[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  if [[ -f $work/load.child ]]; then
    pid=$(<"$work/load.child")
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  fi
  for pid in "${started[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  if ((lab_up)); then "$root/scripts/netns-lab.sh" down >/dev/null 2>&1 || true; fi
  rm -rf "/var/run/dpdk/$dpdk_prefix" "$work"
}
trap cleanup EXIT
trap 'echo "soak: interrupted" >&2; exit 130' INT
trap 'echo "soak: terminated" >&2; exit 143' TERM

forget() {  # drop a reaped PID from the cleanup list
  local keep=() p
  for p in "${started[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  started=("${keep[@]}")
}

# Waits for "stunbox: ready" in $1 while PID $2 lives; bounded by kReadyTimeout.
wait_ready() {
  local file=$1 pid=$2 i
  for ((i = 0; i < kReadyTimeout * 10; i++)); do
    grep -q '^stunbox: ready' "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# SIGTERM to our stunbox, bounded wait; sets server_rc (255 = would not stop, killed).
server_rc=255
stop_server() {
  local pid=$1 i
  server_rc=0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < kStopTimeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    server_rc=255
  else
    wait "$pid" || server_rc=$?
  fi
  forget "$pid"
}

# Valid load in segments of at most 600 s (stunbox-load's own bound); one JSON line per segment.
# Args: NETNS ("" = none) then stunbox-load arguments without --duration.
run_load() {
  local ns=$1 left=$seconds seg pid
  shift
  local prefix=()
  [[ -n $ns ]] && prefix=(ip netns exec "$ns")
  while ((left > 0)); do
    seg=$((left > 600 ? 600 : left))
    "${prefix[@]}" "$load" "$@" --duration "$seg" >"$work/load.seg" 2>&1 &
    pid=$!
    echo "$pid" >"$work/load.child"
    wait "$pid" || true
    rm -f "$work/load.child"
    cat "$work/load.seg" >>"$work/load.log"
    tail -n1 "$work/load.seg" | grep '^{' >>"$work/load.jsonl" || true
    left=$((left - seg))
  done
}

# Sample once for mbufs in use (dpdk: the stunbox_mempool_in_use gauge); echoes the number or "".
mbufs_now() {  # mbufs_now PID METRICS [NETNS]
  local -a in_ns=()
  [[ -n ${3:-} ]] && in_ns=(ip netns exec "$3")
  "${in_ns[@]}" python3 "$root/scripts/soak_sample.py" probe --pid "$1" --metrics "$2" 2>>"$work/probe.err" |
    python3 -c 'import json,sys; v=json.load(sys.stdin).get("mbuf_in_use",""); print(v)' 2>/dev/null || true
}

free_ports() {  # echoes a UDP port free on 127.0.0.1 and ::1, and a free TCP port on 127.0.0.1
  python3 - <<'EOF'
import random, socket
def free_udp():
    for _ in range(200):
        p = random.randrange(20000, 60000)
        try:
            a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", p))
            b = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); b.bind(("::1", p))
            a.close(); b.close(); return p
        except OSError:
            pass
    raise SystemExit("no free UDP port")
t = socket.socket(); t.bind(("127.0.0.1", 0)); tcp = t.getsockname()[1]; t.close()
print(free_udp(), tcp)
EOF
}

# Runs one mode; returns the judge's exit code. Artefacts in $keep_dir.
run_mode() {
  local m=$1 pid port mport metrics ns_server="" ns_client="" mac
  local -a server_cmd load_args hostile_args
  local mbuf_start="" mbuf_end=""
  rm -f "$work"/load.* "$work/stop" "$work/hostile.json"
  echo "soak: === $m mode: $minutes min ($seconds s) ==="

  if [[ $m == socket ]]; then
    read -r port mport < <(free_ports)
    metrics=127.0.0.1:$mport
    # Every setting comes from --set: the shipped config/stunbox.yaml serves 3478 on every address.
    echo "mode: socket" >"$work/socket.yaml"
    server_cmd=("$stunbox" -c "$work/socket.yaml"
      --set "socket.listen=[\"127.0.0.1:$port\", \"[::1]:$port\"]" --set socket.workers=2
      --set "control.socket=$work/ctl.sock" --set "stats.metrics_listen=$metrics"
      --set stun.classic=false --set "limits.rate.pps=$kRatePps" --set "limits.rate.burst=$kRateBurst")
    load_args=(--server "127.0.0.1:$port" --server "[::1]:$port")
    for i in 2 3 4 5 6 7 8 9 10; do load_args+=(--bind "127.0.0.$i"); done
    load_args+=(--bind ::1)
    hostile_args=(--mode socket --target "127.0.0.1:$port" --target "[::1]:$port"
      --source-v4 127.0.0.20 --source-v6 ::1 --denied-source 127.0.0.21
      --flood-source 127.0.0.22 --churn-source 127.0.0.23)
  else
    # The lab's namespaces have fixed names: hold the lab lock the tests take too (released at exit).
    exec 8>>/tmp/stunbox-netns-lab.lock
    flock 8
    "$root/scripts/netns-lab.sh" up 2 >"$work/lab.log" 2>&1 || { cat "$work/lab.log" >&2; return 1; }
    lab_up=1
    ns_server=sbx-dp
    ns_client=sbx-cl
    port=3478
    metrics=127.0.0.1:9478
    local a
    # Extra client addresses: 9 IPv4 sources for the load, one per hostile role.
    for a in 10 11 12 13 14 15 16 17 20 21 22 23; do ip -n sbx-cl addr add "198.18.0.$a/24" dev sbx-cl0; done
    ip -n sbx-cl addr add 2001:2::20/64 dev sbx-cl0 nodad
    server_cmd=(ip netns exec sbx-dp "$stunbox" -c "$root/config/examples/lab-af_packet.yaml"
      --set "control.socket=$work/ctl.sock" --set "stats.metrics_listen=$metrics"
      --set stun.classic=false --set "limits.rate.pps=$kRatePps" --set "limits.rate.burst=$kRateBurst"
      --set "limits.l3_pps=$kL3Pps" -- --file-prefix "$dpdk_prefix")
    load_args=(--server 198.18.0.2:3478 --server "[2001:2::2]:3478" --bind 198.18.0.1)
    for a in 10 11 12 13 14 15 16 17; do load_args+=(--bind "198.18.0.$a"); done
    load_args+=(--bind 2001:2::1)
    mac=$(ip -n sbx-dp -br link show sbx-dp0 | awk '{print $3}')
    hostile_args=(--mode dpdk --target 198.18.0.2:3478 --target "[2001:2::2]:3478"
      --source-v4 198.18.0.20 --source-v6 2001:2::20 --denied-source 198.18.0.21
      --flood-source 198.18.0.22 --churn-source 198.18.0.23
      --raw-iface sbx-cl0 --raw-dst-mac "$mac" --raw-src-v4 198.18.0.1 --raw-dst-v4 198.18.0.2
      --raw-src-v6 2001:2::1 --raw-dst-v6 2001:2::2 --raw-pps "$kRawPps"
      --ping-pps "$kPingPps" --l3-pps "$kL3Pps" --spoof-pps "$kSpoofPps")
  fi
  load_args+=(--rate "$kValidRate" --sockets 64 --fingerprint --max-loss "$kMaxLossPct" --quiet)
  hostile_args+=(--seconds "$seconds" --summary "$work/hostile.json" --class-pps "$kClassPps"
    --flood-pps "$kFloodPps" --churn-pps "$kChurnPps" --rate-pps "$kRatePps" --rate-burst "$kRateBurst")

  "${server_cmd[@]}" >"$keep_dir/stunbox-$m.out" 2>"$keep_dir/stunbox-$m.err" &
  pid=$!
  started+=("$pid")
  if ! wait_ready "$keep_dir/stunbox-$m.out" "$pid"; then
    echo "soak: $m: FAIL stunbox exited or printed no ready line within ${kReadyTimeout}s" >&2
    tail -5 "$keep_dir/stunbox-$m.err" >&2
    stop_server "$pid"
    return 1
  fi

  if [[ $m == dpdk ]]; then
    # Baseline before any traffic: where mbufs legitimately sit while idle.
    mbuf_start=$(mbufs_now "$pid" "$metrics" "$ns_server")
    # The kernel drops what it queued while ARP/NDP resolve: probe until answered (bounded).
    # The entries are not pinned: the ping flood spends only the echo budget (limits.l3_pps),
    # so the kernel's own neighbour probes keep being answered (limits.nd_pps) all run long.
    ip netns exec sbx-cl python3 - <<'EOF' || { echo "soak: dpdk: FAIL warm-up probes unanswered" >&2; }
import os, select, socket, struct, sys
for host, fam in (("198.18.0.2", socket.AF_INET), ("2001:2::2", socket.AF_INET6)):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for _ in range(20):
        tx = os.urandom(12)
        s.sendto(struct.pack("!HHI", 1, 0, 0x2112A442) + tx, (host, 3478))
        if select.select([s], [], [], 0.5)[0] and s.recv(2048)[8:20] == tx:
            break
    else:
        sys.exit(1)
EOF
  fi

  local sampler_prefix=()
  [[ -n $ns_server ]] && sampler_prefix=(ip netns exec "$ns_server")
  local sample_args=(run --pid "$pid" --metrics "$metrics" --csv "$keep_dir/samples-$m.csv"
    --interval "$kInterval" --max-seconds $((seconds + 300)) --stop-file "$work/stop")
  "${sampler_prefix[@]}" python3 "$root/scripts/soak_sample.py" "${sample_args[@]}" 2>"$work/sampler.err" &
  local sampler=$!
  started+=("$sampler")

  run_load "$ns_client" "${load_args[@]}" &
  local loader=$!
  started+=("$loader")
  local hostile_prefix=()
  [[ -n $ns_client ]] && hostile_prefix=(ip netns exec "$ns_client")
  "${hostile_prefix[@]}" python3 "$root/scripts/soak_hostile.py" "${hostile_args[@]}" >"$work/hostile.log" 2>&1 &
  local hostile=$!
  started+=("$hostile")
  echo "soak: $m: stunbox pid $pid, traffic running for $seconds s"

  wait "$hostile" || echo "soak: $m: soak_hostile.py exited non-zero: $(tail -3 "$work/hostile.log")" >&2
  forget "$hostile"
  wait "$loader" || true
  forget "$loader"
  cat "$work/hostile.log"
  cp "$work/load.log" "$keep_dir/load-$m.log" 2>/dev/null || true
  cp "$work/load.jsonl" "$keep_dir/load-$m.jsonl" 2>/dev/null || : >"$keep_dir/load-$m.jsonl"
  cp "$work/hostile.json" "$keep_dir/hostile-$m.json" 2>/dev/null || true

  if [[ $m == dpdk ]]; then
    # Idle again: in-flight bursts drain within milliseconds; give it up to 15 s.
    local i
    for ((i = 0; i < 15; i++)); do
      mbuf_end=$(mbufs_now "$pid" "$metrics" "$ns_server")
      [[ -n $mbuf_end && $mbuf_end == "$mbuf_start" ]] && break
      sleep 1
    done
  fi
  # One more sample at rest, then stop the sampler and the server.
  sleep "$kInterval"
  touch "$work/stop"
  wait "$sampler" || true
  forget "$sampler"
  stop_server "$pid"
  cat "$work/sampler.err" "$work/probe.err" 2>/dev/null | sort -u | head -5 >&2 || true

  local server_desc load_desc
  if [[ $m == socket ]]; then
    server_desc="socket mode on 127.0.0.1:$port and [::1]:$port, 2 workers, stun.classic false, limits.rate ${kRatePps}/s burst $kRateBurst, default deny_source_ports"
    load_desc="stunbox-load --rate $kValidRate --fingerprint, 64 sockets from 127.0.0.2-10 and ::1"
  else
    server_desc="dpdk mode, netns lab, net_af_packet (2 queues, 2 worker lcores), config/examples/lab-af_packet.yaml + stun.classic false, limits.rate ${kRatePps}/s burst $kRateBurst, limits.l3_pps $kL3Pps"
    load_desc="stunbox-load --rate $kValidRate --fingerprint, 64 sockets from 198.18.0.1,10-17 and 2001:2::1"
  fi
  local jrc=0
  python3 "$root/scripts/soak_judge.py" --mode "$m" --minutes "$minutes" --interval "$kInterval" \
    --csv "$keep_dir/samples-$m.csv" --csv-name "samples-$m.csv" \
    --server-out "$keep_dir/stunbox-$m.out" --server-err "$keep_dir/stunbox-$m.err" --server-rc "$server_rc" \
    --server-desc "$server_desc" --load-json "$keep_dir/load-$m.jsonl" --load-desc "$load_desc" \
    --hostile "$keep_dir/hostile-$m.json" --mbuf-start "$mbuf_start" --mbuf-end "$mbuf_end" \
    --warmup-s "$warmup" --rss-bound-kib "$kRssBoundKib" --rss-bound-pct "$kRssBoundPct" \
    --max-loss-pct "$kMaxLossPct" --md "$keep_dir/summary-$m.md" || jrc=$?

  if [[ $m == dpdk ]]; then
    "$root/scripts/netns-lab.sh" down >/dev/null 2>&1 || true
    lab_up=0
    rm -rf "/var/run/dpdk/$dpdk_prefix"
  fi
  return "$jrc"
}

modes=(socket dpdk)
[[ $mode != both ]] && modes=("$mode")
failed=0
results=()
for m in "${modes[@]}"; do
  if run_mode "$m"; then results+=("$m PASS"); else results+=("$m FAIL"); failed=1; fi
done

{
  echo "### Soak run $(date -u +'%Y-%m-%d %H:%M UTC'): ${minutes} min per mode"
  echo
  echo "Host: $(nproc) CPUs, $(uname -r); stunbox $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo ' (+ local changes)'); \`sudo ${cmdline#"$root"/}\`. Verdict: ${results[*]}."
  echo
  for m in "${modes[@]}"; do
    cat "$keep_dir/summary-$m.md" 2>/dev/null || echo "#### $m mode: FAIL (no summary)"
  done
} >"$keep_dir/summary.md"
if [[ -n $out ]]; then cp "$keep_dir/summary.md" "$out"; fi
echo "soak: results: ${results[*]}; samples, logs and summary in $keep_dir"
exit "$failed"
