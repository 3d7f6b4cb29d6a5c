//! The SQL behind the view model: people, organizations, repositories with this device's
//! folders, tasks (all of them, or the first screen of one organization) and workspaces, with
//! the outbox's pending writes laid over the rows they touch (`overlay`) and the tasks in the
//! tree's order (`order`).

use std::collections::HashMap;

use rusqlite::{Connection, Row as SqlRow};

use super::model::{
    LocalFolder, Organization, Person, PullRequest, Repository, Task, ViewModel, Workspace,
};
use super::order::{self, display_key, order_key};
use super::overlay::{overlay_tasks, overlay_workspaces};
use super::parse::{parse_color, parse_git, parse_timestamp};
use super::shared::{Interner, Labels};
use super::task_text::TaskText;
use crate::gitlink::urls;
use crate::outbox;
use crate::store::StoreError;

/// Tasks not deleted, and deleted ones whose restore is on its way (an undone delete).
const TASK_COLUMNS: &str = "SELECT id, organization_id, repository_id, title, description, status, \
    status_color, priority, assignee_id, external_key, external_url, branch, labels, due_date, \
    external_provider FROM tasks WHERE (deleted_at IS NULL OR id IN (SELECT entity_id FROM outbox \
    WHERE command = 'restore_task' AND state IN ('pending', 'sent')))";

