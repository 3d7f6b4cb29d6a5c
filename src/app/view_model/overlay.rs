//! Pending writes laid over synced rows: a create adds its row, an update patches the fields
//! it carries, a delete or archive hides the row (and a restore shows it again) — so a change appears before the server has
//! confirmed it.

use std::collections::HashMap;

use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::model::{Task, Workspace};
use super::parse::{parse_color, parse_git, parse_timestamp};
use super::shared::{Labels, Shared};
use super::task_text::{TaskText, TextField};
use crate::outbox::{Command, Entry};

/// Lays the task commands of `overlay` over `tasks`.
pub(super) fn overlay_tasks(tasks: &mut Vec<Task>, overlay: &[Entry]) {
    if overlay.is_empty() {
        return;
    }
    let mut position: HashMap<String, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id().to_owned(), i))
        .collect();
    let mut deleted = Vec::new();
    for entry in overlay {
        match &entry.command {
            Command::CreateTask { id, fields } => {
                let at = *position.entry(id.to_string()).or_insert_with(|| {
                    tasks.push(new_task(*id));
                    tasks.len() - 1
                });
                patch_task(&mut tasks[at], fields);
            }
            Command::UpdateTask { id, fields, .. } => {
                if let Some(&at) = position.get(&id.to_string()) {
                    patch_task(&mut tasks[at], fields);
                }
            }
            Command::DeleteTask { id } => deleted.push(id.to_string()),
            Command::RestoreTask { id } => {
                let id = id.to_string();
                deleted.retain(|d| *d != id);
                if let Some(&at) = position.get(&id) {
                    tasks[at].pending = true;
                }
            }
            _ => {}
        }
    }
    tasks.retain(|t| !deleted.iter().any(|d| d == t.id()));
}

/// A task created here, before its fields are laid over it.
fn new_task(id: Uuid) -> Task {
    let id = id.to_string();
    Task {
        // The server gives it its key (`ACME-18`); until then it is new.
        text: TaskText::new([Some(&id), Some("new"), Some(""), None, None, None]),
        organization_id: Shared::default(),
        repository_id: None,
        status: "Todo".into(),
        status_color: None,
        priority: "none".into(),
        assignee_id: None,
        assignee_name: None,
        labels: Labels::default(),
        due_date: None,
        provider: None,
        pending: true,
    }
}

/// Lays the workspace commands of `overlay` over `workspaces`; `me` owns the ones created here.
pub(super) fn overlay_workspaces(workspaces: &mut Vec<Workspace>, overlay: &[Entry], me: &str) {
    for entry in overlay {
        match &entry.command {
            Command::CreateWorkspace { id, fields } => {
                let mut workspace = new_workspace(*id, me);
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
}

fn new_workspace(id: Uuid, me: &str) -> Workspace {
    Workspace {
        id: id.to_string(),
        organization_id: String::new(),
        task_id: None,
        repository_id: String::new(),
        owner_id: me.to_owned(),
        owner_name: String::new(),
        cloud: false,
        device_name: String::new(),
        status: "active".into(),
        branch: None,
        git: None,
        pull_request: None,
        last_activity_at: Some(OffsetDateTime::now_utc()),
        local_path: None,
        pending: true,
    }
}

fn text_field(fields: &Map<String, Value>, key: &str) -> Option<Option<String>> {
    fields.get(key).map(|v| match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    })
}

fn patch_task(task: &mut Task, fields: &Map<String, Value>) {
    task.pending = true;
    if let Some(Some(v)) = text_field(fields, "organization_id") {
        task.organization_id = v.into();
    }
    if let Some(Some(v)) = text_field(fields, "title") {
        task.text.set(TextField::Title, Some(&v));
    }
    if let Some(v) = text_field(fields, "description") {
        task.text.set(TextField::Description, v.as_deref());
    }
    if let Some(Some(v)) = text_field(fields, "status") {
        task.status = v.into();
    }
    if let Some(v) = text_field(fields, "status_color") {
        task.status_color = v.as_deref().and_then(parse_color);
    }
    if let Some(Some(v)) = text_field(fields, "priority") {
        task.priority = v.into();
    }
    if let Some(v) = text_field(fields, "assignee_id") {
        task.assignee_id = v.map(Shared::from);
    }
    if let Some(v) = text_field(fields, "repository_id") {
        task.repository_id = v.map(Shared::from);
    }
    if let Some(v) = text_field(fields, "branch") {
        task.text.set(TextField::Branch, v.as_deref());
    }
    if let Some(v) = text_field(fields, "due_date") {
        task.due_date = v.map(Shared::from);
    }
    if let Some(Value::Array(labels)) = fields.get("labels") {
        task.labels = labels
            .iter()
            .filter_map(|l| l.as_str().map(Shared::from))
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
