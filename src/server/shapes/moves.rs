//! Subquery shapes in the replication stream: a transaction's changes to the shape's table
//! and to the tables its subqueries read, applied in commit order. A change to an inner table
//! updates the subquery's value set; a value entering the set **moves in** the outer rows that
//! now match (read from Postgres at once, written as inserts with their tags), a value leaving
//! it writes one **move-out** event whose pattern (the tag part at the subquery's position)
//! the client matches against the tags it holds. A nested subquery's set changing changes its
//! parent's rows the same way (rows read from the parent's table, or dropped by the value they
//! hold), and so on up to the shape. Changes to the shape's own table are converted against
//! the sets as they stand at that point of the transaction.
//!
//! A move-in reads the rows as they are *now*, possibly newer than the transaction being
//! applied — but never older: the stream may deliver a commit before Postgres shows it to
//! other sessions, so the read waits until its snapshot sees the transaction; the changes in between arrive later in the stream and apply on top (an insert of a
//! row the client has replaces it, an update merges), so the client ends where Postgres is.
//! If the read fails the shape is retired (its clients refetch), never left with a value set
//! that no longer matches its log.

use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use serde_json::json;

use super::definition::{RowChange, Scratch, ShapeDefinition, ShapeOp, tag_part};
use super::log::Batch;
use super::message::TxPosition;
use super::offset::LogOffset;
use super::schema::TableInfo;
use super::snapshot::{SnapshotError, consistent_read, for_each_row, quote_ident, select_all_of};
use super::where_clause::{Dependency, Subquery, Transitions};

/// One change of the transaction as it concerns a subquery shape.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// The change at this index is to the shape's own table.
    Outer(usize),
    /// The change at this index is to the table of a subquery (an index into
    /// `WhereClause::all_subqueries`).
    Inner { index: usize, dependency: usize },
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
    #[error("Postgres did not show transaction {0} to a new snapshot in time")]
    NotVisible(u32),
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
) -> Result<Batch, MoveError> {
    let dependencies = definition
        .where_clause
        .as_ref()
        .map(|w| w.all_subqueries())
        .unwrap_or_default();
    let moves = Moves {
        pool,
        xid,
        definition,
        dependencies: &dependencies,
    };
    let mut outputs: Vec<Output<'_>> = Vec::new();
    for step in steps {
        match *step {
            Step::Outer(index) => {
                let change = &changes[index].1;
                for op in definition.convert(change) {
                    outputs.push(Output::Change(change, op));
                }
            }
            Step::Inner { index, dependency } => {
                let subquery = &dependencies[dependency].subquery;
                let transitions = row_changed(subquery, &changes[index].1);
                moves
                    .propagate(dependency, transitions, &mut outputs)
                    .await?;
            }
        }
    }
    Ok(encode(definition, outputs, xid, lsn))
}

/// What a replicated change to one of its rows does to a subquery's set.
fn row_changed(subquery: &Subquery, change: &RowChange<'_>) -> Transitions {
    let mut transitions = Transitions::default();
    let old_key = change.old.as_deref().map(|row| subquery.key_of(row));
    let new_key = change.new.as_deref().map(|row| subquery.key_of(row));
    if let Some(old_key) = &old_key
        && new_key.as_ref() != Some(old_key)
    {
        transitions.extend(subquery.values.set_row(old_key, None));
    }
    if let (Some(key), Some(row)) = (&new_key, change.new.as_deref()) {
        transitions.extend(subquery.values.set_row(key, subquery.contribution(row)));
    }
    transitions
}

/// Carries set changes up from a subquery to the shape.
struct Moves<'a> {
    pool: &'a Pool,
    /// The transaction being applied: reads must see it.
    xid: u32,
    definition: &'a ShapeDefinition,
    dependencies: &'a [Dependency],
}

