//! Writing shape batches into the synced tables, exactly once: a batch's rows and its new
//! (handle, offset) commit in one transaction, so after a crash the rows are exactly those of
//! the stored offset and the stream resumes from there.
//!
//! [`commit_batch`] owns that transaction and everything a batch sets off in it: the rows, the
//! position, re-linking this device's folders when repositories changed, and confirming the
//! outbox writes the batch carries back. After a must-refetch the new snapshot goes into
//! `staging_<table>` while the old rows stay visible; the batch that brings the shape up to
//! date swaps staging in, in the same transaction, so the UI never sees an empty table and
//! rows that left the shape disappear at the swap. Each stream is one table of one
//! organization (see `slices`): its staging, swap and deletes touch only its own rows.

use std::collections::HashSet;
use std::sync::Arc;

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{CachedStatement, Connection, OptionalExtension, Transaction, params};
use serde_json::Value;

use super::shape_client::{Batch, Change, Position, Row};
use super::slices::{self, StreamKey};
use super::tags;
use crate::gitlink::linking;
use crate::outbox;
use crate::protocol::{self, Operation, SYNCED_TABLES};
use crate::store::{self, StoreError};

/// The stored position of `key`'s stream, and whether a refetch is under way (`None`: never
/// synced).
fn stored_position(
    conn: &Connection,
    key: &StreamKey,
) -> Result<Option<(Position, bool)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT handle, shape_offset, refetching FROM electric_sync_state WHERE table_name = ?1",
            [key.name()],
            |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)? != 0)),
        )
        .optional()?
        .map(|(handle, offset, refetching)| (Position { handle, offset }, refetching)))
}

/// Where `key`'s stream resumes, and whether a refetch is under way. An organization's stream
/// that never synced, over rows already here (kept from an older version's shape), loads its
/// first snapshot into staging, so those rows stay visible until it replaces them; people always
/// do (their rows are shared, and a finished snapshot is what lets leftovers be swept).
pub fn resume(conn: &mut Connection, key: &StreamKey) -> Result<(Position, bool), StoreError> {
    if let Some(stored) = stored_position(conn, key)? {
        return Ok(stored);
    }
    let Some(organization) = &key.organization else {
        return Ok((Position::start(), false));
    };
    let rows_here = key.table == "users"
        || conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE organization_id = ?1)",
                key.table
            ),
            [organization],
            |r| r.get::<_, bool>(0),
        )?;
    if rows_here {
        begin_refetch(conn, key, None)?;
    }
    Ok((Position::start(), rows_here))
}

/// Records that `key`'s stream must be fetched afresh with `handle`: later batches go to
/// staging.
pub fn begin_refetch(
    conn: &mut Connection,
    key: &StreamKey,
    handle: Option<&str>,
) -> Result<(), StoreError> {
    check_table(key.table)?;
    let tx = store::write_transaction(conn)?;
    slices::clear_staging(&tx, key)?;
    tx.execute(
        "INSERT INTO electric_sync_state (table_name, handle, shape_offset, refetching) VALUES (?1, ?2, ?3, 1) \
         ON CONFLICT (table_name) DO UPDATE SET handle = ?2, shape_offset = ?3, refetching = 1",
        params![key.name(), handle, protocol::START_OFFSET],
    )?;
    tx.commit()?;
    Ok(())
}

fn check_table(table: &str) -> Result<(), StoreError> {
    if protocol::is_synced_table(table) {
        Ok(())
    } else {
        Err(StoreError::UnknownTable(table.to_owned()))
    }
}

/// What applying a batch changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Rows written (visible tables only; staging writes do not count).
    pub rows: usize,
    /// A refetch completed and was swapped in.
    pub swapped: bool,
    /// Sent writes this batch confirmed (their overlay is gone).
    pub confirmed: usize,
}

impl Applied {
    /// True when the visible data changed.
    pub fn changed_rows(&self) -> bool {
        self.rows > 0 || self.swapped || self.confirmed > 0
    }
}

