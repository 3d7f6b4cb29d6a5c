//! Unit tests of the where clause: what compiles, what is rejected and how it is worded, how
//! rows evaluate, and the SQL, canonical text and routing derived from a clause. This module
//! holds the table the tests filter and the helpers that compile clauses and build rows.

mod derived;
mod evaluation;
mod rejection;
mod subqueries;
mod values;

use std::collections::BTreeMap;

use super::{WhereClause, WhereError};
use crate::server::shapes::schema::ColumnInfo;

const ORG: &str = "0190a5b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b";
const ORG2: &str = "0190a5b4-1c2d-7e3f-8a9b-0c1d2e3f4a5c";

/// The table the tests filter: one column of each kind.
const COLUMNS: [(&str, &str, i32); 13] = [
    ("id", "int4", 0),
    ("n", "int8", 0),
    ("s", "int2", 0),
    ("t", "text", 0),
    ("v", "varchar", 0),
    ("organization_id", "uuid", 0),
    ("done", "bool", 0),
    ("ts", "timestamptz", 0),
    ("local", "timestamp", 0),
    ("d", "date", 0),
    ("data", "jsonb", 0),
    ("tags", "text", 1),
    ("Mixed", "text", 0),
];

fn columns() -> Vec<ColumnInfo> {
    COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (name, type_name, dims))| ColumnInfo {
            name: name.to_string(),
            type_name: type_name.to_string(),
            dims: *dims,
            not_null: i == 0,
            pk_index: (i == 0).then_some(0),
        })
        .collect()
}

fn params(values: &[&str]) -> BTreeMap<usize, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (i + 1, v.to_string()))
        .collect()
}

fn compile_with(sql: &str, values: &[&str]) -> WhereClause {
    WhereClause::compile(sql, &params(values), &columns())
        .unwrap_or_else(|e| panic!("{sql:?} should compile: {e}"))
}

fn compile(sql: &str) -> WhereClause {
    compile_with(sql, &[])
}

fn error_with(sql: &str, values: &[&str]) -> WhereError {
    match WhereClause::compile(sql, &params(values), &columns()) {
        Ok(clause) => panic!("{sql:?} should be rejected, compiled to {clause:?}"),
        Err(e) => e,
    }
}

fn error(sql: &str) -> String {
    error_with(sql, &[]).to_string()
}

/// A row with the given columns set, all others NULL.
fn row<'a>(values: &[(&str, &'a str)]) -> Vec<Option<&'a str>> {
    let mut row = vec![None; COLUMNS.len()];
    for (name, value) in values {
        let i = COLUMNS.iter().position(|c| c.0 == *name).unwrap();
        row[i] = Some(*value);
    }
    row
}

fn matches(sql: &str, values: &[(&str, &str)]) -> bool {
    compile(sql).matches(&row(values))
}
