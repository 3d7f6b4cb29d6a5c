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

mod conflicts;
mod queue;
mod states;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use conflicts::{Conflict, FieldConflict, Resolution, conflicts, mark_conflicted, resolve};
pub use queue::{enqueue, undo_delete};
pub use states::{
    confirm, discard_pending, mark_attempt, mark_rejected, mark_sent, next_pending, overlay,
    rejected,
};

/// A write the desktop makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    CreateTask {
        id: Uuid,
        fields: Map<String, Value>,
    },
    UpdateTask {
        id: Uuid,
        fields: Map<String, Value>,
        /// The values the change was based on, for the fields it changes: the API applies it
        /// only while they still hold.
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        expected: Map<String, Value>,
    },
    DeleteTask {
        id: Uuid,
    },
    /// Undoes a delete that already reached the server.
    RestoreTask {
        id: Uuid,
    },
    CreateWorkspace {
        id: Uuid,
        fields: Map<String, Value>,
    },
    UpdateWorkspace {
        id: Uuid,
        fields: Map<String, Value>,
    },
    ArchiveWorkspace {
        id: Uuid,
    },
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::CreateTask { .. } => "create_task",
            Command::UpdateTask { .. } => "update_task",
            Command::DeleteTask { .. } => "delete_task",
            Command::RestoreTask { .. } => "restore_task",
            Command::CreateWorkspace { .. } => "create_workspace",
            Command::UpdateWorkspace { .. } => "update_workspace",
            Command::ArchiveWorkspace { .. } => "archive_workspace",
        }
    }

    fn entity(&self) -> (&'static str, Uuid) {
        match self {
            Command::CreateTask { id, .. }
            | Command::UpdateTask { id, .. }
            | Command::DeleteTask { id }
            | Command::RestoreTask { id } => ("tasks", *id),
            Command::CreateWorkspace { id, .. }
            | Command::UpdateWorkspace { id, .. }
            | Command::ArchiveWorkspace { id } => ("workspaces", *id),
        }
    }

    /// The HTTP request that carries it: method, path and body.
    pub fn request(&self) -> (reqwest::Method, String, Option<Value>) {
        use reqwest::Method;
        match self {
            Command::CreateTask { id, fields } => (
                Method::POST,
                "/api/tasks".into(),
                Some(with_id(*id, fields)),
            ),
            Command::UpdateTask {
                id,
                fields,
                expected,
            } => {
                let mut body = fields.clone();
                if !expected.is_empty() {
                    body.insert("expected".into(), Value::Object(expected.clone()));
                }
                (
                    Method::PATCH,
                    format!("/api/tasks/{id}"),
                    Some(Value::Object(body)),
                )
            }
            Command::DeleteTask { id } => (Method::DELETE, format!("/api/tasks/{id}"), None),
            Command::RestoreTask { id } => (Method::POST, format!("/api/tasks/{id}/restore"), None),
            Command::CreateWorkspace { id, fields } => (
                Method::POST,
                "/api/workspaces".into(),
                Some(with_id(*id, fields)),
            ),
            Command::UpdateWorkspace { id, fields } => (
                Method::PATCH,
                format!("/api/workspaces/{id}"),
                Some(Value::Object(fields.clone())),
            ),
            Command::ArchiveWorkspace { id } => {
                (Method::POST, format!("/api/workspaces/{id}/archive"), None)
            }
        }
    }
}

fn with_id(id: Uuid, fields: &Map<String, Value>) -> Value {
    let mut body = fields.clone();
    body.insert("id".into(), Value::String(id.to_string()));
    Value::Object(body)
}

/// One stored command.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub command: Command,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

impl Entry {
    /// The key the API dedupes a resend by: the entry and its exact payload.
    pub fn idempotency_key(&self, device_id: &str) -> String {
        let payload = serde_json::to_string(&self.command).unwrap_or_default();
        let digest = {
            use sha2::Digest as _;
            sha2::Sha256::digest(payload.as_bytes())
        };
        let short = hex::encode(&digest[..8]);
        format!("superset-{device_id}-{}-{short}", self.id)
    }
}
