#!/usr/bin/env bash
# One command: the Debian package. Installs what the build needs (Debian
# packages only), runs `dpkg-buildpackage -us -uc -b` on a clean copy of this
# tree in build-deb/ (dpkg-buildpackage writes its results next to the tree it
# builds, so they stay inside the checkout), checks the result with lintian,
# and leaves the .deb, its -dbgsym, .buildinfo and .changes in dist/.
#   scripts/package.sh
#   sudo apt-get install ./dist/stunbox_*.deb
# DEB_BUILD_OPTIONS is passed on (e.g. nocheck skips the man page checks).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup.sh --package

version=$(dpkg-parsechangelog -SVersion)
upstream=${version%-*}
meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" meson.build | head -1)
if [[ $upstream != "$meson_version" ]]; then
  echo "package: debian/changelog says $version but meson.build says $meson_version: add a changelog entry (dch -v $meson_version-1)" >&2
  exit 1
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)

work=$root/build-deb
src=$work/stunbox-$upstream
rm -rf "$work"
mkdir -p "$src"
# The tree as it is (uncommitted changes included), without build output or VCS data.
tar -C "$root" --exclude=./.git --exclude=./build --exclude='./build-*' --exclude=./dist \
  --exclude='./obj-*' --exclude=__pycache__ -cf - . | tar -C "$src" -xf -

cd "$src"
if ! dpkg-checkbuilddeps >/dev/null 2>&1; then
  # debian/control names something setup.sh does not: let apt read it from there.
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q --no-install-recommends "$src"
fi

log=$work/dpkg-buildpackage.log
echo "package: dpkg-buildpackage -us -uc -b for stunbox $version ($arch); log: ${log#"$root"/}"
start=$SECONDS
if ! dpkg-buildpackage -us -uc -b -Jauto >"$log" 2>&1; then
  tail -n 40 "$log"
  echo "package: dpkg-buildpackage failed (whole log: ${log#"$root"/})" >&2
  exit 1
fi
echo "package: built in $((SECONDS - start)) s"

changes=$work/stunbox_${version}_${arch}.changes
echo "package: lintian"
lintian --fail-on error,warning --display-info "$changes"
echo "package: lintian: no errors or warnings"

mkdir -p "$root/dist"
rm -f "$root"/dist/stunbox[_-]*
# The .changes lists every file the build made (the .deb, the -dbgsym .deb, the .buildinfo).
files=$(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]\{32\} [0-9]* [^ ]* [^ ]* //p' "$changes")
for f in $files; do mv "$work/$f" "$root/dist/"; done
mv "$changes" "$root/dist/"
echo "package: dist/:"
ls -l "$root/dist"
echo "package: install it with: sudo apt-get install ./dist/stunbox_${version}_${arch}.deb"
