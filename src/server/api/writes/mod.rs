//! Writes to tasks and workspaces. Each runs in one transaction, checks that the caller may
//! make it (a member of the row's organization; only a workspace's owner updates it, admins may
//! archive it; referenced ids belong to the same organization), and returns the transaction's
//! id as the replication stream will report it (`txids`), so the desktop can tell when its
//! write has come back through sync.
//!
//! `transaction` runs a write once per idempotency key; `checks` holds what every write checks;
//! `tasks`, `task_update` (updates with the values they were based on) and `workspaces` are
//! the handlers.

mod checks;
pub mod task_update;
pub mod tasks;
pub mod transaction;
pub mod workspaces;

pub use transaction::WriteResult;