/// Applies `batch` to `key`'s stream in one transaction: its rows (or staging), the swap that
/// ends a refetch, the new position, folder links when repositories changed, and outbox
/// confirmations.
pub fn commit_batch(
    conn: &mut Connection,
    key: &StreamKey,
    batch: &Batch,
) -> Result<Applied, StoreError> {
    let table = key.table;
    check_table(table)?;
    let tx = store::write_transaction(conn)?;
    let mut applied = write_batch(&tx, key, batch)?;
    if table == "repositories" && (applied.rows > 0 || applied.swapped) {
        linking::rematch(&tx)?;
    }
    if table == "users" && applied.swapped {
        applied.rows += slices::sweep_people(&tx)?;
    }
    let txids: Vec<u64> = batch
        .changes
        .iter()
        .flat_map(|c| c.txids.iter().copied())
        .collect();
    applied.confirmed = outbox::confirm(&tx, table, &txids)?;
    tx.commit()?;
    Ok(applied)
}

/// The batch's rows and position, inside the caller's transaction.
fn write_batch(
    tx: &Transaction<'_>,
    key: &StreamKey,
    batch: &Batch,
) -> Result<Applied, StoreError> {
    let table = key.table;
    let refetching: bool = tx
        .query_row(
            "SELECT refetching FROM electric_sync_state WHERE table_name = ?1",
            [key.name()],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .is_some_and(|r| r != 0);
    let target = if refetching {
        format!("staging_{table}")
    } else {
        table.to_owned()
    };
    let scope = key.tag_scope(&target);
    let known = stored_columns(tx, table)?;
    let mut writer = RowWriter::new(tx, key, &target, &known);
    let mut applied = Applied::default();
    let mut move_outs = batch.move_outs.iter().peekable();
    for (index, change) in batch.changes.iter().enumerate() {
        while let Some(event) = move_outs.next_if(|m| m.after == index) {
            applied.rows += tags::move_out(tx, &scope, &target, &event.patterns)?;
        }
        let written = writer.write(change)?;
        if !refetching {
            applied.rows += written;
        }
    }
    for event in move_outs {
        applied.rows += tags::move_out(tx, &scope, &target, &event.patterns)?;
    }
    drop(writer);
    if refetching {
        applied.rows = 0;
    }
    let swap = refetching && batch.up_to_date;
    if swap {
        let columns: Vec<String> = known.iter().map(|c| format!("\"{c}\"")).collect();
        slices::swap_in_staging(tx, key, &columns.join(", "))?;
        applied.swapped = true;
    }
    store_position(tx, key, batch, refetching && !swap)?;
    Ok(applied)
}

/// The columns this build stores for `table` (a newer server may send more; they are left out).
fn stored_columns(conn: &Connection, table: &str) -> Result<HashSet<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT name FROM pragma_table_info(?1)")?
        .query_map([table], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

fn store_position(
    tx: &Transaction<'_>,
    key: &StreamKey,
    batch: &Batch,
    still_refetching: bool,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO electric_sync_state (table_name, handle, shape_offset, last_synced_at, refetching) \
         VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?4) \
         ON CONFLICT (table_name) DO UPDATE SET handle = ?2, shape_offset = ?3, \
             last_synced_at = excluded.last_synced_at, refetching = ?4",
        params![key.name(), batch.handle, batch.offset, i64::from(still_refetching)],
    )?;
    Ok(())
}

/// Writes changes into one table. Snapshot pages are thousands of inserts with the same
/// columns: they share one prepared statement.
struct RowWriter<'t> {
    tx: &'t Transaction<'t>,
    key: &'t StreamKey,
    target: &'t str,
    scope: String,
    known: &'t HashSet<String>,
    /// The columns of the last row, and whether this build stores each: rows of a page share
    /// their columns (the same shared names), so each layout is checked once, not each value.
    layout: Vec<(Arc<str>, bool)>,
    insert: Option<(Vec<String>, CachedStatement<'t>)>,
}

impl<'t> RowWriter<'t> {
    fn new(
        tx: &'t Transaction<'t>,
        key: &'t StreamKey,
        target: &'t str,
        known: &'t HashSet<String>,
    ) -> Self {
        Self {
            tx,
            key,
            target,
            scope: key.tag_scope(target),
            known,
            layout: Vec::new(),
            insert: None,
        }
    }

