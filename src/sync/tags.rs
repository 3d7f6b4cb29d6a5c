//! The tags of subquery shapes' rows (`synced_row_tags`): set when a row arrives, changed by
//! updates that bring `removed_tags`, and consumed by move-out events — a row whose last tag a
//! move-out pattern matches is deleted. Each stream keeps its tags under its own scope
//! (`users@<organization id>`, see `slices`), so a person two organizations' streams hold keeps
//! their row until neither tags it. Tags are composite (`part|part`, `\` escaping), and a
//! pattern names one part by position. Tables without subqueries never have tags, and nothing
//! here runs for them but a deleted row's cleanup.

use rusqlite::{Transaction, params};

use super::shape_client::{Change, MovePattern};
use crate::protocol::Operation;
use crate::store::StoreError;

const DELETE_TAG: &str =
    "DELETE FROM synced_row_tags WHERE table_name = ?1 AND row_id = ?2 AND tag = ?3";

/// Records `change`'s tags for row `id` under `scope`. Inserts and updates without tags (every
/// change of a shape without subqueries) cost nothing here.
pub fn record(
    tx: &Transaction<'_>,
    scope: &str,
    id: &str,
    change: &Change,
) -> Result<(), StoreError> {
    let untagged = change.tags.is_empty() && change.removed_tags.is_empty();
    if untagged && change.operation != Operation::Delete {
        return Ok(());
    }
    match change.operation {
        // An insert replaces the row and its tags; a delete takes both away.
        Operation::Insert | Operation::Delete => {
            tx.prepare_cached("DELETE FROM synced_row_tags WHERE table_name = ?1 AND row_id = ?2")?
                .execute(params![scope, id])?;
        }
        Operation::Update => {
            for tag in &change.removed_tags {
                tx.prepare_cached(DELETE_TAG)?
                    .execute(params![scope, id, tag])?;
            }
        }
    }
    if change.operation != Operation::Delete {
        for tag in &change.tags {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO synced_row_tags (table_name, row_id, tag) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![scope, id, tag])?;
        }
    }
    Ok(())
}

/// True when any stream still tags row `id` of `target` (a table or its staging).
pub fn held(tx: &Transaction<'_>, target: &str, id: &str) -> Result<bool, StoreError> {
    let tags: i64 = tx
        .prepare_cached(
            "SELECT count(*) FROM synced_row_tags WHERE row_id = ?2 \
             AND (table_name = ?1 OR table_name GLOB ?1 || '@*')",
        )?
        .query_row(params![target, id], |r| r.get(0))?;
    Ok(tags > 0)
}

/// Applies a move-out to `target` for the stream whose tags are under `scope`: removes the tags
/// `patterns` match and deletes the rows no stream tags any more. Returns the rows deleted.
pub fn move_out(
    tx: &Transaction<'_>,
    scope: &str,
    target: &str,
    patterns: &[MovePattern],
) -> Result<usize, StoreError> {
    let tagged: Vec<(String, String)> = tx
        .prepare_cached("SELECT row_id, tag FROM synced_row_tags WHERE table_name = ?1")?
        .query_map([scope], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut touched: Vec<&str> = Vec::new();
    for (row_id, tag) in &tagged {
        let parts = split_tag(tag);
        let matched = patterns
            .iter()
            .any(|p| parts.get(p.pos).is_some_and(|part| *part == p.value));
        if matched {
            tx.prepare_cached(DELETE_TAG)?
                .execute(params![scope, row_id, tag])?;
            touched.push(row_id);
        }
    }
    touched.sort_unstable();
    touched.dedup();
    let mut deleted = 0;
    for row_id in touched {
        if !held(tx, target, row_id)? {
            deleted += tx
                .prepare_cached(&format!("DELETE FROM {target} WHERE id = ?1"))?
                .execute([row_id])?;
        }
    }
    Ok(deleted)
}

/// The parts of a composite tag, split at each `|` that is not escaped, escapes kept (patterns
/// carry parts escaped the same way).
fn split_tag(tag: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (i, c) in tag.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '|' => {
                parts.push(&tag[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tag[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::split_tag;

    #[test]
    fn composite_tags_split_at_unescaped_bars() {
        assert_eq!(split_tag("a"), ["a"]);
        assert_eq!(split_tag("a|b"), ["a", "b"]);
        assert_eq!(split_tag(r"a\|b|c"), [r"a\|b", "c"]);
        assert_eq!(split_tag(r"a\\|b"), [r"a\\", "b"]);
    }
}
