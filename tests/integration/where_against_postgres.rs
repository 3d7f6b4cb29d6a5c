//! The where-clause evaluator agrees with Postgres itself.
//!
//! A table with a column of every comparable type is filled with varied rows (NULLs, extreme
//! integers, mixed-case and non-ASCII text, BC and infinite timestamps…). For each clause, four
//! row sets must be equal: what Postgres selects with the clause as written (params spliced in
//! as literals), with `to_sql`'s rendering and bound values, and with the canonical text, and
//! the rows `matches` accepts when given the table read back in Postgres's text output, which is
//! the form logical replication delivers. Every matching row must also carry one of the
//! clause's routing values. The cluster's locale is C, as `matches` assumes for
//! text ordering; the session runs with TimeZone=UTC and DateStyle=ISO, as the service's do.

use std::collections::{BTreeMap, BTreeSet};

use superset::server::db;
use superset::server::shapes::schema::ColumnInfo;
use superset::server::shapes::where_clause::WhereClause;
use superset::testkit;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, SimpleQueryMessage};

const ORG: &str = "0190a5b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b";

/// Values per column (after `id`), cycled through at different strides so rows mix them.
const POOLS: [&[Option<&str>]; 9] = [
    // n int8
    &[
        Some("0"),
        Some("1"),
        Some("-1"),
        Some("42"),
        Some("100"),
        Some("9223372036854775807"),
        Some("-9223372036854775808"),
        Some("7"),
        None,
    ],
    // s int2
    &[
        Some("0"),
        Some("5"),
        Some("-32768"),
        Some("32767"),
        Some("10"),
        None,
    ],
    // t text
    &[
        Some(""),
        Some("a"),
        Some("B"),
        Some("abc"),
        Some("Abc"),
        Some("é"),
        Some("zebra"),
        Some("it's"),
        Some("a b"),
        Some("10"),
        Some("9"),
        None,
    ],
    // v varchar
    &[Some("a"), Some("abc"), Some("Z"), Some("zebra"), None],
    // u uuid
    &[
        Some(ORG),
        Some("0190a5b4-1c2d-7e3f-8a9b-0c1d2e3f4a5c"),
        Some("ffffffff-ffff-ffff-ffff-ffffffffffff"),
        Some("00000000-0000-0000-0000-000000000000"),
        Some("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
        None,
    ],
    // b bool
    &[Some("t"), Some("f"), None],
    // ts timestamptz
    &[
        Some("2026-11-25 10:00:00+00"),
        Some("2026-11-25 10:00:00.5+00"),
        Some("2026-11-25 09:59:59.999999+00"),
        Some("2026-11-25 12:00:00+02"),
        Some("1999-12-31 23:59:59+00"),
        Some("0044-03-15 12:00:00+00 BC"),
        Some("infinity"),
        Some("-infinity"),
        Some("2026-11-26T00:00:00Z"),
        None,
    ],
    // lt timestamp
    &[
        Some("2026-11-25 10:00:00"),
        Some("2026-11-25 10:00:00.25"),
        Some("2000-01-01 00:00:00"),
        Some("1970-01-01 00:00:00"),
        None,
    ],
    // d date
    &[
        Some("2026-11-25"),
        Some("2026-11-24"),
        Some("2024-02-29"),
        Some("0001-01-01 BC"),
        Some("infinity"),
        None,
    ],
];

const ROWS: usize = 60;

/// (where, params)
const CASES: &[(&str, &[&str])] = &[
    ("n = 42", &[]),
    ("n <> 42", &[]),
    ("n < 0", &[]),
    ("n >= $1", &["7"]),
    ("n > -1 AND n <= 100", &[]),
    ("n IN (0, 1, 9223372036854775807)", &[]),
    ("n NOT IN (0, 1)", &[]),
    ("n IS NULL", &[]),
    ("n IS NOT NULL AND s IS NULL", &[]),
    ("s < 100000 AND s > -100000", &[]),
    ("s BETWEEN -5 AND 10", &[]),
    ("s NOT BETWEEN 0 AND 5", &[]),
    ("n < id", &[]),
    ("t = 'a'", &[]),
    ("t < 'a'", &[]),
    ("t >= $1", &["abc"]),
    ("t > 'é' OR t <= ''", &[]),
    ("t IN ('', 'it''s', $1)", &["zebra"]),
    ("t <> v", &[]),
    ("v = $1 OR t = $1", &["a"]),
    ("v > 'Z'", &[]),
    ("u = $1", &["0190A5B4-1C2D-7E3F-8A9B-0C1D2E3F4A5B"]),
    (
        "u IN ($1, $2)",
        &[ORG, "{ffffffff-ffff-ffff-ffff-ffffffffffff}"],
    ),
    ("u > '0190a5b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b'", &[]),
    (
        "u <> 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' OR u IS NULL",
        &[],
    ),
    ("b", &[]),
    ("NOT b", &[]),
    ("b = 'yes' OR n = 1", &[]),
    ("b IS NOT TRUE", &[]),
    ("(n > 10) IS UNKNOWN", &[]),
    ("ts = '2026-11-25T10:00:00Z'", &[]),
    ("ts > $1", &["2026-11-25 10:00:00+00"]),
    ("ts < '2000-01-01'::timestamptz", &[]),
    ("ts >= '2026-11-25 11:00:00+01' AND ts < 'infinity'", &[]),
    ("ts <= '-infinity' OR ts > '0044-03-15 12:00:00+00 BC'", &[]),
    ("lt <= '2026-11-25 10:00:00.25'", &[]),
    ("lt > TIMESTAMP '1999-12-31 23:59:59'", &[]),
    ("d = '2026-11-25'", &[]),
    ("d < '0001-01-01'", &[]),
    ("d >= DATE '2024-02-29' AND NOT (d = 'infinity')", &[]),
    ("d IS NOT NULL AND ts IS NULL", &[]),
    ("(n = 1 OR t = 'a') AND NOT (b OR u IS NULL)", &[]),
    ("NOT (n IN (0, 1) AND s <> 5)", &[]),
    ("id < 20 OR false", &[]),
];

#[tokio::test]
async fn where_clauses_select_the_same_rows_as_postgres() {
    let client = db::connect(&testkit::fresh_database().await).await.unwrap();
    client
        .batch_execute(
            "SET TimeZone = 'UTC'; SET DateStyle = 'ISO';
             CREATE TABLE w (id int4 PRIMARY KEY, n int8, s int2, t text, v varchar(20), u uuid,
                             b bool, ts timestamptz, lt timestamp, d date)",
        )
        .await
        .unwrap();
    fill(&client).await;
    let columns = columns(&client).await;
    let rows = read_back(&client).await;
    assert_eq!(rows.len(), ROWS);

    for (sql, values) in CASES {
        let params: BTreeMap<usize, String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (i + 1, v.to_string()))
            .collect();
        let clause =
            WhereClause::compile(sql, &params, &columns).unwrap_or_else(|e| panic!("{sql}: {e}"));

        let as_written = select_ids(&client, &splice(sql, values), &[]).await;
        let (rendered, bound) = clause.to_sql(1);
        let as_rendered = select_ids(&client, &rendered, &bound).await;
        let canonical = clause.canonical();
        let as_canonical = select_ids(&client, &canonical, &[]).await;
        let matched: BTreeSet<i32> = rows
            .iter()
            .filter(|row| {
                let row: Vec<Option<&str>> = row.iter().map(Option::as_deref).collect();
                clause.matches(&row)
            })
            .map(|row| id_of(row))
            .collect();

        assert_eq!(
            as_rendered, as_written,
            "{sql}: to_sql renders {rendered} with {bound:?}"
        );
        assert_eq!(
            as_canonical, as_written,
            "{sql}: canonical text {canonical}"
        );
        assert_eq!(
            matched, as_written,
            "{sql}: matches disagrees with Postgres"
        );
        // Every matching row has one of the routing values (what the service's index relies on).
        if let Some(routing) = clause.routing() {
            for row in rows.iter().filter(|row| matched.contains(&id_of(row))) {
                let value = row[routing.column].as_deref();
                assert!(
                    value.is_some_and(|v| routing.values.iter().any(|r| r == v)),
                    "{sql}: row {row:?} matches but is not among the routing values {routing:?}"
                );
            }
        }
        assert!(
            !as_written.is_empty() && as_written.len() < ROWS,
            "{sql} selects {} of {ROWS} rows: make the case discriminate",
            as_written.len()
        );
    }
}

