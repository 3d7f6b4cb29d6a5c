//! The compiled form of a where clause — the tree `compile` builds and `eval` and `render`
//! walk — and the errors compiling can end in.

use std::collections::HashMap;
use std::sync::Arc;

use super::value::{Const, SqlType};
use super::value_set::ValueSet;
use crate::server::shapes::schema::TableInfo;

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
    #[error("unknown table {0} (or it is not synced)")]
    UnknownTable(String),
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

/// The inner tables a where clause's subqueries name, resolved by the caller before compiling.
pub type InnerTables = HashMap<(String, String), Arc<TableInfo>>;

/// One subquery of a shape's where clause, and the values it currently yields.
#[derive(Debug)]
pub struct Subquery {
    pub table: Arc<TableInfo>,
    /// The selected column's index in the inner table.
    pub column: usize,
    /// The inner table's key columns, which identify its rows in `values`.
    pub(super) key_columns: Vec<usize>,
    /// The inner where clause, compiled against the inner table.
    pub(super) where_clause: Option<Node>,
    /// The subqueries of the inner where clause, with the inner table's column each constrains.
    pub nested: Vec<(usize, Arc<Subquery>)>,
    pub values: ValueSet,
}

/// The compiled expression. Comparisons always have the column on the left.
#[derive(Debug, Clone)]
pub(super) enum Node {
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
    /// `<column> IN (SELECT …)`: true while the row's value is in the subquery's current set.
    InSubquery {
        column: Column,
        subquery: Arc<Subquery>,
    },
    /// `<node> IS [NOT] TRUE/FALSE/UNKNOWN`.
    Truth {
        node: Box<Node>,
        test: TruthTest,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Column {
    /// Index into the table's columns, and into evaluated rows.
    pub(super) index: usize,
    pub(super) name: String,
}

#[derive(Debug, Clone)]
pub(super) enum Operand {
    Const(Const),
    Column(Column, SqlType),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TruthTest {
    True,
    NotTrue,
    False,
    NotFalse,
    Unknown,
    NotUnknown,
}

impl Node {
    /// Adds the index of every column the expression reads to `out`.
    pub(super) fn collect_columns(&self, out: &mut Vec<usize>) {
        match self {
            Node::Literal(_) => {}
            Node::BoolColumn(column)
            | Node::IsNull { column, .. }
            | Node::In { column, .. }
            | Node::InSubquery { column, .. } => out.push(column.index),
            Node::Compare { column, rhs, .. } => {
                out.push(column.index);
                if let Operand::Column(other, _) = rhs {
                    out.push(other.index);
                }
            }
            Node::Not(node) | Node::Truth { node, .. } => node.collect_columns(out),
            Node::And(nodes) | Node::Or(nodes) => nodes.iter().for_each(|n| n.collect_columns(out)),
        }
    }
}

impl Node {
    /// True when a subquery appears anywhere in the expression.
    pub(super) fn has_subquery(&self) -> bool {
        match self {
            Node::InSubquery { .. } => true,
            Node::Not(node) | Node::Truth { node, .. } => node.has_subquery(),
            Node::And(nodes) | Node::Or(nodes) => nodes.iter().any(Node::has_subquery),
            _ => false,
        }
    }
}

impl Node {
    /// `column [NOT] IN (values)`, the values sorted and deduplicated as `In` requires.
    pub(super) fn one_of(
        column: Column,
        ty: SqlType,
        mut values: Vec<Const>,
        negated: bool,
    ) -> Self {
        values.sort();
        values.dedup();
        Node::In {
            column,
            ty,
            values,
            negated,
        }
    }
}
