#!/usr/bin/env bash
# One command: install what is missing, build, and start stunbox with config/stunbox.yaml
# (socket mode, UDP 3478 on every IPv4 and IPv6 address). Extra arguments go to stunbox.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec build/app/stunbox/stunbox -c config/stunbox.yaml "$@"
