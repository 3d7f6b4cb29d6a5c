//! Reading the view model from SQLite (off the UI thread) after the engine says a table
//! changed: everything, or only the first screen of one organization while the rest loads.
//! After the rows are read, [`ViewModel::index`] precomputes what frames need — per-task
//! workspace lists, each organization's rows and statuses, conflicts with their tasks — so a
//! frame
//! over 100,000 tasks does no parsing and no allocation beyond the rows it shows.

use std::sync::Arc;

use rusqlite::Connection;

use super::choices::statuses_of;
use super::model::{TaskConflict, TaskIndex, TaskWorkspaces, ViewModel};
use super::rows::{self, Filters};
use crate::outbox;
use crate::store::StoreError;

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
        vm.load_people(conn, me)?;
        vm.load_organizations(conn, me)?;
        vm.load_members(conn)?;
        vm.load_repositories(conn)?;
        let overlay = outbox::overlay(conn)?;
        vm.pending_writes = overlay.len();
        vm.rejected = outbox::rejected(conn)?
            .into_iter()
            .filter_map(|e| e.last_error)
            .collect();
        let conflicts = outbox::conflicts(conn)?;
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
        vm.load_tasks(conn, &overlay, first_screen.as_ref())?;
        let tasks = started.elapsed();
        vm.load_workspaces(conn, &overlay)?;
        let workspaces = started.elapsed();
        vm.index();
        vm.conflicts = conflicts
            .into_iter()
            .filter_map(|(entry, conflict)| vm.conflict_of(entry, conflict))
            .collect();
        tracing::debug!(?tasks, ?workspaces, indexed = ?started.elapsed(), "view model loaded");
        Ok(vm)
    }

    /// Per-task workspace lists, and each organization's rows and statuses.
    fn index(&mut self) {
        self.task_index = TaskIndex::of(&self.tasks);
        self.task_workspaces = TaskWorkspaces::of(&self.tasks, &self.task_index, &self.workspaces);
        for organization in self.organizations.clone() {
            let built = rows::build(self, Some(&organization.id), &Filters::default());
            self.organization_rows
                .insert(organization.id.clone(), Arc::new(built));
            let statuses = statuses_of(
                self.tasks
                    .iter()
                    .filter(|t| t.organization_id == organization.id),
            );
            self.statuses.insert(organization.id, statuses);
        }
    }

    /// A conflicted write, shown with the task it concerns (`None` once the task is gone).
    fn conflict_of(
        &self,
        entry: outbox::Entry,
        conflict: outbox::Conflict,
    ) -> Option<TaskConflict> {
        let outbox::Command::UpdateTask { id, .. } = &entry.command else {
            return None;
        };
        let task = self.task(&id.to_string())?;
        Some(TaskConflict {
            entry_id: entry.id,
            task_id: task.id().to_owned(),
            task_key: task.key().to_owned(),
            conflict,
        })
    }
}
