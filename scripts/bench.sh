#!/usr/bin/env bash
# Runs the whole benchmark comparison (issue 5) and writes docs/benchmarks.md and docs/benchmarks.png.
#   scripts/bench.sh [--quick] [--repeats N] [--build DIR] [--no-dpdk] [--no-hugepages] [--baseline DIR]
# --baseline DIR: also runs DIR/bench/stunbox-dpdk-bench (an older build) on every DPDK stream, so issue
# 17's cut of the added cycles over 5tswap is judged against a baseline measured in the same run.
# Socket mode: stunbox (1 worker, CPU 1) vs the udp-echo-floor kernel floor vs
# coturn (--stun-only) vs stund, all driven by stunbox-load on CPU 0 over
# loopback; then stunbox and the floor with 2 workers (scaling). DPDK path:
# stunbox-dpdk-bench (the real lcore loop) vs dpdk-testpmd 5tswap on the same
# net_pcap vdev, lcores and packet stream, without and with hugepages.
# Repeats are interleaved; bench_plot.py takes medians and ratios.
# Not a CI gate. Loopback only; every run is bounded; only our own PIDs are killed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUICK=0
REPEATS=""
BUILD="$ROOT/build-bench"
DO_DPDK=1
DO_HUGE=1
BASELINE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --repeats) REPEATS="$2"; shift ;;
    --build) BUILD="$2"; shift ;;
    --no-dpdk) DO_DPDK=0 ;;
    --no-hugepages) DO_HUGE=0 ;;
    --baseline) BASELINE="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ $QUICK -eq 1 ]]; then
  REPEATS=${REPEATS:-1}; SOCK_S=2; DPDK_S=1; MICRO=0
else
  REPEATS=${REPEATS:-3}; SOCK_S=5; DPDK_S=3; MICRO=1
fi
# Debian's python3 has python3-matplotlib; a pyenv python3 first on PATH may not.
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

# ---- build ------------------------------------------------------------------
"$ROOT/scripts/setup.sh" --bench
if [[ ! -f "$BUILD/build.ninja" ]]; then
  meson setup "$BUILD" "$ROOT" >/dev/null
fi
TARGETS=(app/stunbox/stunbox app/stunbox-load/stunbox-load bench/udp-echo-floor)
[[ $MICRO -eq 1 ]] && TARGETS+=(bench/stunbox-microbench)
[[ $DO_DPDK -eq 1 ]] && TARGETS+=(bench/stunbox-dpdk-bench)
if ! ninja -C "$BUILD" -j2 "${TARGETS[@]}" >"/tmp/stunbox-bench-build.$$.log" 2>&1; then
  # A tree mid-edit may not link: use the binaries already built, if any.
  for t in "${TARGETS[@]}"; do
    if [[ ! -x "$BUILD/$t" ]]; then
      grep -m5 -E "error|FAILED" "/tmp/stunbox-bench-build.$$.log" >&2
      echo "bench.sh: build failed and $BUILD/$t does not exist" >&2
      rm -f "/tmp/stunbox-bench-build.$$.log"
      exit 1
    fi
  done
  echo "bench.sh: warning: build failed, using the binaries already in $BUILD" >&2
fi
rm -f "/tmp/stunbox-bench-build.$$.log"
STUNBOX="$BUILD/app/stunbox/stunbox"
LOAD="$BUILD/app/stunbox-load/stunbox-load"
ECHO_FLOOR="$BUILD/bench/udp-echo-floor"
DPDK_BENCH="$BUILD/bench/stunbox-dpdk-bench"

TMP=$(mktemp -d /tmp/stunbox-bench.XXXXXX)
RESULTS="$TMP/results.jsonl"
: > "$RESULTS"
PIDS=()
HUGE_BEFORE=""
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && wait "$p" 2>/dev/null || true
  done
  if [[ -n "$HUGE_BEFORE" ]]; then
    echo "$HUGE_BEFORE" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

