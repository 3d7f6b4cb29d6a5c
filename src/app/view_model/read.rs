//! The SQL behind the view model: people, organizations, repositories with this device's
//! folders, tasks (all of them, or the first screen of one organization) and workspaces, with
//! the outbox's pending writes laid over the rows they touch.

use std::collections::HashMap;

use rusqlite::Connection;
use serde_json::Value;
use time::OffsetDateTime;

use super::overlay::{patch_task, patch_workspace};
use super::presence::{parse_timestamp, priority_rank, status_rank};
use super::{LocalFolder, PullRequest, Repository, Task, ViewModel, Workspace};
use crate::gitlink::local::GitState;
use crate::gitlink::urls;
use crate::outbox::{self, Command};
use crate::store::StoreError;

impl ViewModel {
    pub(super) fn load_repositories(&mut self, conn: &Connection) -> Result<(), StoreError> {
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

    pub(super) fn load_tasks(
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

    pub(super) fn load_workspaces(
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
}

/// Sorts `SUP-9` before `SUP-10`.
fn natural_key(key: &str) -> (&str, u64) {
    match key.rsplit_once('-') {
        Some((prefix, number)) => (prefix, number.parse().unwrap_or(u64::MAX)),
        None => (key, u64::MAX),
    }
}

pub(super) fn parse_git(text: &str) -> Option<GitState> {
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

pub(super) fn parse_color(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}
