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

mod compile;
mod eval;
mod parse;
mod render;
#[cfg(test)]
mod tests;
mod value;

use std::collections::BTreeMap;

use super::schema::ColumnInfo;
use value::{Const, SqlType};

/// A compiled where clause. Cheap to evaluate: every constant is parsed at compile time.
#[derive(Debug, Clone)]
pub struct WhereClause {
    root: Node,
}

/// Where a change's rows can be looked up: the clause can only match a row whose value in
/// `column` (an index into the table's columns), as Postgres prints it, is one of `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    pub column: usize,
    pub values: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum WhereError {
    /// The text is not one SQL expression.
    #[error("At location {location}: {message}")]
    Syntax { location: usize, message: String },
    /// Something follows the expression after a `;`.
    #[error("unescaped \";\" causing statement split")]
    StatementSplit,
    #[error("Parameters must be numbered sequentially, starting from 1")]
    ParamsNotSequential,
    /// A valid expression that is not a valid filter for this table.
    #[error("{}{problem}", at(.location))]
    Invalid {
        location: Option<usize>,
        problem: Problem,
    },
}

fn at(location: &Option<usize>) -> String {
    location.map_or_else(String::new, |l| format!("At location {l}: "))
}

/// Why a parsed where clause cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("unknown column {0}")]
    UnknownColumn(String),
    /// Any SQL outside the supported grammar; the text names the construct.
    #[error("unsupported construct in where clause: {0}")]
    Unsupported(String),
    #[error("parameter ${0} was not provided")]
    MissingParam(usize),
    #[error("invalid parameter {0}: parameters are written $1, $2, …")]
    BadParam(String),
    #[error("column {column} has type {type_name}, which where clauses cannot compare")]
    UncomparableColumn { column: String, type_name: String },
    #[error("type mismatch: {0}")]
    TypeMismatch(String),
    /// A literal or param that does not parse as the type it is compared with.
    #[error("invalid input syntax for type {type_name}: {value}")]
    InvalidValue {
        type_name: &'static str,
        value: String,
    },
    #[error("comparison with NULL is never true; use IS NULL or IS NOT NULL")]
    NullComparison,
    #[error("WHERE clause must return a boolean, found {0}")]
    NotBoolean(String),
}

/// The compiled expression. Comparisons always have the column on the left.
#[derive(Debug, Clone)]
enum Node {
    /// `TRUE` / `FALSE`.
    Literal(bool),
    /// A bare `bool` column.
    BoolColumn(Column),
    IsNull {
        column: Column,
        negated: bool,
    },
    Compare {
        column: Column,
        /// The column's type, which `rhs` is comparable with.
        ty: SqlType,
        op: CmpOp,
        rhs: Operand,
    },
    In {
        column: Column,
        ty: SqlType,
        /// Sorted and deduplicated, for binary search and a canonical order.
        values: Vec<Const>,
        negated: bool,
    },
    Not(Box<Node>),
    /// Flattened: no direct child is itself an `And`.
    And(Vec<Node>),
    /// Flattened: no direct child is itself an `Or`.
    Or(Vec<Node>),
    /// `<node> IS [NOT] TRUE/FALSE/UNKNOWN`.
    Truth {
        node: Box<Node>,
        test: TruthTest,
    },
}

#[derive(Debug, Clone)]
struct Column {
    /// Index into the table's columns, and into evaluated rows.
    index: usize,
    name: String,
}

#[derive(Debug, Clone)]
enum Operand {
    Const(Const),
    Column(Column, SqlType),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TruthTest {
    True,
    NotTrue,
    False,
    NotFalse,
    Unknown,
    NotUnknown,
}

impl WhereClause {
    /// Parses, resolves columns by name against `columns` (the table's columns in attribute
    /// order), substitutes params, type-checks.
    pub fn compile(
        sql: &str,
        params: &BTreeMap<usize, String>,
        columns: &[ColumnInfo],
    ) -> Result<Self, WhereError> {
        compile::compile(sql, params, columns).map(|root| Self { root })
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
        render::to_sql(&self.root, first_param)
    }

    /// A stable canonical text of the clause with params substituted, for the shape's identity:
    /// keywords, spacing, parentheses, `AND`/`OR` nesting, IN-list order and value spelling
    /// (uuid case, timestamp format…) are normalized.
    pub fn canonical(&self) -> String {
        render::canonical(&self.root)
    }

    /// The most selective top-level `col = const` or `col IN (consts)` conjunct, if any, for
    /// routing changes through a hash index. Only for uuid, integer, text and bool columns,
    /// whose Postgres text output does not depend on session settings.
    pub fn routing(&self) -> Option<Routing> {
        eval::routing(&self.root)
    }
}
