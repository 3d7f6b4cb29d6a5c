#!/usr/bin/env bash
# Runs Superset's whole test suite, installing what it needs first (see dist/ensure-deps.sh).
# Integration tests start their own throwaway PostgreSQL clusters; nothing else is touched.
# Extra arguments go to `cargo test` (e.g. `tests/run.sh seed` runs only tests matching "seed").
set -euo pipefail
cd "$(dirname "$0")/.."

dist/ensure-deps.sh test
# Tests keep refresh tokens in their profiles' files, never in the desktop's real keyring.
export SUPERSET_KEYRING=off
echo "superset: building and running the tests (a first build takes a few minutes)" >&2
cargo test "$@"

# As root the test kit runs PostgreSQL as the `postgres` user; check the normal-user path too,
# by running the test kit's own tests as `nobody` from a copy of the test binary.
if [ "$(id -u)" -eq 0 ] && [ $# -eq 0 ]; then
    exe=$(cargo test --test integration --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -n 1)
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    cp "$exe" "$scratch/integration"
    chmod 755 "$scratch" "$scratch/integration"
    echo "superset: running the test kit's tests as the unprivileged user 'nobody'" >&2
    (cd "$scratch" && runuser -u nobody -- ./integration testkit::)
fi