impl ViewModel {
    pub(super) fn load_people(
        &mut self,
        conn: &Connection,
        me: Option<&str>,
    ) -> Result<(), StoreError> {
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
            self.people.insert(person.id.clone(), person);
        }
        self.me = me.and_then(|id| self.people.get(id).cloned());
        Ok(())
    }

    /// The organizations `me` belongs to, by name.
    pub(super) fn load_organizations(
        &mut self,
        conn: &Connection,
        me: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut statement = conn.prepare_cached(
            // Every synced organization is one of the user's (the directory); the role comes
            // with that organization's own streams, a moment later.
            "SELECT o.id, o.name, coalesce(m.role, '') FROM organizations o \
             LEFT JOIN organization_members m ON m.organization_id = o.id AND m.user_id = ?1 \
             ORDER BY o.name COLLATE NOCASE, o.id",
        )?;
        self.organizations = statement
            .query_map([me.unwrap_or_default()], |r| {
                Ok(Organization {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    role: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    pub(super) fn load_repositories(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let folders: Vec<LocalFolder> = conn
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
        for folder in folders {
            match folder.repository_id.as_ref().and_then(|id| known.get(id)) {
                Some(&i) => self.repositories[i].folders.push(folder),
                None => self.local_projects.push(folder),
            }
        }
        Ok(())
    }

    /// Tasks in the tree's order, with pending writes laid over them. `first_screen` limits
    /// them to the first `n` of one organization, sorted in SQL by the same order.
    pub(super) fn load_tasks(
        &mut self,
        conn: &Connection,
        overlay: &[outbox::Entry],
        first_screen: Option<&(String, usize)>,
    ) -> Result<(), StoreError> {
        let mut interner = Interner::default();
        let mut row = |r: &SqlRow<'_>| task_row(r, &mut interner);
        let mut tasks = match first_screen {
            Some((organization, limit)) => {
                order::register(conn)?;
                let sql = format!(
                    "{TASK_COLUMNS} AND organization_id = ?1 \
                     ORDER BY task_order(status, priority, external_key, id) LIMIT ?2"
                );
                let limit = *limit as i64;
                let mut statement = conn.prepare_cached(&sql)?;
                statement
                    .query_map(rusqlite::params![organization, limit], &mut row)?
                    .collect::<Result<Vec<_>, _>>()?
            }
            None => conn
                .prepare_cached(TASK_COLUMNS)?
                .query_map([], &mut row)?
                .collect::<Result<Vec<_>, _>>()?,
        };
        overlay_tasks(&mut tasks, overlay);
        for task in &mut tasks {
            let person = task
                .assignee_id
                .as_ref()
                .and_then(|id| self.people.get(id.as_str()));
            task.assignee_name = person.map(|person| interner.get(&person.name));
        }
        tasks.sort_by_cached_key(|t| {
            (
                t.organization_id.clone(),
                order_key(&t.status, &t.priority, t.key()),
            )
        });
        tasks.shrink_to_fit();
        self.tasks = tasks;
        Ok(())
    }

    /// Workspaces (archived ones too), most recently active first, with pending writes and
    /// where this device's live.
    pub(super) fn load_workspaces(
        &mut self,
        conn: &Connection,
        overlay: &[outbox::Entry],
    ) -> Result<(), StoreError> {
        let mut statement = conn.prepare_cached(
            "SELECT w.id, w.organization_id, w.task_id, w.repository_id, w.owner_id, w.type, \
                    w.device_name, w.status, w.git_branch, w.git_status, w.pr_url, w.pr_number, \
                    w.pr_status, w.pr_review_status, w.last_activity_at, p.local_path \
             FROM workspaces w LEFT JOIN workspace_paths p ON p.workspace_id = w.id",
        )?;
        let mut workspaces: Vec<Workspace> = statement
            .query_map([], workspace_row)?
            .collect::<Result<_, _>>()?;
        let me = self.me.as_ref().map(|m| m.id.as_str()).unwrap_or_default();
        overlay_workspaces(&mut workspaces, overlay, me);
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

/// A task as [`TASK_COLUMNS`] reads it, with the text tasks share from `interner`. The row's
/// text is read in place: the only allocations are the task's own text and new shared values.
fn task_row(r: &SqlRow<'_>, interner: &mut Interner) -> rusqlite::Result<Task> {
    let text = |i| text_at(r, i);
    let optional = |i| optional_text_at(r, i);
    let id = text(0)?;
    Ok(Task {
        text: TaskText::new([
            Some(id),
            Some(display_key(optional(9)?, id)),
            Some(text(3)?),
            optional(11)?,
            optional(10)?,
            optional(4)?,
        ]),
        organization_id: interner.get(text(1)?),
        repository_id: interner.get_optional(optional(2)?),
        status: interner.get(text(5)?),
        status_color: optional(6)?.and_then(parse_color),
        priority: interner.get(text(7)?),
        assignee_id: interner.get_optional(optional(8)?),
        assignee_name: None,
        labels: labels(interner, text(12)?),
        due_date: interner.get_optional(optional(13)?),
        provider: interner.get_optional(optional(14)?),
        pending: false,
    })
}

fn text_at<'r>(r: &'r SqlRow<'_>, column: usize) -> rusqlite::Result<&'r str> {
    Ok(r.get_ref(column)?.as_str()?)
}

fn optional_text_at<'r>(r: &'r SqlRow<'_>, column: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(r.get_ref(column)?.as_str_or_null()?)
}

/// The labels of a task's JSON array (`["bug","ui"]`), read in place unless one is escaped;
/// none when the array is malformed.
fn labels(interner: &mut Interner, json: &str) -> Labels {
    match serde_json::from_str::<Vec<&str>>(json) {
        Ok(names) => interner.labels(names),
        Err(_) => {
            let names = serde_json::from_str::<Vec<String>>(json).unwrap_or_default();
            interner.labels(names.iter().map(String::as_str))
        }
    }
}

fn workspace_row(r: &SqlRow<'_>) -> rusqlite::Result<Workspace> {
    let git: Option<String> = r.get(9)?;
    let number: Option<i64> = r.get(11)?;
    let activity: Option<String> = r.get(14)?;
    let pull_request = match number {
        Some(number) => Some(PullRequest {
            number,
            status: r
                .get::<_, Option<String>>(12)?
                .unwrap_or_else(|| "open".into()),
            review: r.get(13)?,
            url: r.get(10)?,
        }),
        None => None,
    };
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
        pull_request,
        last_activity_at: activity.as_deref().and_then(parse_timestamp),
        local_path: r.get(15)?,
        pending: false,
    })
}