have() { command -v "$1" >/dev/null 2>&1; }
free_port() {  # a UDP port with the next one free too (stund/coturn use PORT+1)
  "$PY" - <<'PY'
import socket
for _ in range(200):
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0))
    p = a.getsockname()[1]
    if p >= 65535: a.close(); continue
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()
PY
}
record() {  # record GROUP NAME REP JSON [extra json fields]
  "$PY" -c 'import json,sys; d=json.loads(sys.argv[4]); d.update({"group":sys.argv[1],"name":sys.argv[2],"rep":int(sys.argv[3])}); d.update(json.loads(sys.argv[5]) if len(sys.argv)>5 else {}); print(json.dumps(d))' "$@" >> "$RESULTS"
}

# Waits (bounded) until a STUN server on PORT answers.
wait_ready() {
  local port=$1 pid=$2
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 1
    if "$LOAD" --server "127.0.0.1:$port" --count 16 --sockets 4 --timeout 200 --max-loss 0 --quiet >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# ---- socket mode --------------------------------------------------------------
start_server() {  # start_server NAME PORT -> sets SPID
  local name=$1 port=$2
  case "$name" in
    stunbox-1w)
      taskset -c 1 "$STUNBOX" -c "$ROOT/config/stunbox.yaml" --set "socket.listen=[\"127.0.0.1:$port\"]" \
        --set socket.workers=1 --set socket.batch=32 >"$TMP/$name.log" 2>&1 & ;;
    stunbox-2w)
      "$STUNBOX" -c "$ROOT/config/stunbox.yaml" --set "socket.listen=[\"127.0.0.1:$port\"]" \
        --set socket.workers=2 --set socket.batch=32 --set socket.pin=true >"$TMP/$name.log" 2>&1 & ;;
    echo-1w) taskset -c 1 "$ECHO_FLOOR" --listen "127.0.0.1:$port" --workers 1 --batch 32 --max-seconds 120 >"$TMP/$name.log" 2>&1 & ;;
    echo-2w) "$ECHO_FLOOR" --listen "127.0.0.1:$port" --workers 2 --cpu 0 --batch 32 --max-seconds 120 >"$TMP/$name.log" 2>&1 & ;;
    coturn)
      # Plain STUN: no TURN, no TLS/DTLS, no CLI, one relay thread, one address.
      taskset -c 1 turnserver -n --stun-only --listening-ip 127.0.0.1 --listening-port "$port" --relay-threads 1 \
        --no-cli --no-tls --no-dtls --log-file "$TMP/coturn-internal.log" --simple-log \
        --pidfile "$TMP/coturn.pid" >"$TMP/$name.log" 2>&1 & ;;
    stund)
      # RFC 3489 needs a second address for CHANGE-REQUEST: 127.0.0.2 is on lo.
      taskset -c 1 stund -h 127.0.0.1 -a 127.0.0.2 -p "$port" -o $((port + 1)) >"$TMP/$name.log" 2>&1 & ;;
  esac
  SPID=$!
  PIDS+=("$SPID")
}
stop_server() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

SOCKET_SET=(stunbox-1w echo-1w)
have turnserver && SOCKET_SET+=(coturn) || echo "bench.sh: turnserver (coturn) not installed: skipped" >&2
have stund && SOCKET_SET+=(stund) || echo "bench.sh: stund (stun-server) not installed: skipped" >&2
SCALING_SET=(stunbox-2w echo-2w)
[[ $QUICK -eq 1 ]] && SCALING_SET=(stunbox-2w)  # keeps --quick under a minute
LOAD_ARGS=(--duration "$SOCK_S" --sockets 64 --window 8 --batch 32 --timeout 500 --max-loss 5 --quiet)

