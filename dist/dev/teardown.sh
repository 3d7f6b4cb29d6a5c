#!/usr/bin/env bash
# Stops the sync service dist/dev/setup.sh started for a worktree, and removes ELECTRIC_URL,
# SUPERSET_SYNC_PID and SUPERSET_SYNC_NAME from the worktree's .env (other lines stay).
#   dist/dev/teardown.sh [--worktree DIR]
#     --worktree DIR  the worktree (default: the git worktree around the current folder, else
#                     the current folder)
# The service gets SIGTERM, and SIGKILL if it is still running 10 s later. Its data in
# DIR/.superset stays, so the next setup resumes where this one stopped.
set -euo pipefail

say() { printf 'superset: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; }

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

# shellcheck source=dist/dev/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

pid=$(env_value SUPERSET_SYNC_PID)
slot=$(env_value SUPERSET_SYNC_NAME)
if [ -z "$pid" ]; then
    say "no sync service is recorded in $env_file: nothing to stop"
    exit 0
fi

if is_sync_service "$pid" "$slot"; then
    kill -TERM "$pid" 2>/dev/null || true
    waited=0
    while is_sync_service "$pid" "$slot" && [ "$waited" -lt 100 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if is_sync_service "$pid" "$slot"; then
        say "the sync service (pid $pid) did not stop within 10 s of SIGTERM: sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped the sync service for $worktree (pid $pid, slot $slot)"
else
    say "the sync service for $worktree (pid $pid) is not running any more"
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
grep -v -E '^(export[[:space:]]+)?(ELECTRIC_URL|SUPERSET_SYNC_PID|SUPERSET_SYNC_NAME)=' "$env_file" >"$tmp" || true
# Rewritten in place, so the file keeps its permissions.
cat "$tmp" >"$env_file"
say "removed ELECTRIC_URL, SUPERSET_SYNC_PID and SUPERSET_SYNC_NAME from $env_file"
