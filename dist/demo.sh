#!/usr/bin/env bash
# Starts the Superset demo: installs what is missing, builds, and runs `superset demo`.
# Arguments go to `superset demo` (e.g. --reset, --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

dist/ensure-deps.sh demo
echo "superset: building the app (a first build takes a few minutes)" >&2
cargo build --bin superset
exec target/debug/superset demo "$@"