fn id_of(row: &[Option<String>]) -> i32 {
    row[0].as_deref().unwrap().parse().unwrap()
}

async fn fill(client: &Client) {
    let insert = client
        .prepare(
            "INSERT INTO w VALUES ($1::text::int4, $2::text::int8, $3::text::int2, $4::text,
             $5::text::varchar, $6::text::uuid, $7::text::bool, $8::text::timestamptz,
             $9::text::timestamp, $10::text::date)",
        )
        .await
        .unwrap();
    const STRIDES: [usize; 9] = [1, 7, 5, 3, 11, 2, 13, 3, 5];
    for i in 0..ROWS {
        let id = i.to_string();
        let mut values: Vec<Option<&str>> = vec![Some(&id)];
        for (c, pool) in POOLS.iter().enumerate() {
            values.push(pool[(i * STRIDES[c] + c) % pool.len()]);
        }
        let params: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        client.execute(&insert, &params).await.unwrap();
    }
}

/// The table's columns as the service describes them, from the catalog.
async fn columns(client: &Client) -> Vec<ColumnInfo> {
    client
        .query(
            "SELECT a.attname::text, t.typname::text, a.attndims, a.attnotnull
               FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
              WHERE a.attrelid = 'w'::regclass AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let name: String = row.get(0);
            ColumnInfo {
                pk_index: (name == "id").then_some(0),
                name,
                type_name: row.get(1),
                dims: row.get(2),
                not_null: row.get(3),
            }
        })
        .collect()
}

/// Every row in Postgres's text output form (the simple query protocol returns exactly that).
async fn read_back(client: &Client) -> Vec<Vec<Option<String>>> {
    client
        .simple_query("SELECT * FROM w ORDER BY id")
        .await
        .unwrap()
        .into_iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

async fn select_ids(client: &Client, where_sql: &str, values: &[String]) -> BTreeSet<i32> {
    let params: Vec<&(dyn ToSql + Sync)> =
        values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
    client
        .query(&format!("SELECT id FROM w WHERE {where_sql}"), &params)
        .await
        .unwrap_or_else(|e| panic!("{where_sql}: {e}"))
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// The clause with each `$n` replaced by its value as an untyped literal, which Postgres types
/// from context just as Electric types params.
fn splice(sql: &str, values: &[&str]) -> String {
    let mut sql = sql.to_string();
    // Highest first, so `$1` does not eat the start of `$10`.
    for (i, value) in values.iter().enumerate().rev() {
        let literal = format!("'{}'", value.replace('\'', "''"));
        sql = sql.replace(&format!("${}", i + 1), &literal);
    }
    sql
}
