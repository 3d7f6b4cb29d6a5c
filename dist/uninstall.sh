#!/usr/bin/env bash
# Removes what dist/install.sh installed: the binary, the menu entry and the icons.
#   dist/uninstall.sh [--user | --system | --prefix DIR]
#     --user          from ~/.local (the default)
#     --system        from /usr/local (as root, or through sudo)
#     --prefix DIR    from DIR
# The app's data (~/.local/share/superset) is left alone.
set -euo pipefail

say() { printf 'superset: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; }

prefix=""
mode=user
while [ $# -gt 0 ]; do
    case "$1" in
        --user) mode=user; shift ;;
        --system) mode=system; shift ;;
        --prefix)
            [ $# -ge 2 ] || { say "--prefix needs a directory"; exit 2; }
            mode=prefix; prefix=$2; shift 2 ;;
        --prefix=*) mode=prefix; prefix=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) say "unknown argument: $1"; usage; exit 2 ;;
    esac
done
# shellcheck source=dist/prefix.sh
source "$(dirname "${BASH_SOURCE[0]}")/prefix.sh"
resolve_prefix

if [ "$mode" = system ] && [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "removing from /usr/local needs root: run this as root"; exit 1; }
    say "removing from /usr/local through sudo"
    exec sudo "$0" --system
fi

hicolor=$prefix/share/icons/hicolor
files=("$prefix/bin/superset" "$prefix/share/applications/superset.desktop")
for size in 16 24 32 48 64 128 256 512; do
    files+=("$hicolor/${size}x${size}/apps/superset.png")
done
files+=("$hicolor/scalable/apps/superset.svg")

removed=0
for file in "${files[@]}"; do
    if [ -e "$file" ] || [ -L "$file" ]; then
        rm -f "$file"
        say "removed $file"
        removed=$((removed + 1))
        # Icon size folders left empty go too; the standard folders above them stay.
        case "$file" in
            "$hicolor"/*/apps/*)
                if rmdir "$(dirname "$file")" 2>/dev/null; then
                    rmdir "$(dirname "$(dirname "$file")")" 2>/dev/null || true
                fi ;;
        esac
    fi
done
if [ "$removed" -eq 0 ]; then
    say "Superset is not installed under $prefix: nothing to remove"
    exit 0
fi

if command -v update-desktop-database >/dev/null 2>&1 && [ -d "$prefix/share/applications" ]; then
    update-desktop-database -q "$prefix/share/applications" 2>/dev/null || true
fi
if [ -e "$hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -f -t "$hicolor" 2>/dev/null || true
fi
say "removed Superset from $prefix (the app's data in ~/.local/share/superset stays)"
