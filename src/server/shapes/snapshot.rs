//! A shape's initial snapshot: the rows matching its where clause, read in one repeatable-read
//! transaction that also records `pg_current_snapshot()` and the WAL position, so that the
//! replication stream can skip exactly the transactions the snapshot already contains.
//!
//! The where clause goes to Postgres as SQL rendered from our own checked expression tree with
//! every constant bound as a parameter; no request text is ever pasted into the query.

use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::Client;
use tokio_postgres::types::Type;

use super::definition::ShapeDefinition;
use super::message;
use super::offset::LogOffset;
use super::shape::{Shape, SnapshotFilter};

/// Rows per batch handed to the log: big enough to amortise locking, small enough to keep
/// memory flat for million-row shapes.
const BATCH_ROWS: usize = 2_000;

/// Session settings that make values print exactly as Electric prints them. The replication
/// connection uses the same, so snapshot rows and streamed rows agree byte for byte.
pub const SESSION_SETTINGS: &str = "-c TimeZone=UTC -c DateStyle=ISO,DMY -c IntervalStyle=iso_8601 \
     -c extra_float_digits=1 -c bytea_output=hex";

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads the snapshot of `shape` into its log and returns what it saw.
pub async fn take(client: &mut Client, shape: &Shape) -> Result<SnapshotFilter, SnapshotError> {
    let definition: &ShapeDefinition = &shape.definition;
    let table = &definition.table;
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("{}::text", quote_ident(&c.name)))
        .collect();
    let (where_sql, params) = match &definition.where_clause {
        Some(clause) => clause.to_sql(1),
        None => ("true".to_owned(), Vec::new()),
    };
    let query = format!(
        "SELECT {} FROM {}.{} WHERE {where_sql}",
        columns.join(", "),
        quote_ident(&table.schema),
        quote_ident(&table.name)
    );
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let visibility = tx
        .query_one(
            "SELECT pg_snapshot_xmin(s)::text::int8, pg_snapshot_xmax(s)::text::int8, \
                    ARRAY(SELECT x::text::int8 FROM pg_snapshot_xip(s) x), \
                    (pg_current_wal_lsn() - '0/0')::int8 \
             FROM pg_current_snapshot() s",
            &[],
        )
        .await?;
    let filter = SnapshotFilter {
        xmin: visibility.get::<_, i64>(0) as u64,
        xmax: visibility.get::<_, i64>(1) as u64,
        xip: visibility
            .get::<_, Vec<i64>>(2)
            .into_iter()
            .map(|x| x as u64)
            .collect(),
        lsn: visibility.get::<_, i64>(3) as u64,
    };
    let typed_params = params
        .iter()
        .map(|p| (p as &(dyn tokio_postgres::types::ToSql + Sync), Type::TEXT));
    let rows = tx.query_typed_raw(&query, typed_params).await?;
    pin_mut!(rows);
    let mut next_op = 0_u64;
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    while let Some(row) = rows.try_next().await? {
        let values: Vec<Option<&str>> = (0..table.columns.len()).map(|i| row.get(i)).collect();
        let mut bytes = Vec::with_capacity(256);
        definition.snapshot_message(&values, &mut bytes);
        batch.push((LogOffset::new(0, next_op), bytes));
        next_op += 1;
        if batch.len() == BATCH_ROWS {
            shape.append_snapshot(batch.drain(..))?;
        }
    }
    shape.append_snapshot(batch.drain(..))?;
    tx.commit().await?;
    let end = message::snapshot_end(filter.xmin, filter.xmax, &filter.xip);
    shape.finish_snapshot((LogOffset::new(0, next_op), end), filter.clone())?;
    Ok(filter)
}

/// Why a snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("reading the snapshot from Postgres failed: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("writing the snapshot to the shape log failed: {0}")]
    Io(#[from] std::io::Error),
}
