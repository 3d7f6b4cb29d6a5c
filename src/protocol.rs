//! What the desktop and the server agree on, at the bottom of both: the tables that sync,
//! Electric's wire names (headers, control messages, operations), where a new shape starts, and
//! which links are links.
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

/// The longest link either side keeps or opens.
pub const MAX_LINK: usize = 2_048;

/// True for a plain `http://` or `https://` link with a host, of at most [`MAX_LINK`]
/// characters: the only links the server stores (pull requests, issues, avatars) and the only
/// ones the desktop opens. `javascript:`, `file:` and the like are neither.
pub fn is_web_link(value: &str) -> bool {
    let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &value[8..]
    } else if lower.starts_with("http://") {
        &value[7..]
    } else {
        return false;
    };
    value.len() <= MAX_LINK
        && !value.contains(['\0', ' ', '\n', '\r', '\t', '<', '>', '"'])
        && rest.split('/').next().is_some_and(|host| !host.is_empty())
}

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
    fn only_plain_web_links_are_links() {
        for good in [
            "https://github.com/a/b/pull/1",
            "http://linear.app/x",
            "HTTPS://Example.com",
        ] {
            assert!(is_web_link(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://",
            "ftp://example.com",
            "https://exa mple.com",
            "data:text/html,<b>",
        ] {
            assert!(!is_web_link(bad), "{bad}");
        }
        assert!(!is_web_link(&format!(
            "https://e.com/{}",
            "a".repeat(MAX_LINK)
        )));
    }

    #[test]
    fn operations_read_back_what_they_write() {
        for operation in [Operation::Insert, Operation::Update, Operation::Delete] {
            assert_eq!(Operation::parse(operation.as_str()), Some(operation));
        }
        assert_eq!(Operation::parse("truncate"), None);
    }
}
