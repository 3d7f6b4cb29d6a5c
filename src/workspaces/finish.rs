//! Finishing work: a workspace is archived (hidden from the tree, kept in the database), and
//! its worktree removed when asked — only when nothing uncommitted or unpushed would be lost;
//! otherwise it is kept, saying what it still holds.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};
use uuid::Uuid;

use super::error::WorkError;
use super::records;
use crate::gitlink::worktrees::{self, Loss, WorktreeError};
use crate::outbox::{self, Command};
use crate::store::StoreError;

/// What became of a finished workspace's folder.
#[derive(Debug, Clone, PartialEq)]
pub enum Folder {
    /// Its worktree was removed (the branch stays).
    Removed(PathBuf),
    /// Kept: removing was not asked, or it is the clone itself.
    Kept(Option<PathBuf>),
    /// Kept because removing it would lose this.
    KeptBecause(PathBuf, Loss),
}

impl Folder {
    /// In words, for a notice or the command line.
    pub fn describe(&self) -> String {
        match self {
            Folder::Removed(path) => format!("removed the worktree {}", path.display()),
            Folder::Kept(Some(path)) => format!("kept {}", path.display()),
            Folder::Kept(None) => "nothing to remove on this computer".to_owned(),
            Folder::KeptBecause(path, loss) => {
                format!("kept {}: {loss} would be lost", path.display())
            }
        }
    }
}

/// Archives workspace `id` and, when `remove`, removes its worktree if that loses nothing.
pub fn finish(conn: &mut Connection, id: &str, remove: bool) -> Result<Folder, WorkError> {
    let uuid = Uuid::parse_str(id).map_err(|_| WorkError::NoSuchWorkspace(id.to_owned()))?;
    outbox::enqueue(conn, Command::ArchiveWorkspace { id: uuid })?;
    let Some(place) = records::path_of(conn, id)? else {
        return Ok(Folder::Kept(None));
    };
    if !remove || !place.is_worktree || !place.path.exists() {
        return Ok(Folder::Kept(Some(place.path)));
    }
    let base = base_branch(conn, id)?;
    match worktrees::remove(&place.path, base.as_deref()) {
        Ok(()) => Ok(Folder::Removed(place.path)),
        Err(WorktreeError::WouldLose { path, loss }) => Ok(Folder::KeptBecause(path, loss)),
        Err(other) => Err(other.into()),
    }
}

/// What removing workspace `id`'s worktree would lose (nothing when it has none here).
pub fn what_would_be_lost(conn: &Connection, id: &str) -> Result<Loss, WorkError> {
    let Some(place) = records::path_of(conn, id)?.filter(|p| p.is_worktree && p.path.exists())
    else {
        return Ok(Loss::default());
    };
    let base = base_branch(conn, id)?;
    Ok(worktrees::what_would_be_lost(&place.path, base.as_deref())?)
}

/// The default branch of the workspace's repository (what its branch started from).
fn base_branch(conn: &Connection, id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT r.default_branch FROM workspaces w JOIN repositories r ON r.id = w.repository_id \
             WHERE w.id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?)
}

/// The workspace of `me` on this device that `which` names: a task's key (its most recent open
/// workspace) or a folder (the workspace that lives there).
pub fn find(conn: &Connection, me: &str, which: &str) -> Result<String, WorkError> {
    let device = records::device_name(conn)?;
    let as_path = Path::new(which);
    if as_path.exists() {
        return workspace_at(conn, as_path)?
            .ok_or_else(|| WorkError::NoSuchWorkspace(which.to_owned()));
    }
    let task = records::task(conn, which)?;
    conn.query_row(
        "SELECT id FROM workspaces WHERE owner_id = ?1 AND device_name = ?2 AND task_id = ?3 \
         AND status != 'archived' ORDER BY last_activity_at DESC LIMIT 1",
        [me, device.as_str(), task.id.as_str()],
        |r| r.get(0),
    )
    .optional()
    .map_err(StoreError::from)?
    .ok_or_else(|| WorkError::NoSuchWorkspace(which.to_owned()))
}

/// The workspace that lives at `path` (compared as the file system resolves both).
fn workspace_at(conn: &Connection, path: &Path) -> Result<Option<String>, StoreError> {
    let resolved = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_owned());
    let wanted = resolved(path);
    let mut statement = conn.prepare("SELECT workspace_id, local_path FROM workspace_paths")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (id, local_path) = row?;
        if resolved(Path::new(&local_path)) == wanted {
            return Ok(Some(id));
        }
    }
    Ok(None)
}
