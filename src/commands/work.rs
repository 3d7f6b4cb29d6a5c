//! The workspace commands, for people who live in a terminal: `superset link`, `tasks`,
//! `start`, `explore`, `workspaces` and `done`. Each catches up with the server first (or says
//! it works from what is local), goes through the same code and outbox as the window, and waits
//! for its writes to reach the server before it exits. What a script wants is on stdout —
//! `start` prints the worktree's path alone, so `cd "$(superset start ACME-12)"` works — and
//! `--json` prints it as JSON; everything said to the person goes to stderr.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::json;

use super::error::CommandError;
use super::online::{Online, Reached};
use crate::gitlink::linking::{self, LinkOutcome};
use crate::store;
use crate::workspaces::start::{self, Mode};
use crate::workspaces::{finish, records};

/// How long a command waits to catch up, and for its writes to be sent.
const CATCH_UP: Duration = Duration::from_secs(15);
const SEND: Duration = Duration::from_secs(20);

/// What a command prints: `stdout` for scripts, `stderr` for the person.
#[derive(Debug, Default, PartialEq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    fn new(stdout: String, stderr: String) -> Self {
        Self { stdout, stderr }
    }
}

/// Runs `work` on the profile's database, caught up first, and its writes sent after.
async fn with_profile<T: Send + 'static>(
    data_dir: &Path,
    writes: bool,
    work: impl FnOnce(&mut Connection, &str, &Path) -> Result<T, CommandError> + Send + 'static,
) -> Result<(T, String), CommandError> {
    let mut online = Online::start(data_dir).await?;
    let mut said = String::new();
    if let Reached::Offline(why) = online.until_live(CATCH_UP).await? {
        said.push_str(&format!("working from what is on this computer ({why})\n"));
    }
    let (database, me) = (online.database.clone(), online.me.clone());
    let done = tokio::task::spawn_blocking(move || {
        let mut conn = store::open(&database)?;
        work(&mut conn, &me, &database)
    })
    .await
    .expect("the command's task panicked");
    let done = match done {
        Ok(done) => done,
        Err(e) => {
            online.stop().await;
            return Err(e);
        }
    };
    if writes && let Reached::Offline(why) = online.until_sent(SEND).await? {
        said.push_str(&format!(
            "saved here; it reaches your team when the server answers again ({why}): run \
             `superset sync` or open the window\n"
        ));
    }
    online.stop().await;
    Ok((done, said))
}

/// `superset link PATH [--repository ID]`.
pub async fn link(
    data_dir: &Path,
    path: &Path,
    repository: Option<String>,
) -> Result<Output, CommandError> {
    let path = path.to_owned();
    let (outcome, said) = with_profile(data_dir, false, move |conn, _, database| {
        let device: String = conn
            .query_row("SELECT device_id FROM settings", [], |r| r.get(0))
            .map_err(store::StoreError::from)?;
        let outcome = linking::link(database, &path, &device)?;
        match (outcome, repository) {
            (LinkOutcome::Ask(prompt), Some(id)) => {
                let choice = (id != "local").then_some(id);
                Ok(linking::settle(database, &prompt, choice, &device)?)
            }
            (LinkOutcome::Ask(prompt), None) => {
                Err(CommandError::Ask(ask_repository(conn, &prompt)?))
            }
            (outcome, _) => Ok(outcome),
        }
    })
    .await?;
    let text = match outcome {
        LinkOutcome::Linked { repository } => format!("linked to {repository}\n"),
        LinkOutcome::KeptLocal { path } => format!("{path} is kept as a local project\n"),
        LinkOutcome::Unlinked | LinkOutcome::Ask(_) => String::new(),
    };
    Ok(Output::new(text, said))
}

