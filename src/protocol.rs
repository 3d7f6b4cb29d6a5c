//! What the desktop and the server agree on, at the bottom of both: the tables that sync,
//! Electric's wire names (headers, control messages, operations) and where a new shape starts.
//!
//! Nothing here does I/O or depends on another module of the crate; the sync service writes
//! these names and the desktop's shape client reads them, so each is spelled exactly once.

/// The six tables that sync, in the order a fresh install fetches them.
pub const SYNCED_TABLES: [&str; 6] = [
    "organizations",
    "users",
    "organization_members",
    "repositories",
    "tasks",
    "workspaces",
];

/// True when `table` is one of [`SYNCED_TABLES`].
pub fn is_synced_table(table: &str) -> bool {
    SYNCED_TABLES.contains(&table)
}

/// The offset a shape is first requested at: "from the beginning, snapshot first".
pub const START_OFFSET: &str = "-1";

/// Electric's response headers.
pub mod header {
    pub const HANDLE: &str = "electric-handle";
    pub const OFFSET: &str = "electric-offset";
    pub const SCHEMA: &str = "electric-schema";
    pub const CURSOR: &str = "electric-cursor";
    pub const UP_TO_DATE: &str = "electric-up-to-date";
    pub const HAS_DATA: &str = "electric-has-data";
    pub const SERVER: &str = "electric-server";
}

/// The `control` values of Electric's control messages.
pub mod control {
    pub const UP_TO_DATE: &str = "up-to-date";
    pub const MUST_REFETCH: &str = "must-refetch";
    pub const SNAPSHOT_END: &str = "snapshot-end";
}

/// A change message's `operation`: `insert`, `update` or `delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Insert,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    /// The operation a message's `headers.operation` names; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "insert" => Some(Operation::Insert),
            "update" => Some(Operation::Update),
            "delete" => Some(Operation::Delete),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_read_back_what_they_write() {
        for operation in [Operation::Insert, Operation::Update, Operation::Delete] {
            assert_eq!(Operation::parse(operation.as_str()), Some(operation));
        }
        assert_eq!(Operation::parse("truncate"), None);
    }
}
