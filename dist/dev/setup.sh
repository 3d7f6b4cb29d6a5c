#!/usr/bin/env bash
# Starts this worktree's own sync service for local development (no Docker): a
# `superset-server sync` on a free loopback port, with a replication slot of its own, so that
# several worktrees can each run one against the same Postgres.
#   dist/dev/setup.sh [--worktree DIR]
#     --worktree DIR  the worktree (default: the git worktree around the current folder, else
#                     the current folder)
# DIRECT_URL (the database, unpooled, wal_level=logical) comes from the environment or the
# worktree's .env. The service keeps its data in DIR/.superset/sync and logs to
# DIR/.superset/sync.log; ELECTRIC_URL, SUPERSET_SYNC_PID and SUPERSET_SYNC_NAME are written to
# DIR/.env (other lines stay). Running it again while the service runs changes nothing.
# SUPERSET_SERVER_BIN picks the server binary (default: `cargo build --bin superset-server`).
# Stop it with dist/dev/teardown.sh.
set -euo pipefail

# shellcheck source=dist/dev/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

repo=$(cd "$(dirname "$0")/../.." && pwd)
parse_worktree_arguments "$@"
state_dir=$worktree/.superset
log=$state_dir/sync.log

# The log's last lines, without the backtrace that follows an error.
show_log() {
    sed '/^Stack backtrace:/,$d' "$log" | tail -n 20 | sed 's/^/    /' >&2
}

old_pid=$(env_value SUPERSET_SYNC_PID)
old_slot=$(env_value SUPERSET_SYNC_NAME)
if [ -n "$old_pid" ] && is_sync_service "$old_pid" "$old_slot"; then
    say "the sync service for $worktree is already running (pid $old_pid, $(env_value ELECTRIC_URL)); nothing to do"
    exit 0
fi

direct_url=${DIRECT_URL:-$(env_value DIRECT_URL)}
if [ -z "$direct_url" ]; then
    say "DIRECT_URL is not set: put DIRECT_URL=postgres://USER:PASSWORD@HOST:PORT/DATABASE (unpooled, wal_level=logical) in $env_file or in the environment"
    exit 1
fi

if [ -n "${SUPERSET_SERVER_BIN:-}" ]; then
    server_bin=$SUPERSET_SERVER_BIN
else
    command -v cargo >/dev/null 2>&1 || { say "cargo not found: install Rust (https://rustup.rs) or set SUPERSET_SERVER_BIN"; exit 1; }
    say "building superset-server"
    (cd "$repo" && cargo build --bin superset-server)
    target_dir=$(cd "$repo" && cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    server_bin=${target_dir:-$repo/target}/debug/superset-server
fi
[ -x "$server_bin" ] || { say "not an executable file: $server_bin"; exit 1; }

# One slot per worktree: the same folder always gets the same name.
slot=superset_dev_$(printf '%s' "$worktree" | sha256sum | cut -c1-12)
mkdir -p "$state_dir/sync"
[ -e "$state_dir/.gitignore" ] || printf '*\n' >"$state_dir/.gitignore"

: >"$log"
# Its own session: the service outlives this script and the terminal it ran in.
launcher=(nohup)
if command -v setsid >/dev/null 2>&1; then
    launcher=(setsid)
fi
# The URL goes through the environment, not the command line, which every user can read.
DIRECT_URL=$direct_url "${launcher[@]}" "$server_bin" sync --listen 127.0.0.1:0 \
    --data-dir "$state_dir/sync" --slot "$slot" </dev/null >>"$log" 2>&1 &
pid=$!

origin=""
deadline=$((SECONDS + 30))
while [ -z "$origin" ]; do
    line=$(grep -m 1 -o 'sync service listening on http://[^[:space:]]*' "$log" || true)
    if [ -n "$line" ]; then
        origin=${line#sync service listening on }
    elif ! is_sync_service "$pid" ""; then
        status=0
        wait "$pid" || status=$?
        say "the sync service stopped (exit status $status) before it was ready; its log ($log) ends with:"
        show_log
        exit 1
    elif [ "$SECONDS" -ge "$deadline" ]; then
        kill "$pid" 2>/dev/null || true
        say "the sync service was not ready within 30 s, so it was stopped; its log ($log) ends with:"
        show_log
        exit 1
    else
        sleep 0.2
    fi
done

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if [ -f "$env_file" ]; then
    grep -v -E '^(export[[:space:]]+)?(ELECTRIC_URL|SUPERSET_SYNC_PID|SUPERSET_SYNC_NAME)=' "$env_file" >"$tmp" || true
fi
printf '%s\n' "ELECTRIC_URL=$origin/v1/shape" "SUPERSET_SYNC_PID=$pid" "SUPERSET_SYNC_NAME=$slot" >>"$tmp"
# Rewritten in place, so the file keeps its permissions.
cat "$tmp" >"$env_file"

say "the sync service for $worktree listens on $origin (pid $pid, slot $slot, log $log)"
say "wrote ELECTRIC_URL=$origin/v1/shape, SUPERSET_SYNC_PID and SUPERSET_SYNC_NAME to $env_file; stop it with dist/dev/teardown.sh"
