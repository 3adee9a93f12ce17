#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for SECONDS (default 60); any crash or broken invariant fails.
#
# Usage: scripts/fuzz.sh [SECONDS]
# Environment: FUZZ_TARGETS="stun_fuzz frame_fuzz" runs a subset;
#              FUZZ_JOBS=N compiles with N jobs (default 2);
#              FUZZ_OUT=DIR builds and runs in DIR instead of build-fuzz.
# Corpora grow in build-fuzz/corpus/<target>/ across runs; crashing inputs are
# saved as build-fuzz/artifacts/<target>-crash-*; replay one with
# build-fuzz/<target> FILE. Needs Debian packages clang, libclang-rt-14-dev
# (the libFuzzer and sanitizer runtimes) and llvm (llvm-symbolizer).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --fuzz

secs=${1:-60}
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS]   (SECONDS: a positive integer, default 60)" >&2
  exit 2
fi
all_targets="stun_fuzz stun_planted_fuzz frame_fuzz"
targets=${FUZZ_TARGETS:-$all_targets}
jobs=${FUZZ_JOBS:-2}
cxx=${FUZZ_CXX:-clang++}
out=${FUZZ_OUT:-build-fuzz}

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz.sh: $cxx not found: apt-get install clang libclang-rt-14-dev llvm" >&2
  exit 1
fi
mkdir -p "$out/obj" "$out/artifacts" "$out/logs"
# libFuzzer's runtime ships in libclang-rt-14-dev, which plain `clang` does
# not pull in when recommends are off: say so instead of a link error.
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$out/probe.cc"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$out/probe.cc" -o "$out/probe" 2>"$out/probe.log"; then
  echo "fuzz.sh: $cxx cannot link -fsanitize=fuzzer ($(head -1 "$out/probe.log")): apt-get install libclang-rt-14-dev" >&2
  exit 1
fi

base=(-std=c++20 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Wno-missing-field-initializers
      -Ilib -Itests/fuzz -Itests/support)
# UBSan findings abort (and so count as crashes) instead of printing and going on.
san=("-fsanitize=address,undefined" -fno-sanitize-recover=all)

start=$(date +%s)
# The code under test gets coverage instrumentation; test helpers (the packet
# vocabulary of tests/support, an independent checksum oracle, and the address
# type of lib/core) only the sanitizers.
lib_srcs=(lib/stun/*.cc lib/frame/*.cc)
compile() {  # SRC OBJ FLAGS...
  local src=$1 obj=$2
  shift 2
  "$cxx" "${base[@]}" "${san[@]}" "$@" -c "$src" -o "$obj"
}
pids=()
wait_slot() {
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.2; done
}
objs=()
stun_objs=()
for src in "${lib_srcs[@]}"; do
  obj="$out/obj/$(echo "$src" | tr / _).o"
  objs+=("$obj")
  [[ $src == lib/stun/* ]] && stun_objs+=("$obj")
  wait_slot
  compile "$src" "$obj" -fsanitize=fuzzer-no-link &
  pids+=($!)
done
wait_slot
compile tests/support/packet.cc "$out/obj/packet.o" & pids+=($!)
wait_slot
compile lib/core/address.cc "$out/obj/address.o" & pids+=($!)
wait_slot
compile tests/fuzz/stun_fuzz.cc "$out/obj/stun_fuzz.o" -fsanitize=fuzzer-no-link & pids+=($!)
wait_slot
compile tests/fuzz/stun_fuzz.cc "$out/obj/stun_planted_fuzz.o" -fsanitize=fuzzer-no-link -DSTUNBOX_FUZZ_PLANT & pids+=($!)
wait_slot
compile tests/fuzz/frame_fuzz.cc "$out/obj/frame_fuzz.o" -fsanitize=fuzzer-no-link & pids+=($!)
wait_slot
compile tests/fuzz/seed_gen.cc "$out/obj/seed_gen.o" & pids+=($!)
for p in "${pids[@]}"; do
  wait "$p" || { echo "fuzz.sh: compile failed" >&2; exit 1; }
done
link() {  # EXE OBJS...
  local exe=$1
  shift
  "$cxx" "${san[@]}" -fsanitize=fuzzer "$@" -o "$out/$exe"
}
link stun_fuzz "$out/obj/stun_fuzz.o" "$out/obj/address.o" "${stun_objs[@]}"
link stun_planted_fuzz "$out/obj/stun_planted_fuzz.o" "$out/obj/address.o" "${stun_objs[@]}"
link frame_fuzz "$out/obj/frame_fuzz.o" "$out/obj/packet.o" "$out/obj/address.o" "${objs[@]}"
"$cxx" "${san[@]}" "$out/obj/seed_gen.o" "$out/obj/packet.o" "$out/obj/address.o" -o "$out/seed_gen"
echo "fuzz: built in $(( $(date +%s) - start )) s"

# Seeds from the test tables, regenerated every run.
"$out/seed_gen" "$out/seeds" tests/data/rfc5769-vectors.txt

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
fail=0
summary=()
for t in $targets; do
  case " $all_targets " in
    *" $t "*) ;;
    *) echo "fuzz.sh: unknown target $t (known: $all_targets)" >&2; exit 2 ;;
  esac
  seeds="$out/seeds/${t%_fuzz}"
  corpus="$out/corpus/$t"
  mkdir -p "$corpus"
  # Read-only inputs after the writable corpus: the generated seeds and the
  # committed corpus (earlier long runs' finds).
  inputs=("$seeds")
  [ -d "tests/fuzz/corpus/${t%_fuzz}" ] && inputs+=("tests/fuzz/corpus/${t%_fuzz}")
  case $t in
    stun*) dict=(-dict=tests/fuzz/stun.dict) ;;
    *) dict=(-dict=tests/fuzz/frame.dict) ;;
  esac
  log="$out/logs/$t.log"
  echo "fuzz: $t for $secs s (corpus $corpus, seeds $seeds)"
  rc=0
  # -timeout: one input taking over 10 s is a hang, reported as a crash.
  # A bounded -max_len keeps execs fast; seeds are well under it.
  "$out/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=2048 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" "${dict[@]}" \
    "$corpus" "${inputs[@]}" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1 || true)
  if [ "$rc" -ne 0 ]; then
    fail=1
    echo "fuzz: $t FAILED (exit $rc); last lines of $log:" >&2
    tail -40 "$log" >&2
    summary+=("$t: CRASH after ${execs:-?} execs; artifacts: $(ls "$out/artifacts/$t-"* 2>/dev/null | tr '\n' ' ')")
  else
    summary+=("$t: ${execs:-?} execs (${rate:-?}/s), ${cov:-no coverage line}, no crash")
  fi
done
echo "fuzz: summary ($secs s per target, total $(( $(date +%s) - start )) s)"
for s in "${summary[@]}"; do echo "  $s"; done
exit $fail
