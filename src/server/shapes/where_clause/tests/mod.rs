//! Unit tests of the where clause: what compiles, what is rejected and how it is worded, how
//! rows evaluate, and the SQL, canonical text and routing derived from a clause.

use std::collections::BTreeMap;

use super::value::{Const, SqlType, parse_bool, parse_date, parse_timestamp};
use super::{Problem, Routing, WhereClause, WhereError};
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

#[test]
fn each_comparison_operator_compares_integers_numerically() {
    let cases: [(&str, [bool; 3]); 7] = [
        ("n = 10", [false, true, false]),
        ("n <> 10", [true, false, true]),
        ("n != 10", [true, false, true]),
        ("n < 10", [true, false, false]),
        ("n <= 10", [true, true, false]),
        ("n > 10", [false, false, true]),
        ("n >= 10", [false, true, true]),
    ];
    for (sql, expected) in cases {
        let got = ["9", "10", "11"].map(|n| matches(sql, &[("n", n)]));
        assert_eq!(got, expected, "{sql}");
    }
    // With the constant on the left, the operator reads mirrored.
    let mirrored: [(&str, [bool; 3]); 4] = [
        ("10 > n", [true, false, false]),
        ("10 >= n", [true, true, false]),
        ("10 < n", [false, false, true]),
        ("10 <= n", [false, true, true]),
    ];
    for (sql, expected) in mirrored {
        let got = ["9", "10", "11"].map(|n| matches(sql, &[("n", n)]));
        assert_eq!(got, expected, "{sql}");
    }
    assert!(matches("n > -5", &[("n", "-4")]));
    assert!(matches(
        "n = -9223372036854775808",
        &[("n", "-9223372036854775808")]
    ));
    assert!(matches("s < 100000", &[("s", "32767")]));
}

#[test]
fn in_and_not_in() {
    assert!(matches("id IN (1, 2, 3)", &[("id", "2")]));
    assert!(!matches("id IN (1, 2, 3)", &[("id", "4")]));
    assert!(!matches("id IN (1, 2, 3)", &[]));
    assert!(matches("id NOT IN (1, 2, 3)", &[("id", "4")]));
    assert!(!matches("id NOT IN (1, 2, 3)", &[("id", "3")]));
    assert!(
        !matches("id NOT IN (1, 2, 3)", &[]),
        "NULL NOT IN is unknown"
    );
    let clause = compile_with("t IN ('a', $1)", &["b"]);
    assert!(clause.matches(&row(&[("t", "b")])));
    assert!(!clause.matches(&row(&[("t", "c")])));
    let orgs = compile_with("organization_id IN ($1, $2)", &[&ORG.to_uppercase(), ORG2]);
    assert!(orgs.matches(&row(&[("organization_id", ORG)])));
    assert!(orgs.matches(&row(&[("organization_id", ORG2)])));
}

#[test]
fn is_null_and_is_not_null_work_on_any_column() {
    assert!(matches("n IS NULL", &[]));
    assert!(!matches("n IS NULL", &[("n", "1")]));
    assert!(matches("n IS NOT NULL", &[("n", "1")]));
    assert!(matches("data IS NOT NULL", &[("data", "{}")]));
    assert!(matches("tags IS NULL", &[]));
    assert!(matches("(n) IS NULL", &[]));
    assert!(error("(n = 1) IS NULL").contains("IS NULL on something other than a column"));
}

#[test]
fn and_binds_tighter_than_or_and_not_tighter_than_and() {
    // a OR (b AND c)
    let clause = compile("id = 1 OR n = 2 AND s = 3");
    assert!(clause.matches(&row(&[("id", "1")])));
    assert!(clause.matches(&row(&[("n", "2"), ("s", "3")])));
    assert!(!clause.matches(&row(&[("n", "2")])));
    // (a OR b) AND c
    let clause = compile("(id = 1 OR n = 2) AND s = 3");
    assert!(!clause.matches(&row(&[("id", "1")])));
    assert!(clause.matches(&row(&[("id", "1"), ("s", "3")])));
    // (NOT a) AND b
    let clause = compile("NOT id = 1 AND n = 2");
    assert!(clause.matches(&row(&[("id", "2"), ("n", "2")])));
    assert!(!clause.matches(&row(&[("id", "1"), ("n", "2")])));
    assert!(!clause.matches(&row(&[("id", "2"), ("n", "3")])));
    assert!(matches(
        "NOT (id = 1 AND n = 2)",
        &[("id", "1"), ("n", "3")]
    ));
}