impl Moves<'_> {
    /// Applies `transitions` of subquery `start` where they lead: to its parent's set, and at
    /// the top to the shape's rows (move-outs first, then move-ins).
    async fn propagate(
        &self,
        start: usize,
        transitions: Transitions,
        outputs: &mut Vec<Output<'_>>,
    ) -> Result<(), MoveError> {
        let mut work = vec![(start, transitions)];
        while let Some((index, transitions)) = work.pop() {
            let dependency = &self.dependencies[index];
            let Some(parent_index) = dependency.parent else {
                for value in transitions.lost {
                    outputs.push(Output::MovedOut {
                        position: dependency.position,
                        value,
                    });
                }
                for value in &transitions.gained {
                    let rows = self
                        .rows_where(&self.definition.table, dependency.column, value)
                        .await?;
                    outputs.extend(
                        rows.into_iter()
                            .filter(|row| self.definition.matches(&as_view(row)))
                            .map(Output::MovedIn),
                    );
                }
                continue;
            };
            let parent = &self.dependencies[parent_index].subquery;
            let mut next = Transitions::default();
            for value in &transitions.lost {
                for key in parent.values.rows_pinned(dependency.position, value) {
                    next.extend(parent.values.set_row(&key, None));
                }
            }
            for value in &transitions.gained {
                for row in self
                    .rows_where(&parent.table, dependency.column, value)
                    .await?
                {
                    let row = as_view(&row);
                    next.extend(
                        parent
                            .values
                            .set_row(&parent.key_of(&row), parent.contribution(&row)),
                    );
                }
            }
            if !next.is_empty() {
                work.push((parent_index, next));
            }
        }
        Ok(())
    }
}

fn as_view(row: &[Option<String>]) -> Vec<Option<&str>> {
    row.iter().map(Option::as_deref).collect()
}

fn encode(definition: &ShapeDefinition, outputs: Vec<Output<'_>>, xid: u32, lsn: u64) -> Batch {
    let count = outputs.len();
    let mut messages = Batch::default();
    let mut scratch = Scratch::default();
    for (n, output) in outputs.into_iter().enumerate() {
        let op_position = n as u64 * 2;
        let position = TxPosition {
            lsn,
            op_position,
            xid,
            last: n + 1 == count,
        };
        messages.push(LogOffset::new(lsn, op_position), |bytes| match output {
            Output::Change(change, op) => {
                definition.encode(change, &op, position, &mut scratch, bytes)
            }
            Output::MovedIn(row) => {
                let new: Vec<Option<&str>> = row.iter().map(Option::as_deref).collect();
                let change = RowChange {
                    old: None,
                    new: Some(new),
                };
                let insert = ShapeOp::Insert {
                    key_change_from: None,
                };
                definition.encode(&change, &insert, position, &mut scratch, bytes);
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
        });
    }
    messages
}

/// How long a move-in waits for Postgres to show the transaction it follows.
const VISIBILITY_WAIT: Duration = Duration::from_secs(10);

impl Moves<'_> {
    /// The rows of `table` whose `column` holds `value`, read now, in a snapshot that sees the
    /// transaction being applied.
    async fn rows_where(
        &self,
        table: &TableInfo,
        column: usize,
        value: &str,
    ) -> Result<Vec<Vec<Option<String>>>, MoveError> {
        let info = &table.columns[column];
        let query = format!(
            "{} WHERE {} = $1::text::{}",
            select_all_of(table),
            quote_ident(&info.name),
            quote_ident(&info.type_name)
        );
        let mut client = self.pool.get().await?;
        let deadline = Instant::now() + VISIBILITY_WAIT;
        loop {
            let (tx, seen) = consistent_read(&mut client)
                .await
                .map_err(SnapshotError::from)?;
            if !seen.sees(self.xid) {
                tx.rollback().await.map_err(SnapshotError::from)?;
                if Instant::now() > deadline {
                    return Err(MoveError::NotVisible(self.xid));
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
            let mut rows = Vec::new();
            let width = table.columns.len();
            for_each_row(&tx, &query, &[value.to_owned()], width, |row| {
                rows.push(row.iter().map(|v| v.map(str::to_owned)).collect());
                Ok(())
            })
            .await?;
            tx.commit().await.map_err(SnapshotError::from)?;
            return Ok(rows);
        }
    }
}
