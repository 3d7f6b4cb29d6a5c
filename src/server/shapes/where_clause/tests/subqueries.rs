//! Subqueries: the forms accepted (with the inner where compiled against the inner table and
//! params shared with the outer clause), how they evaluate against the value set, their SQL
//! and canonical text, and everything refused — with Electric's restrictions named.

use std::sync::Arc;

use super::{ORG, ORG2, columns, params};
use crate::server::shapes::schema::{ColumnInfo, TableInfo};
use crate::server::shapes::where_clause::{InnerTables, WhereClause};

fn members() -> Arc<TableInfo> {
    let column = |name: &str, type_name: &str, pk: Option<usize>| ColumnInfo {
        name: name.to_owned(),
        type_name: type_name.to_owned(),
        dims: 0,
        not_null: true,
        pk_index: pk,
    };
    Arc::new(TableInfo {
        oid: 77,
        schema: "public".into(),
        name: "members".into(),
        columns: vec![
            column("id", "int4", Some(0)),
            column("organization_id", "uuid", None),
            column("user_id", "text", None),
            column("active", "bool", None),
        ],
        type_oids: vec![23, 2950, 25, 16],
        published: true,
    })
}

fn tables() -> InnerTables {
    InnerTables::from([(("public".to_owned(), "members".to_owned()), members())])
}

fn compile(sql: &str, values: &[&str]) -> Result<WhereClause, String> {
    WhereClause::compile_with(sql, &params(values), &columns(), &tables())
        .map_err(|e| e.to_string())
}

const SUBQUERY: &str =
    "organization_id IN (SELECT organization_id FROM members WHERE user_id = $1 AND active)";

#[test]
fn a_subquery_reads_its_value_set() {
    let clause = compile(&format!("{SUBQUERY} AND done"), &["u1"]).unwrap();
    let subqueries = clause.subqueries();
    assert_eq!(subqueries.len(), 1);
    let (column, subquery) = subqueries[0].clone();
    assert_eq!(columns()[column].name, "organization_id");
    assert_eq!(subquery.table.name, "members");
    let inner_row = |org: &'static str, user: &'static str, active: &'static str| {
        vec![Some("1"), Some(org), Some(user), Some(active)]
    };
    let value = |row: &[Option<&str>]| subquery.contribution(row).map(|c| c.value);
    assert_eq!(value(&inner_row(ORG, "u1", "t")).as_deref(), Some(ORG));
    assert_eq!(value(&inner_row(ORG, "u2", "t")), None);
    assert_eq!(value(&inner_row(ORG, "u1", "f")), None);
    let mut row = vec![None; columns().len()];
    row[5] = Some(ORG);
    row[6] = Some("t");
    assert!(!clause.matches(&row), "an empty set holds nothing");
    let member = |key: &str| {
        let inner = inner_row(ORG, "u1", "t");
        subquery.values.set_row(key, subquery.contribution(&inner))
    };
    assert_eq!(member("m1").gained, [ORG]);
    assert!(member("m2").is_empty(), "a second row with the same value");
    assert!(clause.matches(&row));
    assert!(
        subquery.values.set_row("m1", None).is_empty(),
        "one row still yields it"
    );
    assert!(clause.matches(&row));
    assert_eq!(subquery.values.set_row("m2", None).lost, [ORG]);
    assert!(!clause.matches(&row));
    row[5] = Some(ORG2);
    assert!(!clause.matches(&row));
}

#[test]
fn a_subquery_renders_with_its_params_and_canonically() {
    let clause = compile(&format!("{SUBQUERY} AND id > $2"), &["u1", "5"]).unwrap();
    let (sql, values) = clause.to_sql(1);
    assert_eq!(
        sql,
        "\"organization_id\" IN (SELECT \"organization_id\" FROM \"public\".\"members\" WHERE \
         \"user_id\" = $1::text AND \"active\") AND \"id\" > $2::text::int8"
    );
    assert_eq!(values, ["u1", "5"]);
    let same = compile(
        "id > 5 AND organization_id IN (select organization_id from public.members \
         where (user_id = 'u1') and active)",
        &[],
    )
    .unwrap();
    assert_ne!(clause.canonical(), "", "a canonical text");
    assert!(
        same.canonical()
            .contains("FROM \"public\".\"members\" WHERE \"user_id\" = 'u1'"),
        "{}",
        same.canonical()
    );
    assert!(
        clause.routing().is_none(),
        "a subquery alone does not route"
    );
}

