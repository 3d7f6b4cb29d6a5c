//! Writes the API answered with 409 because a teammate changed the same fields meanwhile:
//! kept beside the synced row, shown with both values, until the person keeps theirs (sent
//! again, now based on the teammate's values) or takes the server's (dropped).

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::command::{Command, Entry};
use super::states::{insert, read_entries};
use crate::store::{self, StoreError};

/// Why an update was not applied, from the API's 409.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// The server's words, such as "Mike changed the status to Done while you were editing".
    pub message: String,
    pub fields: Vec<FieldConflict>,
}

/// One field both people changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub field: String,
    /// What this write wanted.
    pub mine: Value,
    /// What the server holds now.
    pub theirs: Value,
    /// Who changed it, when the server knows.
    pub changed_by: Option<String>,
}

impl Conflict {
    /// Reads the API's 409 body for `command`; `None` when it is not a conflict of values.
    pub fn from_response(body: &Value, command: &Command) -> Option<Self> {
        let Command::UpdateTask { fields, .. } = command else {
            return None;
        };
        let listed = body.get("conflicts")?.as_array()?;
        let fields = listed
            .iter()
            .filter_map(|c| {
                let field = c.get("field")?.as_str()?.to_owned();
                Some(FieldConflict {
                    mine: fields.get(&field).cloned().unwrap_or(Value::Null),
                    theirs: c.get("current").cloned().unwrap_or(Value::Null),
                    changed_by: c["changed_by"]["name"].as_str().map(str::to_owned),
                    field,
                })
            })
            .collect();
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("a teammate changed this task while you were editing")
            .to_owned();
        Some(Self { message, fields })
    }
}

/// Keeps `entry` as conflicted, no longer overlaid, until it is resolved.
pub fn mark_conflicted(
    conn: &Connection,
    entry: &Entry,
    conflict: &Conflict,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE outbox SET state = 'conflicted', conflict = ?2, last_error = ?3, \
         attempts = attempts + 1 WHERE id = ?1",
        params![
            entry.id,
            serde_json::to_string(conflict).expect("conflicts serialise"),
            conflict.message
        ],
    )?;
    Ok(())
}

/// The writes waiting for the person to settle a conflict, oldest first.
pub fn conflicts(conn: &Connection) -> Result<Vec<(Entry, Conflict)>, StoreError> {
    let entries = read_entries(conn, "state = 'conflicted'")?;
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let stored: Option<String> = conn
            .query_row(
                "SELECT conflict FROM outbox WHERE id = ?1",
                [entry.id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let conflict = stored
            .and_then(|s| serde_json::from_str(&s).ok())
            .ok_or_else(|| StoreError::BadChange(format!("conflict {} unreadable", entry.id)))?;
        out.push((entry, conflict));
    }
    Ok(out)
}

/// How the person settles a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Send my values again, based on what the teammate wrote.
    KeepMine,
    /// Let the teammate's values stand; fields nobody else touched still go.
    TakeTheirs,
}

/// Settles conflicted entry `entry_id`: it leaves the outbox, and what is still to send goes
/// back in as a pending update. Unknown or already settled entries change nothing.
pub fn resolve(
    conn: &mut Connection,
    entry_id: i64,
    resolution: Resolution,
) -> Result<(), StoreError> {
    let tx = store::write_transaction(conn)?;
    let Some((entry, conflict)) = conflicts(&tx)?.into_iter().find(|(e, _)| e.id == entry_id)
    else {
        return Ok(());
    };
    tx.execute("DELETE FROM outbox WHERE id = ?1", [entry_id])?;
    if let Command::UpdateTask {
        id,
        mut fields,
        mut expected,
    } = entry.command
    {
        for field in &conflict.fields {
            match resolution {
                Resolution::KeepMine => {
                    expected.insert(field.field.clone(), field.theirs.clone());
                }
                Resolution::TakeTheirs => {
                    fields.remove(&field.field);
                    expected.remove(&field.field);
                }
            }
        }
        if !fields.is_empty() {
            insert(
                &tx,
                &Command::UpdateTask {
                    id,
                    fields,
                    expected,
                },
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}
