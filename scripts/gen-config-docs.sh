#!/usr/bin/env bash
# Regenerates the key tables of docs/configuration.md (the regions between <!-- schema:NAME --> and
# <!-- /schema:NAME -->) from the config schema, lib/config/schema.cc. The unit test config_docs fails
# while they differ.
#
# Usage: scripts/gen-config-docs.sh           rewrite docs/configuration.md
#        scripts/gen-config-docs.sh --check   only say whether it is up to date (exit 1 if not)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=--update
if [[ "${1:-}" == "--check" ]]; then
  mode=--check
elif (($# > 0)); then
  echo "usage: $0 [--check]" >&2
  exit 2
fi
[[ -f build/build.ninja ]] || meson setup build >/dev/null
ninja -C build app/stunbox-config-doc/stunbox-config-doc >/dev/null
exec build/app/stunbox-config-doc/stunbox-config-doc "$mode" docs/configuration.md
