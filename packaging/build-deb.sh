#!/usr/bin/env bash
# Builds the Debian package of omg from built binaries:
#   packaging/build-deb.sh BIN_DIR OUT_DIR
# BIN_DIR holds omg, omgd, omgd-lite and omg-fast (make build: target/release,
# where omg is linked statically, and the static omg-fast). The tree is what
# `make install` lays out with PREFIX=/usr; the dependencies are the packages
# that ship the shared libraries the binaries load (found with ldd and
# dpkg -S).
set -euo pipefail

bin=$(realpath "$1")
out=$(realpath "$2")
here=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -1)
arch=$(dpkg --print-architecture)
fast="$bin/omg-fast"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -s -C "$here" install DESTDIR="$stage" PREFIX=/usr \
    OMG_BIN="$bin/omg" OMGD_BIN="$bin/omgd" OMGD_LITE_BIN="$bin/omgd-lite" FAST_BIN="$fast"
# The pacman hook has no place on Debian.
rm -r "$stage/usr/share/libalpm"

depends=$(
    for b in omg omgd omgd-lite omg-fast; do ldd "$stage/usr/bin/$b" 2>/dev/null || true; done |
        awk '/=> \// { print $3 }' | sort -u |
        while read -r lib; do dpkg -S "$(realpath "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true; done |
        cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g'
)

mkdir -p "$stage/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
    "$here/packaging/debian/control.in" > "$stage/DEBIAN/control"
printf '%s\n' /etc/apt/apt.conf.d/90omg-notify /etc/xdg/autostart/omg-tray.desktop > "$stage/DEBIAN/conffiles"
install -m755 "$here/packaging/debian/postinst" "$stage/DEBIAN/postinst"
mkdir -p "$out"
dpkg-deb --root-owner-group -Zgzip -z1 --build "$stage" "$out/omg_${version}_${arch}.deb"
