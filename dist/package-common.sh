# Shared by dist/package-{deb,windows,macos}.sh (sourced, with $repo set to the repository and
# say() defined): the package's version and where cargo puts its builds.

# The version in the [package] section of Cargo.toml; exits when there is none.
package_version() {
    local version
    version=$(sed -n '/^\[package\]/,/^\[/{s/^version *= *"\([^"]*\)".*/\1/p}' "$repo/Cargo.toml" | head -n 1)
    [ -n "$version" ] || { say "no version found in the [package] section of $repo/Cargo.toml"; exit 1; }
    printf '%s' "$version"
}

# Cargo's target directory (CARGO_TARGET_DIR and config included), else $repo/target.
target_dir() {
    local dir
    dir=$(cd "$repo" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p') || true
    printf '%s' "${dir:-$repo/target}"
}
