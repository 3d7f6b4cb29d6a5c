//! A shape's `where` clause: compiled once from the request's SQL text and params against the
//! table's columns, then evaluated on every replicated row, rendered into the snapshot query,
//! printed canonically for the shape's identity, and mined for a routing key.
//!
//! The grammar is a deliberately small, fully understood subset of Postgres expressions (the
//! `compile` submodule lists it): comparisons of a column with a constant or another column,
//! `IN` lists, `BETWEEN`, `IS [NOT] NULL`, `IS [NOT] TRUE/FALSE/UNKNOWN`, boolean columns and
//! literals, `AND`/`OR`/`NOT`. Anything else is rejected with an error naming it, rather than evaluated
//! in a way that might disagree with Postgres.
//!
//! Error locations (`At location <n>: …`, as Electric words them) are **0-based character
//! offsets into the where text**, pointing at the offending token, like the node locations
//! Electric reports for invalid expressions.
//!
//! Assumptions shared with Postgres: rows arrive in text output form with DateStyle=ISO; text
//! orders bytewise (the C collation; the snapshot query says `COLLATE "C"` so it agrees whatever
//! the database's collation); a timestamptz literal without an offset is UTC.

mod any;
mod compile;
mod eval;
mod parse;
mod render;
mod subquery;
#[cfg(test)]
mod tests;
mod tree;
mod unsupported;
mod value;
mod value_set;

use std::collections::BTreeMap;
use std::sync::Arc;

use super::schema::ColumnInfo;
use render::Placeholder;
pub use render::param_setting;
pub use subquery::subquery_tables;
use tree::Node;
pub use tree::{InnerTables, Problem, Routing, Subquery, WhereError};
pub use value_set::{Contribution, Transitions, ValueSet};

/// One subquery of a clause, where it sits: under the shape itself (`parent: None`, and
/// `position` is its part of a row's tag) or under another subquery (`parent`, and `position`
/// in that one's `nested`); `column` is the column it constrains in the table above it.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub subquery: Arc<Subquery>,
    pub parent: Option<usize>,
    pub position: usize,
    pub column: usize,
}

/// A compiled where clause. Cheap to evaluate: every constant is parsed at compile time.
#[derive(Debug, Clone)]
pub struct WhereClause {
    root: Node,
}

impl WhereClause {
    /// Parses, resolves columns by name against `columns` (the table's columns in attribute
    /// order), substitutes params, type-checks.
    pub fn compile(
        sql: &str,
        params: &BTreeMap<usize, String>,
        columns: &[ColumnInfo],
    ) -> Result<Self, WhereError> {
        Self::compile_with(sql, params, columns, &InnerTables::new())
    }

    /// [`Self::compile`], with the tables subqueries may select from (see [`subquery_tables`]).
    pub fn compile_with(
        sql: &str,
        params: &BTreeMap<usize, String>,
        columns: &[ColumnInfo],
        inner_tables: &InnerTables,
    ) -> Result<Self, WhereError> {
        let root = compile::compile(sql, params, columns, inner_tables)?;
        subquery::check_placement(&root, sql)?;
        Ok(Self { root })
    }

    /// The clause's subqueries with the outer column each constrains, in order: a row's tag
    /// has one part per subquery, in this order.
    pub fn subqueries(&self) -> Vec<(usize, Arc<Subquery>)> {
        subquery::top_level_subqueries(&self.root)
    }

    /// Every subquery, nested ones too, parents before their children.
    pub fn all_subqueries(&self) -> Vec<Dependency> {
        let mut all = Vec::new();
        let mut pending: Vec<(Option<usize>, usize, usize, Arc<Subquery>)> = self
            .subqueries()
            .into_iter()
            .enumerate()
            .map(|(position, (column, subquery))| (None, position, column, subquery))
            .collect();
        pending.reverse();
        while let Some((parent, position, column, subquery)) = pending.pop() {
            let index = all.len();
            for (nested_position, (nested_column, nested)) in
                subquery.nested.iter().enumerate().rev()
            {
                pending.push((Some(index), nested_position, *nested_column, nested.clone()));
            }
            all.push(Dependency {
                subquery,
                parent,
                position,
                column,
            });
        }
        all
    }

    /// Evaluates against a row given as Postgres *text output* values by column index (same
    /// order as `columns`); `None` = SQL NULL. Three-valued logic: the row matches only if the
    /// whole clause is TRUE. A column missing from the row counts as NULL, and so does a value
    /// that does not parse as the column's type (Postgres never sends one).
    pub fn matches(&self, row: &[Option<&str>]) -> bool {
        self.root.eval(row) == Some(true)
    }

    /// SQL for the snapshot query's WHERE: identifiers double-quoted, every constant a bind
    /// parameter `$k` (k from `first_param`) and the values, as text, in order.
    ///
    /// Each parameter is typed `text` in the SQL and cast from there (`"org" = $1::text::uuid`),
    /// so a client can bind every value as a Rust string, whatever the column's type. Integers
    /// are cast to `int8` whatever the column's width (see `SqlType::bind_name`); ordering
    /// comparisons on text use `COLLATE "C"`, the bytewise order [`Self::matches`] uses.
    pub fn to_sql(&self, first_param: usize) -> (String, Vec<String>) {
        render::to_sql(&self.root, first_param, Placeholder::Bind)
    }

    /// [`Self::to_sql`] for statements without bind parameters (`COPY`): parameter `k` is read
    /// from the setting [`param_setting`]`(k)`, which the caller sets in the same transaction.
    pub fn to_sql_reading_settings(&self) -> (String, Vec<String>) {
        render::to_sql(&self.root, 1, Placeholder::Setting)
    }

    /// A stable canonical text of the clause with params substituted, for the shape's identity:
    /// keywords, spacing, parentheses, `AND`/`OR` nesting, IN-list order and value spelling
    /// (uuid case, timestamp format…) are normalized.
    pub fn canonical(&self) -> String {
        render::canonical(&self.root)
    }

    /// The indexes of the columns the clause reads, sorted, each once.
    pub fn columns(&self) -> Vec<usize> {
        let mut columns = Vec::new();
        self.root.collect_columns(&mut columns);
        columns.sort_unstable();
        columns.dedup();
        columns
    }

    /// The most selective top-level `col = const` or `col IN (consts)` conjunct, if any, for
    /// routing changes through a hash index. Only for uuid, integer, text and bool columns,
    /// whose Postgres text output does not depend on session settings.
    pub fn routing(&self) -> Option<Routing> {
        eval::routing(&self.root)
    }
}
