//! Writes waiting to reach the API: stored first, shown at once, sent in order, confirmed by
//! sync.
//!
//! [`enqueue`] stores a command in the `outbox` table; what the window draws overlays the
//! pending commands on the synced rows ([`overlay`]), so a write shows before the server has
//! seen it. The sync engine's sender takes the oldest pending command ([`next_pending`]) and
//! sends it with an `Idempotency-Key` derived from the entry ([`Entry::idempotency_key`]), so a
//! resend after a crash is applied once. A sent command stays in the outbox until the synced
//! change carrying its transaction id arrives ([`confirm`], called in the same transaction that
//! applies the change). A command the API refuses is rolled
//! back — marked rejected with the server's reason — and no longer overlaid.
//!
//! Workspace updates (heartbeats, git status) coalesce: a newer update of the same workspace
//! merges into the one not yet sent, and fields that already hold the new value are dropped,
//! so nothing is sent or written when nothing changed.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::store::{self, StoreError};

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
    },
    DeleteTask {
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
            Command::CreateWorkspace { .. } => "create_workspace",
            Command::UpdateWorkspace { .. } => "update_workspace",
            Command::ArchiveWorkspace { .. } => "archive_workspace",
        }
    }

    fn entity(&self) -> (&'static str, Uuid) {
        match self {
            Command::CreateTask { id, .. }
            | Command::UpdateTask { id, .. }
            | Command::DeleteTask { id } => ("tasks", *id),
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
            Command::UpdateTask { id, fields } => (
                Method::PATCH,
                format!("/api/tasks/{id}"),
                Some(Value::Object(fields.clone())),
            ),
            Command::DeleteTask { id } => (Method::DELETE, format!("/api/tasks/{id}"), None),
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

fn current_values(
    conn: &Connection,
    table: &str,
    id: Uuid,
    fields: &Map<String, Value>,
) -> Result<Map<String, Value>, StoreError> {
    let mut out = Map::new();
    for column in fields.keys() {
        // Column names come from our own commands; refuse anything else rather than quote it.
        if !column.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(StoreError::BadChange(format!("unknown field {column}")));
        }
        let value: Option<rusqlite::types::Value> = conn
            .query_row(
                &format!("SELECT \"{column}\" FROM {table} WHERE id = ?1"),
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .unwrap_or(None);
        let json = match value {
            Some(rusqlite::types::Value::Integer(i)) => Value::from(i),
            Some(rusqlite::types::Value::Text(t)) => serde_json::from_str::<Value>(&t)
                .ok()
                .filter(|v| v.is_object() || v.is_array())
                .unwrap_or(Value::String(t)),
            Some(rusqlite::types::Value::Real(f)) => Value::from(f),
            _ => Value::Null,
        };
        out.insert(column.clone(), json);
    }
    Ok(out)
}

/// Stores `command` to be sent. Updates drop fields that already hold the value (synced or
/// pending) and merge into an unsent update of the same row. Returns the entry's id, or `None`
/// when there was nothing to change.
pub fn enqueue(conn: &mut Connection, command: Command) -> Result<Option<i64>, StoreError> {
    let tx = store::write_transaction(conn)?;
    let (table, entity) = command.entity();
    let command = match command {
        Command::UpdateTask { id, fields } => {
            let fields = changed_only(&tx, table, id, fields)?;
            if fields.is_empty() {
                return Ok(None);
            }
            Command::UpdateTask { id, fields }
        }
        Command::UpdateWorkspace { id, fields } => {
            let fields = changed_only(&tx, table, id, fields)?;
            if fields.is_empty() {
                return Ok(None);
            }
            Command::UpdateWorkspace { id, fields }
        }
        other => other,
    };
    // Coalesce with an update of the same row that has not been sent yet.
    if let Command::UpdateTask { fields, .. } | Command::UpdateWorkspace { fields, .. } = &command {
        // Only into the row's newest pending command, so the order of its writes is kept.
        let unsent: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, payload FROM outbox WHERE state = 'pending' AND entity_table = ?1 AND entity_id = ?2 \
                 AND command = ?3 AND id = (SELECT max(id) FROM outbox WHERE state = 'pending' \
                 AND entity_table = ?1 AND entity_id = ?2)",
                params![table, entity.to_string(), command.name()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((id, payload)) = unsent {
            let mut merged: Command =
                serde_json::from_str(&payload).map_err(|e| StoreError::BadChange(e.to_string()))?;
            if let Command::UpdateTask {
                fields: existing, ..
            }
            | Command::UpdateWorkspace {
                fields: existing, ..
            } = &mut merged
            {
                existing.extend(fields.clone());
            }
            tx.execute(
                "UPDATE outbox SET payload = ?2 WHERE id = ?1",
                params![
                    id,
                    serde_json::to_string(&merged).expect("commands serialise")
                ],
            )?;
            tx.commit()?;
            return Ok(Some(id));
        }
    }
    tx.execute(
        "INSERT INTO outbox (command, entity_table, entity_id, payload) VALUES (?1, ?2, ?3, ?4)",
        params![
            command.name(),
            table,
            entity.to_string(),
            serde_json::to_string(&command).expect("commands serialise")
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.commit()?;
    Ok(Some(id))
}

/// The fields of an update whose value differs from what the row shows now (pending writes
/// included).
fn changed_only(
    conn: &Connection,
    table: &str,
    id: Uuid,
    fields: Map<String, Value>,
) -> Result<Map<String, Value>, StoreError> {
    let mut shown = current_values(conn, table, id, &fields)?;
    for entry in overlay(conn)? {
        if let Command::UpdateTask { id: e, fields: f }
        | Command::UpdateWorkspace { id: e, fields: f } = &entry.command
            && *e == id
        {
            for (k, v) in f {
                if shown.contains_key(k) {
                    shown.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Ok(fields
        .into_iter()
        .filter(|(k, v)| shown.get(k) != Some(v))
        .collect())
}

fn read_entries(conn: &Connection, condition: &str) -> Result<Vec<Entry>, StoreError> {
    let mut statement = conn.prepare(&format!(
        "SELECT id, payload, state, attempts, last_error FROM outbox WHERE {condition} ORDER BY id"
    ))?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
        ))
    })?;
    let mut entries = Vec::new();
    for row in rows {
        let (id, payload, state, attempts, last_error) = row?;
        let command =
            serde_json::from_str(&payload).map_err(|e| StoreError::BadChange(e.to_string()))?;
        entries.push(Entry {
            id,
            command,
            state,
            attempts,
            last_error,
        });
    }
    Ok(entries)
}

/// Commands to show on top of the synced rows: pending or sent, not yet confirmed.
pub fn overlay(conn: &Connection) -> Result<Vec<Entry>, StoreError> {
    read_entries(conn, "state IN ('pending', 'sent')")
}

/// Commands the API refused, with its reasons (newest last).
pub fn rejected(conn: &Connection) -> Result<Vec<Entry>, StoreError> {
    read_entries(conn, "state = 'rejected'")
}

/// The oldest command waiting to be sent.
pub fn next_pending(conn: &Connection) -> Result<Option<Entry>, StoreError> {
    Ok(read_entries(conn, "state = 'pending'")?.into_iter().next())
}

/// Records that `entry` reached the API in transaction `txid` — unless it changed meanwhile
/// (a coalesced update), in which case it stays pending and goes again. When sync already
/// brought that transaction back, the write is confirmed on the spot.
pub fn mark_sent(conn: &mut Connection, entry: &Entry, txid: i64) -> Result<(), StoreError> {
    let (table, _) = entry.command.entity();
    let payload = serde_json::to_string(&entry.command).expect("commands serialise");
    let tx = store::write_transaction(conn)?;
    let seen = tx
        .query_row(
            "SELECT 1 FROM seen_txids WHERE table_name = ?1 AND txid = ?2",
            params![table, txid],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if seen {
        tx.execute(
            "DELETE FROM outbox WHERE id = ?1 AND payload = ?2",
            params![entry.id, payload],
        )?;
    } else {
        tx.execute(
            "UPDATE outbox SET state = 'sent', txid = ?2, attempts = attempts + 1 WHERE id = ?1 AND payload = ?3",
            params![entry.id, txid, payload],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Rolls `entry` back: the API refused it for `reason`.
pub fn mark_rejected(conn: &Connection, entry: &Entry, reason: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE outbox SET state = 'rejected', last_error = ?2, attempts = attempts + 1 WHERE id = ?1",
        params![entry.id, reason],
    )?;
    Ok(())
}

/// Counts a failed attempt (offline, server error) on `entry`.
pub fn mark_attempt(conn: &Connection, entry: &Entry, error: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
        params![entry.id, error],
    )?;
    Ok(())
}

/// Drops sent commands that the synced change with one of `txids` confirms (called inside the
/// transaction that applies the change), sent creates whose row has arrived (snapshots carry no
/// transaction ids), and sent commands older than ten minutes: a write that changed nothing
/// never comes back through sync. `table` is one of the synced tables, never user input.
pub fn confirm(conn: &Connection, table: &str, txids: &[u64]) -> Result<usize, StoreError> {
    let mut confirmed = 0;
    for txid in txids {
        conn.execute(
            "INSERT OR IGNORE INTO seen_txids (table_name, txid) VALUES (?1, ?2)",
            params![table, *txid as i64],
        )?;
        confirmed += conn.execute(
            "DELETE FROM outbox WHERE state = 'sent' AND entity_table = ?1 AND txid = ?2",
            params![table, *txid as i64],
        )?;
    }
    // A snapshot carries no transaction ids: a sent create is confirmed once its row is here.
    confirmed += conn.execute(
        &format!(
            "DELETE FROM outbox WHERE state = 'sent' AND entity_table = ?1 AND command LIKE 'create_%' \
             AND entity_id IN (SELECT id FROM {table})"
        ),
        [table],
    )?;
    confirmed += conn.execute(
        "DELETE FROM outbox WHERE state = 'sent' AND created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-10 minutes')",
        [],
    )?;
    if !txids.is_empty() {
        conn.execute(
            "DELETE FROM seen_txids WHERE seen_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-10 minutes')",
            [],
        )?;
    }
    Ok(confirmed)
}

/// Forgets every pending write (sign out); returns how many were dropped.
pub fn discard_pending(conn: &Connection) -> Result<usize, StoreError> {
    Ok(conn.execute("DELETE FROM outbox", [])?)
}