#[test]
fn boolean_columns_and_literals() {
    let done = [("done", "t")];
    let open = [("done", "f")];
    assert!(matches("done", &done) && !matches("done", &open) && !matches("done", &[]));
    assert!(matches("NOT done", &open) && !matches("NOT done", &done));
    assert!(!matches("NOT done", &[]), "NOT NULL is unknown");
    assert!(matches("done = true", &done) && !matches("done = TRUE", &open));
    assert!(matches("done = 'yes'", &done) && matches("done <> 't'", &open));
    assert!(matches("done = 'f'::bool", &open));
    assert!(matches("true", &[]) && !matches("FALSE", &[]));
    assert!(matches("done IS NOT TRUE", &[]) && matches("done IS NOT TRUE", &open));
    assert!(matches("done IS FALSE", &open) && !matches("done IS FALSE", &[]));
    assert!(matches("done IS NOT FALSE", &[]) && matches("done IS UNKNOWN", &[]));
    assert!(matches("(n = 1) IS NOT UNKNOWN", &[("n", "2")]));
    assert!(matches(
        "\"done\" AND t = 'x'",
        &[("done", "t"), ("t", "x")]
    ));
}

#[test]
fn params_are_substituted_and_typed_by_their_column() {
    let clause = compile_with(
        "organization_id = $1 AND n > $2 AND done = $3 AND ts < $4",
        &[ORG, "5", "true", "2026-01-01T00:00:00Z"],
    );
    let good = row(&[
        ("organization_id", ORG),
        ("n", "6"),
        ("done", "t"),
        ("ts", "2025-12-31 23:59:59.999999+00"),
    ]);
    assert!(clause.matches(&good));
    let mut bad = good.clone();
    bad[7] = Some("2026-01-01 00:00:00+00");
    assert!(!clause.matches(&bad));
    // Extra params are tolerated, as long as they are numbered sequentially.
    compile_with("n = $1", &["1", "2"]);
    // A param may be used twice, even against columns of different types.
    let clause = compile_with("n = $1 OR t = $1", &["7"]);
    assert!(clause.matches(&row(&[("t", "7")])));
}

#[test]
fn unsupported_constructs_are_named() {
    let cases = [
        ("lower(t) = 'x'", "function call lower(...)"),
        ("t LIKE 'x%'", "LIKE"),
        ("t NOT ILIKE 'x%'", "NOT ILIKE"),
        ("id IN (SELECT 1)", "subquery"),
        ("EXISTS (SELECT 1)", "subquery"),
        ("n + 1 = 2", "operator +"),
        ("n = 2 * 3", "operator *"),
        ("data->>'x' = 'y'", "operator ->>"),
        ("w.n = 1", "qualified name w.n"),
        ("n IS DISTINCT FROM 1", "IS [NOT] DISTINCT FROM"),
        ("CASE WHEN done THEN true END", "CASE expression"),
        ("n::text = '1'", "cast of column \"n\""),
        ("n = '1'::numeric", "cast to NUMERIC"),
        ("1 = 1", "comparison of two constants"),
        ("n = 1.5", "non-integer number 1.5"),
        ("t = ANY($1)", "ANY/ALL"),
    ];
    for (sql, construct) in cases {
        let message = error_with(sql, &["x"]).to_string();
        assert!(
            message.contains("unsupported construct in where clause")
                && message.contains(construct),
            "{sql}: {message}"
        );
    }
}

#[test]
fn only_one_expression_is_accepted() {
    assert!(matches!(
        error_with("id = 1; DROP TABLE x", &[]),
        WhereError::StatementSplit
    ));
    assert_eq!(
        error("id = 1; DROP TABLE x"),
        "unescaped \";\" causing statement split"
    );
    assert_eq!(
        error("id = 1 ORDER BY id"),
        "At location 7: syntax error at or near \"ORDER\""
    );
    assert!(error("id = 1 LIMIT 1").starts_with("At location 7: "));
    // A lone trailing semicolon is one statement, as for Postgres.
    assert!(matches("id = 1;", &[("id", "1")]));
}

