//! Superset Desktop: a live view of who on a team works on what, and the server behind it.
//!
//! The three binaries in `src/bin` (`superset`, `superset-server`, `superset-bench`) are thin
//! wrappers around this library. `ARCHITECTURE.md` draws the layers; in short, each module may
//! use only the modules below it, and a test (`tests/integration/layers.rs`) keeps it so.
//!
//! Shared by both sides, at the bottom:
//! - [`protocol`] — the synced tables and Electric's wire names.
//! - [`gitlink::urls`] — git remote URL normalisation (plain text, no git).
//! - [`localpg`] — a private PostgreSQL cluster run from the system's binaries (the demo and the
//!   test kit).
//!
//! The desktop, from the bottom up:
//! - [`store`] — the SQLite file: open, migrate, transactions.
//! - [`gitlink`] — local clones (`local`) and which folder is which repository (`linking`).
//! - [`outbox`] — writes stored first, shown at once, sent in order, confirmed by sync.
//! - [`sync`] — the sync engine: shape streams into SQLite, the outbox sender, the session.
//! - [`profile`] — a profile's data folder, signing it in and out; [`invitations`] — the
//!   organizations inviting the signed-in person.
//! - [`commands`] (the command line) and [`app`] (the window), side by side.
//!
//! The server, from the bottom up: [`server`] — `db`, `migrate`, `seed`; `shapes` (the sync
//! service); `http` (the shared HTTP pieces); `api` and `integrations` side by side; `app` and
//! `admin` on top.
//!
//! On top of everything: [`demo`] (`superset demo`), [`bench`](mod@bench) (`superset-bench`), and
//! `testkit` (feature `test-utils`: throwaway clusters and fresh databases for tests).

pub mod app;
pub mod bench;
pub mod commands;
pub mod demo;
pub mod gitlink;
pub mod invitations;
pub mod localpg;
pub mod outbox;
pub mod profile;
pub mod protocol;
pub mod server;
pub mod store;
pub mod sync;
#[cfg(feature = "test-utils")]
pub mod testkit;
pub mod workspaces;
