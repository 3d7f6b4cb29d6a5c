//! What is derived from a compiled clause: its routing, its canonical text, and its SQL with
//! every constant bound.

use super::{ORG, ORG2, compile, compile_with};
use crate::server::shapes::where_clause::Routing;

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
