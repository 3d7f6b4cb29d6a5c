//! Writes waiting to reach the API: stored first, shown at once, sent in order, confirmed by
//! sync.
//!
//! [`enqueue`] stores a command in the `outbox` table; what the window draws overlays the
//! pending commands on the synced rows ([`overlay`]), so a write shows before the server has
//! seen it. The sync engine's sender takes the oldest pending command ([`next_pending`]) and
//! sends it with an `Idempotency-Key` derived from the entry ([`Entry::idempotency_key`]), so a
//! resend after a crash is applied once. A sent command stays in the outbox until the synced
//! change carrying its transaction id arrives ([`confirm`], called in the same transaction that
//! applies the change). A command the API refuses is rolled back — marked rejected with the
//! server's reason — and no longer overlaid. A task update carries the values it was based on
//! (`expected`); when a teammate changed them meanwhile the API answers 409 and the command is
//! kept as a [`Conflict`] until the person keeps theirs or takes the server's ([`resolve`]).
//!
//! Workspace updates (heartbeats, git status) coalesce: a newer update of the same workspace
//! merges into the one not yet sent, and fields that already hold the new value are dropped,
//! so nothing is sent or written when nothing changed.

mod command;
mod conflicts;
mod queue;
mod states;

pub use command::{Command, Entry};
pub use conflicts::{Conflict, FieldConflict, Resolution, conflicts, mark_conflicted, resolve};
pub use queue::{enqueue, undo_delete};
pub use states::{
    confirm, discard_pending, mark_attempt, mark_rejected, mark_sent, next_pending, overlay,
    rejected,
};
