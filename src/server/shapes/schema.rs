//! What the sync service knows about a table's columns: names, Postgres types, primary key,
//! nullability. It feeds the `electric-schema` header, where-clause type checking, row keys
//! and the snapshot query.

/// One column of a synced table, in attribute order (dropped columns excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    /// Postgres type name as in `pg_type.typname` (`int4`, `uuid`, `timestamptz`, `text`…);
    /// for arrays, the element type's name (and `dims > 0`).
    pub type_name: String,
    /// Array dimensions; 0 for scalars.
    pub dims: i32,
    pub not_null: bool,
    /// Position in the primary key, if part of it.
    pub pk_index: Option<usize>,
}
