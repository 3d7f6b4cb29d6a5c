//! Keeping the signed-in user's workspaces on this device current: each one's git state and
//! branch, read from where it lives (its worktree, else its linked clone), the activity
//! heartbeat, and "idle" once the person is away. Updates go through the outbox, which drops
//! fields that already hold the value, so nothing is written or sent while nothing changes.
//!
//! A branch that was just pushed (it has an upstream and nothing ahead of it) and has no pull
//! request yet is reported for a pull-request lookup, once per push.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::records;
use crate::gitlink::local::{self, GitState};
use crate::outbox::{self, Command};
use crate::store::StoreError;

/// What one report did.
#[derive(Debug, Default, PartialEq)]
pub struct Report {
    /// How many updates were queued (0 when nothing changed).
    pub queued: usize,
    /// Workspaces whose branch was pushed without a known pull request: ask the API.
    pub lookups: Vec<Uuid>,
}

/// One of my workspaces here, as the report reads it.
struct Mine {
    id: String,
    status: String,
    path: PathBuf,
    has_pull_request: bool,
    checked: bool,
}

/// Queues updates for `me`'s workspaces on this device: git state always, plus the activity
/// heartbeat or "idle" when asked.
pub fn report(
    conn: &mut Connection,
    me: &str,
    heartbeat: bool,
    idle: bool,
) -> Result<Report, StoreError> {
    let device = records::device_name(conn)?;
    let mut report = Report::default();
    for mine in my_workspaces(conn, me, &device)? {
        let Ok(id) = Uuid::parse_str(&mine.id) else {
            continue;
        };
        let mut fields = Map::new();
        if let Ok(state) = local::status(&mine.path) {
            if pushed(&state, &mine) {
                report.lookups.push(id);
                mark_checked(conn, &mine, true)?;
            } else if state.ahead > 0 && mine.checked {
                mark_checked(conn, &mine, false)?;
            }
            git_fields(&mut fields, state);
        }
        activity_fields(&mut fields, &mine.status, heartbeat, idle);
        if outbox::enqueue(conn, Command::UpdateWorkspace { id, fields })?.is_some() {
            report.queued += 1;
        }
    }
    Ok(report)
}

/// The branch has an upstream that holds all of it, no pull request is known, and it was not
/// looked up since its last push.
fn pushed(state: &GitState, mine: &Mine) -> bool {
    state.upstream && state.ahead == 0 && !mine.has_pull_request && !mine.checked
}

fn git_fields(fields: &mut Map<String, Value>, state: GitState) {
    fields.insert(
        "git_status".into(),
        json!({"uncommitted": state.uncommitted, "ahead": state.ahead, "behind": state.behind}),
    );
    if let Some(branch) = state.branch {
        fields.insert("git_branch".into(), Value::String(branch));
    }
}

fn activity_fields(fields: &mut Map<String, Value>, status: &str, heartbeat: bool, idle: bool) {
    if heartbeat {
        let now = OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        fields.insert("last_activity_at".into(), Value::String(now));
        fields.insert("status".into(), json!("active"));
    } else if idle && status == "active" {
        fields.insert("status".into(), json!("idle"));
    }
}

/// `me`'s open local workspaces on `device`, each with the folder it lives in: its own
/// (`workspace_paths`), else its repository's linked clone.
fn my_workspaces(conn: &Connection, me: &str, device: &str) -> Result<Vec<Mine>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT w.id, w.status, coalesce(p.local_path, \
                (SELECT min(l.local_path) FROM local_repos l WHERE l.repository_id = w.repository_id)), \
                w.pr_number IS NOT NULL, p.pr_checked_at IS NOT NULL \
         FROM workspaces w LEFT JOIN workspace_paths p ON p.workspace_id = w.id \
         WHERE w.owner_id = ?1 AND w.device_name = ?2 AND w.type = 'local' \
           AND w.status != 'archived'",
    )?;
    let rows = statement.query_map(params![me, device], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, bool>(4)?,
        ))
    })?;
    let mut mine = Vec::new();
    for row in rows {
        let (id, status, path, has_pull_request, checked) = row?;
        if let Some(path) = path {
            mine.push(Mine {
                id,
                status,
                path: Path::new(&path).to_owned(),
                has_pull_request,
                checked,
            });
        }
    }
    Ok(mine)
}

/// Records whether the branch was looked up since its last push (also for a workspace started
/// before its folder was recorded: it is recorded then, as living in the clone).
fn mark_checked(conn: &Connection, mine: &Mine, checked: bool) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO workspace_paths (workspace_id, local_path, is_worktree, pr_checked_at) \
         VALUES (?1, ?2, 0, CASE WHEN ?3 THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END) \
         ON CONFLICT (workspace_id) DO UPDATE SET pr_checked_at = excluded.pr_checked_at",
        params![mine.id, mine.path.display().to_string(), checked],
    )?;
    Ok(())
}
