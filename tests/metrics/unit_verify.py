#!/usr/bin/env python3
"""The unit meson generates from config/stunbox.service.in passes `systemd-analyze verify`
(with ExecStart pointed at the built binary); 77 = skipped.

    unit_verify.py UNIT_FILE STUNBOX_EXE INSTALLED_EXE INSTALLED_CONFIG

INSTALLED_EXE and INSTALLED_CONFIG are the paths the build installs to: the unit must start exactly those.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile


def main():
    unit, exe, installed_exe, installed_config = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3], sys.argv[4]
    tool = shutil.which("systemd-analyze")
    if tool is None:
        print("SKIP systemd-analyze not installed")
        return 77
    text = open(unit).read()
    failures = []
    for key, want in (("Type", "notify"), ("WatchdogSec", None), ("Restart", "on-failure"),
                      ("LimitMEMLOCK", "infinity"), ("RuntimeDirectory", "stunbox"),
                      ("ExecReload", "/bin/kill -HUP $MAINPID"),
                      ("ExecStartPre", "%s --check-config %s" % (installed_exe, installed_config)),
                      ("ExecStart", "%s -c %s" % (installed_exe, installed_config))):
        m = re.search(r"^%s=(.*)$" % key, text, re.M)
        if m is None or (want is not None and m.group(1).strip() != want):
            failures.append("%s=%s expected, got %s" % (key, want or "...", m.group(1) if m else "nothing"))
    with tempfile.TemporaryDirectory(prefix="stunbox-unit-") as d:
        path = os.path.join(d, "stunbox.service")
        with open(path, "w") as f:
            f.write(text.replace(installed_exe + " ", exe + " "))
        # --man=no: the pages Documentation= names are not installed yet (tests/package checks them installed).
        r = subprocess.run([tool, "verify", "--man=no", path], capture_output=True, text=True, timeout=60)
        # Only complaints about our unit count; the host's other units are not ours to judge.
        ours = [l for l in (r.stdout + r.stderr).splitlines() if "stunbox.service" in l]
        if r.returncode != 0 or ours:
            failures.append("systemd-analyze verify: rc %d: %s" % (r.returncode, "; ".join(ours) or r.stderr.strip()))
    for f in failures:
        print("FAIL", f)
    if not failures:
        print("ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
