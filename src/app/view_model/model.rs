//! What the window draws, as plain data: people, organizations, repositories with this
//! device's folders, tasks and workspaces, and the [`ViewModel`] that holds them with the
//! indexes a frame needs. Loading it is `load`'s job; nothing here reads SQLite.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use time::OffsetDateTime;

use super::shared::{Labels, Shared};
use super::task_text::{TaskText, TextField};
use crate::gitlink::local::GitState;

/// One line of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A status group: the index of its first task, and how many tasks it holds.
    Group {
        first_task: usize,
        count: usize,
    },
    Task(usize),
    Workspace(usize),
    /// The "(no task)" group header, with how many workspaces it holds.
    NoTask {
        count: usize,
    },
}

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
    /// The user's role in it; empty for the moment before its members have synced.
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
    /// Where it lives on this device, when it was started here.
    pub local_path: Option<String>,
    /// Created or changed here and not yet confirmed by sync.
    pub pending: bool,
}

impl Workspace {
    /// Finished: hidden from the tree unless archived work is asked for.
    pub fn archived(&self) -> bool {
        self.status == "archived"
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Id, key, title, branch, link and description, in one allocation.
    pub text: TaskText,
    pub organization_id: Shared,
    pub repository_id: Option<Shared>,
    pub status: Shared,
    pub status_color: Option<[u8; 3]>,
    pub priority: Shared,
    pub assignee_id: Option<Shared>,
    pub assignee_name: Option<Shared>,
    pub labels: Labels,
    pub due_date: Option<Shared>,
    /// The tracker the task comes from (`linear`), which owns its fields; `None` when it was
    /// created in Superset.
    pub provider: Option<Shared>,
    pub pending: bool,
}

impl Task {
    pub fn id(&self) -> &str {
        self.text.get(TextField::Id).unwrap_or_default()
    }

    /// What the tree shows: the tracker's key (`ACME-18`), or `new` until the server numbers it.
    pub fn key(&self) -> &str {
        self.text.get(TextField::Key).unwrap_or_default()
    }

    pub fn title(&self) -> &str {
        self.text.get(TextField::Title).unwrap_or_default()
    }

    pub fn description(&self) -> Option<&str> {
        self.text.get(TextField::Description)
    }

    /// The branch the tracker suggests for it.
    pub fn branch(&self) -> Option<&str> {
        self.text.get(TextField::Branch)
    }

    /// The task in its tracker (a Linear issue's page).
    pub fn external_url(&self) -> Option<&str> {
        self.text.get(TextField::ExternalUrl)
    }

    /// The tracker that owns the task's fields, by its name (`Linear`), if any.
    pub fn owner(&self) -> Option<String> {
        let provider = self.provider.as_deref()?;
        let mut letters = provider.chars();
        let first = letters.next()?.to_uppercase();
        Some(first.chain(letters).collect())
    }
}

/// A status a task can have, with its colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub name: String,
    pub color: Option<[u8; 3]>,
}

/// A write of this device that a teammate's change overtook (see `outbox::Conflict`).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskConflict {
    /// The outbox entry to resolve.
    pub entry_id: i64,
    pub task_id: String,
    pub task_key: String,
    pub conflict: crate::outbox::Conflict,
}

/// Where each task is in a list of tasks, found by id. It keeps positions only and hashes the
/// ids the tasks hold, rather than a copy of every id.
#[derive(Clone, Default)]
pub struct TaskIndex {
    positions: hashbrown::HashTable<u32>,
    hasher: std::hash::RandomState,
}

impl TaskIndex {
    /// The index of `tasks` (as they stand: rebuild it when they change).
    pub fn of(tasks: &[Task]) -> Self {
        let mut index = Self::default();
        index.positions.reserve(tasks.len(), |_| 0);
        for (position, task) in tasks.iter().enumerate() {
            let hash = index.hasher.hash_one(task.id());
            index.positions.insert_unique(hash, position as u32, |&p| {
                index.hasher.hash_one(tasks[p as usize].id())
            });
        }
        index
    }

