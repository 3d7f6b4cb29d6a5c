//! Integration tests: one binary, against real throwaway PostgreSQL clusters and real SQLite
//! files (see `superset::testkit`).
//!
//! The suite runs on Linux (CI). It also compiles for Windows (`cargo check --all-targets
//! --target x86_64-pc-windows-gnu`), without the modules that are Unix by nature: the Linux
//! packages and the deployment (systemd, nginx), the test kit's signals and users, and the
//! desktop tests (one checks the session file's Unix mode) but for their support. `platforms`
//! drives the Windows build under wine (only when `.ci/platforms` asks for it).

mod admin_cli;
mod api;
mod attacks;
mod demo;
#[cfg(unix)]
mod deploy;
#[cfg(unix)]
mod desktop;
/// On Windows only the desktop tests' support, which the window and workspace tests share.
#[cfg(windows)]
#[allow(
    dead_code,
    reason = "the rest of it serves the desktop tests, which are Unix-only"
)]
mod desktop {
    pub mod support;
}
mod layers;
#[cfg(unix)]
mod packaging;
mod pgoutput_capture;
#[cfg(unix)]
mod platforms;
mod postgres_schema;
mod seed;
mod sqlite_store;
mod support;
mod sync;
#[cfg(unix)]
mod testkit;
mod webhooks;
mod where_against_postgres;
mod window;
mod workspaces;
