#!/usr/bin/env bash
# Installs what stunbox needs from Debian's packages (only what is missing).
#   scripts/setup.sh          build + runtime dependencies
#   scripts/setup.sh --test   also what the test suite uses (tshark, coturn's client, ...)
#   scripts/setup.sh --bench  also what scripts/bench.sh compares against and plots with
#   scripts/setup.sh --fuzz   also clang's libFuzzer and sanitizer runtimes (scripts/fuzz.sh, sanitize.sh)
#   scripts/setup.sh --package  also what building the Debian package needs (scripts/package.sh)
set -euo pipefail

# clang and libbpf-dev: the XDP steering program (bpf/, dpdk.ports[].steering: xdp) and its map access.
build_pkgs=(g++ meson ninja-build pkg-config libdpdk-dev dpdk dpdk-dev libyaml-cpp-dev libpcap-dev libedit-dev libmicrohttpd-dev clang libbpf-dev)
test_pkgs=(libgtest-dev libssl-dev python3 tshark coturn stun-client iproute2 iputils-ping ethtool procps shellcheck systemd bird2)

bench_pkgs=(libbenchmark-dev coturn stun-server python3-matplotlib)
fuzz_pkgs=(clang libclang-rt-14-dev llvm)
# debian/control's Build-Depends beyond build_pkgs; dpkg-buildpackage checks them all.
package_pkgs=(dpkg-dev debhelper fakeroot lintian man-db pkgconf python3)

want=("${build_pkgs[@]}")
case "${1:-}" in
  "") ;;
  --test) want+=("${test_pkgs[@]}") ;;
  --bench) want+=("${bench_pkgs[@]}") ;;
  --fuzz) want+=("${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  --package) want+=("${package_pkgs[@]}") ;;
  *) echo "setup: unknown option '$1' (--test, --bench, --fuzz or --package)" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all dependencies present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    sudo_cmd=(sudo)
  else
    echo "setup: missing packages (${missing[*]}) and not root: run as root or install them" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
