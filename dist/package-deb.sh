#!/usr/bin/env bash
# Builds a Debian package of the Superset desktop app with dpkg-deb (no cargo-deb needed).
#   dist/package-deb.sh [--binary PATH] [--out DIR] [--compression xz|gzip|zstd|none]
#     --binary PATH    package this binary instead of building one (`cargo build --release`)
#     --out DIR        where the .deb goes (default: target/debian)
#     --compression    dpkg-deb's compressor (default: xz)
# Prints the path of target/debian/superset_<version>_<arch>.deb on stdout.
# DEBFULLNAME and DEBEMAIL (environment) set the Maintainer field.
set -euo pipefail

say() { printf 'superset: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
binary=""
out=""
compression=xz
while [ $# -gt 0 ]; do
    case "$1" in
        --binary)
            [ $# -ge 2 ] || { say "--binary needs a path"; exit 2; }
            binary=$2; shift 2 ;;
        --binary=*) binary=${1#*=}; shift ;;
        --out)
            [ $# -ge 2 ] || { say "--out needs a directory"; exit 2; }
            out=$2; shift 2 ;;
        --out=*) out=${1#*=}; shift ;;
        --compression)
            [ $# -ge 2 ] || { say "--compression needs xz, gzip, zstd or none"; exit 2; }
            compression=$2; shift 2 ;;
        --compression=*) compression=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) say "unknown argument: $1"; usage; exit 2 ;;
    esac
done
for tool in dpkg-deb dpkg; do
    command -v "$tool" >/dev/null 2>&1 || { say "$tool not found: building a .deb needs Debian's dpkg"; exit 1; }
done

# shellcheck source=dist/package-common.sh
. "$repo/dist/package-common.sh"
version=$(package_version)
arch=$(dpkg --print-architecture)

if [ -z "$binary" ]; then
    command -v cargo >/dev/null 2>&1 || { say "cargo not found: install Rust (https://rustup.rs) or pass --binary PATH"; exit 1; }
    say "building the release binary (a first build takes a few minutes)"
    (cd "$repo" && cargo build --release --bin superset)
    binary=$(target_dir)/release/superset
fi
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
    say "not an executable file: $binary"
    exit 1
fi
if [ -z "$out" ]; then
    out=$(target_dir)/debian
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
umask 022
root=$staging/superset_${version}_$arch
if ! log=$(DESTDIR=$root "$repo/dist/install.sh" --prefix /usr --binary "$binary" 2>&1); then
    printf '%s\n' "$log" >&2
    say "staging the package's files with dist/install.sh failed"
    exit 1
fi
# Debian ships binaries without their debugging symbols.
if command -v strip >/dev/null 2>&1; then
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/superset"
fi

maintainer="${DEBFULLNAME:-Superset Developers} <${DEBEMAIL:-superset@localhost}>"
installed_size=$(du -sk "$root" | cut -f1)
mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<EOF
Package: superset
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: libc6, libgl1, libegl1, libx11-xcb1, libxcursor1, libxi6, libxrandr2, libxkbcommon-x11-0
Recommends: postgresql, zenity, xdg-desktop-portal
Section: devel
Priority: optional
Description: See, live, who on your team works on what
 Superset shows a software team, live, which tasks exist and who is working
 on what: in which repository and branch, on which machine, with what git
 state and which pull request. It keeps a local SQLite copy of the team's
 data, synced in real time from a Superset server.
EOF
chmod 0644 "$root/DEBIAN/control"

deb=$out/superset_${version}_$arch.deb
dpkg-deb --root-owner-group -Z"$compression" --build "$root" "$deb" >/dev/null
say "built $deb"
printf '%s\n' "$deb"
