//! `POST /api/tasks`, `DELETE /api/tasks/{id}` and `POST /api/tasks/{id}/restore`, and what
//! task writes share: the field checks and the locked row. Updates are `task_update`'s.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use time::Date;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::checks::{non_empty, one_of, require_in_org};
use super::transaction::{IdempotencyKey, WriteResult, idempotent};
use crate::server::api::state::ApiState;
use crate::server::http::auth::{AuthUser, require_member};
use crate::server::http::error::{AppError, AppResult};
use crate::server::http::extract::{JsonBody, PathParams};
use crate::server::http::limits;

pub(super) const PRIORITIES: [&str; 5] = ["urgent", "high", "medium", "low", "none"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// Chosen by the client so its optimistic row and the synced one share a key.
    pub id: Option<Uuid>,
    pub organization_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub status: Option<String>,
    pub status_color: Option<String>,
    pub priority: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub repository_id: Option<Uuid>,
    pub branch: Option<String>,
    pub labels: Option<Vec<String>>,
    pub due_date: Option<Date>,
}

/// A task's text fields as a write carries them (absent: not written).
pub(super) struct TaskFields<'a> {
    pub(super) title: Option<&'a str>,
    pub(super) description: Option<&'a str>,
    pub(super) status: Option<&'a str>,
    pub(super) status_color: Option<&'a str>,
    pub(super) priority: Option<&'a str>,
    pub(super) branch: Option<&'a str>,
    pub(super) labels: Option<&'a [String]>,
}

/// 400, in the field's words, for anything the database would refuse or that is too big.
pub(super) fn check_task_fields(fields: &TaskFields<'_>) -> AppResult<()> {
    if let Some(title) = fields.title {
        non_empty("title", title)?;
        limits::text("title", title, limits::TITLE)?;
    }
    limits::optional_text("description", fields.description, limits::DESCRIPTION)?;
    if let Some(status) = fields.status {
        non_empty("status", status)?;
        limits::text("status", status, limits::NAME)?;
    }
    if let Some(color) = fields.status_color
        && !(color.len() == 7
            && color.starts_with('#')
            && color[1..].chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(AppError::BadRequest(format!(
            "status_color must be a colour written #rrggbb, like #5e6ad2, not {color:?}"
        )));
    }
    if let Some(priority) = fields.priority {
        one_of("priority", priority, &PRIORITIES)?;
    }
    limits::optional_text("branch", fields.branch, limits::BRANCH)?;
    fields.labels.map_or(Ok(()), limits::labels)
}

pub async fn create_task(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    JsonBody(task): JsonBody<NewTask>,
) -> AppResult<Json<WriteResult>> {
    check_task_fields(&TaskFields {
        title: Some(&task.title),
        description: task.description.as_deref(),
        status: task.status.as_deref(),
        status_color: task.status_color.as_deref(),
        priority: task.priority.as_deref(),
        branch: task.branch.as_deref(),
        labels: task.labels.as_deref(),
    })?;
    idempotent(&state, user.id, &key, async |tx| {
        require_member(tx, task.organization_id, user.id).await?;
        if let Some(assignee) = task.assignee_id {
            require_in_org(tx, "users", "assignee", assignee, task.organization_id).await?;
        }
        if let Some(repository) = task.repository_id {
            require_in_org(
                tx,
                "repositories",
                "repository",
                repository,
                task.organization_id,
            )
            .await?;
        }
        let id = task.id.unwrap_or_else(Uuid::new_v4);
        let labels = serde_json::json!(task.labels.unwrap_or_default());
        tx.execute(
            "INSERT INTO tasks (id, organization_id, title, description, status, status_color, priority, \
                                assignee_id, repository_id, branch, labels, due_date) \
             VALUES ($1, $2, $3, $4, coalesce($5, 'Backlog'), $6, coalesce($7, 'none'), $8, $9, $10, $11, $12)",
            &[
                &id,
                &task.organization_id,
                &task.title.trim(),
                &task.description,
                &task.status,
                &task.status_color,
                &task.priority,
                &task.assignee_id,
                &task.repository_id,
                &task.branch,
                &labels,
                &task.due_date,
            ],
        )
        .await?;
        Ok(id)
    })
    .await
}

/// The task's organization, and the task as it is now (locked until the write ends).
pub(super) async fn locked_task(tx: &Transaction<'_>, id: Uuid) -> AppResult<(Uuid, Value)> {
    tx.query_opt(
        "SELECT organization_id, to_jsonb(t) FROM tasks t WHERE id = $1 FOR UPDATE",
        &[&id],
    )
    .await?
    .map(|r| (r.get(0), r.get(1)))
    .ok_or_else(|| AppError::NotFound(format!("no task {id}")))
}

/// The tracker that owns a task (`Linear`), by its name, if any.
pub(super) fn owner_of(task: &Value) -> Option<String> {
    let provider = task["external_provider"].as_str()?;
    let mut letters = provider.chars();
    let first = letters.next()?.to_uppercase();
    Some(first.chain(letters).collect())
}

/// The key a task shows (`ENG-12`), for messages.
pub(super) fn key_of(task: &Value) -> String {
    task["external_key"]
        .as_str()
        .map_or_else(|| "this task".to_owned(), str::to_owned)
}

/// Soft delete: the task stays (workspaces may point at it) with `deleted_at` set. A tracker's
/// task is deleted in the tracker.
pub async fn delete_task(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    PathParams(id): PathParams<Uuid>,
) -> AppResult<Json<WriteResult>> {
    idempotent(&state, user.id, &key, async |tx| {
        let (org, task) = locked_task(tx, id).await?;
        require_member(tx, org, user.id).await?;
        if let Some(owner) = owner_of(&task) {
            return Err(AppError::BadRequest(format!(
                "{} comes from {owner}: delete it in {owner}",
                key_of(&task)
            )));
        }
        tx.execute(
            "UPDATE tasks SET deleted_at = coalesce(deleted_at, now()) WHERE id = $1",
            &[&id],
        )
        .await?;
        Ok(id)
    })
    .await
}

/// `POST /api/tasks/{id}/restore`: undoes a delete (a task that is not deleted stays as it is).
/// A tracker's task comes back in the tracker.
pub async fn restore_task(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    PathParams(id): PathParams<Uuid>,
) -> AppResult<Json<WriteResult>> {
    idempotent(&state, user.id, &key, async |tx| {
        let (org, task) = locked_task(tx, id).await?;
        require_member(tx, org, user.id).await?;
        if let Some(owner) = owner_of(&task) {
            return Err(AppError::BadRequest(format!(
                "{} comes from {owner}: restore it in {owner}",
                key_of(&task)
            )));
        }
        tx.execute(
            "UPDATE tasks SET deleted_at = NULL WHERE id = $1 AND deleted_at IS NOT NULL",
            &[&id],
        )
        .await?;
        Ok(id)
    })
    .await
}
