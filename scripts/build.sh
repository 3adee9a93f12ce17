#!/usr/bin/env bash
# Configures (once) and builds stunbox into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  meson setup build "$@"
elif (($# > 0)); then
  meson configure build "$@"
fi
ninja -C build
