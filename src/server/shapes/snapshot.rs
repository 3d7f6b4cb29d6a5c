//! A shape's initial snapshot: the rows matching its where clause, read in one repeatable-read
//! transaction that also records `pg_current_snapshot()` and the WAL position, so that the
//! replication stream can skip exactly the transactions the snapshot already contains.
//!
//! The where clause goes to Postgres as SQL rendered from our own checked expression tree with
//! every constant bound as a parameter; no request text is ever pasted into the query. (`COPY`
//! takes no parameters, so the snapshot's constants are bound into transaction-local settings
//! that the query reads.)

use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Transaction};

use super::copy_text::{CopyTextError, Fields, Lines};
use super::definition::{LogMode, Scratch, ShapeDefinition};
use super::log::Batch;
use super::message;
use super::offset::LogOffset;
use super::schema::TableInfo;
use super::shape::{Shape, SnapshotFilter};
use super::where_clause::param_setting;

/// Bytes per batch handed to the log: big enough to amortise locking and writes, small enough
/// to keep memory flat for million-row shapes and to serve a new shape's first rows early.
const BATCH_BYTES: usize = 1 << 20;

/// Session settings that make values print exactly as Electric prints them. The replication
/// connection uses the same, so snapshot rows and streamed rows agree byte for byte.
pub const SESSION_SETTINGS: &str = "-c TimeZone=UTC -c DateStyle=ISO,DMY -c IntervalStyle=iso_8601 \
     -c extra_float_digits=1 -c bytea_output=hex";

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads the snapshot of `shape` into its log and returns what it saw.
pub async fn take(client: &mut Client, shape: &Shape) -> Result<SnapshotFilter, SnapshotError> {
    let definition: &ShapeDefinition = &shape.definition;
    let (tx, filter) = consistent_read(client).await?;
    load_subquery_values(&tx, definition).await?;
    // A changes-only log starts here: the snapshot's visibility is kept, its rows are not.
    let rows_written = match definition.log {
        LogMode::Full => copy_rows(&tx, shape).await?,
        LogMode::ChangesOnly => 0,
    };
    tx.commit().await?;
    let end = message::snapshot_end(filter.xmin, filter.xmax, &filter.xip);
    shape.finish_snapshot((LogOffset::new(0, rows_written), end), filter.clone())?;
    Ok(filter)
}

/// A read-only repeatable-read transaction, and what it sees: every read in it sees the same.
pub async fn consistent_read(
    client: &mut Client,
) -> Result<(Transaction<'_>, SnapshotFilter), tokio_postgres::Error> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let seen = visibility(&tx).await?;
    Ok((tx, seen))
}

/// What the transaction `tx` sees: `pg_current_snapshot()` and the WAL position. Must be the
/// first statement of a repeatable-read transaction, so that every later read sees the same.
async fn visibility(tx: &Transaction<'_>) -> Result<SnapshotFilter, tokio_postgres::Error> {
    let row = tx
        .query_one(
            "SELECT pg_snapshot_xmin(s)::text::int8, pg_snapshot_xmax(s)::text::int8, \
                    ARRAY(SELECT x::text::int8 FROM pg_snapshot_xip(s) x), \
                    (pg_current_wal_lsn() - '0/0')::int8 \
             FROM pg_current_snapshot() s",
            &[],
        )
        .await?;
    Ok(SnapshotFilter {
        xmin: row.get::<_, i64>(0) as u64,
        xmax: row.get::<_, i64>(1) as u64,
        xip: row
            .get::<_, Vec<i64>>(2)
            .into_iter()
            .map(|x| x as u64)
            .collect(),
        lsn: row.get::<_, i64>(3) as u64,
    })
}

/// `SELECT <every column as text> FROM <table>`, the start of every row query.
pub fn select_all_of(table: &TableInfo) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("{}::text", quote_ident(&c.name)))
        .collect();
    format!(
        "SELECT {} FROM {}.{}",
        columns.join(", "),
        quote_ident(&table.schema),
        quote_ident(&table.name)
    )
}

