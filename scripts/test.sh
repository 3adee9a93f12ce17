#!/usr/bin/env bash
# One command: install what is missing, build, and run the whole test suite.
# Arguments are passed to `meson test` (e.g. --suite unit).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
scripts/setup.sh --test || exit 1
scripts/build.sh || exit 1
meson test -C build --print-errorlogs "$@"
rc=$?
# One closing line that any CI reads: "N passed, N failed, N skipped".
python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
counts = {"OK": 0, "FAIL": 0, "SKIP": 0, "TIMEOUT": 0, "ERROR": 0, "EXPECTEDFAIL": 0, "UNEXPECTEDPASS": 0}
try:
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line).get("result", "ERROR")
                counts[r] = counts.get(r, 0) + 1
except FileNotFoundError:
    pass
passed = counts["OK"] + counts["EXPECTEDFAIL"]
failed = counts["FAIL"] + counts["TIMEOUT"] + counts["ERROR"] + counts["UNEXPECTEDPASS"]
print(f"tests: {passed} passed, {failed} failed, {counts['SKIP']} skipped")
PY
exit $rc
