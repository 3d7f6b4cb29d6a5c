//! Which rows each stream owns. The desktop syncs the organizations it belongs to in one stream
//! (the directory: `organizations`, all of the user's) and every other table in one stream per
//! organization, so that all members of an organization share its shapes. A stream's position
//! is keyed `tasks@<organization id>`, and its rows are told apart from other organizations' by
//! their `organization_id` — or, for people (`users`), who can be in several organizations'
//! streams at once, by the subquery tags each stream keeps under its own name
//! (`users@<organization id>`): a person's row goes only when no stream holds it any more.
//!
//! Everything that removes one stream's rows goes through here: a refetch's staging cleared, a
//! finished refetch swapped in, a deleted row, an organization the user left purged, and the
//! people no stream holds any more swept away.

use std::collections::BTreeSet;

use rusqlite::{Connection, Transaction, params_from_iter};

use crate::store::StoreError;

/// The directory: the organizations the user belongs to, one stream for all of them.
pub const DIRECTORY: &str = "organizations";

/// The tables synced one stream per organization: every synced table but the directory.
pub const ORGANIZATION_TABLES: [&str; 5] = [
    "users",
    "organization_members",
    "repositories",
    "tasks",
    "workspaces",
];

/// One stream: a table, and the organization it is limited to (none: all the user may see).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamKey {
    pub table: &'static str,
    pub organization: Option<String>,
}

/// A condition on a table's rows with its parameters.
type Condition = (String, Vec<String>);

impl StreamKey {
    /// The directory's stream.
    pub fn directory() -> Self {
        Self {
            table: DIRECTORY,
            organization: None,
        }
    }

    /// The streams of one organization.
    pub fn of_organization(organization: &str) -> Vec<Self> {
        ORGANIZATION_TABLES
            .iter()
            .map(|table| Self {
                table,
                organization: Some(organization.to_owned()),
            })
            .collect()
    }

    /// The name its position is stored under (`tasks@<organization id>`, or the table's name).
    pub fn name(&self) -> String {
        match &self.organization {
            Some(organization) => format!("{}@{organization}", self.table),
            None => self.table.to_owned(),
        }
    }

    /// The name this stream's tags on `target` (the table or its staging) are kept under.
    pub fn tag_scope(&self, target: &str) -> String {
        match &self.organization {
            Some(organization) => format!("{target}@{organization}"),
            None => target.to_owned(),
        }
    }

    /// True when rows are owned through tags: people, shared between organizations.
    fn owned_by_tags(&self) -> bool {
        self.organization.is_some() && self.table == "users"
    }

    /// The rows of `target` this stream brought, whether or not another holds them too.
    fn brought(&self, target: &str) -> Condition {
        match &self.organization {
            None => ("1".to_owned(), Vec::new()),
            Some(_) if self.owned_by_tags() => (
                "id IN (SELECT row_id FROM synced_row_tags WHERE table_name = ?1)".to_owned(),
                vec![self.tag_scope(target)],
            ),
            Some(organization) => {
                let column = if self.table == DIRECTORY {
                    "id"
                } else {
                    "organization_id"
                };
                (format!("{column} = ?1"), vec![organization.clone()])
            }
        }
    }

    /// The rows of `target` this stream holds and no other stream does.
    fn owned(&self, target: &str) -> Condition {
        let (brought, mut params) = self.brought(target);
        if !self.owned_by_tags() {
            return (brought, params);
        }
        params.push(target.to_owned());
        (
            format!(
                "{brought} AND id NOT IN (SELECT row_id FROM synced_row_tags \
                 WHERE table_name <> ?1 AND (table_name = ?2 OR table_name GLOB ?2 || '@*'))"
            ),
            params,
        )
    }
}

/// Deletes the rows of `target` only `key` holds, and forgets `key`'s tags on it.
fn delete_owned(tx: &Transaction<'_>, key: &StreamKey, target: &str) -> Result<usize, StoreError> {
    let (owned, params) = key.owned(target);
    let deleted = tx.execute(
        &format!("DELETE FROM {target} WHERE {owned}"),
        params_from_iter(params),
    )?;
    tx.execute(
        "DELETE FROM synced_row_tags WHERE table_name = ?1",
        [key.tag_scope(target)],
    )?;
    Ok(deleted)
}

