#!/usr/bin/env bash
# The production topology on one machine, to try it or measure it:
#
#   clients ─▶ nginx load balancer ─▶ API replica 1 ┐
#                                  └▶ API replica 2 ┴▶ nginx shape cache ─▶ sync service ─▶ Postgres
#
#   dist/deploy/local-cluster.sh up [--dir DIR] [--port PORT]   start it all (seeded team)
#   dist/deploy/local-cluster.sh down [--dir DIR]               stop it all, delete DIR
#
# DIR (default /tmp/superset-cluster) holds a throwaway PostgreSQL cluster, the shape logs,
# nginx's configuration and cache, pids, logs and cluster.env (its URLs and secrets, for tools
# such as `superset-bench scale`). PORT (default 8080) is the load balancer's; the other pieces
# take the ports after it. Uses target/release/superset-server (built if
# missing; SUPERSET_SERVER=path uses another binary), PostgreSQL's initdb and nginx
# (dist/ensure-deps.sh test installs both).
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf 'superset cluster: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; }

action=${1:-}
[ $# -gt 0 ] && shift
dir=/tmp/superset-cluster
port=8080
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) dir=$2; shift 2 ;;
        --port) port=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) say "unknown argument: $1"; usage; exit 2 ;;
    esac
done
pg_port=$((port + 1)) sync_port=$((port + 2)) cache_port=$((port + 3))
api_ports=($((port + 4)) $((port + 5)))
secret=cluster-sync-secret
jwt=cluster-jwt-secret-that-is-at-least-32-bytes
url="postgres://superset@127.0.0.1:$pg_port/superset"

pg_bin() {
    local found
    found=$(command -v "$1" 2>/dev/null || compgen -G "/usr/lib/postgresql/*/bin/$1" | sort -V | tail -1)
    [ -n "$found" ] || { say "PostgreSQL's $1 is missing: run dist/ensure-deps.sh test"; exit 1; }
    printf '%s' "$found"
}
nginx_bin() {
    for candidate in "$(command -v nginx 2>/dev/null)" /usr/sbin/nginx; do
        [ -n "$candidate" ] && [ -x "$candidate" ] && { printf '%s' "$candidate"; return; }
    done
    say "nginx is missing: run dist/ensure-deps.sh test"; exit 1
}
# PostgreSQL refuses to run as root: as root it runs as the postgres user.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# Fills a dist/deploy template's placeholders into DIR.
render() {
    local template=$1 out=$2 listen=$3 extra_key=$4 extra_value=$5
    sed -e "s|@LISTEN@|$listen|g" -e "s|@CACHE_DIR@|$dir/$(basename "$out" .conf)|g" \
        -e "s|$extra_key|$extra_value|g" "dist/deploy/$template" >"$out"
    mkdir -p "$dir/$(basename "$out" .conf)/tmp"
}
start_nginx() {
    local name=$1 user=""
    # A master and a worker per CPU: each worker holds its share of the connections (two per
    # proxied long-poll) within its own open-file limit. As root the workers stay root, so they
    # can write this folder.
    [ "$(id -u)" -eq 0 ] && user="user root;"
    (
        ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
        "$(nginx_bin)" -p "$dir/$name" -c "$dir/$name.conf" -e "$dir/$name.log" \
            -g "daemon on; pid $dir/$name.pid; $user"
    )
}
wait_for() {
    local what=$1 probe=$2 deadline=$((SECONDS + 60))
    until eval "$probe" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || { say "$what did not start; see $dir/*.log"; exit 1; }
        sleep 0.2
    done
}

up() {
    [ ! -e "$dir/up" ] || { say "already up in $dir (run down first)"; exit 1; }
    server=${SUPERSET_SERVER:-target/release/superset-server}
    if [ ! -x "$server" ]; then
        say "building superset-server (release; a first build takes several minutes)"
        cargo build --release --bin superset-server
    fi
    mkdir -p "$dir"
    say "PostgreSQL on port $pg_port"
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    as_pg "$(pg_bin initdb)" -D "$dir/pg" -U superset --auth=trust -E UTF8 >"$dir/initdb.log"
    as_pg "$(pg_bin pg_ctl)" -D "$dir/pg" -l "$dir/pg/server.log" -w \
        -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c wal_level=logical" start >/dev/null
    as_pg "$(pg_bin createdb)" -h 127.0.0.1 -p "$pg_port" -U superset superset
    "$server" seed --database-url "$url" --tasks 2000 >"$dir/seed.log" 2>&1
    say "sync service on port $sync_port"
    # Behind nginx every connection comes from one address: no per-address connection limit
    # (the balancer's job), and the replicas count sign-ins by the address nginx forwards.
    "$server" sync --database-url "$url" --listen "127.0.0.1:$sync_port" --data-dir "$dir/sync" \
        --slot cluster_sync --secret "$secret" --max-connections-per-address 0 >"$dir/sync.log" 2>&1 &
    echo $! >"$dir/sync.pid"
    wait_for "the sync service" "curl -fs http://127.0.0.1:$sync_port/v1/health"
    say "shape cache (nginx) on port $cache_port"
    render nginx-cache.conf "$dir/cache.conf" "127.0.0.1:$cache_port" @SYNC_UPSTREAM@ "127.0.0.1:$sync_port"
    start_nginx cache
    local servers="" n=0
    for api_port in "${api_ports[@]}"; do
        n=$((n + 1))
        say "API replica $n on port $api_port"
        "$server" serve --database-url "$url" --listen "127.0.0.1:$api_port" \
            --data-dir "$dir/api-$n" --jwt-secret "$jwt" \
            --electric-url "http://127.0.0.1:$cache_port/v1/shape" --electric-secret "$secret" \
            --max-connections-per-address 0 --trust-forwarded-for >"$dir/api-$n.log" 2>&1 &
        echo $! >"$dir/api-$n.pid"
        servers="$servers server 127.0.0.1:$api_port;"
        wait_for "API replica $n" "curl -s -o /dev/null http://127.0.0.1:$api_port/"
    done
    say "load balancer (nginx) on port $port"
    render nginx-balancer.conf "$dir/balancer.conf" "127.0.0.1:$port" @API_REPLICAS@ "$servers"
    start_nginx balancer
    wait_for "the load balancer" "curl -s -o /dev/null http://127.0.0.1:$port/"
    # What a tool driving the cluster needs (superset-bench scale reads it).
    cat >"$dir/cluster.env" <<ENV
SUPERSET_URL=http://127.0.0.1:$port
DATABASE_URL=$url
SUPERSET_JWT_SECRET=$jwt
SYNC_URL=http://127.0.0.1:$sync_port
ENV
    touch "$dir/up"
    local email
    email=$(grep -o '[^ ]*@[^ ]*' "$dir/seed.log" | head -1 || true)
    say "up: the API is at http://127.0.0.1:$port (sign in as ${email:-a seeded user}, password superset); down: $0 down --dir $dir"
}

down() {
    for name in balancer cache; do
        [ -f "$dir/$name.pid" ] && kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
    done
    for pidfile in "$dir"/api-*.pid "$dir/sync.pid"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    if [ -d "$dir/pg" ]; then
        as_pg "$(pg_bin pg_ctl)" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    say "down"
}

case "$action" in
    up) up ;;
    down) down ;;
    *) usage; exit 2 ;;
esac