echo "bench.sh: socket mode, $REPEATS repeat(s) of ${SOCK_S}s per server" >&2
for rep in $(seq 1 "$REPEATS"); do
  # Rotate the order every repeat so slow drifts of the machine spread evenly.
  set_all=("${SOCKET_SET[@]}" "${SCALING_SET[@]}")
  n=${#set_all[@]}
  for i in $(seq 0 $((n - 1))); do
    name=${set_all[$(((i + rep - 1) % n))]}
    port=$(free_port)
    start_server "$name" "$port"
    if ! wait_ready "$port" "$SPID"; then
      echo "bench.sh: $name did not come up on port $port (log: $(tail -n1 "$TMP/$name.log"))" >&2
      stop_server "$SPID"; continue
    fi
    out=$(taskset -c 0 "$LOAD" --server "127.0.0.1:$port" "${LOAD_ARGS[@]}" --server-pid "$SPID" | tail -n1 || true)
    stop_server "$SPID"
    if [[ "$out" == \{* ]]; then
      record socket "$name" "$rep" "$out"
      echo "  rep $rep $name: $(echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print("%.0f resp/s, %.0f ns/resp, loss %.2f%%" % (d["rps"], d["cpu_ns_per_resp"] or 0, d["loss_pct"]))')" >&2
    else
      echo "bench.sh: $name: no result" >&2
    fi
  done
done

# ---- DPDK path ----------------------------------------------------------------
dpdk_round() {  # dpdk_round MEM KIND REP EAL...
  local mem=$1 kind=$2 rep=$3; shift 3
  local pcap="$TMP/$kind.pcap" out
  out=$(timeout 60 "$DPDK_BENCH" --kind "$kind" --pcap "$pcap" --seconds "$DPDK_S" -- "$@" 2>"$TMP/dpdk-bench.err" | tail -n1 || true)
  if [[ "$out" == \{* ]]; then
    record dpdk stunbox "$rep" "$out" "{\"mem\":\"$mem\"}"
  else
    echo "bench.sh: stunbox-dpdk-bench ($mem, $kind) failed: $(tail -n1 "$TMP/dpdk-bench.err")" >&2
  fi
  if [[ -n "$BASELINE" ]]; then
    out=$(timeout 60 "$BASELINE/bench/stunbox-dpdk-bench" --kind "$kind" --pcap "$TMP/$kind-base.pcap" --seconds "$DPDK_S" -- "$@" \
      2>"$TMP/dpdk-bench.err" | tail -n1 || true)
    if [[ "$out" == \{* ]]; then
      record dpdk stunbox-baseline "$rep" "$out" "{\"mem\":\"$mem\"}"
    else
      echo "bench.sh: baseline stunbox-dpdk-bench ($mem, $kind) failed: $(tail -n1 "$TMP/dpdk-bench.err")" >&2
    fi
  fi
  # Same vdev, lcores, pool size, descriptors, burst and stream.
  timeout -s INT $((DPDK_S + 15)) dpdk-testpmd "$@" --vdev "net_pcap0,rx_pcap=$pcap,infinite_rx=1" -- \
    --forward-mode=5tswap --no-flush-rx --stats-period 1 --rxd=1024 --txd=1024 --burst=32 \
    --total-num-mbufs=8191 --mbcache=256 >"$TMP/testpmd.log" 2>&1 &
  local tp=$! child="" run_ns="" t
  PIDS+=("$tp")
  # The forwarding lcore's on-CPU time (schedstat), read just before the
  # stop: packets / on-CPU time is the cost per packet on a shared CPU.
  local ticks=$(((DPDK_S + 1) * 10 + 5))  # start-up, then DPDK_S + 1 stats periods
  while [[ $ticks -gt 0 ]] && kill -0 "$tp" 2>/dev/null; do
    sleep 0.1
    ticks=$((ticks - 1))
    [[ -z "$child" ]] && child=$(pgrep -P "$tp" -x dpdk-testpmd || true)
  done
  if [[ -n "$child" ]]; then
    for t in /proc/"$child"/task/*; do
      if [[ "$(cat "$t/comm" 2>/dev/null)" == rte-worker-1 ]]; then run_ns=$(cut -d' ' -f1 "$t/schedstat"); fi
    done
    kill -INT "$child" 2>/dev/null || true
  fi
  wait "$tp" 2>/dev/null || true
  out=$("$PY" - "$TMP/testpmd.log" "$kind" "${run_ns:-0}" <<'PY'
import json, re, statistics, sys
text = open(sys.argv[1], errors="replace").read()
pps = [int(m.group(1)) for m in re.finditer(r"Rx-pps:\s+(\d+)", text)]
pps = [p for p in pps[1:] if p > 0]  # the first period is start-up
total = re.search(r"Accumulated forward statistics.*?RX-packets:\s+(\d+)", text, re.S)
if pps:
    d = {"kind": sys.argv[2], "mpps": statistics.median(pps) / 1e6, "samples": len(pps)}
    if total and int(sys.argv[3]) > 0:
        d["packets_total"] = int(total.group(1))
        d["worker_run_ns"] = int(sys.argv[3])
    print(json.dumps(d))
PY
)
  if [[ "$out" == \{* ]]; then
    record dpdk testpmd "$rep" "$out" "{\"mem\":\"$mem\"}"
  else
    echo "bench.sh: testpmd ($mem, $kind) gave no rate: $(grep -m1 -i -E 'error|cause' "$TMP/testpmd.log" || tail -n1 "$TMP/testpmd.log")" >&2
  fi
}

dpdk_scaling_round() {  # dpdk_scaling_round MEM REP EAL...: stunbox-dpdk-bench --workers 2, v4_plain
  local mem=$1 rep=$2 out; shift 2
  out=$(timeout 60 "$DPDK_BENCH" --kind v4_plain --pcap "$TMP/v4_plain.pcap" --seconds "$DPDK_S" --workers 2 -- "$@" \
    2>"$TMP/dpdk-bench.err" | tail -n1 || true)
  if [[ "$out" == \{* ]]; then
    record dpdk stunbox-2w "$rep" "$out" "{\"mem\":\"$mem\"}"
  else
    echo "bench.sh: stunbox-dpdk-bench --workers 2 ($mem) failed: $(tail -n1 "$TMP/dpdk-bench.err")" >&2
  fi
}

dpdk_limits_round() {  # dpdk_limits_round MEM REP EAL...: 65,536 sources, limits.rate.pps off then on (issue 17)
  local mem=$1 rep=$2 out name args; shift 2
  for name in stunbox-65k stunbox-rate; do
    args=(); [[ $name == stunbox-rate ]] && args=(--rate-pps 1000000)
    out=$(timeout 90 "$DPDK_BENCH" --kind v4_plain --flows 65536 --pcap "$TMP/v4_plain_65k.pcap" --seconds "$DPDK_S" \
      "${args[@]}" -- "$@" 2>"$TMP/dpdk-bench.err" | tail -n1 || true)
    if [[ "$out" == \{* ]]; then
      record dpdk "$name" "$rep" "$out" "{\"mem\":\"$mem\"}"
    else
      echo "bench.sh: stunbox-dpdk-bench --flows 65536 ($mem, $name) failed: $(tail -n1 "$TMP/dpdk-bench.err")" >&2
    fi
  done
}

if [[ $DO_DPDK -eq 1 ]] && have dpdk-testpmd; then
  KINDS=(v4_plain)
  [[ $QUICK -eq 0 ]] && KINDS+=(v4_fingerprint v6_plain)
  for kind in "${KINDS[@]}"; do
    "$DPDK_BENCH" --kind "$kind" --pcap "$TMP/$kind.pcap" --write-pcap-only
  done
  NOHUGE=(-l "0,1" --no-pci --no-huge -m 512 --no-shconf --log-level=error)
  HUGE=(-l "0,1" --no-pci --in-memory -m 512 --log-level=error)
  MEMS=(nohuge)
  if [[ $DO_HUGE -eq 1 && $(id -u) -eq 0 ]]; then
    cur=$(cat /proc/sys/vm/nr_hugepages)
    if [[ $cur -lt 512 ]]; then
      HUGE_BEFORE=$cur
      "$ROOT/scripts/hugepages.sh" reserve --pages 512 >/dev/null 2>&1 || echo 512 > /proc/sys/vm/nr_hugepages || true
    fi
    free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
    if [[ ${free:-0} -lt 300 && -n "$HUGE_BEFORE" ]]; then
      # Under memory pressure the kernel may grant fewer pages at first: one retry.
      sleep 1
      echo 512 > /proc/sys/vm/nr_hugepages 2>/dev/null || true
      free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
    fi
    if [[ ${free:-0} -ge 300 ]]; then MEMS+=(huge); else echo "bench.sh: hugepages unavailable ($free free): --no-huge only" >&2; fi
  fi
  echo "bench.sh: DPDK path, $REPEATS repeat(s) of ${DPDK_S}s, memory: ${MEMS[*]}, streams: ${KINDS[*]}" >&2
  for rep in $(seq 1 "$REPEATS"); do
    for mem in "${MEMS[@]}"; do
      for kind in "${KINDS[@]}"; do
        if [[ $mem == huge ]]; then dpdk_round huge "$kind" "$rep" "${HUGE[@]}"; else dpdk_round nohuge "$kind" "$rep" "${NOHUGE[@]}"; fi
      done
      # Scaling: 2 lcores, each on its own vdev (its own queue, as RSS gives
      # each lcore on a NIC), one shared mempool; lcore 1 on CPU 0 beside the
      # idle main lcore, lcore 2 on CPU 1.
      if [[ $mem == huge ]]; then eal2=("${HUGE[@]:2}"); else eal2=("${NOHUGE[@]:2}"); fi
      dpdk_scaling_round "$mem" "$rep" --lcores "0@0,1@0,2@1" "${eal2[@]}"
      if [[ $QUICK -eq 0 ]]; then
        if [[ $mem == huge ]]; then dpdk_limits_round huge "$rep" "${HUGE[@]}"; else dpdk_limits_round nohuge "$rep" "${NOHUGE[@]}"; fi
      fi
    done
  done
  if [[ -n "$HUGE_BEFORE" ]]; then
    echo "$HUGE_BEFORE" > /proc/sys/vm/nr_hugepages || true
    HUGE_BEFORE=""
  fi
else
  echo "bench.sh: DPDK path skipped" >&2
fi

# ---- microbenchmarks ------------------------------------------------------------
MICRO_JSON=""
if [[ $MICRO -eq 1 ]]; then
  echo "bench.sh: microbenchmarks (CPU 1)" >&2
  MICRO_JSON="$TMP/micro.json"
  taskset -c 1 "$BUILD/bench/stunbox-microbench" --benchmark_min_time=0.2 --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_format=json >"$MICRO_JSON" 2>/dev/null || MICRO_JSON=""
fi

# ---- report -----------------------------------------------------------------------
# Raw results are kept in the build directory, so the doc can be regenerated
# (e.g. after editing bench/benchmarks_notes.md) without rerunning.
mkdir -p "$BUILD/bench-last"
cp "$RESULTS" "$BUILD/bench-last/results.jsonl"
if [[ -n "$MICRO_JSON" ]]; then cp "$MICRO_JSON" "$BUILD/bench-last/micro.json"; MICRO_JSON="$BUILD/bench-last/micro.json"; fi
"$PY" "$ROOT/scripts/bench_plot.py" --results "$RESULTS" ${MICRO_JSON:+--micro "$MICRO_JSON"} \
  --doc "$ROOT/docs/benchmarks.md" --png "$ROOT/docs/benchmarks.png" --notes "$ROOT/bench/benchmarks_notes.md" \
  --command "scripts/bench.sh$([[ $QUICK -eq 1 ]] && echo ' --quick') --repeats $REPEATS${BASELINE:+ --baseline $BASELINE}" \
  --load-args "${LOAD_ARGS[*]}" --sock-seconds "$SOCK_S" --dpdk-seconds "$DPDK_S"
