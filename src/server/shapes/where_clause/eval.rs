//! Evaluating a compiled clause on a row (SQL three-valued logic, no allocation) and finding
//! its routing key.

use std::cmp::Ordering;

use super::tree::{CmpOp, Node, Operand, Routing, Subquery, TruthTest};
use super::value::{Datum, SqlType};
use super::value_set::Contribution;

impl Node {
    /// `Some(true)`, `Some(false)`, or `None` for SQL's unknown.
    pub(super) fn eval(&self, row: &[Option<&str>]) -> Option<bool> {
        match self {
            Node::Literal(b) => Some(*b),
            Node::BoolColumn(column) => match datum(row, column.index, SqlType::Bool)? {
                Datum::Bool(b) => Some(b),
                _ => None,
            },
            Node::IsNull { column, negated } => Some(cell(row, column.index).is_none() != *negated),
            Node::Compare {
                column,
                ty,
                op,
                rhs,
            } => {
                let left = datum(row, column.index, *ty)?;
                let ordering = match rhs {
                    Operand::Const(c) => left.cmp(&c.datum()),
                    Operand::Column(other, other_ty) => {
                        left.cmp(&datum(row, other.index, *other_ty)?)
                    }
                };
                Some(op.holds(ordering))
            }
            Node::In {
                column,
                ty,
                values,
                negated,
            } => {
                let left = datum(row, column.index, *ty)?;
                let found = values.binary_search_by(|c| c.datum().cmp(&left)).is_ok();
                Some(found != *negated)
            }
            Node::InSubquery { column, subquery } => {
                Some(subquery.values.contains(cell(row, column.index)?))
            }
            Node::Not(node) => node.eval(row).map(|b| !b),
            Node::And(nodes) => {
                // FALSE wins over unknown, which wins over TRUE.
                let mut unknown = false;
                for node in nodes {
                    match node.eval(row) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                (!unknown).then_some(true)
            }
            Node::Or(nodes) => {
                let mut unknown = false;
                for node in nodes {
                    match node.eval(row) {
                        Some(true) => return Some(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                (!unknown).then_some(false)
            }
            Node::Truth { node, test } => Some(test.holds(node.eval(row))),
        }
    }
}

fn cell<'a>(row: &[Option<&'a str>], index: usize) -> Option<&'a str> {
    row.get(index).copied().flatten()
}

fn datum<'a>(row: &[Option<&'a str>], index: usize, ty: SqlType) -> Option<Datum<'a>> {
    ty.parse(cell(row, index)?)
}

impl CmpOp {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            CmpOp::Eq => ordering.is_eq(),
            CmpOp::Ne => ordering.is_ne(),
            CmpOp::Lt => ordering.is_lt(),
            CmpOp::Le => ordering.is_le(),
            CmpOp::Gt => ordering.is_gt(),
            CmpOp::Ge => ordering.is_ge(),
        }
    }
}

impl TruthTest {
    fn holds(self, value: Option<bool>) -> bool {
        match self {
            TruthTest::True => value == Some(true),
            TruthTest::NotTrue => value != Some(true),
            TruthTest::False => value == Some(false),
            TruthTest::NotFalse => value != Some(false),
            TruthTest::Unknown => value.is_none(),
            TruthTest::NotUnknown => value.is_some(),
        }
    }
}

/// See [`super::WhereClause::routing`]. Every row the clause matches has, in the chosen column,
/// a value equal to one of the constants, and Postgres prints equal values of these types
/// identically, so comparing text is exact.
pub(super) fn routing(root: &Node) -> Option<Routing> {
    let conjuncts = match root {
        Node::And(nodes) => nodes.as_slice(),
        node => std::slice::from_ref(node),
    };
    conjuncts
        .iter()
        .filter_map(|node| match node {
            Node::Compare {
                column,
                ty,
                op: CmpOp::Eq,
                rhs: Operand::Const(c),
            } if routable(*ty) => Some((column, *ty, std::slice::from_ref(c))),
            Node::In {
                column,
                ty,
                values,
                negated: false,
            } if routable(*ty) => Some((column, *ty, values.as_slice())),
            _ => None,
        })
        // Fewest values first; a bool column splits rows in two at best, so it comes last.
        .min_by_key(|(_, ty, values)| (values.len(), *ty == SqlType::Bool))
        .map(|(column, _, values)| Routing {
            column: column.index,
            values: values.iter().map(|c| c.to_pg_text()).collect(),
        })
}

/// Types whose text output is the same whatever the session's TimeZone and DateStyle.
pub(super) fn routable(ty: SqlType) -> bool {
    matches!(ty, SqlType::Uuid | SqlType::Text | SqlType::Bool) || ty.is_integer()
}

impl Subquery {
    /// What an inner row gives this subquery: its selected column (and its values in the
    /// columns nested subqueries constrain), when the row matches.
    pub fn contribution(&self, row: &[Option<&str>]) -> Option<Contribution> {
        let matches = self
            .where_clause
            .as_ref()
            .is_none_or(|w| w.eval(row) == Some(true));
        let value = row
            .get(self.column)
            .copied()
            .flatten()
            .filter(|_| matches)?;
        Some(Contribution {
            value: value.to_owned(),
            pinned: self
                .nested
                .iter()
                .map(|(column, _)| row.get(*column).copied().flatten().map(str::to_owned))
                .collect(),
        })
    }

    /// The inner row's identity: its key columns' values.
    pub fn key_of(&self, row: &[Option<&str>]) -> String {
        let mut key = String::new();
        for &column in &self.key_columns {
            key.push_str(row.get(column).copied().flatten().unwrap_or("\u{0}"));
            key.push('\u{1}');
        }
        key
    }

    /// The routing key of the inner where clause (see [`super::WhereClause::routing`]).
    pub fn routing(&self) -> Option<Routing> {
        self.where_clause.as_ref().and_then(routing)
    }
}
