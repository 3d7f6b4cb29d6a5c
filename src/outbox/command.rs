//! The commands the outbox stores — what each writes, and the HTTP request that carries it —
//! and a stored command with its state.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

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
    pub(super) fn name(&self) -> &'static str {
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

    pub(super) fn entity(&self) -> (&'static str, Uuid) {
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

    /// What is left of this update (the entry as it is now) once `sent` (what it held when
    /// it was sent) has reached the server: the fields that changed again since, now based on
    /// the values sent. `None` when nothing is left, or for other commands.
    pub(super) fn after_sent(&self, sent: &Command) -> Option<Command> {
        let rest = |fields: &Map<String, Value>, sent_fields: &Map<String, Value>| {
            fields
                .iter()
                .filter(|(k, v)| sent_fields.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<String, Value>>()
        };
        let command = match (self, sent) {
            (
                Command::UpdateTask {
                    id,
                    fields,
                    expected,
                },
                Command::UpdateTask {
                    fields: sent_fields,
                    ..
                },
            ) => {
                let fields = rest(fields, sent_fields);
                let expected = fields
                    .keys()
                    .filter_map(|k| {
                        let base = sent_fields.get(k).or_else(|| expected.get(k))?;
                        Some((k.clone(), base.clone()))
                    })
                    .collect();
                Command::UpdateTask {
                    id: *id,
                    fields,
                    expected,
                }
            }
            (
                Command::UpdateWorkspace { id, fields },
                Command::UpdateWorkspace {
                    fields: sent_fields,
                    ..
                },
            ) => Command::UpdateWorkspace {
                id: *id,
                fields: rest(fields, sent_fields),
            },
            _ => return None,
        };
        match &command {
            Command::UpdateTask { fields, .. } | Command::UpdateWorkspace { fields, .. }
                if fields.is_empty() =>
            {
                None
            }
            _ => Some(command),
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
