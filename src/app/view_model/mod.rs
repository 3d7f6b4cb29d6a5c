//! What the window draws, in memory: the synced rows of every organization the user belongs to,
//! with the outbox's pending writes laid over them, sorted and indexed once per change.
//!
//! [`ViewModel::load`] reads SQLite (off the UI thread) after the engine says a table changed;
//! the panels only read it. Everything a frame needs is precomputed here — per-task workspace
//! lists, lower-cased search text, parsed timestamps and colours, each organization's rows — so
//! a frame over 100,000 tasks does no parsing and no allocation beyond the rows it shows.
//! `read` holds the SQL, `overlay` lays pending writes over the rows, `presence` the ordering
//! and "active now / idle 15m ago" rules.

mod overlay;
mod presence;
mod read;

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::Connection;
use time::OffsetDateTime;

use super::rows::{self, Filters, Row};
use crate::gitlink::local::GitState;
use crate::outbox;
use crate::store::StoreError;

pub use presence::{parse_timestamp, presence_text, priority_rank, status_rank};

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
