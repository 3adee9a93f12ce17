#!/usr/bin/env bash
# The Debian package end to end, as an admin would meet it (issue 18), on a
# Debian 12 machine as root (CI): build it (scripts/package.sh, lintian
# included), install it with apt, check the config, the unit, the user and the
# manuals, serve on a test port and get an answer from turnutils_stunclient,
# then purge it and check that nothing is left but the system user (kept, as
# Debian keeps system users).
#   tests/package/package_test.sh            build, then test dist/stunbox_*.deb
#   tests/package/package_test.sh --no-build test the .deb already in dist/
# One PASS/FAIL line per check; exit 0 when all pass, 1 otherwise, 77 when not root.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

port=34780  # a test port of its own, on loopback only
passed=0 failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
check() {  # check "what" command...: PASS when the command succeeds
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}
absent() {  # absent "what" path...: PASS when none of the paths exists
  local what=$1 left=()
  shift
  for p in "$@"; do [[ -e $p || -L $p ]] && left+=("$p"); done
  if ((${#left[@]} == 0)); then pass "$what"; else fail "$what (left: ${left[*]})"; fi
}

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP package_test: root needed (apt-get install, purge)"
  exit 77
fi
export DEBIAN_FRONTEND=noninteractive

tmp=$(mktemp -d /tmp/stunbox-package-test.XXXXXX)
chmod 0755 "$tmp"  # the server drops to user stunbox and removes its control socket at exit
server_pid=""
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null
  fi
  # Never leave the package behind for the rest of CI, whatever failed.
  if dpkg-query -W -f='${Status}' stunbox 2>/dev/null | grep -qv "not-installed"; then
    apt-get purge -y -q stunbox >/dev/null 2>&1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# What the test itself uses: turnutils_stunclient (coturn), man, systemd-analyze.
missing=()
for p in coturn man-db systemd; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || { fail "install ${missing[*]}"; exit 1; }
fi

# ---------------------------------------------------------------- build
if [[ ${1:-} != --no-build ]]; then
  start=$SECONDS
  if scripts/package.sh; then
    pass "scripts/package.sh built the package, lintian clean ($((SECONDS - start)) s)"
  else
    fail "scripts/package.sh"
    exit 1
  fi
fi
arch=$(dpkg --print-architecture)
debs=(dist/stunbox_*_"$arch".deb)
if [[ ! -f ${debs[0]} ]]; then
  fail "dist/ holds stunbox_VERSION_$arch.deb"
  exit 1
fi
deb=${debs[0]}
pass "dist/ holds $(basename "$deb")"

# ---------------------------------------------------------------- install
if dpkg-query -W -f='${Status}' stunbox 2>/dev/null | grep -qv "not-installed"; then
  apt-get purge -y -q stunbox >/dev/null 2>&1  # a leftover of an earlier run
fi
if apt-get install -y -q "./$deb" >"$tmp/apt.log" 2>&1; then
  pass "apt-get install ./$deb"
else
  cat "$tmp/apt.log"
  fail "apt-get install ./$deb"
  exit 1
fi
check "dpkg says stunbox is installed" bash -c "dpkg-query -W -f='\${Status}' stunbox | grep -q 'install ok installed'"
for f in /usr/bin/stunbox /usr/bin/stunbox-cli /usr/bin/stunbox-load /usr/sbin/stunbox-hugepages /usr/sbin/stunbox-bind-nic; do
  check "$f is installed and executable" test -x "$f"
done
check "/etc/stunbox/stunbox.yaml is a conffile" \
  bash -c "dpkg-query -W -f='\${Conffiles}' stunbox | grep -q '^ /etc/stunbox/stunbox.yaml '"
if out=$(stunbox --check-config /etc/stunbox/stunbox.yaml 2>&1) && [[ $out == "/etc/stunbox/stunbox.yaml: OK" ]]; then
  pass "stunbox --check-config /etc/stunbox/stunbox.yaml: $out"
else
  fail "stunbox --check-config /etc/stunbox/stunbox.yaml: $out"
fi
check "the config the package installs is the shipped default (config/stunbox.yaml)" cmp /etc/stunbox/stunbox.yaml config/stunbox.yaml
check "example configs under /usr/share/doc/stunbox/examples" test -f /usr/share/doc/stunbox/examples/intel-2port.yaml
check "/usr/share/doc/stunbox/copyright" test -f /usr/share/doc/stunbox/copyright

# The system user for socket.user: no home, no login shell.
if entry=$(getent passwd stunbox); then
  IFS=: read -r _ _ uid _ _ home shell <<<"$entry"
  if ((uid < 1000)) && [[ $home == /nonexistent && $shell == */nologin ]]; then
    pass "system user stunbox (uid $uid, home $home, shell $shell)"
  else
    fail "system user stunbox: $entry"
  fi
else
  fail "system user stunbox exists"
fi

# The unit: installed where Debian 12 puts units, starting the installed paths, enabled, not started.
unit=/lib/systemd/system/stunbox.service
check "$unit is installed" test -f "$unit"
check "the unit starts /usr/bin/stunbox -c /etc/stunbox/stunbox.yaml" \
  grep -qx 'ExecStart=/usr/bin/stunbox -c /etc/stunbox/stunbox.yaml' "$unit"
check "the unit is enabled (multi-user.target.wants)" test -L /etc/systemd/system/multi-user.target.wants/stunbox.service
if [[ -d /run/systemd/system ]]; then
  check "the unit is not started on install" bash -c "! systemctl is-active --quiet stunbox"
else
  echo "note: systemd is not PID 1 here: 'not started' holds trivially, the maintainer scripts skip systemctl"
fi
verify=$(systemd-analyze verify "$unit" 2>&1 | grep 'stunbox.service')
if [[ -z $verify ]]; then pass "systemd-analyze verify $unit (its man: Documentation included)"; else fail "systemd-analyze verify: $verify"; fi

# Installing again (an upgrade runs the same maintainer scripts) changes nothing.
uid_before=$(id -u stunbox 2>/dev/null)
check "apt-get install --reinstall (maintainer scripts run twice)" apt-get install -y -q --reinstall "./$deb"
check "the user stunbox is the same after reinstalling" test "$(id -u stunbox 2>/dev/null)" = "$uid_before"

# The manuals.
for page in stunbox stunbox-cli stunbox-load stunbox-hugepages stunbox-bind-nic "5 stunbox.yaml"; do
  # shellcheck disable=SC2086 # "5 stunbox.yaml" is a section and a name
  if where=$(man -w $page 2>&1); then pass "man -w $page: $where"; else fail "man -w $page: $where"; fi
done

# ---------------------------------------------------------------- serve
# The installed binary and config on a test port of loopback, dropping root to
# the package's user once bound (socket.user), with its console on a private socket.
/usr/bin/stunbox -c /etc/stunbox/stunbox.yaml --set "socket.listen=[\"127.0.0.1:$port\"]" \
  --set socket.workers=1 --set socket.user=stunbox --set "control.socket=$tmp/run/ctl.sock" \
  >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q "stunbox: ready" "$tmp/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if grep -q "stunbox: ready" "$tmp/server.log"; then
  pass "the installed stunbox starts on 127.0.0.1:$port: $(grep -m1 'stunbox: ready' "$tmp/server.log")"
else
  cat "$tmp/server.log"
  fail "the installed stunbox starts on 127.0.0.1:$port"
fi
check "it runs as the package's user (socket.user: stunbox)" grep -q "running as user stunbox" "$tmp/server.log"
if answer=$(timeout 10 turnutils_stunclient -p "$port" 127.0.0.1 2>&1) && grep -q "UDP reflexive addr: 127.0.0.1:" <<<"$answer"; then
  pass "turnutils_stunclient -p $port 127.0.0.1: $(grep -m1 'UDP reflexive addr' <<<"$answer" | sed 's/^[^U]*//')"
else
  echo "$answer"
  fail "turnutils_stunclient -p $port 127.0.0.1 gets its address"
fi
check "stunbox-cli reads the counters over the control socket" stunbox-cli -s "$tmp/run/ctl.sock" show stun stats
if kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid"; then
  pass "SIGTERM stops it cleanly (exit 0)"
else
  fail "SIGTERM stops it cleanly (exit $?)"
fi
server_pid=""

# ---------------------------------------------------------------- remove, purge
echo "# edited by package_test" >>/etc/stunbox/stunbox.yaml  # an admin's change
check "apt-get remove stunbox" apt-get remove -y -q stunbox
absent "remove takes the binaries" /usr/bin/stunbox /usr/sbin/stunbox-hugepages
check "remove keeps the edited config (a conffile)" grep -q "edited by package_test" /etc/stunbox/stunbox.yaml
if apt-get purge -y -q stunbox >"$tmp/apt.log" 2>&1; then
  pass "apt-get purge stunbox"
else
  cat "$tmp/apt.log"
  fail "apt-get purge stunbox"
fi
check "dpkg no longer knows stunbox (not even its config files)" \
  bash -c "! dpkg-query -W -f='\${Status}' stunbox 2>/dev/null | grep -qv not-installed"
absent "nothing left under /etc/stunbox" /etc/stunbox
absent "nothing left under /usr/share/doc/stunbox" /usr/share/doc/stunbox
absent "no binaries left" /usr/bin/stunbox /usr/bin/stunbox-cli /usr/bin/stunbox-load \
  /usr/sbin/stunbox-hugepages /usr/sbin/stunbox-bind-nic
mapfile -t pages < <(find /usr/share/man -name 'stunbox*' 2>/dev/null)
absent "no man pages left" "${pages[@]}"
mapfile -t units < <(find /lib/systemd /usr/lib/systemd /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled \
  -name 'stunbox*' 2>/dev/null)
absent "no unit file, enablement link or systemd state left" "${units[@]}"
if getent passwd stunbox >/dev/null; then
  echo "note: the system user stunbox stays after purge, as Debian keeps system users (files it owned must not pass to a new user)"
fi

echo "package_test: $passed passed, $failed failed"
((failed == 0))