/// The question `link` asks when a folder matches several repositories, or none.
fn ask_repository(conn: &Connection, prompt: &linking::LinkPrompt) -> Result<String, CommandError> {
    if prompt.candidates.is_empty() {
        return Ok(format!(
            "none of your organizations' repositories has this folder's remote ({}): pass \
             --repository local to keep it as a local project",
            prompt.remote.as_deref().unwrap_or("no remote")
        ));
    }
    let mut lines = vec![
        "this folder's remote matches several repositories; choose one with --repository ID:"
            .to_owned(),
    ];
    for id in &prompt.candidates {
        let (name, organization): (String, String) = conn
            .query_row(
                "SELECT r.name, o.name FROM repositories r JOIN organizations o \
                 ON o.id = r.organization_id WHERE r.id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(store::StoreError::from)?;
        lines.push(format!("  {id}  {name} in {organization}"));
    }
    Ok(lines.join("\n"))
}

/// One task, as `superset tasks` lists it.
#[derive(Debug, Serialize)]
struct TaskLine {
    key: String,
    id: String,
    status: String,
    priority: String,
    assignee: Option<String>,
    title: String,
    branch: Option<String>,
}

/// `superset tasks [--mine] [--status S]`: the active organization's tasks.
pub async fn tasks(
    data_dir: &Path,
    mine: bool,
    status: Option<String>,
    json: bool,
) -> Result<Output, CommandError> {
    let (lines, said) = with_profile(data_dir, false, move |conn, me, _| {
        let organization = active_organization(conn, me)?;
        task_lines(conn, &organization, mine.then_some(me), status.as_deref())
    })
    .await?;
    let stdout = if json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&lines).expect("tasks serialise")
        )
    } else {
        lines
            .iter()
            .map(|t| {
                let who = t.assignee.as_deref().unwrap_or("unassigned");
                format!(
                    "{:<10} {:<12} {:<7} {:<18} {}\n",
                    t.key, t.status, t.priority, who, t.title
                )
            })
            .collect()
    };
    Ok(Output::new(stdout, said))
}

/// The organization the window last showed, else the user's first.
fn active_organization(conn: &Connection, me: &str) -> Result<String, CommandError> {
    let chosen: Option<String> = conn
        .query_row(
            "SELECT s.active_organization_id FROM settings s JOIN organization_members m \
             ON m.organization_id = s.active_organization_id AND m.user_id = ?1",
            [me],
            |r| r.get(0),
        )
        .ok();
    let first = || -> Option<String> {
        conn.query_row(
            "SELECT o.id FROM organizations o JOIN organization_members m \
             ON m.organization_id = o.id AND m.user_id = ?1 ORDER BY o.name LIMIT 1",
            [me],
            |r| r.get(0),
        )
        .ok()
    };
    chosen.or_else(first).ok_or(CommandError::NoOrganization)
}

fn task_lines(
    conn: &Connection,
    organization: &str,
    assignee: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<TaskLine>, CommandError> {
    let mut statement = conn
        .prepare(
            "SELECT coalesce(t.external_key, substr(t.id, 1, 8)), t.id, t.status, t.priority, \
                    u.name, t.title, t.branch \
             FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id \
             WHERE t.organization_id = ?1 AND t.deleted_at IS NULL \
               AND (?2 IS NULL OR t.assignee_id = ?2) AND (?3 IS NULL OR t.status = ?3) \
             ORDER BY t.status, t.priority, t.external_key",
        )
        .map_err(store::StoreError::from)?;
    let rows = statement
        .query_map(params![organization, assignee, status], |r| {
            Ok(TaskLine {
                key: r.get(0)?,
                id: r.get(1)?,
                status: r.get(2)?,
                priority: r.get(3)?,
                assignee: r.get(4)?,
                title: r.get(5)?,
                branch: r.get(6)?,
            })
        })
        .map_err(store::StoreError::from)?;
    Ok(rows
        .collect::<Result<_, _>>()
        .map_err(store::StoreError::from)?)
}

/// `superset start KEY [--folder DIR] [--switch]`: prints the worktree's path alone.
pub async fn start_work(
    data_dir: &Path,
    key: String,
    folder: Option<&Path>,
    switch: bool,
    json: bool,
) -> Result<Output, CommandError> {
    let folder = folder.map(Path::to_owned);
    let mode = if switch {
        Mode::SwitchCheckout
    } else {
        Mode::Worktree
    };
    let (started, said) = with_profile(data_dir, true, move |conn, me, _| {
        let folder = folder.map(|f| folder_id(conn, &f)).transpose()?;
        Ok(start::start_work(conn, &key, folder.as_deref(), mode, me)?)
    })
    .await?;
    Ok(started_output(started, said, json))
}

/// `superset explore REPO --branch NAME`: exploratory work; prints the worktree's path.
pub async fn explore(
    data_dir: &Path,
    repository: String,
    branch: String,
    json: bool,
) -> Result<Output, CommandError> {
    let (started, said) = with_profile(data_dir, true, move |conn, me, _| {
        let folder = folder_of_repository(conn, &repository)?;
        Ok(start::explore(conn, &folder, &branch, me)?)
    })
    .await?;
    Ok(started_output(started, said, json))
}

fn started_output(started: start::Started, said: String, json: bool) -> Output {
    let stdout = if json {
        format!(
            "{}\n",
            json!({"workspace_id": started.workspace_id, "path": started.path,
                   "branch": started.branch})
        )
    } else {
        format!("{}\n", started.path.display())
    };
    Output::new(stdout, format!("{}{said}", line(&started.message)))
}

fn line(text: &str) -> String {
    format!("{text}\n")
}

/// The id of the linked folder at `path` (the folder itself or one inside it).
fn folder_id(conn: &Connection, path: &Path) -> Result<String, CommandError> {
    let wanted = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    records::folders(conn)?
        .into_iter()
        .find(|f| f.path.canonicalize().unwrap_or_else(|_| f.path.clone()) == wanted)
        .map(|f| f.id)
        .ok_or_else(|| {
            crate::workspaces::WorkError::FolderNotLinked(path.display().to_string()).into()
        })
}

/// The linked folder of the repository named `name` (or the linked folder at that path).
fn folder_of_repository(conn: &Connection, name: &str) -> Result<String, CommandError> {
    if Path::new(name).exists() {
        return folder_id(conn, Path::new(name));
    }
    records::folders(conn)?
        .into_iter()
        .find(|f| f.repository_name.eq_ignore_ascii_case(name))
        .map(|f| f.id)
        .ok_or_else(|| crate::workspaces::WorkError::FolderNotLinked(name.to_owned()).into())
}

/// One of my workspaces, as `superset workspaces` lists it.
#[derive(Debug, Serialize)]
struct WorkspaceLine {
    id: String,
    task: Option<String>,
    repository: String,
    branch: Option<String>,
    device: String,
    path: Option<String>,
    git: Option<serde_json::Value>,
    pull_request: Option<serde_json::Value>,
}

/// `superset workspaces`: the signed-in user's open workspaces, everywhere.
pub async fn workspaces(data_dir: &Path, json: bool) -> Result<Output, CommandError> {
    let (lines, said) =
        with_profile(data_dir, false, |conn, me, _| workspace_lines(conn, me)).await?;
    let stdout = if json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&lines).expect("workspaces serialise")
        )
    } else {
        lines
            .iter()
            .map(|w| {
                let pr = w.pull_request.as_ref().map_or(String::new(), |pr| {
                    format!(
                        "  #{} {}",
                        pr["number"],
                        pr["status"].as_str().unwrap_or("")
                    )
                });
                let git = w.git.as_ref().map_or(String::new(), |g| format!("  {g}"));
                format!(
                    "{:<10} {:<16} {:<40} {}{git}{pr}\n",
                    w.task.as_deref().unwrap_or("(no task)"),
                    w.repository,
                    w.branch.as_deref().unwrap_or("-"),
                    w.path.as_deref().unwrap_or(&w.device),
                )
            })
            .collect()
    };
    Ok(Output::new(stdout, said))
}

