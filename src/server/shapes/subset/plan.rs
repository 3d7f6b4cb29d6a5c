//! A subset once checked against its shape: the compiled where clause, the order by the
//! table's column indexes, the limit and offset — what the `read` module turns into SQL.

use crate::server::shapes::where_clause::WhereClause;

/// One `ORDER BY` item: a column of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub column: usize,
    pub descending: bool,
    pub nulls_first: Option<bool>,
}

/// A subset checked against its shape, ready to read.
#[derive(Debug, Clone)]
pub struct Subset {
    pub where_clause: Option<WhereClause>,
    pub order: Vec<OrderItem>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}