#[test]
fn syntax_errors_carry_a_zero_based_character_location() {
    assert_eq!(
        error("id = = 1"),
        "At location 5: syntax error at or near \"=\", expected an expression"
    );
    assert_eq!(
        error("id ="),
        "At location 4: syntax error at end of input, expected an expression"
    );
    assert!(error("").starts_with("At location 0: syntax error at end of input"));
    // Characters, not bytes, and across lines.
    assert!(error("t = 'é' AND x x").starts_with("At location 14: "));
    assert!(error("id = 1\n AND n === 2").starts_with("At location 16: "));
    assert!(error("t = 'abc").contains("unterminated"));
}

#[test]
fn unknown_columns_are_named_and_identifiers_fold_unless_quoted() {
    assert_eq!(error("nope = 1"), "At location 0: unknown column \"nope\"");
    assert_eq!(
        error("id = 1 AND Nope = 1"),
        "At location 11: unknown column \"nope\""
    );
    assert!(matches("ID = 1", &[("id", "1")]));
    assert!(matches("\"Mixed\" = 'x'", &[("Mixed", "x")]));
    assert_eq!(
        error("Mixed = 'x'"),
        "At location 0: unknown column \"mixed\""
    );
    assert!(error("\"ID\" = 1").contains("unknown column \"ID\""));
}

#[test]
fn param_errors() {
    let gap = BTreeMap::from([(1, "1".to_string()), (3, "3".to_string())]);
    let e = WhereClause::compile("id = $1", &gap, &columns()).unwrap_err();
    assert!(matches!(e, WhereError::ParamsNotSequential));
    assert_eq!(
        e.to_string(),
        "Parameters must be numbered sequentially, starting from 1"
    );
    let zero = BTreeMap::from([(0, "1".to_string())]);
    assert!(matches!(
        WhereClause::compile("id = 1", &zero, &columns()),
        Err(WhereError::ParamsNotSequential)
    ));
    assert_eq!(
        error_with("id = $1 AND n = $2", &["1"]).to_string(),
        "At location 16: parameter $2 was not provided"
    );
    assert!(matches!(
        error_with("id = $2", &["1"]),
        WhereError::Invalid {
            location: Some(5),
            problem: Problem::MissingParam(2)
        }
    ));
    assert_eq!(
        error_with("organization_id = $1", &["not-a-uuid"]).to_string(),
        "At location 18: invalid input syntax for type uuid: 'not-a-uuid' (parameter $1)"
    );
    assert!(
        error_with("s = $1", &["40000"])
            .to_string()
            .contains("invalid input syntax for type int2: '40000'")
    );
    assert!(
        error_with("id = $0", &["1"])
            .to_string()
            .contains("invalid parameter $0")
    );
    assert!(
        error_with("t = $1", &["a\0b"])
            .to_string()
            .contains("invalid input syntax for type text")
    );
}

#[test]
fn type_errors() {
    assert_eq!(
        error("organization_id = 5"),
        "At location 18: type mismatch: column \"organization_id\" is uuid, cannot compare it with number 5"
    );
    assert_eq!(
        error("id = 'abc'"),
        "At location 5: invalid input syntax for type int4: 'abc'"
    );
    assert_eq!(
        error("organization_id = 'not-a-uuid'"),
        "At location 18: invalid input syntax for type uuid: 'not-a-uuid'"
    );
    assert!(error("t = 5").contains("column \"t\" is text, cannot compare it with number 5"));
    assert!(error("done = 1").contains("type mismatch"));
    assert!(error("n = true").contains("type mismatch"));
    assert!(error("ts = '2026-01-01'::date").contains("type mismatch"));
    assert!(error("ts = local").contains("cannot compare column \"ts\" of type timestamptz"));
    assert!(error("n = NULL").contains("use IS NULL"));
    assert!(error("n IN (1, NULL)").contains("use IS NULL"));
    assert!(error("ts > '2026-13-01'").contains("invalid input syntax for type timestamptz"));
    assert!(error("d = '2026-02-29'").contains("invalid input syntax for type date"));
    assert!(error("ts > 'now'").contains("invalid input syntax for type timestamptz"));
    assert!(error("n = 99999999999999999999").contains("invalid input syntax for type int8"));
    assert_eq!(
        error("data = '{}'"),
        "At location 0: column \"data\" has type jsonb, which where clauses cannot compare"
    );
    assert!(error("tags = 'x'").contains("has type text[]"));
}

#[test]
fn the_clause_must_be_boolean() {
    assert_eq!(
        error("n"),
        "At location 0: WHERE clause must return a boolean, found column \"n\" of type int8"
    );
    assert!(error("5").contains("must return a boolean"));
    assert!(error("done AND 'x'").contains("must return a boolean, found string 'x'"));
    assert!(error("NOT t").contains("must return a boolean"));
}

