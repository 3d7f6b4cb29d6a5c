//! Writing shape batches into the synced tables, exactly once: a batch's rows and its new
//! (handle, offset) commit in one transaction, so after a crash the rows are exactly those of
//! the stored offset and the stream resumes from there.
//!
//! After a must-refetch the new snapshot goes into `staging_<table>` while the old rows stay
//! visible; the batch that brings the shape up to date swaps staging in, in one transaction,
//! so the UI never sees an empty table and rows that left the shape disappear at the swap.

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::sync::shape_client::{Batch, Operation, Position};

use super::StoreError;

/// The six tables that sync, in the order a fresh install fetches them.
pub const SYNCED_TABLES: [&str; 6] = [
    "organizations",
    "users",
    "organization_members",
    "repositories",
    "tasks",
    "workspaces",
];

/// The stored position of `table`'s stream, and whether a refetch is under way.
pub fn position(conn: &Connection, table: &str) -> Result<(Position, bool), StoreError> {
    let row = conn
        .query_row(
            "SELECT handle, shape_offset, refetching FROM electric_sync_state WHERE table_name = ?1",
            [table],
            |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)? != 0)),
        )
        .optional()?;
    Ok(match row {
        Some((handle, offset, refetching)) => (Position { handle, offset }, refetching),
        None => (Position::start(), false),
    })
}

/// Records that `table` must be fetched afresh with `handle`: later batches go to staging.
pub fn begin_refetch(
    conn: &mut Connection,
    table: &str,
    handle: Option<&str>,
) -> Result<(), StoreError> {
    check_table(table)?;
    let tx = super::write_transaction(conn)?;
    tx.execute(&format!("DELETE FROM staging_{table}"), [])?;
    tx.execute(
        "INSERT INTO electric_sync_state (table_name, handle, shape_offset, refetching) VALUES (?1, ?2, '-1', 1) \
         ON CONFLICT (table_name) DO UPDATE SET handle = ?2, shape_offset = '-1', refetching = 1",
        params![table, handle],
    )?;
    tx.commit()?;
    Ok(())
}

fn check_table(table: &str) -> Result<(), StoreError> {
    if SYNCED_TABLES.contains(&table) {
        Ok(())
    } else {
        Err(StoreError::UnknownTable(table.to_owned()))
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

/// Applies `batch` to `table` and stores its position, in one transaction.
pub fn apply(conn: &mut Connection, table: &str, batch: &Batch) -> Result<Applied, StoreError> {
    check_table(table)?;
    let tx = super::write_transaction(conn)?;
    let refetching: bool = tx
        .query_row(
            "SELECT refetching FROM electric_sync_state WHERE table_name = ?1",
            [table],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .is_some_and(|r| r != 0);
    let target = if refetching {
        format!("staging_{table}")
    } else {
        table.to_owned()
    };
    // A newer server may send columns this build does not store; they are left out.
    let known: std::collections::HashSet<String> = tx
        .prepare_cached("SELECT name FROM pragma_table_info(?1)")?
        .query_map([table], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut applied = Applied::default();
    // Snapshot pages are thousands of inserts with the same columns: one statement for all.
    let mut insert: Option<(Vec<&str>, rusqlite::CachedStatement<'_>)> = None;
    for change in &batch.changes {
        let Some(id) = change.values.get("id").and_then(Value::as_str) else {
            return Err(StoreError::BadChange(format!(
                "a {table} change without an id"
            )));
        };
        let values: Vec<(&str, &Value)> = change
            .values
            .iter()
            .filter(|(column, _)| known.contains(column.as_str()))
            .map(|(column, value)| (column.as_str(), value))
            .collect();
        let written = match change.operation {
            Operation::Insert => {
                let same_columns = insert.as_ref().is_some_and(|(columns, _)| {
                    columns.iter().copied().eq(values.iter().map(|(c, _)| *c))
                });
                if !same_columns {
                    let columns: Vec<String> =
                        values.iter().map(|(c, _)| format!("\"{c}\"")).collect();
                    let placeholders: Vec<String> =
                        (1..=values.len()).map(|i| format!("?{i}")).collect();
                    let sql = format!(
                        "INSERT OR REPLACE INTO {target} ({}) VALUES ({})",
                        columns.join(", "),
                        placeholders.join(", ")
                    );
                    insert = Some((
                        values.iter().map(|(c, _)| *c).collect(),
                        tx.prepare_cached(&sql)?,
                    ));
                }
                let (_, statement) = insert.as_mut().expect("prepared above");
                statement.execute(rusqlite::params_from_iter(
                    values.iter().map(|(_, v)| Param(v)),
                ))?
            }
            Operation::Update => {
                let changed: Vec<&(&str, &Value)> =
                    values.iter().filter(|(c, _)| *c != "id").collect();
                if changed.is_empty() {
                    0
                } else {
                    let sets: Vec<String> = changed
                        .iter()
                        .enumerate()
                        .map(|(i, (c, _))| format!("\"{c}\" = ?{}", i + 2))
                        .collect();
                    let sql = format!("UPDATE {target} SET {} WHERE id = ?1", sets.join(", "));
                    let id_value = Value::String(id.to_owned());
                    let mut row = vec![Param(&id_value)];
                    row.extend(changed.iter().map(|(_, v)| Param(v)));
                    tx.prepare_cached(&sql)?
                        .execute(rusqlite::params_from_iter(row))?
                }
            }
            Operation::Delete => tx
                .prepare_cached(&format!("DELETE FROM {target} WHERE id = ?1"))?
                .execute([id])?,
        };
        if !refetching {
            applied.rows += written;
        }
    }
    drop(insert);
    let swap = refetching && batch.up_to_date;
    if swap {
        tx.execute(&format!("DELETE FROM {table}"), [])?;
        let columns: Vec<String> = known.iter().map(|c| format!("\"{c}\"")).collect();
        let columns = columns.join(", ");
        tx.execute(
            &format!("INSERT INTO {table} ({columns}) SELECT {columns} FROM staging_{table}"),
            [],
        )?;
        tx.execute(&format!("DELETE FROM staging_{table}"), [])?;
        applied.swapped = true;
    }
    if table == "repositories" && (applied.rows > 0 || swap) {
        crate::gitlink::linking::rematch(&tx)?;
    }
    let txids: Vec<u64> = batch
        .changes
        .iter()
        .flat_map(|c| c.txids.iter().copied())
        .collect();
    applied.confirmed = crate::outbox::confirm(&tx, table, &txids)?;
    tx.execute(
        "INSERT INTO electric_sync_state (table_name, handle, shape_offset, last_synced_at, refetching) \
         VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?4) \
         ON CONFLICT (table_name) DO UPDATE SET handle = ?2, shape_offset = ?3, \
             last_synced_at = excluded.last_synced_at, refetching = ?4",
        params![table, batch.handle, batch.offset, i64::from(refetching && !swap)],
    )?;
    tx.commit()?;
    Ok(applied)
}

/// Forgets everything synced: rows, positions and staging (sign out).
pub fn clear(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = super::write_transaction(conn)?;
    for table in SYNCED_TABLES {
        tx.execute(&format!("DELETE FROM {table}"), [])?;
        tx.execute(&format!("DELETE FROM staging_{table}"), [])?;
    }
    tx.execute("DELETE FROM electric_sync_state", [])?;
    tx.commit()?;
    Ok(())
}
