//! Writes to tasks and workspaces. Each runs in one transaction, checks that the caller may
//! make it (a member of the row's organization; only a workspace's owner updates it, admins may
//! archive it; referenced ids belong to the same organization), and returns the transaction's
//! id as the replication stream will report it (`txids`), so the desktop can tell when its
//! write has come back through sync.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;
use tokio_postgres::Transaction;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::state::ApiState;
use crate::server::http::auth::AuthUser;
use crate::server::http::auth::require_member;
use crate::server::http::error::{AppError, AppResult};
use crate::server::http::extract::{JsonBody, PathParams, present};

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct WriteResult {
    pub id: Uuid,
    /// The 32-bit transaction id, as in the synced change's `txids`.
    pub txid: i64,
}

const PRIORITIES: [&str; 5] = ["urgent", "high", "medium", "low", "none"];
const PR_STATUSES: [&str; 4] = ["draft", "open", "merged", "closed"];

fn one_of(field: &str, value: &str, allowed: &[&str]) -> AppResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "{field} must be one of {}, not {value:?}",
            allowed.join(", ")
        )))
    }
}

fn non_empty(field: &str, value: &str) -> AppResult<()> {
    if value.trim().is_empty() {
        return Err(AppError::BadRequest(format!("{field} must not be empty")));
    }
    Ok(())
}

/// The `Idempotency-Key` header: a client's name for one write, so a retry of a write whose
/// answer was lost gets that answer again instead of writing twice.
pub struct IdempotencyKey(Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(Self(None)),
            Some(value) => match value.to_str() {
                Ok(key) if !key.is_empty() && key.len() <= 200 => Ok(Self(Some(key.to_owned()))),
                _ => Err(AppError::BadRequest(
                    "Idempotency-Key must be 1 to 200 visible ASCII characters".to_owned(),
                )),
            },
        }
    }
}

/// Runs `write` in one transaction as `user`, once per idempotency key: a key used before gets
/// the answer it got then, and nothing is written again. `write` returns the row's id; the
/// answer adds the transaction's id, recorded under the key in the same transaction.
async fn idempotent(
    state: &ApiState,
    user: Uuid,
    key: &IdempotencyKey,
    write: impl AsyncFnOnce(&Transaction<'_>) -> AppResult<Uuid>,
) -> AppResult<Json<WriteResult>> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    if let Some(done) = replayed(&tx, user, key).await? {
        return Ok(Json(done));
    }
    let id = write(&tx).await?;
    let txid: i64 = tx
        .query_one("SELECT pg_current_xact_id()::xid::text::int8", &[])
        .await?
        .get(0);
    let result = WriteResult { id, txid };
    if let Some(key) = &key.0 {
        let response = serde_json::to_value(&result).map_err(AppError::internal)?;
        tx.execute(
            "INSERT INTO idempotency_keys (user_id, key, response) VALUES ($1, $2, $3)",
            &[&user, key, &response],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Json(result))
}

/// The stored answer when this key was used before.
async fn replayed(
    tx: &Transaction<'_>,
    user: Uuid,
    key: &IdempotencyKey,
) -> AppResult<Option<WriteResult>> {
    let Some(key) = &key.0 else {
        return Ok(None);
    };
    let row = tx
        .query_opt(
            "SELECT response FROM idempotency_keys WHERE user_id = $1 AND key = $2",
            &[&user, key],
        )
        .await?;
    row.map(|r| {
        serde_json::from_value(r.get::<_, Value>(0))
            .map_err(|e| AppError::internal(format!("a stored answer: {e}")))
    })
    .transpose()
}

/// 400 unless `id` is a row of `table` in `org` (tables are fixed names, never input).
async fn require_in_org(
    tx: &Transaction<'_>,
    table: &str,
    what: &str,
    id: Uuid,
    org: Uuid,
) -> AppResult<()> {
    let sql = if table == "users" {
        "SELECT 1 FROM organization_members WHERE user_id = $1 AND organization_id = $2".to_owned()
    } else {
        format!("SELECT 1 FROM {table} WHERE id = $1 AND organization_id = $2")
    };
    if tx.query_opt(&sql, &[&id, &org]).await?.is_none() {
        return Err(AppError::BadRequest(format!(
            "{what} {id} is not in this organization"
        )));
    }
    Ok(())
}

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

pub async fn create_task(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    JsonBody(task): JsonBody<NewTask>,
) -> AppResult<Json<WriteResult>> {
    non_empty("title", &task.title)?;
    if let Some(priority) = &task.priority {
        one_of("priority", priority, &PRIORITIES)?;
    }
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskChanges {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub status_color: Option<Option<String>>,
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub assignee_id: Option<Option<Uuid>>,
    pub labels: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub due_date: Option<Option<Date>>,
}

/// Builds `SET a = $2, b = $3 …` from the fields present (`$1` is the row id).
struct Assignments {
    columns: Vec<&'static str>,
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Assignments {
    fn new() -> Self {
        Self {
            columns: Vec::new(),
            values: Vec::new(),
        }
    }

    fn set<T: ToSql + Sync + Send + 'static>(&mut self, column: &'static str, value: Option<T>) {
        if let Some(value) = value {
            self.columns.push(column);
            self.values.push(Box::new(value));
        }
    }

    async fn apply(self, tx: &Transaction<'_>, table: &str, id: Uuid) -> AppResult<()> {
        if self.columns.is_empty() {
            return Err(AppError::BadRequest(
                "nothing to change: the body names no field".to_owned(),
            ));
        }
        let sets: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 2))
            .collect();
        let sql = format!("UPDATE {table} SET {} WHERE id = $1", sets.join(", "));
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&id];
        params.extend(
            self.values
                .iter()
                .map(|v| v.as_ref() as &(dyn ToSql + Sync)),
        );
        tx.execute(&sql, &params).await?;
        Ok(())
    }
}

