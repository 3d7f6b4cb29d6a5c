# shellcheck shell=bash
# shellcheck disable=SC2154  # the sourcing script sets the variables these functions read
# Shell functions dist/install.sh and dist/uninstall.sh share; sourced, not run.

# Sets $prefix (absolute, no trailing slash) from $mode: user (~/.local), system (/usr/local)
# or prefix ($prefix as given).
resolve_prefix() {
    case "$mode" in
        user) prefix=$HOME/.local ;;
        system) prefix=/usr/local ;;
        prefix) [ -n "$prefix" ] || { say "--prefix needs a directory"; exit 2; } ;;
    esac
    case "$prefix" in
        /*) ;;
        *) prefix=$(pwd)/$prefix ;;
    esac
    prefix=${prefix%/}
}
