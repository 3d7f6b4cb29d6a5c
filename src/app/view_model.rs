//! What the window draws, in memory: the synced rows of every organization the user belongs to,
//! with the outbox's pending writes laid over them, sorted and indexed once per change.
//!
//! [`ViewModel::load`] reads SQLite (off the UI thread) after the engine says a table changed;
//! the panels only read it. Everything a frame needs is precomputed here — per-task workspace
//! lists, lower-cased search text, parsed timestamps and colours — so a frame over 100,000
//! tasks does no parsing and no allocation beyond the rows it shows.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::Connection;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::rows::{self, Filters, Row};
use crate::gitlink::local::GitState;
use crate::gitlink::urls;
use crate::outbox::{self, Command};
use crate::store::StoreError;

/// The signed-in user, or a teammate.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub role: String,
}

/// An organization repository and where it is checked out on this device.
#[derive(Debug, Clone, PartialEq)]
pub struct Repository {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub url: String,
    pub default_branch: String,
    /// Normalised remote key (`github.com/org/repo`), for matching folders.
    pub url_key: Option<String>,
    /// Linked folders on this device.
    pub folders: Vec<LocalFolder>,
}

/// A folder on this device (`local_repos`).
#[derive(Debug, Clone, PartialEq)]
pub struct LocalFolder {
    pub id: String,
    pub path: String,
    pub remote_url: Option<String>,
    pub repository_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PullRequest {
    pub number: i64,
    pub status: String,
    pub review: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    pub id: String,
    pub organization_id: String,
    pub task_id: Option<String>,
    pub repository_id: String,
    pub owner_id: String,
    pub owner_name: String,
    pub cloud: bool,
    pub device_name: String,
    pub status: String,
    pub branch: Option<String>,
    pub git: Option<GitState>,
    pub pull_request: Option<PullRequest>,
    pub last_activity_at: Option<OffsetDateTime>,
    /// Created or changed here and not yet confirmed by sync.
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: String,
    pub organization_id: String,
    pub repository_id: Option<String>,
    pub key: String,
    pub title: String,
    pub description: Option<String>,
    pub status: String,
    pub status_color: Option<[u8; 3]>,
    pub priority: String,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub branch: Option<String>,
    pub labels: Vec<String>,
    pub due_date: Option<String>,
    pub external_url: Option<String>,
    /// Lower-case key, title, assignee and branches, for the search box.
    pub search_text: String,
    pub pending: bool,
}

/// Everything the window shows, for every organization of the user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewModel {
    pub me: Option<Person>,
    pub organizations: Vec<Organization>,
    pub people: HashMap<String, Person>,
    pub repositories: Vec<Repository>,
    /// Folders kept as local projects (no organization repository).
    pub local_projects: Vec<LocalFolder>,
    /// Sorted: organization, status group, priority, key.
    pub tasks: Vec<Task>,
    /// Not archived; sorted by most recent activity.
    pub workspaces: Vec<Workspace>,
    pub workspaces_by_task: HashMap<String, Vec<usize>>,
    /// Task id → index in `tasks`.
    pub task_index: HashMap<String, usize>,
    /// Parallel to `tasks`: each task's workspaces (indexes into `workspaces`).
    pub task_workspaces: Vec<Vec<usize>>,
    /// Each organization's task tree without search or filters, built with the model so that
    /// switching organization costs nothing.
    pub organization_rows: HashMap<String, Arc<Vec<Row>>>,
    /// The statuses used in each organization, in group order (the status filter's choices).
    pub statuses: HashMap<String, Vec<String>>,
    pub pending_writes: usize,
    /// Writes the server refused, with its reasons.
    pub rejected: Vec<String>,
    /// Only the first screen of one organization is loaded; the rest is on its way.
    pub partial: bool,
}

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

/// Reads timestamps as Postgres prints them (`2026-11-25 10:32:00.5+00`) or as RFC 3339.
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let mut normal = text.trim().replacen(' ', "T", 1);
    if normal.ends_with('Z') {
        return OffsetDateTime::parse(&normal, &Rfc3339).ok();
    }
    // `+00` → `+00:00`, `+0530` → `+05:30`.
    if let Some(sign) = normal.rfind(['+', '-']).filter(|&i| i > 10) {
        let zone = normal[sign + 1..].replace(':', "");
        let zone = match zone.len() {
            2 => format!("{zone}:00"),
            4 => format!("{}:{}", &zone[..2], &zone[2..]),
            _ => return None,
        };
        normal.truncate(sign + 1);
        normal.push_str(&zone);
    } else {
        normal.push('Z');
    }
    OffsetDateTime::parse(&normal, &Rfc3339).ok()
}

