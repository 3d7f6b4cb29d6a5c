//! The task tree's visible rows for the active organization, search and filters: status group
//! headers, tasks, their workspaces beneath, and "(no task)" for exploratory work.
//!
//! [`TreeRows`] rebuilds them only when the view model, the organization, the search text or a
//! filter changes — never per frame — so the tree can draw just the rows in view
//! (`egui::ScrollArea::show_rows`) however many tasks there are; without search or filters it
//! takes the organization's rows the model built with itself, so switching costs nothing.

use std::sync::Arc;

use super::model::{Row, ViewModel};

/// What narrows the tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub search: String,
    /// Tasks the user has a workspace on.
    pub mine: bool,
    pub assigned_to_me: bool,
    /// Only this status.
    pub status: Option<String>,
    /// Only tasks someone is actively working on.
    pub has_active_workspace: bool,
    /// Finished (archived) workspaces shown too.
    pub show_archived: bool,
}

/// The rows the tree shows now, and what they were built for.
#[derive(Debug, Clone, Default)]
pub struct TreeRows {
    pub rows: Arc<Vec<Row>>,
    /// How many of the rows are tasks.
    pub task_count: usize,
    built_for: Option<(u64, Option<String>, Filters)>,
}

impl TreeRows {
    /// Makes the rows those of `organization` under `filters` in the model of `generation`
    /// (a no-op when they already are).
    pub fn refresh(
        &mut self,
        vm: &ViewModel,
        generation: u64,
        organization: Option<&str>,
        filters: &Filters,
    ) {
        let key = (generation, organization.map(str::to_owned), filters.clone());
        if self.built_for.as_ref() == Some(&key) {
            return;
        }
        let prebuilt = (*filters == Filters::default())
            .then(|| organization.and_then(|o| vm.organization_rows.get(o)))
            .flatten();
        self.rows = match prebuilt {
            Some(rows) => rows.clone(),
            None => Arc::new(build(vm, organization, filters)),
        };
        self.task_count = self
            .rows
            .iter()
            .filter(|r| matches!(r, Row::Task(_)))
            .count();
        self.built_for = Some(key);
    }
}

/// Builds the rows for `organization`.
pub fn build(vm: &ViewModel, organization: Option<&str>, filters: &Filters) -> Vec<Row> {
    let Some(organization) = organization else {
        return Vec::new();
    };
    let me = vm.me.as_ref().map(|m| m.id.as_str());
    let needle = filters.search.trim().to_lowercase();
    let mut searched = SearchText::default();
    let mut rows = Vec::new();
    let mut group: Option<(usize, usize)> = None; // (row index of header, first task)
    for (i, task) in vm.tasks.iter().enumerate() {
        if task.organization_id != organization {
            continue;
        }
        if !needle.is_empty() && !searched.of(vm, i).contains(&needle) {
            continue;
        }
        if filters.status.as_ref().is_some_and(|s| *s != task.status) {
            continue;
        }
        if filters.assigned_to_me && (me.is_none() || task.assignee_id.as_deref() != me) {
            continue;
        }
        let workspaces: Vec<usize> = vm
            .task_workspaces
            .of_task(i)
            .filter(|&w| filters.show_archived || !vm.workspaces[w].archived())
            .collect();
        if filters.mine
            && !workspaces
                .iter()
                .any(|&w| Some(vm.workspaces[w].owner_id.as_str()) == me)
        {
            continue;
        }
        if filters.has_active_workspace
            && !workspaces
                .iter()
                .any(|&w| vm.workspaces[w].status == "active")
        {
            continue;
        }
        let same_group = group.is_some_and(|(_, first)| vm.tasks[first].status == task.status);
        if !same_group {
            group = Some((rows.len(), i));
            rows.push(Row::Group {
                first_task: i,
                count: 0,
            });
        }
        if let Some((header, _)) = group
            && let Row::Group { count, .. } = &mut rows[header]
        {
            *count += 1;
        }
        rows.push(Row::Task(i));
        rows.extend(workspaces.into_iter().map(Row::Workspace));
    }
    // Exploratory work: workspaces without a task (hidden by filters that are about tasks).
    if filters.status.is_none() && !filters.assigned_to_me {
        let loose: Vec<usize> = vm
            .workspaces
            .iter()
            .enumerate()
            .filter(|(_, w)| w.organization_id == organization && w.task_id.is_none())
            .filter(|(_, w)| filters.show_archived || !w.archived())
            .filter(|(_, w)| !filters.mine || Some(w.owner_id.as_str()) == me)
            .filter(|(_, w)| !filters.has_active_workspace || w.status == "active")
            .filter(|(_, w)| {
                needle.is_empty()
                    || w.branch
                        .as_deref()
                        .is_some_and(|b| b.to_lowercase().contains(&needle))
                    || w.owner_name.to_lowercase().contains(&needle)
            })
            .map(|(i, _)| i)
            .collect();
        if !loose.is_empty() {
            rows.push(Row::NoTask { count: loose.len() });
            rows.extend(loose.into_iter().map(Row::Workspace));
        }
    }
    rows
}

/// What the search box matches a task against: its key, title, assignee and branches (its own
/// and its workspaces'), lower-cased. Made when a search asks, in buffers reused from task to
/// task, rather than kept for every task.
#[derive(Default)]
struct SearchText {
    text: String,
    lower: String,
}

impl SearchText {
    fn of(&mut self, vm: &ViewModel, task_index: usize) -> &str {
        let task = &vm.tasks[task_index];
        self.text.clear();
        let branches = vm
            .task_workspaces
            .of_task(task_index)
            .filter_map(|w| vm.workspaces[w].branch.as_deref());
        let parts = [
            task.key(),
            task.title(),
            task.assignee_name.as_deref().unwrap_or(""),
            task.branch().unwrap_or(""),
        ];
        for (n, part) in parts.into_iter().chain(branches).enumerate() {
            if n > 0 {
                self.text.push(' ');
            }
            self.text.push_str(part);
        }
        self.lower.clear();
        if self.text.is_ascii() {
            self.lower.push_str(&self.text);
            self.lower.make_ascii_lowercase();
        } else {
            self.lower.push_str(&self.text.to_lowercase());
        }
        &self.lower
    }
}
