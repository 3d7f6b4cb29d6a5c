//! What the window draws, in memory: the synced rows of every organization the user belongs to,
//! with the outbox's pending writes laid over them, sorted and indexed once per change.
//!
//! From the bottom up: `shared` holds text many rows share once, `task_text` a task's own text
//! in one allocation; `model` is the data; `parse` reads stored text; `order` defines the
//! tree's order once (for Rust and SQL); `presence` says "active now / idle 15m ago"; `overlay`
//! lays pending writes over rows; `read` holds the SQL; `choices` what the editors offer
//! (statuses, members); `rows` turns the model into the task
//! tree's lines (and caches them); `load` reads it all and indexes it. The panels only read it.

mod choices;
mod load;
mod model;
mod order;
mod overlay;
mod parse;
mod presence;
mod read;
pub mod rows;
mod shared;
mod task_text;

pub use choices::DEFAULT_STATUSES;
pub use load::Scope;
pub use model::{
    LocalFolder, Organization, Person, PullRequest, Repository, Row, Status, Task, TaskConflict,
    TaskIndex, TaskWorkspaces, ViewModel, Workspace,
};
pub use presence::presence_text;
pub use shared::{Labels, Shared};
pub use task_text::{TaskText, TextField};