#[test]
fn null_follows_three_valued_logic() {
    let null_n: &[(&str, &str)] = &[];
    assert!(!matches("n = 5", null_n));
    assert!(!matches("n <> 5", null_n));
    assert!(!matches("NOT (n = 5)", null_n));
    assert!(matches("n = 5 OR true", null_n));
    assert!(!matches("n = 5 OR false", null_n));
    assert!(!matches("n = 5 AND true", null_n));
    assert!(
        matches("NOT (n = 5 AND false)", null_n),
        "unknown AND false is false"
    );
    assert!(matches("n IS NULL OR n = 5", null_n));
    assert!(matches("(n = 5) IS UNKNOWN", null_n));
    assert!(matches("(n = 5) IS NOT TRUE", null_n));
    assert!(!matches("n BETWEEN 1 AND 10", null_n));
    assert!(!matches("n NOT BETWEEN 1 AND 10", null_n));
    // A value Postgres would never send counts as NULL rather than matching anything.
    assert!(!matches("n <> 5", &[("n", "garbage")]));
}

#[test]
fn evaluation_compares_by_type() {
    // Integers numerically, text bytewise (the C collation).
    assert!(matches("n > 9", &[("n", "10")]));
    assert!(!matches("t > '9'", &[("t", "10")]));
    assert!(matches("t < 'a'", &[("t", "B")]));
    assert!(matches("t > 'é'", &[("t", "ü")]));
    assert!(matches("v = 'x'", &[("v", "x")]));
    assert!(matches("t = ''", &[("t", "")]) && !matches("t = ''", &[]));
    assert!(matches("t = E'a\\nb'", &[("t", "a\nb")]));
    assert!(matches("t = $$it's$$", &[("t", "it's")]));
    assert!(matches("t = 'it''s'", &[("t", "it's")]));
    // Uuids case-insensitively, ordered by their bytes.
    let upper = format!("organization_id = '{}'", ORG.to_uppercase());
    assert!(matches(&upper, &[("organization_id", ORG)]));
    assert!(matches(
        &format!("organization_id < '{ORG2}'"),
        &[("organization_id", ORG)]
    ));
    // Timestamps chronologically, whatever the spelling.
    let noon = [("ts", "2026-11-25 10:00:00+00")];
    assert!(matches("ts = '2026-11-25T10:00:00Z'", &noon));
    assert!(matches("ts = '2026-11-25 12:00:00+02'", &noon));
    assert!(matches(
        "ts = '2026-11-25 05:30:00-04:30'::timestamptz",
        &noon
    ));
    assert!(matches("ts = TIMESTAMPTZ '2026-11-25 10:00:00 UTC'", &noon));
    assert!(matches("ts < '2026-11-25 10:00:00.000001+00'", &noon));
    assert!(matches("ts > '2026-11-25'", &noon));
    assert!(matches(
        "ts > '2026-11-25 09:59:59.5'",
        &[("ts", "2026-11-25 09:59:59.500001+00")]
    ));
    assert!(matches("ts < 'infinity'", &noon));
    assert!(matches(
        "ts > '-infinity'",
        &[("ts", "0044-03-15 12:00:00+00 BC")]
    ));
    assert!(matches(
        "local = '2026-11-25 10:00'",
        &[("local", "2026-11-25 10:00:00")]
    ));
    // Dates.
    assert!(matches("d >= '2026-11-25'", &[("d", "2026-11-25")]));
    assert!(matches("d < DATE '2026-11-25'", &[("d", "2026-11-24")]));
    assert!(matches("d < '0001-01-01'", &[("d", "0001-12-31 BC")]));
    // Between, and columns compared with each other.
    assert!(matches("n BETWEEN 1 AND 10", &[("n", "10")]));
    assert!(matches("n NOT BETWEEN 1 AND 10", &[("n", "11")]));
    assert!(matches("n < id", &[("n", "2"), ("id", "10")]));
    assert!(matches("s = n", &[("s", "3"), ("n", "3")]));
    assert!(matches("t <> v", &[("t", "a"), ("v", "b")]));
    assert!(!matches("t <> v", &[("t", "a")]));
}

