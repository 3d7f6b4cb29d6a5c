//! Subquery shapes in the replication stream: a transaction's changes to the shape's table
//! and to the tables its subqueries read, applied in commit order. A change to an inner table
//! updates the subquery's value set; a value entering the set **moves in** the outer rows that
//! now match (read from Postgres at once, written as inserts with their tags), a value leaving
//! it writes one **move-out** event whose pattern (the tag part at the subquery's position)
//! the client matches against the tags it holds. Changes to the shape's own table are
//! converted against the sets as they stand at that point of the transaction.
//!
//! A move-in reads the outer rows as they are *now*, possibly newer than the transaction being
//! applied; the changes in between arrive later in the stream and apply on top (an insert of a
//! row the client has replaces it, an update merges), so the client ends where Postgres is.
//! If the read fails the shape is retired (its clients refetch), never left with a value set
//! that no longer matches its log.

use deadpool_postgres::Pool;
use serde_json::json;

use super::definition::{RowChange, ShapeDefinition, ShapeOp, tag_part};
use super::message::TxPosition;
use super::offset::LogOffset;
use super::snapshot::{SnapshotError, for_each_row, quote_ident, select_all_as_text};

/// One change of the transaction as it concerns a subquery shape.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// The change at this index is to the shape's own table.
    Outer(usize),
    /// The change at this index is to the table of the subquery at `position`.
    Inner { index: usize, position: usize },
}

/// What one step writes, before it is given its place in the log.
enum Output<'a> {
    Change(&'a RowChange<'a>, ShapeOp),
    MovedIn(Vec<Option<String>>),
    MovedOut { position: usize, value: String },
}

/// Why a move could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("no database connection for a move-in: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("reading the rows that moved in failed: {0}")]
    Read(#[from] SnapshotError),
}

/// The messages `steps` of the transaction `xid` (committed at `lsn`) write to the shape that
/// `definition` describes, in order, with their offsets.
pub async fn transaction_messages(
    pool: &Pool,
    definition: &ShapeDefinition,
    steps: &[Step],
    changes: &[(u32, RowChange<'_>)],
    xid: u32,
    lsn: u64,
) -> Result<Vec<(LogOffset, Vec<u8>)>, MoveError> {
    let subqueries = definition
        .where_clause
        .as_ref()
        .map(|w| w.subqueries())
        .unwrap_or_default();
    let mut outputs: Vec<Output<'_>> = Vec::new();
    for step in steps {
        match *step {
            Step::Outer(index) => {
                let change = &changes[index].1;
                for op in definition.convert(change) {
                    outputs.push(Output::Change(change, op));
                }
            }
            Step::Inner { index, position } => {
                let change = &changes[index].1;
                let (column, subquery) = subqueries[position];
                let old = change.old.as_deref().and_then(|r| subquery.value_of(r));
                let new = change.new.as_deref().and_then(|r| subquery.value_of(r));
                if old == new {
                    continue;
                }
                if let Some(value) = new
                    && subquery.values.add(value)
                {
                    for row in moved_in(pool, definition, column, value).await? {
                        outputs.push(Output::MovedIn(row));
                    }
                }
                if let Some(value) = old
                    && subquery.values.remove(value)
                {
                    outputs.push(Output::MovedOut {
                        position,
                        value: value.to_owned(),
                    });
                }
            }
        }
    }
    Ok(encode(definition, outputs, xid, lsn))
}

fn encode(
    definition: &ShapeDefinition,
    outputs: Vec<Output<'_>>,
    xid: u32,
    lsn: u64,
) -> Vec<(LogOffset, Vec<u8>)> {
    let count = outputs.len();
    let mut messages = Vec::with_capacity(count);
    for (n, output) in outputs.into_iter().enumerate() {
        let op_position = n as u64 * 2;
        let position = TxPosition {
            lsn,
            op_position,
            xid,
            last: n + 1 == count,
        };
        let mut bytes = Vec::with_capacity(256);
        match output {
            Output::Change(change, op) => definition.encode(change, &op, position, &mut bytes),
            Output::MovedIn(row) => {
                let new: Vec<Option<&str>> = row.iter().map(Option::as_deref).collect();
                let change = RowChange {
                    old: None,
                    new: Some(new),
                };
                let insert = ShapeOp::Insert {
                    key_change_from: None,
                };
                definition.encode(&change, &insert, position, &mut bytes);
            }
            Output::MovedOut { position, value } => {
                let event = json!({"headers": {
                    "event": "move-out",
                    "patterns": [{"pos": position, "value": tag_part(&value)}],
                    "lsn": lsn.to_string(),
                    "op_position": op_position,
                    "txids": [xid],
                }});
                bytes.extend_from_slice(event.to_string().as_bytes());
            }
        }
        messages.push((LogOffset::new(lsn, op_position), bytes));
    }
    messages
}

/// The shape's rows whose `column` holds `value`, read now: those that match the whole where
/// clause with `value` in its set.
async fn moved_in(
    pool: &Pool,
    definition: &ShapeDefinition,
    column: usize,
    value: &str,
) -> Result<Vec<Vec<Option<String>>>, MoveError> {
    let info = &definition.table.columns[column];
    let query = format!(
        "{} WHERE {} = $1::text::{}",
        select_all_as_text(definition),
        quote_ident(&info.name),
        quote_ident(&info.type_name)
    );
    let mut client = pool.get().await?;
    let tx = client.transaction().await.map_err(SnapshotError::from)?;
    let mut rows = Vec::new();
    let width = definition.table.columns.len();
    for_each_row(&tx, &query, &[value.to_owned()], width, |row| {
        if definition.matches(row) {
            rows.push(row.iter().map(|v| v.map(str::to_owned)).collect());
        }
        Ok(())
    })
    .await?;
    tx.commit().await.map_err(SnapshotError::from)?;
    Ok(rows)
}
