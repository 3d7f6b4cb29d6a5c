//! The desktop binary's command line: the same session, engine, outbox and workspace code as
//! the window, headless, against a profile's data folder.
//!
//! `account` (login, logout, status, invitations); `online` (the engine for a command's
//! duration: `sync`, waiting until live, waiting until a write has reached the server); `work`
//! (link, tasks, start, explore, workspaces, done); `error` says what went wrong.

pub mod account;
pub mod error;
pub mod online;
pub mod work;

pub use account::{invitations, login, logout, status};
pub use error::CommandError;
pub use online::sync;
