//! The desktop's sync engine: one Electric shape stream per synced table, through the API's
//! proxy, into the local SQLite database, exactly once and resumable.
//!
//! `shape_client` is the sans-IO protocol state machine; the tokio driver and the store
//! writes build on it.

pub mod shape_client;

#[cfg(test)]
mod shape_client_tests;
