//! Reading a subset: one repeatable-read transaction records its Postgres snapshot, then
//! selects the shape's rows that also match the subset, ordered and limited, and encodes them
//! as inserts marked with the subset's `snapshot_mark`. The reply body is Electric's
//! `{"metadata":{…},"data":[…]}`.

use std::fmt::Write;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_postgres::Client;

use super::plan::{OrderItem, Subset};
use crate::server::shapes::definition::{Scratch, ShapeDefinition};
use crate::server::shapes::snapshot::{
    SnapshotError, consistent_read, for_each_row, quote_ident, select_all_of,
};

/// A subset read: the JSON body and how many rows it holds.
#[derive(Debug)]
pub struct SubsetReply {
    pub body: Vec<u8>,
    pub rows: usize,
}

/// Text types order bytewise, as the where grammar compares them (see `where_clause`).
const TEXT_TYPES: [&str; 4] = ["text", "varchar", "bpchar", "name"];

/// Reads `subset` of the shape `definition` describes.
pub async fn read(
    client: &mut Client,
    definition: &ShapeDefinition,
    subset: &Subset,
) -> Result<SubsetReply, SnapshotError> {
    let (query, params) = query(definition, subset);
    let (tx, seen) = consistent_read(client).await?;
    let mark = next_mark();
    let extra = format!("\"snapshot_mark\":{mark}");
    let mut data = Vec::with_capacity(4096);
    let mut rows = 0;
    let mut scratch = Scratch::default();
    for_each_row(
        &tx,
        &query,
        &params,
        definition.table.columns.len(),
        |row| {
            if rows > 0 {
                data.push(b',');
            }
            definition.snapshot_message_with(row, extra.as_bytes(), &mut scratch, &mut data);
            rows += 1;
            Ok(())
        },
    )
    .await?;
    tx.commit().await?;
    let xip: Vec<String> = seen.xip.iter().map(u64::to_string).collect();
    let metadata = serde_json::json!({
        "xmin": seen.xmin.to_string(),
        "xmax": seen.xmax.to_string(),
        "xip_list": xip,
        "snapshot_mark": mark,
        "database_lsn": seen.lsn.to_string(),
    });
    let mut body = Vec::with_capacity(data.len() + 200);
    body.extend_from_slice(b"{\"metadata\":");
    body.extend_from_slice(metadata.to_string().as_bytes());
    body.extend_from_slice(b",\"data\":[");
    body.extend_from_slice(&data);
    body.extend_from_slice(b"]}");
    Ok(SubsetReply { body, rows })
}

/// The subset's SQL and its text params: the shape's where, then the subset's, every constant
/// bound.
fn query(definition: &ShapeDefinition, subset: &Subset) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut params = Vec::new();
    for clause in [&definition.where_clause, &subset.where_clause]
        .into_iter()
        .flatten()
    {
        let (sql, values) = clause.to_sql(params.len() + 1);
        conditions.push(format!("({sql})"));
        params.extend(values);
    }
    let mut query = select_all_of(&definition.table);
    if !conditions.is_empty() {
        let _ = write!(query, " WHERE {}", conditions.join(" AND "));
    }
    if !subset.order.is_empty() {
        let order: Vec<String> = subset
            .order
            .iter()
            .map(|item| order_sql(definition, item))
            .collect();
        let _ = write!(query, " ORDER BY {}", order.join(", "));
    }
    if let Some(limit) = subset.limit {
        let _ = write!(query, " LIMIT {limit}");
    }
    if let Some(offset) = subset.offset {
        let _ = write!(query, " OFFSET {offset}");
    }
    (query, params)
}

fn order_sql(definition: &ShapeDefinition, item: &OrderItem) -> String {
    let column = &definition.table.columns[item.column];
    let mut sql = quote_ident(&column.name);
    if column.dims == 0 && TEXT_TYPES.contains(&column.type_name.as_str()) {
        sql.push_str(" COLLATE \"C\"");
    }
    sql.push_str(if item.descending { " DESC" } else { " ASC" });
    match item.nulls_first {
        Some(true) => sql.push_str(" NULLS FIRST"),
        Some(false) => sql.push_str(" NULLS LAST"),
        None => {}
    }
    sql
}

/// A number that tells this process's subsets apart (a client keys its snapshots by it). It
/// starts somewhere random, so marks from before a restart are not reused at once.
fn next_mark() -> u64 {
    static NEXT: LazyLock<AtomicU64> =
        LazyLock::new(|| AtomicU64::new(rand::random_range(1..1_000_000_000)));
    NEXT.fetch_add(1, Ordering::Relaxed)
}