/// Empties `key`'s part of staging before a refetch loads into it.
pub fn clear_staging(tx: &Transaction<'_>, key: &StreamKey) -> Result<(), StoreError> {
    delete_owned(tx, key, &format!("staging_{}", key.table))?;
    Ok(())
}

/// Replaces `key`'s visible rows with its finished refetch (`columns`: the quoted column list
/// both tables share). Other streams' rows, visible or staged, are left alone.
pub fn swap_in_staging(
    tx: &Transaction<'_>,
    key: &StreamKey,
    columns: &str,
) -> Result<(), StoreError> {
    let (table, staging) = (key.table, format!("staging_{}", key.table));
    delete_owned(tx, key, table)?;
    let (staged, params) = key.brought(&staging);
    tx.execute(
        &format!(
            "INSERT OR REPLACE INTO {table} ({columns}) SELECT {columns} FROM {staging} WHERE {staged}"
        ),
        params_from_iter(params),
    )?;
    let (owned, params) = key.owned(&staging);
    tx.execute(
        &format!("DELETE FROM {staging} WHERE {owned}"),
        params_from_iter(params),
    )?;
    tx.execute(
        "UPDATE synced_row_tags SET table_name = ?1 WHERE table_name = ?2",
        [key.tag_scope(table), key.tag_scope(&staging)],
    )?;
    Ok(())
}

/// Deletes row `id` of `target` for `key`, unless another stream still holds it. Returns the
/// rows deleted.
pub fn delete_row(
    tx: &Transaction<'_>,
    key: &StreamKey,
    target: &str,
    id: &str,
) -> Result<usize, StoreError> {
    if key.owned_by_tags() && super::tags::held(tx, target, id)? {
        return Ok(0);
    }
    Ok(tx
        .prepare_cached(&format!("DELETE FROM {target} WHERE id = ?1"))?
        .execute([id])?)
}

/// The organizations the directory lists: the ones whose streams run.
pub fn listed_organizations(conn: &Connection) -> Result<BTreeSet<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM organizations")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// The organizations anything local belongs to: stored positions, rows, staged rows, tags.
pub fn held_organizations(conn: &Connection) -> Result<BTreeSet<String>, StoreError> {
    let mut sources = vec![
        "SELECT substr(table_name, instr(table_name, '@') + 1) FROM electric_sync_state \
         WHERE instr(table_name, '@') > 0"
            .to_owned(),
        "SELECT substr(table_name, instr(table_name, '@') + 1) FROM synced_row_tags \
         WHERE instr(table_name, '@') > 0"
            .to_owned(),
    ];
    for table in &ORGANIZATION_TABLES[1..] {
        sources.push(format!("SELECT organization_id FROM {table}"));
        sources.push(format!("SELECT organization_id FROM staging_{table}"));
    }
    let sql = format!("SELECT DISTINCT * FROM ({})", sources.join(" UNION "));
    Ok(conn
        .prepare(&sql)?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Removes everything of `organization` (the user left it): its rows, staged rows, tags and
/// positions; people another organization's stream holds stay. Returns the rows removed.
pub fn purge(tx: &Transaction<'_>, organization: &str) -> Result<usize, StoreError> {
    let mut removed = 0;
    for key in StreamKey::of_organization(organization) {
        removed += delete_owned(tx, &key, key.table)?;
        delete_owned(tx, &key, &format!("staging_{}", key.table))?;
        tx.execute(
            "DELETE FROM electric_sync_state WHERE table_name = ?1",
            [key.name()],
        )?;
    }
    Ok(removed)
}

/// Once every listed organization's people stream has a finished snapshot, deletes the people
/// no stream holds (left over from an organization purged before, or from the per-user shape
/// of older versions). Returns the rows deleted.
pub fn sweep_people(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    let unsettled: i64 = tx.query_row(
        "SELECT count(*) FROM organizations o WHERE NOT EXISTS (SELECT 1 FROM electric_sync_state s \
         WHERE s.table_name = 'users@' || o.id AND s.refetching = 0)",
        [],
        |r| r.get(0),
    )?;
    if unsettled > 0 {
        return Ok(0);
    }
    Ok(tx.execute(
        "DELETE FROM users WHERE id NOT IN \
         (SELECT row_id FROM synced_row_tags WHERE table_name GLOB 'users@*')",
        [],
    )?)
}
