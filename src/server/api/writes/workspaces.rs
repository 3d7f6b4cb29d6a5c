//! `POST /api/workspaces`, `PATCH /api/workspaces/{id}` and `POST …/archive`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::checks::{Assignments, non_empty, one_of, require_in_org};
use super::transaction::{IdempotencyKey, WriteResult, idempotent};
use crate::gitlink::urls;
use crate::server::api::state::ApiState;
use crate::server::http::auth::{AuthUser, require_member};
use crate::server::http::error::{AppError, AppResult};
use crate::server::http::extract::{JsonBody, PathParams, present};
use crate::server::http::limits;

const PR_STATUSES: [&str; 4] = ["draft", "open", "merged", "closed"];

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
    limits::text("device_name", &workspace.device_name, limits::NAME)?;
    limits::optional_text(
        "git_branch",
        workspace.git_branch.as_deref(),
        limits::BRANCH,
    )?;
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

/// 400, in the field's words, for anything the database would refuse or that is too big;
/// returns `last_activity_at` read.
fn check_workspace_changes(changes: &WorkspaceChanges) -> AppResult<Option<time::OffsetDateTime>> {
    if let Some(status) = &changes.status {
        one_of("status", status, &["active", "idle", "archived"])?;
    }
    if let Some(Some(pr_status)) = &changes.pr_status {
        one_of("pr_status", pr_status, &PR_STATUSES)?;
    }
    if let Some(Some(git_status)) = &changes.git_status {
        if !git_status.is_object() {
            return Err(AppError::BadRequest(
                "git_status must be a JSON object".to_owned(),
            ));
        }
        limits::text("git_status", &git_status.to_string(), limits::SHORT)?;
    }
    limits::optional_text(
        "git_branch",
        changes.git_branch.as_ref().and_then(Option::as_deref),
        limits::BRANCH,
    )?;
    if let Some(Some(number)) = changes.pr_number
        && number <= 0
    {
        return Err(AppError::BadRequest(
            "pr_number must be a positive pull request number".to_owned(),
        ));
    }
    changes
        .last_activity_at
        .as_deref()
        .map(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).map_err(
                |_| {
                    AppError::BadRequest(format!(
                        "last_activity_at must be an RFC 3339 time, not {t:?}"
                    ))
                },
            )
        })
        .transpose()
}

/// 400 unless `pr_url` is `https://<host>/<owner>/<repo>/pull/<n>` of the workspace's own
/// repository (and `<n>` is `number`, when given): a workspace cannot claim another
/// repository's pull request, so no webhook can be steered to it.
async fn require_own_pull_request(
    tx: &Transaction<'_>,
    workspace: Uuid,
    pr_url: &str,
    number: Option<i32>,
) -> AppResult<()> {
    let refused = || {
        AppError::BadRequest(
            "pr_url must be https://<host>/<owner>/<repo>/pull/<number>, a pull request of the \
             workspace's own repository"
                .to_owned(),
        )
    };
    limits::web_url_field("pr_url", pr_url)?;
    let (repository_part, pull_number) = pr_url
        .trim_end_matches('/')
        .rsplit_once("/pull/")
        .ok_or_else(refused)?;
    let pull_number: i32 = pull_number.parse().map_err(|_| refused())?;
    if !pr_url.starts_with("https://")
        || pull_number <= 0
        || number.is_some_and(|n| n != pull_number)
    {
        return Err(refused());
    }
    let repository_url: String = tx
        .query_one(
            "SELECT r.url FROM workspaces w JOIN repositories r ON r.id = w.repository_id \
             WHERE w.id = $1",
            &[&workspace],
        )
        .await?
        .get(0);
    let claimed = urls::normalize(repository_part).ok_or_else(refused)?;
    if urls::normalize(&repository_url).as_deref() != Some(claimed.as_str()) {
        return Err(refused());
    }
    Ok(())
}

pub async fn update_workspace(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    PathParams(id): PathParams<Uuid>,
    JsonBody(changes): JsonBody<WorkspaceChanges>,
) -> AppResult<Json<WriteResult>> {
    let last_activity_at = check_workspace_changes(&changes)?;
    idempotent(&state, user.id, &key, async |tx| {
        let (org, owner) = workspace_owner(tx, id).await?;
        require_member(tx, org, user.id).await?;
        if owner != user.id {
            return Err(AppError::Forbidden(
                "only the workspace's owner can change it".to_owned(),
            ));
        }
        if let Some(Some(pr_url)) = &changes.pr_url {
            require_own_pull_request(tx, id, pr_url, changes.pr_number.flatten()).await?;
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