    /// The values of `row` this build stores, in the row's order.
    fn stored<'r>(&mut self, row: &'r Row) -> Vec<(&'r str, &'r Value)> {
        let same_layout = self.layout.len() == row.len()
            && row
                .iter()
                .zip(&self.layout)
                .all(|((column, _), (seen, _))| Arc::ptr_eq(column, seen));
        if !same_layout {
            self.layout = row
                .iter()
                .map(|(column, _)| (column.clone(), self.known.contains(&**column)))
                .collect();
        }
        row.iter()
            .zip(&self.layout)
            .filter(|(_, (_, stored))| *stored)
            .map(|((column, value), _)| (&**column, value))
            .collect()
    }

    /// Applies one change; returns the rows it touched.
    fn write(&mut self, change: &Change) -> Result<usize, StoreError> {
        let Some(id) = change.values.get("id").and_then(Value::as_str) else {
            return Err(StoreError::BadChange(format!(
                "a {} change without an id",
                self.key.table
            )));
        };
        let values = self.stored(&change.values);
        tags::record(self.tx, &self.scope, id, change)?;
        match change.operation {
            Operation::Insert => self.insert(&values),
            Operation::Update => self.update(id, &values),
            Operation::Delete => slices::delete_row(self.tx, self.key, self.target, id),
        }
    }

    fn insert(&mut self, values: &[(&str, &Value)]) -> Result<usize, StoreError> {
        let same_columns = self.insert.as_ref().is_some_and(|(columns, _)| {
            columns
                .iter()
                .map(String::as_str)
                .eq(values.iter().map(|(c, _)| *c))
        });
        if !same_columns {
            let columns: Vec<String> = values.iter().map(|(c, _)| format!("\"{c}\"")).collect();
            let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "INSERT OR REPLACE INTO {} ({}) VALUES ({})",
                self.target,
                columns.join(", "),
                placeholders.join(", ")
            );
            let names = values.iter().map(|(c, _)| (*c).to_owned()).collect();
            self.insert = Some((names, self.tx.prepare_cached(&sql)?));
        }
        let (_, statement) = self.insert.as_mut().expect("prepared above");
        Ok(statement.execute(rusqlite::params_from_iter(
            values.iter().map(|(_, v)| Param(v)),
        ))?)
    }

    fn update(&mut self, id: &str, values: &[(&str, &Value)]) -> Result<usize, StoreError> {
        let changed: Vec<&(&str, &Value)> = values.iter().filter(|(c, _)| *c != "id").collect();
        if changed.is_empty() {
            return Ok(0);
        }
        let sets: Vec<String> = changed
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("\"{c}\" = ?{}", i + 2))
            .collect();
        let sql = format!(
            "UPDATE {} SET {} WHERE id = ?1",
            self.target,
            sets.join(", ")
        );
        let id_value = Value::String(id.to_owned());
        let mut row = vec![Param(&id_value)];
        row.extend(changed.iter().map(|(_, v)| Param(v)));
        Ok(self
            .tx
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(row))?)
    }
}

/// A JSON value bound as an SQLite parameter without copying its text.
struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Owned(SqlValue::Null),
            Value::Bool(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
            Value::Number(n) => ToSqlOutput::Owned(
                n.as_i64()
                    .map(SqlValue::Integer)
                    .or_else(|| n.as_f64().map(SqlValue::Real))
                    .unwrap_or(SqlValue::Null),
            ),
            Value::String(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            other => ToSqlOutput::Owned(SqlValue::Text(other.to_string())),
        })
    }
}

/// Purges every organization something local belongs to that the directory no longer lists
/// (the user left it, also while the engine was stopped): its rows, staged rows, tags and
/// positions, in one transaction; the others are not touched. Returns the rows removed.
pub fn purge_unlisted(conn: &mut Connection) -> Result<usize, StoreError> {
    let tx = store::write_transaction(conn)?;
    let listed = slices::listed_organizations(&tx)?;
    let mut removed = 0;
    for organization in slices::held_organizations(&tx)?.difference(&listed) {
        removed += slices::purge(&tx, organization)?;
    }
    removed += slices::sweep_people(&tx)?;
    if removed > 0 {
        linking::rematch(&tx)?;
    }
    tx.commit()?;
    Ok(removed)
}

/// Forgets everything synced: rows, positions and staging (sign out).
pub fn clear(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = store::write_transaction(conn)?;
    for table in SYNCED_TABLES {
        tx.execute(&format!("DELETE FROM {table}"), [])?;
        tx.execute(&format!("DELETE FROM staging_{table}"), [])?;
    }
    tx.execute("DELETE FROM electric_sync_state", [])?;
    tx.execute("DELETE FROM synced_row_tags", [])?;
    tx.commit()?;
    Ok(())
}
