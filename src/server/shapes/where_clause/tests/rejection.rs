//! What the compiler rejects and how the error is worded: unsupported constructs, statement
//! splits, syntax errors with locations, unknown columns, params, types and non-boolean clauses.

use std::collections::BTreeMap;

use super::{columns, error, error_with, matches};
use crate::server::shapes::where_clause::{Problem, WhereClause, WhereError};

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
        ("t > ANY($1)", "only = ANY is supported"),
        ("t = ALL($1)", "ANY/ALL"),
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
