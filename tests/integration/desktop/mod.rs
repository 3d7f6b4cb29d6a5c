//! The desktop sync engine against a real server and real SQLite files: convergence, crash
//! safety, membership changes while offline, and recovery without user action.

mod accounts;
mod crash;
mod engine;
mod outbox;
pub mod support;
