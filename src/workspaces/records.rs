//! What starting and finishing work read from the profile's SQLite: a task, a linked folder
//! with its repository, the signed-in user's workspaces on this device, and the
//! `workspace_paths` table that says where each of them lives.

use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension, params};

use super::error::WorkError;
use crate::store::StoreError;

/// A task as starting work needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub id: String,
    pub organization_id: String,
    /// Its key (`ACME-12`), or the start of its id.
    pub key: String,
    pub title: String,
    /// The branch the tracker names for it, if any.
    pub branch: Option<String>,
    /// The repository suggested for it, if any.
    pub repository_id: Option<String>,
}

/// A folder of this device linked to an organization repository.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderRecord {
    pub id: String,
    pub path: PathBuf,
    pub repository_id: String,
    pub repository_name: String,
    pub organization_id: String,
    pub default_branch: String,
}

/// Where one of this device's workspaces lives, and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct PathRecord {
    pub workspace_id: String,
    pub owner_id: Option<String>,
    pub task_id: Option<String>,
    pub repository_id: Option<String>,
    pub branch: Option<String>,
    pub path: PathBuf,
    pub folder_id: Option<String>,
    pub is_worktree: bool,
}

/// The task with id `id`, or the one whose key is `id` (any case), not deleted.
pub fn task(conn: &Connection, id_or_key: &str) -> Result<TaskRecord, WorkError> {
    conn.query_row(
        "SELECT id, organization_id, coalesce(external_key, substr(id, 1, 8)), title, branch, \
         repository_id FROM tasks WHERE deleted_at IS NULL AND (id = ?1 OR upper(external_key) = upper(?1)) \
         ORDER BY id = ?1 DESC LIMIT 1",
        [id_or_key],
        |r| {
            Ok(TaskRecord {
                id: r.get(0)?,
                organization_id: r.get(1)?,
                key: r.get(2)?,
                title: r.get(3)?,
                branch: r.get(4)?,
                repository_id: r.get(5)?,
            })
        },
    )
    .optional()
    .map_err(StoreError::from)?
    .ok_or_else(|| WorkError::NoSuchTask(id_or_key.to_owned()))
}

const FOLDER_COLUMNS: &str = "SELECT l.id, l.local_path, r.id, r.name, r.organization_id, \
     r.default_branch FROM local_repos l JOIN repositories r ON r.id = l.repository_id";

fn folder_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FolderRecord> {
    Ok(FolderRecord {
        id: r.get(0)?,
        path: PathBuf::from(r.get::<_, String>(1)?),
        repository_id: r.get(2)?,
        repository_name: r.get(3)?,
        organization_id: r.get(4)?,
        default_branch: r.get(5)?,
    })
}

/// The linked folders of this device, by path.
pub fn folders(conn: &Connection) -> Result<Vec<FolderRecord>, StoreError> {
    let mut statement = conn.prepare(&format!("{FOLDER_COLUMNS} ORDER BY l.local_path"))?;
    let rows = statement.query_map([], folder_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The linked folder with id `id`.
pub fn folder(conn: &Connection, id: &str) -> Result<FolderRecord, WorkError> {
    conn.query_row(
        &format!("{FOLDER_COLUMNS} WHERE l.id = ?1"),
        [id],
        folder_row,
    )
    .optional()
    .map_err(StoreError::from)?
    .ok_or_else(|| WorkError::FolderNotLinked(id.to_owned()))
}

const PATH_COLUMNS: &str = "SELECT workspace_id, owner_id, task_id, repository_id, branch, \
     local_path, local_repo_id, is_worktree FROM workspace_paths p";

fn path_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PathRecord> {
    Ok(PathRecord {
        workspace_id: r.get(0)?,
        owner_id: r.get(1)?,
        task_id: r.get(2)?,
        repository_id: r.get(3)?,
        branch: r.get(4)?,
        path: PathBuf::from(r.get::<_, String>(5)?),
        folder_id: r.get(6)?,
        is_worktree: r.get(7)?,
    })
}

/// Where workspace `id` lives on this device, if it was started here.
pub fn path_of(conn: &Connection, workspace_id: &str) -> Result<Option<PathRecord>, StoreError> {
    Ok(conn
        .query_row(
            &format!("{PATH_COLUMNS} WHERE workspace_id = ?1"),
            [workspace_id],
            path_row,
        )
        .optional()?)
}

/// Remembers where workspace `id` lives, and what it is.
pub fn record_path(conn: &Connection, record: &PathRecord) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO workspace_paths (workspace_id, owner_id, task_id, repository_id, branch, \
                                      local_path, local_repo_id, is_worktree) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (workspace_id) DO UPDATE SET \
         local_path = excluded.local_path, local_repo_id = excluded.local_repo_id, \
         is_worktree = excluded.is_worktree, branch = excluded.branch",
        params![
            record.workspace_id,
            record.owner_id,
            record.task_id,
            record.repository_id,
            record.branch,
            record.path.display().to_string(),
            record.folder_id,
            record.is_worktree
        ],
    )?;
    Ok(())
}

/// `me`'s open workspace started on this device for `task` in `repository` (also before sync
/// brought it back), if any: not archived, and no archive on its way.
pub fn open_workspace_for(
    conn: &Connection,
    me: &str,
    task: &str,
    repository: &str,
) -> Result<Option<PathRecord>, StoreError> {
    Ok(conn
        .query_row(
            &format!(
                "{PATH_COLUMNS} WHERE p.owner_id = ?1 AND p.task_id = ?2 AND p.repository_id = ?3 \
                 AND NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = p.workspace_id \
                                 AND w.status = 'archived') \
                 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = p.workspace_id \
                                 AND o.command = 'archive_workspace' \
                                 AND o.state IN ('pending', 'sent')) \
                 ORDER BY p.created_at DESC LIMIT 1"
            ),
            params![me, task, repository],
            path_row,
        )
        .optional()?)
}

/// This device's name as teammates see it: the one set in the profile, else the host's.
pub fn device_name(conn: &Connection) -> Result<String, StoreError> {
    let chosen: Option<String> = conn.query_row(
        "SELECT nullif(device_name, '') FROM settings WHERE id = 1",
        [],
        |r| r.get(0),
    )?;
    Ok(chosen.unwrap_or_else(host_name))
}

/// This machine's name, from the operating system.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "this computer".to_owned())
}
