//! Putting commands in the outbox: updates keep only the fields that change, remember what
//! they were based on, and merge into an unsent update of the same row.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::command::{Command, Entry};
use super::states::{insert, overlay};
use crate::store::{self, StoreError};

/// Stores `command` to be sent. Updates drop fields that already hold the value (synced or
/// pending) and merge into an unsent update of the same row; a task update keeps what it was
/// based on (`expected`) for the fields it still changes. Returns the entry's id, or `None`
/// when there was nothing to change.
pub fn enqueue(conn: &mut Connection, command: Command) -> Result<Option<i64>, StoreError> {
    let tx = store::write_transaction(conn)?;
    let (table, _) = command.entity();
    let command = match command {
        Command::UpdateTask {
            id,
            fields,
            mut expected,
        } => {
            let fields = changed_only(&tx, table, id, fields)?;
            if fields.is_empty() {
                return Ok(None);
            }
            expected.retain(|k, _| fields.contains_key(k));
            Command::UpdateTask {
                id,
                fields,
                expected,
            }
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
    if let Some(id) = coalesce(&tx, &command)? {
        tx.commit()?;
        return Ok(Some(id));
    }
    let id = insert(&tx, &command)?;
    tx.commit()?;
    Ok(Some(id))
}

/// Merges an update into the row's newest command when that is an unsent update of the same
/// kind (so the order of the row's writes is kept). The older `expected` values win: they are
/// what the first change was based on.
fn coalesce(tx: &Transaction<'_>, command: &Command) -> Result<Option<i64>, StoreError> {
    if !matches!(
        command,
        Command::UpdateTask { .. } | Command::UpdateWorkspace { .. }
    ) {
        return Ok(None);
    }
    let (table, entity) = command.entity();
    let unsent: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, payload FROM outbox WHERE state = 'pending' AND entity_table = ?1 AND entity_id = ?2 \
             AND command = ?3 AND id = (SELECT max(id) FROM outbox WHERE state = 'pending' \
             AND entity_table = ?1 AND entity_id = ?2)",
            params![table, entity.to_string(), command.name()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((id, payload)) = unsent else {
        return Ok(None);
    };
    let mut merged: Command =
        serde_json::from_str(&payload).map_err(|e| StoreError::BadChange(e.to_string()))?;
    match (&mut merged, command) {
        (
            Command::UpdateTask {
                fields, expected, ..
            },
            Command::UpdateTask {
                fields: new_fields,
                expected: new_expected,
                ..
            },
        ) => {
            fields.extend(new_fields.clone());
            for (k, v) in new_expected {
                expected.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        (
            Command::UpdateWorkspace { fields, .. },
            Command::UpdateWorkspace {
                fields: new_fields, ..
            },
        ) => fields.extend(new_fields.clone()),
        _ => return Ok(None),
    }
    tx.execute(
        "UPDATE outbox SET payload = ?2 WHERE id = ?1",
        params![
            id,
            serde_json::to_string(&merged).expect("commands serialise")
        ],
    )?;
    Ok(Some(id))
}

/// Takes back the delete of task `id`: a delete not sent yet is dropped; one that reached the
/// server is followed by a restore.
pub fn undo_delete(conn: &mut Connection, id: Uuid) -> Result<(), StoreError> {
    let tx = store::write_transaction(conn)?;
    let dropped = tx.execute(
        "DELETE FROM outbox WHERE state = 'pending' AND command = 'delete_task' AND entity_id = ?1",
        [id.to_string()],
    )?;
    if dropped == 0 {
        insert(&tx, &Command::RestoreTask { id })?;
    }
    tx.commit()?;
    Ok(())
}

/// The row's stored values for the columns `fields` names (null where absent).
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
        if let Some(pending) = update_of(&entry, id) {
            for (k, v) in pending {
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

/// The fields `entry` writes when it updates row `id`.
fn update_of(entry: &Entry, id: Uuid) -> Option<&Map<String, Value>> {
    match &entry.command {
        Command::UpdateTask { id: e, fields, .. } | Command::UpdateWorkspace { id: e, fields }
            if *e == id =>
        {
            Some(fields)
        }
        _ => None,
    }
}
