//! This device's part in the team's picture: starting work on a task (branch with git2, then
//! the workspace through the outbox), and keeping the user's own workspaces current — their
//! git state and branch while the repositories change, `last_activity_at` while the user is at
//! the keyboard, and "idle" once they are away.
//!
//! The watcher polls every few seconds on the tokio runtime (the poll is the debounce). Its
//! updates go through the outbox, which drops fields that already hold the value and
//! coalesces unsent ones, so nothing is written or sent while nothing changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::view_model::{Repository, Task};
use crate::gitlink::local::{self, LocalRepoError};
use crate::outbox::{self, Command};
use crate::store::{self, StoreError};

/// Why work could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartWorkError {
    /// The branch could not be made or checked out (the message says why and what to do).
    #[error(transparent)]
    Git(#[from] LocalRepoError),
    #[error("cannot save the new workspace: {0}")]
    Store(#[from] StoreError),
}

/// How often the watcher looks at the repositories and the user's activity.
const POLL: Duration = Duration::from_secs(5);
/// At most one activity heartbeat per this many seconds.
const HEARTBEAT_SECONDS: i64 = 60;
/// No input for this long: the user's workspaces go idle.
const IDLE_AFTER_SECONDS: i64 = 15 * 60;

/// This machine's name, as teammates see it next to a workspace.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "this computer".to_owned())
}

/// The branch a task is worked on: its own, or one made from its key and title.
pub fn branch_for(task: &Task) -> String {
    if let Some(branch) = task.branch.as_ref().filter(|b| !b.is_empty()) {
        return branch.clone();
    }
    let mut slug = String::new();
    for c in format!("{} {}", task.key, task.title).chars() {
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

/// Creates or checks out the task's branch in `folder` and creates the workspace through the
/// outbox (so it shows at once). Returns what happened, in words.
pub fn start_work(
    db: &Path,
    task: &Task,
    repository: &Repository,
    folder: &Path,
    device_name: &str,
) -> Result<String, StartWorkError> {
    let branch = branch_for(task);
    let outcome = local::start_branch(folder, &branch, Some(&repository.default_branch))?;
    let mut fields = Map::new();
    fields.insert("organization_id".into(), json!(task.organization_id));
    fields.insert("task_id".into(), json!(task.id));
    fields.insert("repository_id".into(), json!(repository.id));
    fields.insert("type".into(), json!("local"));
    fields.insert("device_name".into(), json!(device_name));
    fields.insert("git_branch".into(), json!(branch));
    let mut conn = store::open(db)?;
    outbox::enqueue(
        &mut conn,
        Command::CreateWorkspace {
            id: Uuid::new_v4(),
            fields,
        },
    )?;
    let verb = match outcome {
        local::BranchOutcome::Created => "created branch",
        local::BranchOutcome::CheckedOut => "checked out",
        local::BranchOutcome::AlreadyOn => "on branch",
    };
    Ok(format!(
        "working on {} in {} — {verb} {branch}",
        task.key,
        folder.display()
    ))
}

/// Keeps the user's workspaces on this device current while the window is open; stops when
/// dropped.
pub struct DeviceWatcher {
    last_input: Arc<AtomicI64>,
    task: tokio::task::JoinHandle<()>,
}

impl DeviceWatcher {
    pub fn start(
        runtime: &tokio::runtime::Handle,
        db: PathBuf,
        me: Option<String>,
        outbox_signal: Arc<tokio::sync::Notify>,
    ) -> Self {
        let last_input = Arc::new(AtomicI64::new(now_seconds()));
        let seen = last_input.clone();
        let task = runtime.spawn(async move {
            let Some(me) = me else { return };
            let mut last_heartbeat = 0;
            let connection = Arc::new(std::sync::Mutex::new(None));
            loop {
                tokio::time::sleep(POLL).await;
                let input = seen.load(Ordering::Relaxed);
                let now = now_seconds();
                let heartbeat =
                    now - input < HEARTBEAT_SECONDS && now - last_heartbeat >= HEARTBEAT_SECONDS;
                let idle = now - input >= IDLE_AFTER_SECONDS;
                if heartbeat {
                    last_heartbeat = now;
                }
                let (db, me, open) = (db.clone(), me.clone(), connection.clone());
                let queued = tokio::task::spawn_blocking(move || {
                    // One connection for the watcher's life, opened on first use.
                    let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
                    let conn = match open.take() {
                        Some(conn) => Ok(conn),
                        None => store::open(&db),
                    };
                    let reported = conn.and_then(|mut conn| {
                        let queued = report(&mut conn, &me, heartbeat, idle);
                        *open = Some(conn);
                        queued
                    });
                    reported.unwrap_or_else(|e| {
                        tracing::warn!("cannot update this device's workspaces: {e}");
                        0
                    })
                })
                .await
                .unwrap_or(0);
                if queued > 0 {
                    outbox_signal.notify_one();
                }
            }
        });
        Self { last_input, task }
    }

    /// The window saw input this frame.
    pub fn user_was_active(&self) {
        self.last_input.store(now_seconds(), Ordering::Relaxed);
    }
}

impl Drop for DeviceWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now_seconds() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Queues updates for the user's workspaces on this device — git state and branch from the
/// linked folder, plus the activity heartbeat or "idle" when asked; returns how many commands
/// were queued (0 when nothing changed).
pub fn report(
    conn: &mut rusqlite::Connection,
    me: &str,
    heartbeat: bool,
    idle: bool,
) -> Result<usize, StoreError> {
    let device = conn
        .query_row(
            "SELECT coalesce(device_name, '') FROM settings WHERE id = 1",
            [],
            |r| r.get::<_, String>(0),
        )
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(host_name);
    let mine: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT w.id, w.status, min(l.local_path) FROM workspaces w \
             JOIN local_repos l ON l.repository_id = w.repository_id \
             WHERE w.owner_id = ?1 AND w.device_name = ?2 AND w.type = 'local' \
               AND w.status != 'archived' GROUP BY w.id",
        )?
        .query_map([me, device.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut queued = 0;
    for (id, status, folder) in mine {
        let Ok(id) = Uuid::parse_str(&id) else {
            continue;
        };
        let mut fields = Map::new();
        if let Ok(state) = local::status(Path::new(&folder)) {
            fields.insert(
                "git_status".into(),
                json!({"uncommitted": state.uncommitted, "ahead": state.ahead, "behind": state.behind}),
            );
            if let Some(branch) = state.branch {
                fields.insert("git_branch".into(), Value::String(branch));
            }
        }
        if heartbeat {
            let now = OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            fields.insert("last_activity_at".into(), Value::String(now));
            fields.insert("status".into(), json!("active"));
        } else if idle && status == "active" {
            fields.insert("status".into(), json!("idle"));
        }
        if outbox::enqueue(conn, Command::UpdateWorkspace { id, fields })?.is_some() {
            queued += 1;
        }
    }
    Ok(queued)
}
