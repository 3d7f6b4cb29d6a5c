//! The desktop sync engine against a real server and real SQLite files: convergence, crash
//! safety, one stream per organization as memberships change, and recovery without user action.

mod accounts;
mod crash;
mod engine;
mod organizations;
mod outbox;
pub mod support;
