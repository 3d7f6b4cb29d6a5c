#!/usr/bin/env bash
# Stops the sync service dist/dev/setup.sh started for a worktree, and removes ELECTRIC_URL,
# SUPERSET_SYNC_PID and SUPERSET_SYNC_NAME from the worktree's .env (other lines stay).
#   dist/dev/teardown.sh [--worktree DIR]
#     --worktree DIR  the worktree (default: the git worktree around the current folder, else
#                     the current folder)
# The service gets SIGTERM, and SIGKILL if it is still running 10 s later. Its data in
# DIR/.superset stays, so the next setup resumes where this one stopped.
set -euo pipefail

# shellcheck source=dist/dev/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

parse_worktree_arguments "$@"

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
