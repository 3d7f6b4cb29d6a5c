//! Pending writes laid over synced rows: the fields a create or update command carries,
//! applied to the task or workspace the window shows, so a change appears before the server
//! has confirmed it.

use serde_json::{Map, Value};

use super::presence::parse_timestamp;
use super::read::{parse_color, parse_git};
use super::{Task, Workspace};

fn text_field(fields: &Map<String, Value>, key: &str) -> Option<Option<String>> {
    fields.get(key).map(|v| match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    })
}

pub(super) fn patch_task(task: &mut Task, fields: &Map<String, Value>) {
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

pub(super) fn patch_workspace(workspace: &mut Workspace, fields: &Map<String, Value>) {
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