#[test]
fn what_electric_refuses_is_refused() {
    let refused = [
        (
            "organization_id NOT IN (SELECT organization_id FROM members)",
            "NOT IN with a subquery",
        ),
        (
            "done OR organization_id IN (SELECT organization_id FROM members)",
            "under OR or NOT",
        ),
        (
            "NOT (organization_id IN (SELECT organization_id FROM members))",
            "under OR or NOT",
        ),
        (
            "organization_id IN (SELECT organization_id FROM members ORDER BY id)",
            "SELECT <column> FROM <table>",
        ),
        (
            "organization_id IN (SELECT DISTINCT organization_id FROM members)",
            "SELECT <column> FROM <table>",
        ),
        (
            "organization_id IN (SELECT organization_id FROM members m)",
            "SELECT <column> FROM <table>",
        ),
        (
            "organization_id IN (SELECT organization_id FROM members, members)",
            "SELECT <column> FROM <table>",
        ),
        (
            "organization_id IN (SELECT organization_id FROM nowhere)",
            "unknown table \"public\".\"nowhere\"",
        ),
        (
            "id IN (SELECT user_id FROM members)",
            "must have the same type",
        ),
        (
            "organization_id IN (SELECT nope FROM members)",
            "unknown column",
        ),
        (
            "organization_id IN (SELECT organization_id FROM members WHERE organization_id IN \
             (SELECT organization_id FROM members WHERE organization_id IN (SELECT \
             organization_id FROM members WHERE organization_id IN (SELECT organization_id \
             FROM members))))",
            "nested more than 3 deep",
        ),
        (
            "organization_id IN (SELECT organization_id FROM members WHERE active OR \
             organization_id IN (SELECT organization_id FROM members))",
            "under OR or NOT",
        ),
        (
            "organization_id IN (SELECT organization_id FROM members WHERE user_id = $1)",
            "parameter $1 was not provided",
        ),
        (
            "organization_id = (SELECT organization_id FROM members)",
            "subquery",
        ),
    ];
    for (sql, says) in refused {
        let error = compile(sql, &[])
            .err()
            .unwrap_or_else(|| panic!("{sql} compiled"));
        assert!(error.contains(says), "{sql}: {error}");
    }
    // Without the inner tables (a subset's where), the table is unknown.
    let plain = WhereClause::compile(SUBQUERY, &params(&["u1"]), &columns());
    assert!(plain.unwrap_err().to_string().contains("unknown table"));
}

#[test]
fn subqueries_nest_and_list_parents_before_children() {
    let clause = compile(
        "organization_id IN (SELECT organization_id FROM members WHERE user_id IN \
         (SELECT user_id FROM members WHERE organization_id = $1))",
        &[ORG],
    )
    .unwrap();
    let all = clause.all_subqueries();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].parent, all[0].position), (None, 0));
    assert_eq!((all[1].parent, all[1].position), (Some(0), 0));
    assert_eq!(all[1].subquery.table.columns[all[1].column].name, "user_id");
    let (sql, values) = clause.to_sql(1);
    assert!(
        sql.contains("WHERE \"user_id\" IN (SELECT \"user_id\" FROM \"public\".\"members\" WHERE \"organization_id\" = $1::text::uuid)"),
        "{sql}"
    );
    assert_eq!(values, [ORG]);
    // A member row of the outer subquery counts only while its user is in the inner set.
    let outer = &all[0].subquery;
    let inner = &all[1].subquery;
    let row = [Some("1"), Some(ORG2), Some("u1"), Some("t")];
    assert_eq!(
        outer.contribution(&row),
        None,
        "u1 is not in the inner set yet"
    );
    inner.values.set_row(
        "k",
        Some(crate::server::shapes::where_clause::Contribution {
            value: "u1".into(),
            pinned: Vec::new(),
        }),
    );
    let contribution = outer.contribution(&row).unwrap();
    assert_eq!(contribution.value, ORG2);
    assert_eq!(contribution.pinned, [Some("u1".to_owned())]);
}