#[test]
fn old_row_matches_and_new_row_does_not() {
    let clause = compile_with("organization_id = $1 AND NOT done", &[ORG]);
    let old = row(&[("organization_id", ORG), ("done", "f")]);
    let moved = row(&[("organization_id", ORG2), ("done", "f")]);
    let finished = row(&[("organization_id", ORG), ("done", "t")]);
    assert!(clause.matches(&old));
    assert!(!clause.matches(&moved));
    assert!(!clause.matches(&finished));
}

#[test]
fn a_short_row_reads_as_nulls() {
    let clause = compile("\"Mixed\" IS NULL AND n IS NULL");
    assert!(clause.matches(&[Some("1")]));
}

#[test]
fn routing_picks_the_most_selective_equality() {
    let clause = compile_with("organization_id IN ($1, $2)", &[&ORG2.to_uppercase(), ORG]);
    assert_eq!(
        clause.routing(),
        Some(Routing {
            column: 5,
            values: vec![ORG.to_string(), ORG2.to_string()]
        })
    );
    assert_eq!(
        compile("id = 1 AND n > 2").routing(),
        Some(Routing {
            column: 0,
            values: vec!["1".into()]
        })
    );
    assert_eq!(compile("id = 1 OR n = 2").routing(), None);
    assert_eq!(compile("n > 2").routing(), None);
    assert_eq!(compile("id NOT IN (1, 2)").routing(), None);
    assert_eq!(compile("NOT (id = 1)").routing(), None);
    assert_eq!(
        compile("n IN (1, 2, 2) AND (t = 'x' AND done = true)").routing(),
        Some(Routing {
            column: 3,
            values: vec!["x".into()]
        }),
        "fewest values wins, through nested ANDs"
    );
    assert_eq!(
        compile("done = true AND n IN (1, +01)").routing(),
        Some(Routing {
            column: 1,
            values: vec!["1".into()]
        }),
        "a bool column comes last on a tie"
    );
    assert_eq!(
        compile("done = 'yes' AND n > 1").routing().unwrap().values,
        vec!["t"]
    );
    assert_eq!(compile("ts = '2026-01-01'").routing(), None);
}

#[test]
fn canonical_text_ignores_spelling() {
    let same = [
        (
            "organization_id = $1 and n >= 5",
            vec![ORG.to_uppercase()],
            format!("(ORGANIZATION_ID='{ORG}')  AND  (5 <= \"n\")"),
        ),
        (
            "id IN (3, 1, 2, 1) AND t != 'x'",
            vec![],
            "ID in (1,2,3) and T <> 'x'".to_string(),
        ),
        (
            "(id = 1 AND n = 2) AND s = 3",
            vec![],
            "id = 1 AND (n = 2 AND (s = 3))".to_string(),
        ),
        (
            "ts = '2026-11-25T10:00:00Z'",
            vec![],
            "ts = '2026-11-25 11:00:00+01'::timestamptz".to_string(),
        ),
        (
            "done = $1",
            vec!["yes".to_string()],
            "done = TRUE".to_string(),
        ),
    ];
    for (a, a_params, b) in same {
        let a_params: Vec<&str> = a_params.iter().map(String::as_str).collect();
        assert_eq!(
            compile_with(a, &a_params).canonical(),
            compile(&b).canonical(),
            "{a} vs {b}"
        );
    }
    assert_eq!(
        compile_with("(organization_id = $1 and n >= 5) OR NOT done", &[ORG]).canonical(),
        format!("(\"organization_id\" = '{ORG}' AND \"n\" >= 5) OR NOT \"done\"")
    );
    assert_eq!(
        compile("NOT (t < 'b' OR d IS NULL) AND (n = 1) IS NOT TRUE AND true").canonical(),
        "NOT (\"t\" COLLATE \"C\" < 'b' OR \"d\" IS NULL) AND (\"n\" = 1) IS NOT TRUE AND true"
    );
    assert_ne!(compile("id = 1").canonical(), compile("id = 2").canonical());
    assert_ne!(
        compile("t = 'a''b'").canonical(),
        compile("t = 'a'").canonical()
    );
}