async fn task_org(tx: &Transaction<'_>, id: Uuid) -> AppResult<Uuid> {
    tx.query_opt(
        "SELECT organization_id FROM tasks WHERE id = $1 FOR UPDATE",
        &[&id],
    )
    .await?
    .map(|r| r.get(0))
    .ok_or_else(|| AppError::NotFound(format!("no task {id}")))
}

pub async fn update_task(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    PathParams(id): PathParams<Uuid>,
    JsonBody(changes): JsonBody<TaskChanges>,
) -> AppResult<Json<WriteResult>> {
    if let Some(title) = &changes.title {
        non_empty("title", title)?;
    }
    if let Some(priority) = &changes.priority {
        one_of("priority", priority, &PRIORITIES)?;
    }
    idempotent(&state, user.id, &key, async |tx| {
        let org = task_org(tx, id).await?;
        require_member(tx, org, user.id).await?;
        if let Some(Some(assignee)) = changes.assignee_id {
            require_in_org(tx, "users", "assignee", assignee, org).await?;
        }
        let mut set = Assignments::new();
        set.set("title", changes.title.map(|t| t.trim().to_owned()));
        set.set("description", changes.description);
        set.set("status", changes.status);
        set.set("status_color", changes.status_color);
        set.set("priority", changes.priority);
        set.set("assignee_id", changes.assignee_id);
        set.set("labels", changes.labels.map(|l| serde_json::json!(l)));
        set.set("due_date", changes.due_date);
        set.apply(tx, "tasks", id).await?;
        Ok(id)
    })
    .await
}

