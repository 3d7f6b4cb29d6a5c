#!/usr/bin/env bash
# Builds the Windows installer of the Superset desktop app, on Linux, with NSIS (makensis).
#   dist/package-windows.sh [--exe-dir DIR] [--out DIR]
#     --exe-dir DIR    package the superset.exe and superset-window.exe in DIR instead of
#                      building them (`cargo build --release --target x86_64-pc-windows-gnu`)
#     --out DIR        where the installer goes (default: target/windows)
# Prints the path of target/windows/superset-<version>-setup.exe on stdout. What is needed
# (mingw-w64, NSIS, Rust's Windows target) is installed by `dist/ensure-deps.sh platforms`.
set -euo pipefail

say() { printf 'superset: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
target=x86_64-pc-windows-gnu
exe_dir=""
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --exe-dir)
            [ $# -ge 2 ] || { say "--exe-dir needs a directory"; exit 2; }
            exe_dir=$2; shift 2 ;;
        --exe-dir=*) exe_dir=${1#*=}; shift ;;
        --out)
            [ $# -ge 2 ] || { say "--out needs a directory"; exit 2; }
            out=$2; shift 2 ;;
        --out=*) out=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) say "unknown argument: $1"; usage; exit 2 ;;
    esac
done
for tool in makensis python3; do
    command -v "$tool" >/dev/null 2>&1 || { say "$tool not found: run dist/ensure-deps.sh platforms"; exit 1; }
done

# shellcheck source=dist/package-common.sh
. "$repo/dist/package-common.sh"
version=$(package_version)

if [ -z "$exe_dir" ]; then
    command -v cargo >/dev/null 2>&1 || { say "cargo not found: install Rust (https://rustup.rs) or pass --exe-dir DIR"; exit 1; }
    say "building the release binaries for Windows (a first build takes a while)"
    (cd "$repo" && cargo build --release --target "$target" --bin superset --bin superset-window)
    exe_dir=$(target_dir)/$target/release
fi
for exe in superset.exe superset-window.exe; do
    [ -f "$exe_dir/$exe" ] || { say "no $exe in $exe_dir"; exit 1; }
done
if [ -z "$out" ]; then
    out=$(target_dir)/windows
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp "$exe_dir/superset.exe" "$exe_dir/superset-window.exe" "$staging/"
# Installed programs carry no debugging information (it is most of a debug build's size).
if command -v x86_64-w64-mingw32-strip >/dev/null 2>&1; then
    x86_64-w64-mingw32-strip --strip-debug "$staging/superset.exe" "$staging/superset-window.exe"
fi
python3 "$repo/dist/icons.py" ico "$staging/superset.ico"

installer=$out/superset-$version-setup.exe
makensis -V2 -NOCD \
    "-DVERSION=$version" "-DSTAGING=$staging" "-DOUTFILE=$installer" \
    "$repo/dist/windows/superset.nsi" >&2
say "built $installer"
printf '%s\n' "$installer"
