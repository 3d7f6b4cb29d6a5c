//! The desktop's sync engine: Electric shape streams through the API's proxy — one for the
//! organizations the user belongs to, one per (table, organization) for the rest, shared by
//! every member — into the local SQLite database, exactly once and resumable; and the outbox
//! sender beside it.
//!
//! From the bottom up: `retry` classifies answers and backs off; `messages` decodes a response
//! body in one pass; `shape_client` is the sans-IO
//! protocol state machine; `session` holds the sign-in (access token, rotating refresh token,
//! single-flight refresh) and `token_vault` keeps the refresh token in the OS keyring;
//! `apply` commits a batch to SQLite (`slices` knows which rows are whose stream's, `tags`
//! keeps subquery shapes' row tags for move-outs); `events` is what the window hears;
//! `context` is what the engine's tasks share; `stream` runs one stream, `organizations` starts
//! and stops them as memberships change, `sender` sends the outbox; `engine` starts and stops
//! them all. `requests` makes one-off API calls as the signed-in person.

pub mod apply;
mod context;
pub mod engine;
pub mod events;
mod messages;
mod organizations;
pub mod requests;
pub mod retry;
mod sender;
pub mod session;
pub mod shape_client;
pub mod slices;
mod stream;
mod tags;
pub mod token_vault;

#[cfg(test)]
mod shape_client_tests;
