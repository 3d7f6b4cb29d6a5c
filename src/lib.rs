//! Superset Desktop: a live view of who on a team works on what, and the server behind it.
//!
//! Map of the library (the two binaries in `src/bin` are thin wrappers around it):
//!
//! - [`app`] — the desktop window (eframe): view model, panels, folder linking, start work.
//! - [`server`] — what `superset-server` runs against Postgres: `db` connections, `migrate`
//!   (the schema in `migrations/postgres`), `seed` (a realistic, deterministic team).
//! - [`sync`] — the desktop sync engine: shape streams into SQLite.
//! - [`store`] — the desktop's SQLite file: pragmas and the schema in `migrations/sqlite`.
//! - [`commands`] — `superset login / sync / status / logout`, headless.
//! - [`demo`] — `superset demo`: a seeded team on a private cluster.
//! - [`bench`] — `superset-bench`: the sync service measured against DESIGN.md §5's targets.
//! - [`outbox`] — writes stored first, shown at once, sent in order, confirmed by sync.
//! - [`gitlink`] — git remote URL normalisation and linking folders to repositories.
//! - [`localpg`] — a private PostgreSQL cluster run from the system's binaries, used by the demo
//!   and by the test kit.
//! - `testkit` (feature `test-utils`) — throwaway clusters and fresh databases for tests.

pub mod app;
pub mod bench;
pub mod commands;
pub mod demo;
pub mod gitlink;
pub mod localpg;
pub mod outbox;
pub mod server;
pub mod store;
pub mod sync;
#[cfg(feature = "test-utils")]
pub mod testkit;
