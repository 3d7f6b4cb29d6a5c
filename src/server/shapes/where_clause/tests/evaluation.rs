//! How compiled clauses evaluate rows: comparisons, IN, IS NULL, boolean logic and its
//! precedence, params, three-valued NULL logic and comparison by type.

use super::{ORG, ORG2, compile, compile_with, error, matches, row};

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
fn equals_any_of_an_array_is_an_in_list() {
    let clause = compile_with("t = ANY($1)", &["{a,\"b c\",NULL}"]);
    assert!(clause.matches(&row(&[("t", "b c")])));
    assert!(!clause.matches(&row(&[("t", "d")])));
    assert_eq!(
        clause.canonical(),
        compile("t IN ('a', 'b c')").canonical(),
        "the same clause as the written-out list"
    );
    assert!(matches("id = ANY(ARRAY[1, 2])", &[("id", "2")]));
    assert!(matches("t = ANY('{x,y}')", &[("t", "y")]));
    assert!(error("id = ANY('{1,x}')").contains("invalid input syntax for type int"));
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
fn a_long_and_chain_does_not_recurse_per_operand() {
    let sql = vec!["n <> 1"; 20_000].join(" AND ");
    let clause = compile(&sql);
    assert!(clause.matches(&row(&[("n", "2")])));
    assert!(!clause.matches(&row(&[("n", "1")])));
}

/// Windows gives threads less stack than Linux: a long chain must not need any more than a short
/// one — neither to compile (parse, walk, drop the parsed tree), nor to name its subqueries'
/// tables, nor to evaluate.
#[test]
fn a_long_and_chain_fits_in_a_small_stack() {
    let sql = vec!["n <> 1"; 20_000].join(" AND ");
    let small = std::thread::Builder::new().stack_size(128 * 1024);
    let matched = small
        .spawn(move || {
            assert!(crate::server::shapes::where_clause::subquery_tables(&sql).is_empty());
            let clause = compile(&sql);
            (
                clause.matches(&row(&[("n", "2")])),
                clause.matches(&row(&[("n", "1")])),
            )
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(matched, (true, false));
}
