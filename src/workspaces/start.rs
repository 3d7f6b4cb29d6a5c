//! Starting work: on a task (its branch, in a worktree of a linked clone, or — when asked — by
//! switching the clone's own checkout), or exploratory work on a branch of one's own with no
//! task. Either way the workspace is created through the outbox, so it shows at once and
//! reaches the team when the server is reachable, and this device remembers where it lives.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde_json::{Map, json};
use uuid::Uuid;

use super::error::WorkError;
use super::records::{self, FolderRecord, PathRecord, TaskRecord};
use crate::gitlink::local;
use crate::gitlink::worktrees::{self, Placement};
use crate::outbox::{self, Command};

/// Where the work goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A worktree of its own (the default): the clone's checkout is never touched.
    Worktree,
    /// Switch the clone's checkout to the branch (refused when that would touch uncommitted
    /// work).
    SwitchCheckout,
}

/// Work that has started: the workspace, where it lives, and what happened, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub workspace_id: String,
    pub path: PathBuf,
    pub branch: String,
    pub message: String,
}

/// The branch a task is worked on: its own, or one made from its key and title.
pub fn branch_for(key: &str, title: &str, own: Option<&str>) -> String {
    if let Some(branch) = own.filter(|b| !b.is_empty()) {
        return branch.to_owned();
    }
    let mut slug = String::new();
    for c in format!("{key} {title}").chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// A branch name for exploratory work: `<first name>/explore-<n>`, the first `n` not taken.
pub fn exploration_branch(person: &str, taken: impl Fn(&str) -> bool) -> String {
    let first: String = person
        .split_whitespace()
        .next()
        .unwrap_or("me")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    let first = if first.is_empty() {
        "me".to_owned()
    } else {
        first
    };
    (1..)
        .map(|n| format!("{first}/explore-{n}"))
        .find(|branch| !taken(branch))
        .expect("some number is free")
}

/// Starts work on `task` (an id or a key) for `me`, in linked folder `folder` (else the one
/// linked folder of the task's repository). Work already open on this device is reused.
pub fn start_work(
    conn: &mut Connection,
    task: &str,
    folder: Option<&str>,
    mode: Mode,
    me: &str,
) -> Result<Started, WorkError> {
    let task = records::task(conn, task)?;
    let folder = choose_folder(conn, &task, folder)?;
    let device = records::device_name(conn)?;
    let branch = branch_for(&task.key, &task.title, task.branch.as_deref());
    let open = records::open_workspace_for(conn, me, &task.id, &folder.repository_id)?;
    if let Some(place) = open.filter(|p| p.path.exists()) {
        return Ok(Started {
            message: format!(
                "already working on {} in {}",
                task.key,
                place.path.display()
            ),
            workspace_id: place.workspace_id,
            path: place.path,
            branch: place.branch.unwrap_or(branch),
        });
    }
    let (path, how) = place(conn, &folder, &branch, mode)?;
    let id = create(conn, &folder, &branch, &path, Some(&task.id), &device, me)?;
    Ok(Started {
        message: format!("working on {} in {} — {how}", task.key, path.display()),
        workspace_id: id,
        path,
        branch,
    })
}

/// Starts exploratory work (no task) on `branch` in linked folder `folder`.
pub fn explore(
    conn: &mut Connection,
    folder: &str,
    branch: &str,
    me: &str,
) -> Result<Started, WorkError> {
    let folder = records::folder(conn, folder)?;
    let device = records::device_name(conn)?;
    let (path, how) = place(conn, &folder, branch, Mode::Worktree)?;
    let id = create(conn, &folder, branch, &path, None, &device, me)?;
    Ok(Started {
        message: format!("exploring in {} — {how}", path.display()),
        workspace_id: id,
        path,
        branch: branch.to_owned(),
    })
}

/// The linked folder to work in: the one asked for (it must be of the task's organization), or
/// the task's organization's one linked folder (the suggested repository's, when it has one).
fn choose_folder(
    conn: &Connection,
    task: &TaskRecord,
    asked: Option<&str>,
) -> Result<FolderRecord, WorkError> {
    if let Some(asked) = asked {
        let folder = records::folder(conn, asked)?;
        if folder.organization_id != task.organization_id {
            return Err(WorkError::WrongOrganization {
                task: task.key.clone(),
                folder: folder.path.display().to_string(),
            });
        }
        return Ok(folder);
    }
    let mut candidates: Vec<FolderRecord> = records::folders(conn)?
        .into_iter()
        .filter(|f| f.organization_id == task.organization_id)
        .collect();
    if let Some(suggested) = &task.repository_id
        && candidates.iter().any(|f| &f.repository_id == suggested)
    {
        candidates.retain(|f| &f.repository_id == suggested);
    }
    match candidates.len() {
        0 => Err(WorkError::NoFolderForTask {
            task: task.key.clone(),
        }),
        1 => Ok(candidates.remove(0)),
        _ => Err(WorkError::SeveralFolders {
            task: task.key.clone(),
            choices: candidates
                .iter()
                .map(|f| f.path.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Makes the branch's place to work: a worktree (or the clone, switched).
fn place(
    conn: &Connection,
    folder: &FolderRecord,
    branch: &str,
    mode: Mode,
) -> Result<(PathBuf, String), WorkError> {
    let base = Some(folder.default_branch.as_str());
    if mode == Mode::SwitchCheckout {
        let outcome = local::start_branch(&folder.path, branch, base)?;
        let how = match outcome {
            local::BranchOutcome::Created => "created branch",
            local::BranchOutcome::CheckedOut => "switched to",
            local::BranchOutcome::AlreadyOn => "on branch",
        };
        return Ok((folder.path.clone(), format!("{how} {branch} in the clone")));
    }
    let chosen = worktrees_folder(conn)?;
    let placed = worktrees::place(&folder.path, branch, base, chosen.as_deref())?;
    let how = match placed.how {
        Placement::NewBranch => format!("new branch {branch} in its own worktree"),
        Placement::NewWorktree => format!("branch {branch} in its own worktree"),
        Placement::ExistingWorktree => format!("branch {branch}'s worktree"),
        Placement::Clone => format!("{branch} is the clone's checkout"),
    };
    Ok((placed.path, how))
}

/// The folder chosen for new worktrees, if any.
fn worktrees_folder(conn: &Connection) -> Result<Option<PathBuf>, WorkError> {
    let folder: Option<String> = conn
        .query_row(
            "SELECT worktrees_folder FROM settings WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .map_err(crate::store::StoreError::from)?;
    Ok(folder.filter(|f| !f.trim().is_empty()).map(PathBuf::from))
}

/// Creates the workspace through the outbox, then remembers where it lives (a workspace without
/// its record is still found through its linked folder).
fn create(
    conn: &mut Connection,
    folder: &FolderRecord,
    branch: &str,
    path: &Path,
    task: Option<&str>,
    device: &str,
    me: &str,
) -> Result<String, WorkError> {
    let id = Uuid::new_v4();
    let mut fields = Map::new();
    fields.insert("organization_id".into(), json!(folder.organization_id));
    fields.insert("task_id".into(), json!(task));
    fields.insert("repository_id".into(), json!(folder.repository_id));
    fields.insert("type".into(), json!("local"));
    fields.insert("device_name".into(), json!(device));
    fields.insert("git_branch".into(), json!(branch));
    outbox::enqueue(conn, Command::CreateWorkspace { id, fields })?;
    records::record_path(
        conn,
        &PathRecord {
            workspace_id: id.to_string(),
            owner_id: Some(me.to_owned()),
            task_id: task.map(str::to_owned),
            repository_id: Some(folder.repository_id.clone()),
            branch: Some(branch.to_owned()),
            path: path.to_owned(),
            folder_id: Some(folder.id.clone()),
            is_worktree: path != folder.path,
        },
    )?;
    Ok(id.to_string())
}

/// Makes workspace `id`'s worktree again where it was, after its folder went away.
pub fn recreate(conn: &mut Connection, id: &str) -> Result<Started, WorkError> {
    let gone = || WorkError::NoSuchWorkspace(id.to_owned());
    let place = records::path_of(conn, id)?.ok_or_else(gone)?;
    let folder = records::folder(conn, place.folder_id.as_deref().ok_or_else(gone)?)?;
    let branch = place.branch.clone().ok_or_else(gone)?;
    let base = Some(folder.default_branch.as_str());
    let placed = worktrees::recreate(&folder.path, &branch, base, &place.path)?;
    records::record_path(
        conn,
        &PathRecord {
            path: placed.path.clone(),
            is_worktree: placed.path != folder.path,
            ..place
        },
    )?;
    Ok(Started {
        message: format!("made the worktree again at {}", placed.path.display()),
        workspace_id: id.to_owned(),
        path: placed.path,
        branch,
    })
}