/// Soft delete: the task stays (workspaces may point at it) with `deleted_at` set.
pub async fn delete_task(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    PathParams(id): PathParams<Uuid>,
) -> AppResult<Json<WriteResult>> {
    idempotent(&state, user.id, &key, async |tx| {
        let org = task_org(tx, id).await?;
        require_member(tx, org, user.id).await?;
        tx.execute(
            "UPDATE tasks SET deleted_at = coalesce(deleted_at, now()) WHERE id = $1",
            &[&id],
        )
        .await?;
        Ok(id)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    pub id: Option<Uuid>,
    pub organization_id: Uuid,
    pub task_id: Option<Uuid>,
    pub repository_id: Uuid,
    #[serde(rename = "type")]
    pub kind: String,
    pub device_name: String,
    pub git_branch: Option<String>,
}

pub async fn create_workspace(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    JsonBody(workspace): JsonBody<NewWorkspace>,
) -> AppResult<Json<WriteResult>> {
    one_of("type", &workspace.kind, &["local", "cloud"])?;
    non_empty("device_name", &workspace.device_name)?;
    let org = workspace.organization_id;
    idempotent(&state, user.id, &key, async |tx| {
        require_member(tx, org, user.id).await?;
        require_in_org(
            tx,
            "repositories",
            "repository",
            workspace.repository_id,
            org,
        )
        .await?;
        if let Some(task) = workspace.task_id {
            require_in_org(tx, "tasks", "task", task, org).await?;
        }
        let id = workspace.id.unwrap_or_else(Uuid::new_v4);
        tx.execute(
            "INSERT INTO workspaces (id, organization_id, task_id, repository_id, owner_id, type, device_name, \
                                     status, git_branch, last_activity_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, now())",
            &[
                &id,
                &org,
                &workspace.task_id,
                &workspace.repository_id,
                &user.id,
                &workspace.kind,
                &workspace.device_name.trim(),
                &workspace.git_branch,
            ],
        )
        .await?;
        Ok(id)
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceChanges {
    pub status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub git_status: Option<Option<Value>>,
    #[serde(default, deserialize_with = "present")]
    pub git_branch: Option<Option<String>>,
    pub last_activity_at: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub pr_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub pr_number: Option<Option<i32>>,
    #[serde(default, deserialize_with = "present")]
    pub pr_status: Option<Option<String>>,
}

/// The workspace's organization and owner, locked for the update.
async fn workspace_owner(tx: &Transaction<'_>, id: Uuid) -> AppResult<(Uuid, Uuid)> {
    tx.query_opt(
        "SELECT organization_id, owner_id FROM workspaces WHERE id = $1 FOR UPDATE",
        &[&id],
    )
    .await?
    .map(|r| (r.get(0), r.get(1)))
    .ok_or_else(|| AppError::NotFound(format!("no workspace {id}")))
}

pub async fn update_workspace(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    PathParams(id): PathParams<Uuid>,
    JsonBody(changes): JsonBody<WorkspaceChanges>,
) -> AppResult<Json<WriteResult>> {
    if let Some(status) = &changes.status {
        one_of("status", status, &["active", "idle", "archived"])?;
    }
    if let Some(Some(pr_status)) = &changes.pr_status {
        one_of("pr_status", pr_status, &PR_STATUSES)?;
    }
    if let Some(Some(git_status)) = &changes.git_status
        && !git_status.is_object()
    {
        {
            return Err(AppError::BadRequest(
                "git_status must be a JSON object".to_owned(),
            ));
        }
    }
    let last_activity_at = changes
        .last_activity_at
        .map(|t| {
            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).map_err(
                |_| {
                    AppError::BadRequest(format!(
                        "last_activity_at must be an RFC 3339 time, not {t:?}"
                    ))
                },
            )
        })
        .transpose()?;
    idempotent(&state, user.id, &key, async |tx| {
        let (org, owner) = workspace_owner(tx, id).await?;
        require_member(tx, org, user.id).await?;
        if owner != user.id {
            return Err(AppError::Forbidden(
                "only the workspace's owner can change it".to_owned(),
            ));
        }
        let mut set = Assignments::new();
        set.set("status", changes.status);
        set.set("git_status", changes.git_status);
        set.set("git_branch", changes.git_branch);
        set.set("last_activity_at", last_activity_at);
        set.set("pr_url", changes.pr_url);
        set.set("pr_number", changes.pr_number);
        set.set("pr_status", changes.pr_status);
        set.apply(tx, "workspaces", id).await?;
        Ok(id)
    })
    .await
}

pub async fn archive_workspace(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    PathParams(id): PathParams<Uuid>,
) -> AppResult<Json<WriteResult>> {
    idempotent(&state, user.id, &key, async |tx| {
        let (org, owner) = workspace_owner(tx, id).await?;
        let role = require_member(tx, org, user.id).await?;
        if owner != user.id && role == "member" {
            return Err(AppError::Forbidden(
                "only the workspace's owner or an organization admin can archive it".to_owned(),
            ));
        }
        tx.execute(
            "UPDATE workspaces SET status = 'archived' WHERE id = $1",
            &[&id],
        )
        .await?;
        Ok(id)
    })
    .await
}