/// Runs `query` with its text `params` and hands each row, as text values in table column
/// order, to `each`.
pub async fn for_each_row(
    tx: &Transaction<'_>,
    query: &str,
    params: &[String],
    width: usize,
    mut each: impl FnMut(&[Option<&str>]) -> Result<(), SnapshotError>,
) -> Result<(), SnapshotError> {
    let typed_params = params
        .iter()
        .map(|p| (p as &(dyn tokio_postgres::types::ToSql + Sync), Type::TEXT));
    let rows = tx.query_typed_raw(query, typed_params).await?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await? {
        let values: Vec<Option<&str>> = (0..width).map(|i| row.get(i)).collect();
        each(&values)?;
    }
    Ok(())
}

/// Fills each subquery's value set (nested ones too) from the same Postgres snapshot as the
/// rows.
async fn load_subquery_values(
    tx: &Transaction<'_>,
    definition: &ShapeDefinition,
) -> Result<(), SnapshotError> {
    let Some(clause) = &definition.where_clause else {
        return Ok(());
    };
    // Children first: a parent's rows count only through its nested sets, filled by then.
    for dependency in clause.all_subqueries().into_iter().rev() {
        let subquery = &dependency.subquery;
        let (where_sql, params) = subquery.where_sql(1);
        let query = format!("{} WHERE {where_sql}", select_all_of(&subquery.table));
        let width = subquery.table.columns.len();
        for_each_row(tx, &query, &params, width, |row| {
            subquery
                .values
                .set_row(&subquery.key_of(row), subquery.contribution(row));
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// Writes the rows matching the shape into its log, in batches served as they are written;
/// returns how many. The rows come from `COPY (SELECT …) TO STDOUT`, whose text rows are encoded
/// straight into the batch.
async fn copy_rows(tx: &Transaction<'_>, shape: &Shape) -> Result<u64, SnapshotError> {
    let definition = &shape.definition;
    let (where_sql, params) = match &definition.where_clause {
        Some(clause) => clause.to_sql_reading_settings(),
        None => ("true".to_owned(), Vec::new()),
    };
    set_params(tx, &params).await?;
    let query = format!(
        "COPY ({} WHERE {where_sql}) TO STDOUT",
        select_all_of(&definition.table)
    );
    let stream = tx.copy_out(&query).await?;
    pin_mut!(stream);
    let width = definition.table.columns.len();
    let (mut lines, mut fields) = (Lines::default(), Fields::default());
    let (mut batch, mut scratch) = (Batch::default(), Scratch::default());
    let mut next_op = 0_u64;
    while let Some(chunk) = stream.try_next().await? {
        lines.feed(&chunk, |line| {
            let row = fields.split(line, width)?;
            batch.push(LogOffset::new(0, next_op), |out| {
                definition.snapshot_message(&row, &mut scratch, out)
            });
            next_op += 1;
            Ok::<_, SnapshotError>(())
        })?;
        if batch.bytes() >= BATCH_BYTES {
            shape.append_snapshot(&batch)?;
            batch.clear();
        }
    }
    lines.finish()?;
    shape.append_snapshot(&batch)?;
    Ok(next_op)
}

/// Sets parameter `k` of a query rendered by `to_sql_reading_settings` for the rest of the
/// transaction (bound, never pasted into SQL).
async fn set_params(tx: &Transaction<'_>, params: &[String]) -> Result<(), SnapshotError> {
    for (i, value) in params.iter().enumerate() {
        tx.execute(
            "SELECT set_config($1, $2, true)",
            &[&param_setting(i + 1), value],
        )
        .await?;
    }
    Ok(())
}

/// Why a snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("reading the snapshot from Postgres failed: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("writing the snapshot to the shape log failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("reading the snapshot's rows failed: {0}")]
    Copy(#[from] CopyTextError),
}