/// How long ago someone was active, as the task tree says it.
pub fn presence_text(workspace: &Workspace, now: OffsetDateTime) -> String {
    if workspace.status == "archived" {
        return "archived".to_owned();
    }
    let Some(last) = workspace.last_activity_at else {
        return "never active".to_owned();
    };
    let minutes = (now - last).whole_minutes().max(0);
    if minutes < 2 && workspace.status == "active" {
        return "active now".to_owned();
    }
    let ago = match minutes {
        0..=59 => format!("{}m", minutes.max(1)),
        60..=1439 => format!("{}h", minutes / 60),
        _ => format!("{}d", minutes / 1440),
    };
    format!("idle {ago} ago")
}

fn parse_color(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

fn text_field(fields: &Map<String, Value>, key: &str) -> Option<Option<String>> {
    fields.get(key).map(|v| match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    })
}

/// How much of the task list to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    Everything,
    /// Only the first rows of one organization (the preferred one if the user is still in it,
    /// else the first), in the final order: what the window's first screen shows while the
    /// rest loads.
    FirstScreen {
        organization: Option<&'a str>,
        tasks: usize,
    },
}

impl ViewModel {
    /// Reads everything the window shows for `me` (the signed-in user's id).
    pub fn load(conn: &Connection, me: Option<&str>) -> Result<Self, StoreError> {
        Self::load_scoped(conn, me, Scope::Everything)
    }

