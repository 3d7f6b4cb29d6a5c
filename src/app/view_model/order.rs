//! The task tree's order, defined once: organization, then status group (work in flight first,
//! finished work last), then priority, then the key in natural order (`SUP-9` before `SUP-10`,
//! `MY-TEAM-2` before `MY-TEAM-10`).
//!
//! [`order_key`] turns a task into a string whose byte order is that order. The full list sorts
//! by it in Rust, and the first screen's SQL sorts by the same function registered on the
//! connection as `task_order(status, priority, external_key, id)`, so the first screen is
//! always the start of the full list.

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

/// Order of the status groups: work in flight first, finished work last.
pub fn status_rank(status: &str) -> u8 {
    match status {
        "In Progress" => 0,
        "In Review" => 1,
        "Todo" => 2,
        "Backlog" => 3,
        "Done" => 5,
        "Canceled" => 6,
        _ => 4,
    }
}

pub fn priority_rank(priority: &str) -> u8 {
    match priority {
        "urgent" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

/// The key a task shows: its tracker's (`SUP-12`), else the start of its id.
pub fn display_key<'a>(external_key: Option<&'a str>, id: &'a str) -> &'a str {
    match external_key {
        Some(key) => key,
        None => id.char_indices().nth(8).map_or(id, |(end, _)| &id[..end]),
    }
}

/// Splits `SUP-10` into `("SUP", 10)` at the last dash; a key without a number sorts after
/// every numbered key of its prefix.
fn natural_key(key: &str) -> (&str, u64) {
    match key.rsplit_once('-') {
        Some((prefix, number)) => (prefix, number.parse().unwrap_or(u64::MAX)),
        None => (key, u64::MAX),
    }
}

/// A string that sorts tasks (within one organization) in the tree's order. Each text part
/// ends with a NUL so that a shorter text sorts before a longer one it starts, as in Rust.
pub fn order_key(status: &str, priority: &str, key: &str) -> String {
    let (prefix, number) = natural_key(key);
    format!(
        "{}{status}\0{}{prefix}\0{number:020}",
        status_rank(status),
        priority_rank(priority)
    )
}

/// Registers `task_order(status, priority, external_key, id)` on `conn` for `ORDER BY`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "task_order",
        4,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let status: String = ctx.get(0)?;
            let priority: String = ctx.get(1)?;
            let external_key: Option<String> = ctx.get(2)?;
            let id: String = ctx.get(3)?;
            let key = display_key(external_key.as_deref(), &id);
            Ok(order_key(&status, &priority, key))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_naturally_even_with_dashes_in_the_prefix() {
        let mut keys = ["MY-TEAM-10", "MY-TEAM-2", "MY-9", "SUP-10", "SUP-9", "SUP"];
        keys.sort_by_key(|k| order_key("Todo", "none", k));
        assert_eq!(
            keys,
            ["MY-9", "MY-TEAM-2", "MY-TEAM-10", "SUP-9", "SUP-10", "SUP"]
        );
    }

    #[test]
    fn status_and_priority_come_before_the_key() {
        assert!(order_key("In Progress", "low", "Z-1") < order_key("Todo", "urgent", "A-1"));
        assert!(order_key("Todo", "urgent", "A-9") < order_key("Todo", "high", "A-1"));
        assert!(order_key("Custom", "none", "A-1") < order_key("Done", "none", "A-1"));
        assert!(order_key("Todo", "none", "A-1") < order_key("Todo X", "none", "A-1"));
    }

    #[test]
    fn sql_sorts_by_the_same_definition() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let ordered: Vec<String> = conn
            .prepare(
                "SELECT column1 FROM (VALUES ('MY-TEAM-10'), ('MY-TEAM-2'), ('MY-9')) \
                 ORDER BY task_order('Todo', 'none', column1, 'id')",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ordered, ["MY-9", "MY-TEAM-2", "MY-TEAM-10"]);
    }
}
