#!/usr/bin/env bash
# Installs the system packages Superset needs, when they are missing, on Debian or Ubuntu.
#   dist/ensure-deps.sh test   — what the test suite needs
#   dist/ensure-deps.sh demo   — what `superset demo` needs
#   dist/ensure-deps.sh platforms — what building for Windows and checking for macOS needs
#     (.ci/platforms): mingw-w64, wine, NSIS; Rust's Windows and macOS targets; zig (PyPI's
#     `ziglang`) and cargo-zigbuild (crates.io) as the macOS C compiler and linker driver
# It says what it installs and why; with nothing missing it installs nothing.
set -euo pipefail

purpose=${1:-test}
missing=()
say() { printf 'superset: %s\n' "$*" >&2; }

have_postgres_server() {
    command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

if ! command -v cargo >/dev/null 2>&1; then
    say "cargo not found: install Rust first (https://rustup.rs), then run this again"
    exit 1
fi
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
have_postgres_server || missing+=(postgresql)
has_package() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# The window: X11/Wayland client libraries and OpenGL (Mesa's software renderer suffices),
# all loaded at run time, so they are needed to run the app, not to build it.
if command -v dpkg-query >/dev/null 2>&1; then
    for package in libgl1 libglx-mesa0 libgl1-mesa-dri libegl1 libx11-xcb1 libxcursor1 libxi6 \
        libxrandr2 libxkbcommon-x11-0; do
        has_package "$package" || missing+=("$package")
    done
fi
if [ "$purpose" = "test" ]; then
    # The protocol conformance test runs the official Electric TypeScript client under Node.
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    # The window's smoke test runs the real binary on a virtual display.
    command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb)
    command -v xauth >/dev/null 2>&1 || missing+=(xauth)
    # The deployment tests put a real nginx (cache, load balancer) in front of the servers.
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    # The packaging test validates the installed menu entry.
    command -v desktop-file-validate >/dev/null 2>&1 || missing+=(desktop-file-utils)
fi

if [ "$purpose" = "platforms" ]; then
    # Windows: the mingw-w64 cross toolchain, wine to run what it builds, NSIS for the installer.
    command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || missing+=(mingw-w64)
    command -v wine >/dev/null 2>&1 || missing+=(wine)
    command -v dpkg-query >/dev/null 2>&1 && { has_package wine64 || missing+=(wine64); }
    command -v makensis >/dev/null 2>&1 || missing+=(nsis)
    command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1 || missing+=(python3-pip)
fi

# Rust's targets and the macOS tool chain, when asked for (after the system packages: pip comes
# from them).
ensure_platform_tools() {
    local targets
    targets=$(rustup target list --installed 2>/dev/null || true)
    for target in x86_64-pc-windows-gnu aarch64-apple-darwin; do
        if ! grep -qx "$target" <<<"$targets"; then
            say "adding Rust's $target target (to build for it)"
            rustup target add "$target"
        fi
    done
    if ! python3 -c 'import ziglang' >/dev/null 2>&1; then
        say "installing zig (PyPI's ziglang: the C compiler for macOS targets)"
        python3 -m pip install --quiet ziglang
    fi
    if ! command -v cargo-zigbuild >/dev/null 2>&1; then
        say "installing cargo-zigbuild (crates.io: cargo with zig for macOS targets)"
        cargo install --locked --quiet cargo-zigbuild
    fi
}

if [ ${#missing[@]} -eq 0 ]; then
    if [ "$purpose" = "platforms" ]; then ensure_platform_tools; fi
    exit 0
fi

say "installing ${missing[*]} (needed for the $purpose)"
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
    # In CI there is nobody to type a password.
    if [ "${CI:-}" = "true" ]; then sudo=(sudo -n); fi
else
    say "not root and no sudo: install these packages yourself: ${missing[*]}"
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get here: install these packages with your system's package manager: ${missing[*]}"
    exit 1
fi
# Debian's postgresql package would create and start a cluster on port 5432 that we never use:
# Superset runs private clusters with the server binaries alone.
if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    "${sudo[@]}" mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
say "installed ${missing[*]}"
if [ "$purpose" = "platforms" ]; then ensure_platform_tools; fi