fn workspace_lines(conn: &mut Connection, me: &str) -> Result<Vec<WorkspaceLine>, CommandError> {
    let mut statement = conn
        .prepare(
            "SELECT w.id, t.external_key, r.name, w.git_branch, w.device_name, p.local_path, \
                    w.git_status, w.pr_number, w.pr_status, w.pr_url \
             FROM workspaces w JOIN repositories r ON r.id = w.repository_id \
             LEFT JOIN tasks t ON t.id = w.task_id \
             LEFT JOIN workspace_paths p ON p.workspace_id = w.id \
             WHERE w.owner_id = ?1 AND w.status != 'archived' ORDER BY w.last_activity_at DESC",
        )
        .map_err(store::StoreError::from)?;
    let rows = statement
        .query_map([me], |r| {
            let git: Option<String> = r.get(6)?;
            let number: Option<i64> = r.get(7)?;
            Ok(WorkspaceLine {
                id: r.get(0)?,
                task: r.get(1)?,
                repository: r.get(2)?,
                branch: r.get(3)?,
                device: r.get(4)?,
                path: r.get(5)?,
                git: git.and_then(|g| serde_json::from_str(&g).ok()),
                pull_request: number.map(|n| {
                    json!({"number": n, "status": r.get::<_, Option<String>>(8).ok().flatten(),
                           "url": r.get::<_, Option<String>>(9).ok().flatten()})
                }),
            })
        })
        .map_err(store::StoreError::from)?;
    Ok(rows
        .collect::<Result<_, _>>()
        .map_err(store::StoreError::from)?)
}

/// `superset done KEY|PATH [--remove]`: archives the workspace; removes its worktree when
/// asked and nothing would be lost.
pub async fn done(data_dir: &Path, which: String, remove: bool) -> Result<Output, CommandError> {
    let (folder, said) = with_profile(data_dir, true, move |conn, me, _| {
        let id = finish::find(conn, me, &which)?;
        Ok(finish::finish(conn, &id, remove)?)
    })
    .await?;
    Ok(Output::new(
        String::new(),
        format!("done — {}\n{said}", folder.describe()),
    ))
}