    /// The position of the task `id` in `tasks` (the list this index was built of).
    pub fn find(&self, tasks: &[Task], id: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(id);
        self.positions
            .find(hash, |&p| tasks[p as usize].id() == id)
            .map(|&p| p as usize)
    }
}

impl std::fmt::Debug for TaskIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TaskIndex({} tasks)", self.positions.len())
    }
}

/// Derived from the tasks, which the model compares itself.
impl PartialEq for TaskIndex {
    fn eq(&self, other: &Self) -> bool {
        self.positions.len() == other.positions.len()
    }
}

/// Each task's workspaces, by the task's position in a list of tasks: one list of workspace
/// indexes and where each task's part of it starts, rather than a `Vec` for every task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskWorkspaces {
    /// `starts[i]..starts[i + 1]` is task `i`'s part of `workspaces`.
    starts: Vec<u32>,
    workspaces: Vec<u32>,
}

impl TaskWorkspaces {
    /// Each of `tasks`' workspaces among `workspaces`, in their order; `index` is `tasks`' own.
    pub fn of(tasks: &[Task], index: &TaskIndex, workspaces: &[Workspace]) -> Self {
        let mut owned: Vec<(usize, u32)> = workspaces
            .iter()
            .enumerate()
            .filter_map(|(w, workspace)| {
                let task = index.find(tasks, workspace.task_id.as_deref()?)?;
                Some((task, w as u32))
            })
            .collect();
        // Stable: each task's workspaces keep their order.
        owned.sort_by_key(|&(task, _)| task);
        Self {
            starts: (0..=tasks.len())
                .map(|t| owned.partition_point(|&(task, _)| task < t) as u32)
                .collect(),
            workspaces: owned.into_iter().map(|(_, w)| w).collect(),
        }
    }

    /// The workspaces (indexes) of the task at `task`; none for a task past the end.
    pub fn of_task(&self, task: usize) -> impl Iterator<Item = usize> + '_ {
        let range = match (self.starts.get(task), self.starts.get(task + 1)) {
            (Some(&start), Some(&end)) => start as usize..end as usize,
            _ => 0..0,
        };
        self.workspaces[range].iter().map(|&w| w as usize)
    }
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
    /// Archived ones too; sorted by most recent activity.
    pub workspaces: Vec<Workspace>,
    /// Task id → index in `tasks`.
    pub task_index: TaskIndex,
    /// Each task's workspaces (indexes into `workspaces`), by the task's index.
    pub task_workspaces: TaskWorkspaces,
    /// Each organization's task tree without search or filters, built with the model so that
    /// switching organization costs nothing.
    pub organization_rows: HashMap<String, Arc<Vec<Row>>>,
    /// Each organization's statuses with their colours, in group order: the status filter's
    /// and the status picker's choices.
    pub statuses: HashMap<String, Vec<Status>>,
    /// Each organization's members (user ids, by name): the assignee picker's choices.
    pub members: HashMap<String, Vec<String>>,
    /// Task updates a teammate's change overtook, waiting for "keep mine" or "take theirs".
    pub conflicts: Vec<TaskConflict>,
    pub pending_writes: usize,
    /// Writes the server refused, with its reasons.
    pub rejected: Vec<String>,
    /// Only the first screen of one organization is loaded; the rest is on its way.
    pub partial: bool,
}

impl ViewModel {
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.task_index
            .find(&self.tasks, id)
            .map(|i| &self.tasks[i])
    }

    pub fn repository(&self, id: &str) -> Option<&Repository> {
        self.repositories.iter().find(|r| r.id == id)
    }

    /// The workspaces of a task, most recently active first.
    pub fn workspaces_of(&self, task_id: &str) -> impl Iterator<Item = &Workspace> {
        self.task_index
            .find(&self.tasks, task_id)
            .into_iter()
            .flat_map(|task| self.task_workspaces.of_task(task))
            .map(|w| &self.workspaces[w])
    }
}
