#!/usr/bin/env bash
# ASan + UBSan build (build-asan/) of the unit, golden, fuzz-replay and in-process DPDK tests, and the real binary's e2e tests; any sanitizer report fails.
#
# Usage: scripts/sanitize.sh [extra `meson test` arguments]
# Environment: SANITIZE_SUITES="unit golden" runs a subset (default: every
#              suite below that the build defines); SANITIZE_JOBS=N (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --fuzz

out=build-asan
jobs=${SANITIZE_JOBS:-2}
suites=${SANITIZE_SUITES:-"unit golden fuzz dpdk e2e"}
start=$(date +%s)

# b_lundef=false: with -fsanitize the runtime resolves symbols at load time,
# which -Wl,--no-undefined would reject. debugoptimized keeps assert() on.
# The benchmarks are not tests and would only lengthen the build; the man
# pages (made by running the binaries at build time) are the main build's.
if [ ! -f "$out/build.ninja" ]; then
  meson setup "$out" -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbench=false -Dman=false >/dev/null
fi
ninja -C "$out" -j "$jobs" >"$out/ninja.log" 2>&1 || { tail -40 "$out/ninja.log" >&2; exit 1; }
echo "sanitize: built in $(( $(date +%s) - start )) s"

supp=$PWD/tests/sanitizer
# UBSan: the first finding stops the process, with a stack. ASan: errors
# abort; leaks are checked at exit, minus EAL's own start-up allocations
# (tests/sanitizer/lsan.supp). detect_odr_violation=0: DPDK's shared PMD
# libraries define the same globals in several .so files, outside our code.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_odr_violation=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"

# Only the suites this build defines (fuzz needs tests/fuzz in tests/meson.build).
defined=$(meson introspect "$out" --tests | python3 -c '
import json, sys
print(" ".join(sorted({s.split(":")[-1] for t in json.load(sys.stdin) for s in t["suite"]})))')
args=()
for s in $suites; do
  if [[ " $defined " == *" $s "* ]]; then
    args+=(--suite "$s")
  else
    echo "sanitize: suite $s not defined in this build, skipped"
  fi
done
rc=0
meson test -C "$out" --no-rebuild --print-errorlogs --num-processes "$jobs" "${args[@]}" "$@" || rc=$?
# A sanitizer report inside a test that still exits 0 (e.g. a child process
# whose status a script ignores) must fail too.
if grep -lE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$out/meson-logs/testlog.txt" >/dev/null 2>&1; then
  echo "sanitize: sanitizer report found in $out/meson-logs/testlog.txt" >&2
  grep -nE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$out/meson-logs/testlog.txt" | head -20 >&2
  rc=1
fi
echo "sanitize: $( [ $rc -eq 0 ] && echo passed || echo FAILED ) in $(( $(date +%s) - start )) s"
exit $rc