    /// As [`ViewModel::load`], reading only the tasks `scope` asks for.
    pub fn load_scoped(
        conn: &Connection,
        me: Option<&str>,
        scope: Scope<'_>,
    ) -> Result<Self, StoreError> {
        let mut vm = ViewModel::default();
        let mut statement = conn.prepare_cached("SELECT id, name, email, avatar_url FROM users")?;
        let people = statement.query_map([], |r| {
            Ok(Person {
                id: r.get(0)?,
                name: r.get(1)?,
                email: r.get(2)?,
                avatar_url: r.get(3)?,
            })
        })?;
        for person in people {
            let person = person?;
            vm.people.insert(person.id.clone(), person);
        }
        vm.me = me.and_then(|id| vm.people.get(id).cloned());
        let mut statement = conn.prepare_cached(
            "SELECT o.id, o.name, m.role FROM organizations o \
             JOIN organization_members m ON m.organization_id = o.id AND m.user_id = ?1 \
             ORDER BY o.name COLLATE NOCASE, o.id",
        )?;
        vm.organizations = statement
            .query_map([me.unwrap_or_default()], |r| {
                Ok(Organization {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    role: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        vm.load_repositories(conn)?;
        let overlay = outbox::overlay(conn)?;
        vm.pending_writes = overlay.len();
        vm.rejected = outbox::rejected(conn)?
            .into_iter()
            .filter_map(|e| e.last_error)
            .collect();
        let started = std::time::Instant::now();
        let first_screen = match scope {
            Scope::Everything => None,
            Scope::FirstScreen {
                organization,
                tasks,
            } => {
                let chosen = organization
                    .filter(|o| vm.organizations.iter().any(|m| m.id == *o))
                    .map(str::to_owned)
                    .or_else(|| vm.organizations.first().map(|o| o.id.clone()));
                vm.partial = true;
                Some((chosen.unwrap_or_default(), tasks))
            }
        };
        vm.load_tasks(conn, &overlay, first_screen)?;
        let tasks = started.elapsed();
        vm.load_workspaces(conn, &overlay)?;
        let workspaces = started.elapsed();
        vm.index();
        tracing::debug!(?tasks, ?workspaces, indexed = ?started.elapsed(), "view model loaded");
        Ok(vm)
    }

    fn load_repositories(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let mut folders: Vec<LocalFolder> = conn
            .prepare_cached(
                "SELECT id, local_path, remote_url, repository_id FROM local_repos ORDER BY local_path",
            )?
            .query_map([], |r| {
                Ok(LocalFolder {
                    id: r.get(0)?,
                    path: r.get(1)?,
                    remote_url: r.get(2)?,
                    repository_id: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut statement = conn.prepare_cached(
            "SELECT id, organization_id, name, url, default_branch FROM repositories \
             ORDER BY name COLLATE NOCASE, id",
        )?;
        self.repositories = statement
            .query_map([], |r| {
                let url: String = r.get(3)?;
                Ok(Repository {
                    id: r.get(0)?,
                    organization_id: r.get(1)?,
                    name: r.get(2)?,
                    url_key: urls::normalize(&url),
                    url,
                    default_branch: r.get(4)?,
                    folders: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let known: HashMap<String, usize> = self
            .repositories
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        for folder in folders.drain(..) {
            match folder.repository_id.as_ref().and_then(|id| known.get(id)) {
                Some(&i) => self.repositories[i].folders.push(folder),
                None => self.local_projects.push(folder),
            }
        }
        Ok(())
    }

    fn load_tasks(
        &mut self,
        conn: &Connection,
        overlay: &[outbox::Entry],
        first_screen: Option<(String, usize)>,
    ) -> Result<(), StoreError> {
        const COLUMNS: &str = "SELECT id, organization_id, repository_id, title, description, status, \
            status_color, priority, assignee_id, external_key, external_url, branch, labels, due_date \
            FROM tasks WHERE deleted_at IS NULL";
        // The first screen: the same order as the sort below (status group, priority, natural
        // key), so the rows it shows are exactly the first rows of the full list.
        const FIRST_SCREEN: &str = " AND organization_id = ?1 ORDER BY \
            CASE status WHEN 'In Progress' THEN 0 WHEN 'In Review' THEN 1 WHEN 'Todo' THEN 2 \
                        WHEN 'Backlog' THEN 3 WHEN 'Done' THEN 5 WHEN 'Canceled' THEN 6 ELSE 4 END, \
            status, \
            CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 \
                          WHEN 'low' THEN 3 ELSE 4 END, \
            CASE WHEN instr(external_key, '-') > 0 \
                 THEN substr(external_key, 1, instr(external_key, '-') - 1) \
                 ELSE coalesce(external_key, substr(id, 1, 8)) END, \
            CASE WHEN instr(external_key, '-') > 0 \
                 THEN CAST(substr(external_key, instr(external_key, '-') + 1) AS INTEGER) \
                 ELSE 9223372036854775807 END \
            LIMIT ?2";
        let (sql, organization, limit) = match &first_screen {
            Some((organization, limit)) => (
                format!("{COLUMNS}{FIRST_SCREEN}"),
                organization.as_str(),
                *limit as i64,
            ),
            None => (COLUMNS.to_owned(), "", 0),
        };
        let mut statement = conn.prepare_cached(&sql)?;
        let parameters: Vec<&dyn rusqlite::ToSql> = if first_screen.is_some() {
            vec![&organization, &limit]
        } else {
            Vec::new()
        };
        let rows = statement.query_map(parameters.as_slice(), |r| {
            let id: String = r.get(0)?;
            let key: Option<String> = r.get(9)?;
            let labels: String = r.get(12)?;
            Ok(Task {
                key: key.unwrap_or_else(|| id.chars().take(8).collect()),
                id,
                organization_id: r.get(1)?,
                repository_id: r.get(2)?,
                title: r.get(3)?,
                description: r.get(4)?,
                status: r.get(5)?,
                status_color: r
                    .get::<_, Option<String>>(6)?
                    .as_deref()
                    .and_then(parse_color),
                priority: r.get(7)?,
                assignee_id: r.get(8)?,
                assignee_name: None,
                external_url: r.get(10)?,
                branch: r.get(11)?,
                labels: serde_json::from_str(&labels).unwrap_or_default(),
                due_date: r.get(13)?,
                search_text: String::new(),
                pending: false,
            })
        })?;
        let mut tasks: Vec<Task> = rows.collect::<Result<_, _>>()?;
        // Only pending writes need the id → row map.
        let mut position: HashMap<String, usize> = if overlay.is_empty() {
            HashMap::new()
        } else {
            tasks
                .iter()
                .enumerate()
                .map(|(i, t)| (t.id.clone(), i))
                .collect()
        };
        let mut deleted = Vec::new();
        for entry in overlay {
            match &entry.command {
                Command::CreateTask { id, fields } => {
                    let id = id.to_string();
                    let task = Task {
                        key: id.chars().take(8).collect(),
                        id: id.clone(),
                        organization_id: String::new(),
                        repository_id: None,
                        title: String::new(),
                        description: None,
                        status: "Todo".into(),
                        status_color: None,
                        priority: "none".into(),
                        assignee_id: None,
                        assignee_name: None,
                        branch: None,
                        labels: Vec::new(),
                        due_date: None,
                        external_url: None,
                        search_text: String::new(),
                        pending: true,
                    };
                    let at = *position.entry(id).or_insert_with(|| {
                        tasks.push(task);
                        tasks.len() - 1
                    });
                    patch_task(&mut tasks[at], fields);
                }
                Command::UpdateTask { id, fields } => {
                    if let Some(&at) = position.get(&id.to_string()) {
                        patch_task(&mut tasks[at], fields);
                    }
                }
                Command::DeleteTask { id } => deleted.push(id.to_string()),
                _ => {}
            }
        }
        tasks.retain(|t| !deleted.contains(&t.id));
        for task in &mut tasks {
            task.assignee_name = task
                .assignee_id
                .as_ref()
                .and_then(|id| self.people.get(id))
                .map(|p| p.name.clone());
        }
        tasks.sort_by_cached_key(|t| {
            let (prefix, number) = natural_key(&t.key);
            (
                t.organization_id.clone(),
                status_rank(&t.status),
                t.status.clone(),
                priority_rank(&t.priority),
                prefix.to_owned(),
                number,
            )
        });
        position.clear();
        self.tasks = tasks;
        Ok(())
    }

    fn load_workspaces(
        &mut self,
        conn: &Connection,
        overlay: &[outbox::Entry],
    ) -> Result<(), StoreError> {
        let mut statement = conn.prepare_cached(
            "SELECT id, organization_id, task_id, repository_id, owner_id, type, device_name, status, \
                    git_branch, git_status, pr_url, pr_number, pr_status, pr_review_status, last_activity_at \
             FROM workspaces",
        )?;
        let rows = statement.query_map([], |r| {
            let git: Option<String> = r.get(9)?;
            let number: Option<i64> = r.get(11)?;
            let pr_status: Option<String> = r.get(12)?;
            let activity: Option<String> = r.get(14)?;
            Ok(Workspace {
                id: r.get(0)?,
                organization_id: r.get(1)?,
                task_id: r.get(2)?,
                repository_id: r.get(3)?,
                owner_id: r.get(4)?,
                owner_name: String::new(),
                cloud: r.get::<_, String>(5)? == "cloud",
                device_name: r.get(6)?,
                status: r.get(7)?,
                branch: r.get(8)?,
                git: git.as_deref().and_then(parse_git),
                pull_request: number.map(|number| PullRequest {
                    number,
                    status: pr_status.unwrap_or_else(|| "open".into()),
                    review: None,
                    url: None,
                }),
                last_activity_at: activity.as_deref().and_then(parse_timestamp),
                pending: false,
            })
            .map(|mut w: Workspace| {
                if let Some(pr) = &mut w.pull_request {
                    pr.url = r.get(10).ok().flatten();
                    pr.review = r.get(13).ok().flatten();
                }
                w
            })
        })?;
        let mut workspaces: Vec<Workspace> = rows.collect::<Result<_, _>>()?;
        for entry in overlay {
            match &entry.command {
                Command::CreateWorkspace { id, fields } => {
                    let mut workspace = Workspace {
                        id: id.to_string(),
                        organization_id: String::new(),
                        task_id: None,
                        repository_id: String::new(),
                        owner_id: self.me.as_ref().map(|m| m.id.clone()).unwrap_or_default(),
                        owner_name: String::new(),
                        cloud: false,
                        device_name: String::new(),
                        status: "active".into(),
                        branch: None,
                        git: None,
                        pull_request: None,
                        last_activity_at: Some(OffsetDateTime::now_utc()),
                        pending: true,
                    };
                    patch_workspace(&mut workspace, fields);
                    if !workspaces.iter().any(|w| w.id == workspace.id) {
                        workspaces.push(workspace);
                    }
                }
                Command::UpdateWorkspace { id, fields } => {
                    let id = id.to_string();
                    if let Some(w) = workspaces.iter_mut().find(|w| w.id == id) {
                        patch_workspace(w, fields);
                    }
                }
                Command::ArchiveWorkspace { id } => {
                    let id = id.to_string();
                    if let Some(w) = workspaces.iter_mut().find(|w| w.id == id) {
                        w.status = "archived".into();
                    }
                }
                _ => {}
            }
        }
        workspaces.retain(|w| w.status != "archived");
        for workspace in &mut workspaces {
            workspace.owner_name = self
                .people
                .get(&workspace.owner_id)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| "someone".into());
        }
        workspaces.sort_by(|a, b| {
            b.last_activity_at
                .cmp(&a.last_activity_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        self.workspaces = workspaces;
        Ok(())
    }

    /// Per-task workspace lists, search text, and each organization's rows and statuses.
    fn index(&mut self) {
        self.workspaces_by_task.clear();
        for (i, workspace) in self.workspaces.iter().enumerate() {
            if let Some(task) = &workspace.task_id {
                self.workspaces_by_task
                    .entry(task.clone())
                    .or_default()
                    .push(i);
            }
        }
        self.task_index = self
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        self.task_workspaces = self
            .tasks
            .iter()
            .map(|t| {
                self.workspaces_by_task
                    .get(&t.id)
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        self.index_search_text();
        for organization in self.organizations.clone() {
            let built = rows::build(self, Some(&organization.id), &Filters::default());
            self.organization_rows
                .insert(organization.id.clone(), Arc::new(built));
            let mut statuses: Vec<String> = Vec::new();
            for task in self
                .tasks
                .iter()
                .filter(|t| t.organization_id == organization.id)
            {
                if statuses.last() != Some(&task.status) && !statuses.contains(&task.status) {
                    statuses.push(task.status.clone());
                }
            }
            self.statuses.insert(organization.id, statuses);
        }
    }

    fn index_search_text(&mut self) {
        for task in &mut self.tasks {
            let mut text = format!(
                "{} {} {} {}",
                task.key,
                task.title,
                task.assignee_name.as_deref().unwrap_or(""),
                task.branch.as_deref().unwrap_or("")
            );
            for &i in self.workspaces_by_task.get(&task.id).into_iter().flatten() {
                if let Some(branch) = &self.workspaces[i].branch {
                    text.push(' ');
                    text.push_str(branch);
                }
            }
            task.search_text = text.to_lowercase();
        }
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.task_index.get(id).map(|&i| &self.tasks[i])
    }

    pub fn repository(&self, id: &str) -> Option<&Repository> {
        self.repositories.iter().find(|r| r.id == id)
    }

    /// The workspaces of a task, most recently active first.
    pub fn workspaces_of(&self, task_id: &str) -> impl Iterator<Item = &Workspace> {
        self.workspaces_by_task
            .get(task_id)
            .into_iter()
            .flatten()
            .map(|&i| &self.workspaces[i])
    }
}

/// Sorts `SUP-9` before `SUP-10`.
fn natural_key(key: &str) -> (&str, u64) {
    match key.rsplit_once('-') {
        Some((prefix, number)) => (prefix, number.parse().unwrap_or(u64::MAX)),
        None => (key, u64::MAX),
    }
}

fn parse_git(text: &str) -> Option<GitState> {
    let value: Value = serde_json::from_str(text).ok()?;
    let count = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_u64)
            .map_or(0, |n| n as u32)
    };
    Some(GitState {
        branch: None,
        uncommitted: count("uncommitted"),
        ahead: count("ahead"),
        behind: count("behind"),
    })
}

fn patch_task(task: &mut Task, fields: &Map<String, Value>) {
    task.pending = true;
    if let Some(Some(v)) = text_field(fields, "organization_id") {
        task.organization_id = v;
    }
    if let Some(Some(v)) = text_field(fields, "title") {
        task.title = v;
    }
    if let Some(v) = text_field(fields, "description") {
        task.description = v;
    }
    if let Some(Some(v)) = text_field(fields, "status") {
        task.status = v;
    }
    if let Some(v) = text_field(fields, "status_color") {
        task.status_color = v.as_deref().and_then(parse_color);
    }
    if let Some(Some(v)) = text_field(fields, "priority") {
        task.priority = v;
    }
    if let Some(v) = text_field(fields, "assignee_id") {
        task.assignee_id = v;
    }
    if let Some(v) = text_field(fields, "repository_id") {
        task.repository_id = v;
    }
    if let Some(v) = text_field(fields, "branch") {
        task.branch = v;
    }
    if let Some(v) = text_field(fields, "due_date") {
        task.due_date = v;
    }
    if let Some(Value::Array(labels)) = fields.get("labels") {
        task.labels = labels
            .iter()
            .filter_map(|l| l.as_str().map(str::to_owned))
            .collect();
    }
}

fn patch_workspace(workspace: &mut Workspace, fields: &Map<String, Value>) {
    if let Some(Some(v)) = text_field(fields, "organization_id") {
        workspace.organization_id = v;
    }
    if let Some(v) = text_field(fields, "task_id") {
        workspace.task_id = v;
    }
    if let Some(Some(v)) = text_field(fields, "repository_id") {
        workspace.repository_id = v;
    }
    if let Some(Some(v)) = text_field(fields, "type") {
        workspace.cloud = v == "cloud";
    }
    if let Some(Some(v)) = text_field(fields, "device_name") {
        workspace.device_name = v;
    }
    if let Some(Some(v)) = text_field(fields, "status") {
        workspace.status = v;
    }
    if let Some(v) = text_field(fields, "git_branch") {
        workspace.branch = v;
    }
    if let Some(git) = fields.get("git_status") {
        workspace.git = parse_git(&git.to_string());
    }
    if let Some(Some(v)) = text_field(fields, "last_activity_at") {
        workspace.last_activity_at = parse_timestamp(&v);
    }
}
