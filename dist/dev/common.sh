# shellcheck shell=bash
# shellcheck disable=SC2154  # the sourcing script sets the variables these functions read
# Shell functions dist/dev/setup.sh and teardown.sh share; sourced, not run.

say() { printf 'superset: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; }

# Reads `--worktree DIR` (default: the git work tree here, else the current folder) and sets
# $worktree (absolute) and $env_file (its .env).
parse_worktree_arguments() {
    worktree=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --worktree)
                [ $# -ge 2 ] || { say "--worktree needs a directory"; exit 2; }
                worktree=$2; shift 2 ;;
            --worktree=*) worktree=${1#*=}; shift ;;
            -h | --help) usage; exit 0 ;;
            *) say "unknown argument: $1"; usage; exit 2 ;;
        esac
    done
    if [ -z "$worktree" ]; then
        worktree=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
    fi
    [ -d "$worktree" ] || { say "no such directory: $worktree"; exit 1; }
    worktree=$(cd "$worktree" && pwd -P)
    env_file=$worktree/.env
}

# The value of KEY in .env (the last one wins; `export` and surrounding quotes are dropped).
env_value() {
    local key=$1 line value=""
    [ -f "$env_file" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%$'\r'}
        case "$line" in
            "$key="*) value=${line#"$key="} ;;
            "export $key="*) value=${line#"export $key="} ;;
        esac
    done <"$env_file"
    case "$value" in
        \"*\" | \'*\') value=${value:1:${#value}-2} ;;
    esac
    printf '%s' "$value"
}

# Whether PID is alive (not a zombie) and is the sync service with this slot.
is_sync_service() {
    local pid=$1 slot=$2
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -r "/proc/$pid/stat" ] && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat")" = Z ]; then
        return 1
    fi
    if [ -n "$slot" ] && [ -r "/proc/$pid/cmdline" ]; then
        tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$slot" || return 1
    fi
}