#[test]
fn to_sql_binds_every_constant() {
    let clause = compile_with(
        "organization_id = $1 AND (t < 'secret' OR n IN (1234567, 7654321)) AND ts >= '2026-11-25T10:00:00Z' AND done",
        &[&ORG.to_uppercase()],
    );
    let (sql, values) = clause.to_sql(3);
    assert_eq!(
        sql,
        "\"organization_id\" = $3::text::uuid AND (\"t\" COLLATE \"C\" < $4::text OR \"n\" IN ($5::text::int8, $6::text::int8)) AND \"ts\" >= $7::text::timestamptz AND \"done\""
    );
    assert_eq!(
        values,
        [
            ORG,
            "secret",
            "1234567",
            "7654321",
            "2026-11-25 10:00:00+00"
        ]
        .map(String::from)
    );
    for value in &values {
        assert!(!sql.contains(value.as_str()), "{value} leaked into {sql}");
    }
    let (sql, values) = compile("true AND \"Mixed\" = 'x\"y' AND NOT (s = 1)").to_sql(1);
    assert_eq!(
        sql,
        "$1::text::bool AND \"Mixed\" = $2::text AND NOT (\"s\" = $3::text::int8)"
    );
    assert_eq!(values, ["t", "x\"y", "1"].map(String::from));
    assert_eq!(
        compile("n < id").to_sql(1),
        ("\"n\" < \"id\"".to_string(), vec![])
    );
}

#[test]
fn a_long_and_chain_does_not_recurse_per_operand() {
    let sql = vec!["n <> 1"; 20_000].join(" AND ");
    let clause = compile(&sql);
    assert!(clause.matches(&row(&[("n", "2")])));
    assert!(!clause.matches(&row(&[("n", "1")])));
}

#[test]
fn bools_parse_like_postgres() {
    for t in ["t", "TRUE", "tr", "y", "Yes", "on", "1", " true "] {
        assert_eq!(parse_bool(t), Some(true), "{t}");
    }
    for f in ["f", "False", "n", "NO", "off", "of", "0"] {
        assert_eq!(parse_bool(f), Some(false), "{f}");
    }
    for bad in ["", "o", "2", "truee", "nope"] {
        assert_eq!(parse_bool(bad), None, "{bad}");
    }
}

#[test]
fn timestamps_parse_and_print_like_postgres() {
    let utc = |s| parse_timestamp(s, true);
    assert_eq!(utc("2000-01-01 00:00:00+00"), Some(0));
    assert_eq!(utc("2000-01-01T00:00:01.5Z"), Some(1_500_000));
    assert_eq!(utc("2000-01-01 01:00:00+01"), Some(0));
    assert_eq!(utc("2000-01-01 01:30:00+0130"), Some(0));
    assert_eq!(utc("1999-12-31 23:00:00-01:00"), Some(0));
    assert_eq!(
        utc("2000-01-01 00:00:00.0000005"),
        Some(1),
        "rounded to microseconds"
    );
    assert_eq!(utc("1999-12-31 24:00:00"), Some(0));
    assert_eq!(
        parse_timestamp("2000-01-01 01:00:00+01", false),
        Some(3_600_000_000)
    );
    for bad in [
        "2000-01-01 25:00",
        "2000-02-30",
        "2000-01-01 10",
        "01-01-2000",
        "2000-01-01 PST",
        "0000-01-01",
        "2000-01-01 10:00:00+16",
    ] {
        assert_eq!(utc(bad), None, "{bad}");
    }
    let cases = [
        ("2026-11-25 10:00:00+00", SqlType::Timestamptz),
        ("2026-11-25 10:00:00.123456+00", SqlType::Timestamptz),
        ("2026-11-25 10:00:00.5+00", SqlType::Timestamptz),
        ("0044-03-15 12:00:00+00 BC", SqlType::Timestamptz),
        ("294276-12-31 23:59:59.999999+00", SqlType::Timestamptz),
        ("4714-11-24 00:00:00+00 BC", SqlType::Timestamptz),
        ("infinity", SqlType::Timestamptz),
        ("-infinity", SqlType::Timestamp),
        ("1970-01-01 00:00:00", SqlType::Timestamp),
        ("2024-02-29", SqlType::Date),
        ("0001-01-01 BC", SqlType::Date),
        ("5874897-12-31", SqlType::Date),
    ];
    for (text, ty) in cases {
        let parsed = ty.parse(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(Const::from_datum(parsed).to_pg_text(), text);
    }
}

#[test]
fn civil_dates_round_trip_across_the_postgres_range() {
    let mut previous = None;
    for days in (-2_451_545..=2_800_000).step_by(997) {
        let text = Const::Date(days).to_pg_text();
        assert_eq!(parse_date(&text), Some(days), "{text}");
        assert!(previous < Some(days));
        previous = Some(days);
    }
}
