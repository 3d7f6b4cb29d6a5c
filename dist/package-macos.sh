#!/usr/bin/env bash
# Assembles Superset.app (and, on a Mac, a .dmg) from a superset binary built on a Mac.
#   dist/package-macos.sh [--binary PATH] [--out DIR]
#     --binary PATH    the binary to put in the app (default on a Mac: build it, with
#                      `cargo build --release --bin superset`)
#     --out DIR        where Superset.app and the .dmg go (default: target/macos)
# Prints the path of Superset.app on stdout, then that of the .dmg when one was made.
#
# On a Mac, step by step (Xcode's command line tools and Rust installed):
#   1. dist/package-macos.sh                 builds, assembles target/macos/Superset.app,
#                                            signs it ad hoc (codesign -s -) and makes
#                                            target/macos/Superset-<version>.dmg (hdiutil)
#   2. open target/macos/Superset-<version>.dmg, drag Superset to Applications
#   3. the first time, open it with right-click > Open (the app is not notarized)
# The .app itself is assembled anywhere (Info.plist, the .icns from icons/, the binary); the
# signature and the .dmg need Apple's tools, so elsewhere they are skipped, saying so.
set -euo pipefail

say() { printf 'superset: %s\n' "$*" >&2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
binary=""
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --binary)
            [ $# -ge 2 ] || { say "--binary needs a path"; exit 2; }
            binary=$2; shift 2 ;;
        --binary=*) binary=${1#*=}; shift ;;
        --out)
            [ $# -ge 2 ] || { say "--out needs a directory"; exit 2; }
            out=$2; shift 2 ;;
        --out=*) out=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) say "unknown argument: $1"; usage; exit 2 ;;
    esac
done
command -v python3 >/dev/null 2>&1 || { say "python3 not found (it writes the .icns)"; exit 1; }

# shellcheck source=dist/package-common.sh
. "$repo/dist/package-common.sh"
version=$(package_version)

if [ -z "$binary" ]; then
    if [ "$(uname -s)" != "Darwin" ]; then
        say "not on a Mac: build the binary on one and pass it with --binary PATH"
        exit 1
    fi
    command -v cargo >/dev/null 2>&1 || { say "cargo not found: install Rust (https://rustup.rs) or pass --binary PATH"; exit 1; }
    say "building the release binary (a first build takes a few minutes)"
    (cd "$repo" && cargo build --release --bin superset)
    binary=$(target_dir)/release/superset
fi
[ -f "$binary" ] || { say "no such file: $binary"; exit 1; }
if [ -z "$out" ]; then
    out=$(target_dir)/macos
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

app=$out/Superset.app
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
install -m 0755 "$binary" "$app/Contents/MacOS/superset"
python3 "$repo/dist/icons.py" icns "$app/Contents/Resources/superset.icns"
printf 'APPL????' >"$app/Contents/PkgInfo"
# The identifier is the window's app id (src/app/mod.rs); 11.0 is the first macOS on Apple
# silicon. Finder starts the binary without arguments, which opens the window.
cat >"$app/Contents/Info.plist" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>CFBundleDevelopmentRegion</key>
    <string>en</string>
    <key>CFBundleDisplayName</key>
    <string>Superset</string>
    <key>CFBundleExecutable</key>
    <string>superset</string>
    <key>CFBundleIconFile</key>
    <string>superset</string>
    <key>CFBundleIdentifier</key>
    <string>dev.superset.Superset</string>
    <key>CFBundleInfoDictionaryVersion</key>
    <string>6.0</string>
    <key>CFBundleName</key>
    <string>Superset</string>
    <key>CFBundlePackageType</key>
    <string>APPL</string>
    <key>CFBundleShortVersionString</key>
    <string>$version</string>
    <key>CFBundleVersion</key>
    <string>$version</string>
    <key>LSApplicationCategoryType</key>
    <string>public.app-category.developer-tools</string>
    <key>LSMinimumSystemVersion</key>
    <string>11.0</string>
    <key>NSHighResolutionCapable</key>
    <true/>
    <key>NSHumanReadableCopyright</key>
    <string>MIT licensed</string>
</dict>
</plist>
EOF
if command -v plutil >/dev/null 2>&1; then
    plutil -lint "$app/Contents/Info.plist" >&2
fi
if command -v codesign >/dev/null 2>&1; then
    # Apple silicon runs only signed code; an ad-hoc signature is enough on the machine itself.
    codesign --force --deep --sign - "$app" >&2
else
    say "no codesign here (not a Mac): Superset.app is left unsigned"
fi
say "assembled $app"
printf '%s\n' "$app"

if command -v hdiutil >/dev/null 2>&1; then
    staging=$(mktemp -d)
    trap 'rm -rf "$staging"' EXIT
    cp -R "$app" "$staging/"
    ln -s /Applications "$staging/Applications"
    dmg=$out/Superset-$version.dmg
    rm -f "$dmg"
    hdiutil create -quiet -volname Superset -srcfolder "$staging" -format UDZO -ov "$dmg"
    say "built $dmg"
    printf '%s\n' "$dmg"
else
    say "no hdiutil here (not a Mac): no .dmg"
fi
