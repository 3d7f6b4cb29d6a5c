//! `<column> IN (SELECT <column> FROM <table> [WHERE …])`: a shape whose rows depend on another
//! table. The inner query is compiled like any where clause (against the inner table; it may
//! hold subqueries of its own, three levels deep at most); the inner rows that match it are
//! kept by key in a `ValueSet`, which the outer clause reads when it evaluates a row.
//!
//! Electric's restrictions, kept here: the subquery selects one plain column of one table, with
//! no joins, grouping, ordering or limits; the two columns have the same type (one of those
//! whose text output is canonical: uuid, text, integers, bool); `NOT IN (SELECT …)` and
//! subqueries under `OR`/`NOT` are refused, so a row is in the shape exactly when every
//! subquery holds its value — which is what makes moves in and out exact.

use std::sync::Arc;

use sqlparser::ast::{Expr, InTarget, Query, SelectItem, SetExpr, TableFactor};

use super::compile::Compiler;
use super::tree::{Node, Problem, Subquery, WhereError};
use super::value_set::ValueSet;
use crate::server::shapes::schema::parse_table_name;

/// The `(schema, table)` names the where text's subqueries select from, for the caller to load
/// before compiling. Text that does not parse names none (compiling reports the error).
pub fn subquery_tables(sql: &str) -> Vec<(String, String)> {
    let mut names = Vec::new();
    if let Ok(expr) = super::parse::parse_expression(sql) {
        collect_tables(&expr, &mut names);
    }
    names.sort();
    names.dedup();
    names
}

/// Walked with a stack rather than recursion: an `AND` chain is as deep as it is long.
fn collect_tables(expr: &Expr, out: &mut Vec<(String, String)>) {
    let mut stack = vec![expr];
    while let Some(expr) = stack.pop() {
        match expr {
            Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } => stack.push(inner),
            Expr::BinaryOp { left, right, .. } => {
                stack.push(right);
                stack.push(left);
            }
            Expr::In {
                target: InTarget::Subquery(subquery),
                ..
            } => {
                if let Some((table, _, selection)) = plain_select(subquery) {
                    out.extend(parse_table_name(&table).ok());
                    stack.extend(selection);
                }
            }
            _ => {}
        }
    }
}

/// `SELECT <item> FROM <table> [WHERE <selection>]` and nothing else: (table as written, the
/// item, the selection).
fn plain_select(query: &Query) -> Option<(String, &Expr, Option<&Expr>)> {
    if query.with.is_some()
        || query.order_by.is_some()
        || query.limit_clause.is_some()
        || query.fetch.is_some()
        || !query.locks.is_empty()
    {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let [SelectItem::UnnamedExpr(item)] = select.projection.as_slice() else {
        return None;
    };
    let [from] = select.from.as_slice() else {
        return None;
    };
    let TableFactor::Table {
        name, alias: None, ..
    } = &from.relation
    else {
        return None;
    };
    // Anything beyond the plain form (DISTINCT, joins, GROUP BY, HAVING…) prints differently.
    let mut plain = format!("SELECT {item} FROM {name}");
    if let Some(selection) = &select.selection {
        plain.push_str(&format!(" WHERE {selection}"));
    }
    (select.to_string() == plain).then(|| (name.to_string(), item, select.selection.as_ref()))
}

/// Subqueries inside subqueries inside subqueries, and no deeper.
const MAX_DEPTH: usize = 3;

impl Compiler<'_> {
    pub(super) fn in_subquery(
        &self,
        expr: &Expr,
        left: &Expr,
        query: &Query,
        negated: bool,
    ) -> Result<Node, WhereError> {
        if negated {
            return Err(self.invalid(expr, Problem::Unsupported("NOT IN with a subquery".into())));
        }
        let unsupported = |what: &str| self.invalid(expr, Problem::Unsupported(what.into()));
        let (table_name, item, selection) = plain_select(query).ok_or_else(|| {
            unsupported("subquery other than SELECT <column> FROM <table> [WHERE …]")
        })?;
        let key = parse_table_name(&table_name).map_err(|_| unsupported("subquery table name"))?;
        if self.depth >= MAX_DEPTH {
            return Err(unsupported("subqueries nested more than 3 deep"));
        }
        let Some(table) = self.inner_tables.and_then(|t| t.get(&key)) else {
            return Err(self.invalid(
                expr,
                Problem::UnknownTable(format!("\"{}\".\"{}\"", key.0, key.1)),
            ));
        };
        let inner = Compiler {
            sql: self.sql,
            params: self.params,
            columns: &table.columns,
            inner_tables: self.inner_tables,
            depth: self.depth + 1,
        };
        let super::compile::Term::Column(inner_ref) = inner.term(item)? else {
            return Err(unsupported(
                "subquery selecting something other than a column",
            ));
        };
        let (inner_column, inner_ty) = inner.typed(item, inner_ref)?;
        let super::compile::Term::Column(outer_ref) = self.term(left)? else {
            return Err(unsupported(
                "IN (SELECT …) with something other than a column on the left",
            ));
        };
        let (column, ty) = self.typed(left, outer_ref)?;
        if ty != inner_ty || !super::eval::routable(ty) {
            return Err(self.invalid(
                expr,
                Problem::TypeMismatch(format!(
                    "column {} of type {} and the subquery's column {} of type {} must have \
                     the same type, one of uuid, text, integer or bool",
                    column.name,
                    ty.name(),
                    inner_column.name,
                    inner_ty.name()
                )),
            ));
        }
        let where_clause = selection
            .map(|selection| inner.condition(selection))
            .transpose()?;
        if let Some(inner_root) = &where_clause {
            check_placement(inner_root, self.sql)?;
        }
        let nested = where_clause
            .as_ref()
            .map(top_level_subqueries)
            .unwrap_or_default();
        Ok(Node::InSubquery {
            column,
            subquery: Arc::new(Subquery {
                table: table.clone(),
                column: inner_column.index,
                key_columns: table.key_columns(),
                where_clause,
                nested,
                values: ValueSet::default(),
            }),
        })
    }
}

/// The subqueries ANDed at the top of `root` (where `check_placement` allows them), with the
/// column each constrains.
pub(super) fn top_level_subqueries(root: &Node) -> Vec<(usize, Arc<Subquery>)> {
    let top: &[Node] = match root {
        Node::And(nodes) => nodes,
        node => std::slice::from_ref(node),
    };
    top.iter()
        .filter_map(|node| match node {
            Node::InSubquery { column, subquery } => Some((column.index, subquery.clone())),
            _ => None,
        })
        .collect()
}

/// Subqueries may only be ANDed with the rest of the clause (or be all of it).
pub(super) fn check_placement(root: &Node, sql: &str) -> Result<(), WhereError> {
    let top: &[Node] = match root {
        Node::And(nodes) => nodes,
        node => std::slice::from_ref(node),
    };
    let nested = top.iter().any(|node| match node {
        Node::InSubquery { .. } => false,
        other => other.has_subquery(),
    });
    if nested {
        return Err(WhereError::Invalid {
            location: sql
                .to_lowercase()
                .find("select")
                .map(|i| sql[..i].chars().count()),
            problem: Problem::Unsupported(
                "subquery under OR or NOT (a subquery may only be ANDed with the rest)".into(),
            ),
        });
    }
    Ok(())
}
