//! The desktop's sync engine: one Electric shape stream per synced table, through the API's
//! proxy, into the local SQLite database, exactly once and resumable.
//!
//! `shape_client` is the sans-IO protocol state machine; `session` holds the sign-in (access
//! token, rotating refresh token, single-flight refresh) and `token_vault` keeps the refresh
//! token in the OS keyring; `engine` drives the streams on tokio
//! and writes batches with `store::synced`, sending `SyncEvent`s to the window; `sender` sends
//! the outbox's writes.

pub mod engine;
mod sender;
pub mod session;
pub mod shape_client;
pub mod token_vault;

#[cfg(test)]
mod shape_client_tests;
