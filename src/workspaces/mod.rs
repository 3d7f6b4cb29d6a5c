//! Workspaces on this device — "a branch, on a machine" — as the window and the command line
//! both start, finish, open and report them, through the same outbox.
//!
//! `records` reads the profile (tasks, linked folders, where each workspace lives); `start`
//! starts work on a task or exploratory work, each in a worktree of its own by default;
//! `finish` archives a workspace and removes its worktree when nothing would be lost; `open`
//! opens one in the editor, a terminal or the file manager; `report` keeps their git state and
//! activity current, and `lookup` asks the API for a pushed branch's pull request; `error`
//! says what went wrong.

pub mod error;
pub mod finish;
pub mod lookup;
pub mod open;
pub mod records;
pub mod report;
pub mod start;

pub use error::WorkError;
pub use records::host_name;
