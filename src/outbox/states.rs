//! Where a command stands: pending, sent (waiting for sync to bring it back), rejected, and
//! the queries the sender and the window read them by.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::command::{Command, Entry};
use crate::store::{self, StoreError};

pub(super) fn read_entries(conn: &Connection, condition: &str) -> Result<Vec<Entry>, StoreError> {
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

/// Records that `entry` reached the API in transaction `txid`. If an update was merged into it
/// meanwhile, the entry keeps what was sent, and what came after goes on as a new pending
/// update based on what was sent (so it neither repeats the sent part nor conflicts with it).
/// When sync already brought that transaction back, the write is confirmed on the spot.
pub fn mark_sent(conn: &mut Connection, entry: &Entry, txid: i64) -> Result<(), StoreError> {
    let (table, _) = entry.command.entity();
    let payload = serde_json::to_string(&entry.command).expect("commands serialise");
    let tx = store::write_transaction(conn)?;
    let stored: Option<String> = tx
        .query_row(
            "SELECT payload FROM outbox WHERE id = ?1",
            [entry.id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(stored) = stored else {
        return Ok(());
    };
    if stored != payload {
        let merged: Command =
            serde_json::from_str(&stored).map_err(|e| StoreError::BadChange(e.to_string()))?;
        if let Some(rest) = merged.after_sent(&entry.command) {
            insert(&tx, &rest)?;
        }
    }
    let seen = tx
        .query_row(
            "SELECT 1 FROM seen_txids WHERE table_name = ?1 AND txid = ?2",
            params![table, txid],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if seen {
        tx.execute("DELETE FROM outbox WHERE id = ?1", [entry.id])?;
    } else {
        tx.execute(
            "UPDATE outbox SET state = 'sent', txid = ?2, payload = ?3, attempts = attempts + 1 \
             WHERE id = ?1",
            params![entry.id, txid, payload],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Adds `command` to the outbox as pending.
pub(super) fn insert(tx: &Transaction<'_>, command: &Command) -> Result<i64, StoreError> {
    let (table, entity) = command.entity();
    tx.execute(
        "INSERT INTO outbox (command, entity_table, entity_id, payload) VALUES (?1, ?2, ?3, ?4)",
        params![
            command.name(),
            table,
            entity.to_string(),
            serde_json::to_string(command).expect("commands serialise")
        ],
    )?;
    Ok(tx.last_insert_rowid())
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
