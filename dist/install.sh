#!/usr/bin/env bash
# Installs the Superset desktop app: the binary, its menu entry and its icons.
#   dist/install.sh [--user | --system | --prefix DIR] [--binary PATH]
#     --user          into ~/.local (the default)
#     --system        into /usr/local (as root, or through sudo)
#     --prefix DIR    into DIR (DIR/bin, DIR/share/applications, DIR/share/icons)
#     --binary PATH   install this binary instead of building one (`cargo build --release`)
# DESTDIR=STAGING (environment) writes everything under STAGING while the menu entry still
# points at PREFIX/bin/superset, for packaging (see dist/package-deb.sh).
# Undo with dist/uninstall.sh and the same prefix option.
set -euo pipefail

say() { printf 'superset: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=""
mode=user
binary=""
while [ $# -gt 0 ]; do
    case "$1" in
        --user) mode=user; shift ;;
        --system) mode=system; shift ;;
        --prefix)
            [ $# -ge 2 ] || { say "--prefix needs a directory"; exit 2; }
            mode=prefix; prefix=$2; shift 2 ;;
        --prefix=*) mode=prefix; prefix=${1#*=}; shift ;;
        --binary)
            [ $# -ge 2 ] || { say "--binary needs a path"; exit 2; }
            binary=$2; shift 2 ;;
        --binary=*) binary=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) say "unknown argument: $1"; usage; exit 2 ;;
    esac
done
# shellcheck source=dist/prefix.sh
source "$(dirname "${BASH_SOURCE[0]}")/prefix.sh"
resolve_prefix
destdir=${DESTDIR:-}
destdir=${destdir%/}

if [ -z "$binary" ]; then
    command -v cargo >/dev/null 2>&1 || { say "cargo not found: install Rust (https://rustup.rs) or pass --binary PATH"; exit 1; }
    say "building the release binary (a first build takes a few minutes)"
    (cd "$repo" && cargo build --release --bin superset)
    target_dir=$(cd "$repo" && cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    binary=${target_dir:-$repo/target}/release/superset
fi
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
    say "not an executable file: $binary"
    exit 1
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")

# /usr/local is root's: build as the user above, then install as root.
if [ "$mode" = system ] && [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "installing into /usr/local needs root: run this as root, or use --user"; exit 1; }
    say "installing into /usr/local through sudo"
    exec sudo "$0" --system --binary "$binary"
fi

root=$destdir$prefix
exe=$prefix/bin/superset
icon_sizes=(16 24 32 48 64 128 256 512)

# The Exec value of a desktop entry: quoted when the path has characters the spec reserves.
exec_value() {
    local path=$1
    case "$path" in
        *[\"\`\$\\]* | *$'\n'*)
            say "cannot write a menu entry for a path with \", \`, \$ or \\ in it: $path"
            exit 1 ;;
    esac
    path=${path//%/%%}
    case "$path" in
        *[[:space:]\'\>\<~\|\&\;\*\?\#\(\)=]*) printf '"%s"' "$path" ;;
        *) printf '%s' "$path" ;;
    esac
}

installed=()
put() { # put MODE SOURCE DESTINATION
    install -D -m "$1" "$2" "$3"
    installed+=("$3")
}

put 755 "$binary" "$root/bin/superset"
entry=$(mktemp)
trap 'rm -f "$entry"' EXIT
exec_path=$(exec_value "$exe")
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
        Exec=superset*) line="Exec=$exec_path${line#Exec=superset}" ;;
    esac
    printf '%s\n' "$line"
done <"$repo/dist/superset.desktop" >"$entry"
put 644 "$entry" "$root/share/applications/superset.desktop"
for size in "${icon_sizes[@]}"; do
    put 644 "$repo/icons/hicolor/${size}x${size}/apps/superset.png" \
        "$root/share/icons/hicolor/${size}x${size}/apps/superset.png"
done
put 644 "$repo/icons/hicolor/scalable/apps/superset.svg" "$root/share/icons/hicolor/scalable/apps/superset.svg"

for file in "${installed[@]}"; do
    say "installed $file"
done

# Refresh the menus' caches (not when staging a package: the caches belong to the target system).
if [ -z "$destdir" ]; then
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$root/share/applications" 2>/dev/null || true
    fi
    hicolor=$root/share/icons/hicolor
    # Only a theme folder that already keeps a cache gets it rebuilt: a cache nobody maintains
    # would hide icons other programs add later.
    if [ -e "$hicolor/icon-theme.cache" ] || [ -e "$hicolor/index.theme" ]; then
        if command -v gtk-update-icon-cache >/dev/null 2>&1; then
            gtk-update-icon-cache -q -f -t "$hicolor" 2>/dev/null || true
        fi
    else
        touch "$hicolor" 2>/dev/null || true
    fi
    case ":$PATH:" in
        *":$prefix/bin:"*) ;;
        *) say "$prefix/bin is not on your PATH: the menu entry runs $exe directly; add it to PATH to type \`superset\` in a shell" ;;
    esac
    if [ "$mode" != prefix ]; then
        say "Superset is in your applications menu (it may take a moment to appear)"
    fi
fi
