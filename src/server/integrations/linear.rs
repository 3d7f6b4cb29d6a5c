//! `POST /webhooks/linear`: Linear issues as tasks, and the links that say which of our
//! organizations a Linear organization or team belongs to.
//!
//! `Linear-Signature` (hex HMAC-SHA256 of the raw body) is checked before parsing; then
//! `webhookTimestamp` (ms) must be within 60 s of our clock, so a captured delivery cannot be
//! replayed later (the real product once skipped this). A handled delivery is claimed by its
//! `Linear-Delivery` id in the transaction that applies it, and one whose issue `updatedAt` is
//! older than what was already applied is recorded as `stale` (Linear retries after 1 min,
//! 1 h and 6 h, so an old attempt can land after a newer update).
//!
//! `Issue` `create` / `update` upsert the task with `external_provider` 'linear' and
//! `external_id` = the issue id, in the organization linked to the issue's team, else to its
//! Linear organization: `external_key` (identifier), `external_url`, title, description,
//! status and `status_color` from the workflow state, priority (0 none, 1 urgent, 2 high,
//! 3 medium, 4 low), label names, due date, the assignee when a member of the organization has
//! the assignee's e-mail (else none), `branch` from `branchName` (kept when a payload lacks
//! it: Linear's webhooks usually do not carry it), and the suggested repository when a label
//! or a segment of the branch before its last `/` names exactly one repository of the
//! organization (by name or slug, `repo:` prefix allowed on labels). `remove` (and a trashed
//! issue) soft-deletes the task. Other types and actions are 204; deliveries for unlinked
//! Linear organizations are recorded as `unlinked`.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};
use tokio_postgres::{GenericClient, Transaction};
use uuid::Uuid;

use super::access::require_admin;
use super::deliveries;
use super::state::IntegrationsState;
use super::webhook::{WEBHOOK_DEADLINE, header, maybe_prune, outcome_response};
use crate::server::http::auth::AuthUser;
use crate::server::http::error::{AppError, AppResult};
use crate::server::http::extract::{JsonBody, PathParams};

const PROVIDER: &str = "linear";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub action: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Milliseconds since the epoch.
    #[serde(default)]
    pub webhook_timestamp: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct Named {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct WorkflowState {
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Person {
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Team {
    pub id: String,
}

/// The fields of Linear's `IssueWebhookPayload` we use.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    pub id: String,
    #[serde(default)]
    pub identifier: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub priority: Option<f64>,
    #[serde(default)]
    pub state: Option<WorkflowState>,
    #[serde(default)]
    pub team_id: Option<String>,
    #[serde(default)]
    pub team: Option<Team>,
    #[serde(default)]
    pub assignee: Option<Person>,
    #[serde(default)]
    pub labels: Option<Vec<Named>>,
    #[serde(default)]
    pub due_date: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub branch_name: Option<String>,
    #[serde(default)]
    pub trashed: Option<bool>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

impl Issue {
    fn team_id(&self) -> Option<&str> {
        self.team_id
            .as_deref()
            .or(self.team.as_ref().map(|t| t.id.as_str()))
    }
}

/// Linear's priority number as our priority.
pub fn priority(value: Option<f64>) -> &'static str {
    match value.map(|p| p.round() as i64) {
        Some(1) => "urgent",
        Some(2) => "high",
        Some(3) => "medium",
        Some(4) => "low",
        _ => "none",
    }
}

/// A colour our `status_color` accepts (`#rrggbb`), else none.
fn color(value: Option<&str>) -> Option<String> {
    value
        .filter(|c| {
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|d| d.is_ascii_hexdigit())
        })
        .map(str::to_owned)
}

fn due_date(value: Option<&str>) -> Option<Date> {
    let text = value?;
    Date::parse(
        text.get(..10)?,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

pub async fn webhook(
    State(state): State<IntegrationsState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let config = &state.config;
    if config.linear_webhook_secrets.is_empty() {
        return Err(AppError::NotFound(
            "Linear webhooks are off on this server: set LINEAR_WEBHOOK_SECRET".to_owned(),
        ));
    }
    let signed = header(&headers, "linear-signature")
        .is_some_and(|sig| config.linear_webhook_secrets.verify_hex(&body, sig));
    if !signed {
        return Err(AppError::unauthorized(
            "invalid_signature",
            "Linear-Signature is missing or does not match the body: check the webhook's signing secret",
        ));
    }
    let payload: Payload = serde_json::from_slice(&body).map_err(|e| {
        AppError::BadRequest(format!("the payload is not a Linear webhook payload: {e}"))
    })?;
    let sent = payload
        .webhook_timestamp
        .ok_or_else(|| AppError::BadRequest("the payload has no webhookTimestamp".to_owned()))?;
    let now = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let skew = (now - i128::from(sent)).unsigned_abs();
    if skew > config.linear_max_clock_skew.as_millis() {
        return Err(AppError::unauthorized(
            "stale_delivery",
            format!(
                "webhookTimestamp is {} s away from the server's clock (at most {} s allowed): \
                 a replay, or a clock out of sync",
                skew / 1000,
                config.linear_max_clock_skew.as_secs()
            ),
        ));
    }
    if payload.kind != "Issue" || !["create", "update", "remove"].contains(&payload.action.as_str())
    {
        return Ok(outcome_response("ignored", None));
    }
    let issue: Issue = serde_json::from_value(payload.data.clone()).map_err(|e| {
        AppError::BadRequest(format!("the Issue payload's data is not an issue: {e}"))
    })?;
    let delivery = header(&headers, "linear-delivery")
        .ok_or_else(|| AppError::BadRequest("the Linear-Delivery header is missing".to_owned()))?
        .to_owned();
    let work = async {
        let mut client = state.pool.get().await?;
        let tx = client.transaction().await?;
        if !deliveries::claim(&*tx, PROVIDER, &delivery, "Issue").await? {
            return Ok(("duplicate", None));
        }
        let (outcome, rows) = apply(&tx, &payload, &issue).await?;
        deliveries::set_outcome(&*tx, PROVIDER, &delivery, outcome).await?;
        tx.commit().await?;
        Ok::<_, AppError>((outcome, Some(rows)))
    };
    let (outcome, rows) = tokio::time::timeout(WEBHOOK_DEADLINE, work)
        .await
        .map_err(|_| AppError::Unavailable("applying a Linear webhook timed out".into()))??;
    tracing::info!(%delivery, action = %payload.action, outcome, rows, "linear webhook");
    maybe_prune(&state.pool);
    Ok(outcome_response(outcome, rows))
}

async fn apply(
    tx: &Transaction<'_>,
    payload: &Payload,
    issue: &Issue,
) -> AppResult<(&'static str, u64)> {
    let Some(org) = linked_org(tx, payload.organization_id.as_deref(), issue.team_id()).await?
    else {
        return Ok(("unlinked", 0));
    };
    if let Some(updated_at) = issue.updated_at
        && !deliveries::advance(tx, PROVIDER, &format!("issue:{}", issue.id), updated_at).await?
    {
        return Ok(("stale", 0));
    }
    if payload.action == "remove" || issue.trashed == Some(true) {
        let removed = tx
            .execute(
                "UPDATE tasks SET deleted_at = now() \
                 WHERE external_provider = 'linear' AND external_id = $1 AND deleted_at IS NULL",
                &[&issue.id],
            )
            .await?;
        return Ok((if removed == 0 { "unmatched" } else { "applied" }, removed));
    }
    let upserted = upsert(tx, org, issue).await?;
    Ok(("applied", upserted))
}

/// Our organization for a Linear organization and team: a team link wins over an
/// organization-wide one.
async fn linked_org(
    tx: &impl GenericClient,
    linear_org: Option<&str>,
    team: Option<&str>,
) -> AppResult<Option<Uuid>> {
    let Some(linear_org) = linear_org else {
        return Ok(None);
    };
    Ok(tx
        .query_opt(
            "SELECT organization_id FROM integrations \
             WHERE provider = 'linear' AND external_organization_id = $1 \
               AND (external_team_id = $2 OR external_team_id IS NULL) \
             ORDER BY external_team_id IS NULL LIMIT 1",
            &[&linear_org, &team],
        )
        .await?
        .map(|r| r.get(0)))
}

async fn upsert(tx: &Transaction<'_>, org: Uuid, issue: &Issue) -> AppResult<u64> {
    let assignee: Option<Uuid> = match issue.assignee.as_ref().and_then(|a| a.email.as_deref()) {
        Some(email) => tx
            .query_opt(
                "SELECT u.id FROM users u \
                 JOIN organization_members m ON m.user_id = u.id AND m.organization_id = $1 \
                 WHERE lower(u.email) = lower($2)",
                &[&org, &email],
            )
            .await?
            .map(|r| r.get(0)),
        None => None,
    };
    let labels: Vec<&str> = issue
        .labels
        .iter()
        .flatten()
        .map(|l| l.name.as_str())
        .collect();
    let repository = suggested_repository(tx, org, issue.branch_name.as_deref(), &labels).await?;
    let title = issue
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or(issue.identifier.as_deref())
        .unwrap_or("Untitled issue");
    let state = issue.state.as_ref();
    // Fields Linear always sends are overwritten; `branch` and a suggested repository are kept
    // when this payload does not name one. Unchanged rows are not rewritten.
    Ok(tx
        .execute(
            "INSERT INTO tasks AS t (organization_id, title, description, status, status_color, \
                 priority, assignee_id, repository_id, external_provider, external_id, \
                 external_key, external_url, branch, labels, due_date) \
             VALUES ($1, $2, $3, coalesce($4, 'Backlog'), $5, $6, $7, $8, 'linear', $9, $10, $11, \
                     $12, $13, $14) \
             ON CONFLICT (external_provider, external_id) DO UPDATE SET \
                 organization_id = EXCLUDED.organization_id, title = EXCLUDED.title, \
                 description = EXCLUDED.description, status = EXCLUDED.status, \
                 status_color = EXCLUDED.status_color, priority = EXCLUDED.priority, \
                 assignee_id = EXCLUDED.assignee_id, \
                 repository_id = CASE WHEN t.organization_id = EXCLUDED.organization_id \
                     THEN coalesce(EXCLUDED.repository_id, t.repository_id) \
                     ELSE EXCLUDED.repository_id END, \
                 external_key = EXCLUDED.external_key, external_url = EXCLUDED.external_url, \
                 branch = coalesce(EXCLUDED.branch, t.branch), labels = EXCLUDED.labels, \
                 due_date = EXCLUDED.due_date, deleted_at = NULL \
             WHERE (t.organization_id, t.title, t.description, t.status, t.status_color, \
                    t.priority, t.assignee_id, t.repository_id, t.external_key, t.external_url, \
                    t.branch, t.labels, t.due_date, t.deleted_at) \
               IS DISTINCT FROM \
                   (EXCLUDED.organization_id, EXCLUDED.title, EXCLUDED.description, \
                    EXCLUDED.status, EXCLUDED.status_color, EXCLUDED.priority, \
                    EXCLUDED.assignee_id, \
                    CASE WHEN t.organization_id = EXCLUDED.organization_id \
                        THEN coalesce(EXCLUDED.repository_id, t.repository_id) \
                        ELSE EXCLUDED.repository_id END, \
                    EXCLUDED.external_key, EXCLUDED.external_url, \
                    coalesce(EXCLUDED.branch, t.branch), EXCLUDED.labels, EXCLUDED.due_date, \
                    NULL::timestamptz)",
            &[
                &org,
                &title,
                &issue.description,
                &state.map(|s| s.name.as_str()),
                &color(state.and_then(|s| s.color.as_deref())),
                &priority(issue.priority),
                &assignee,
                &repository,
                &issue.id,
                &issue.identifier,
                &issue.url,
                &issue.branch_name,
                &serde_json::json!(labels),
                &due_date(issue.due_date.as_deref()),
            ],
        )
        .await?)
}

/// The one repository of `org` that a label or the branch names, if exactly one does.
async fn suggested_repository(
    tx: &impl GenericClient,
    org: Uuid,
    branch: Option<&str>,
    labels: &[&str],
) -> AppResult<Option<Uuid>> {
    let mut names: BTreeSet<String> = labels
        .iter()
        .map(|l| {
            let l = l.trim();
            l.strip_prefix("repo:").unwrap_or(l).trim().to_lowercase()
        })
        .collect();
    if let Some(branch) = branch
        && let Some((prefix, _)) = branch.rsplit_once('/')
    {
        names.extend(prefix.split('/').map(str::to_lowercase));
    }
    names.retain(|n| !n.is_empty());
    if names.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = names.into_iter().collect();
    let rows = tx
        .query(
            "SELECT id FROM repositories \
             WHERE organization_id = $1 AND (lower(name) = ANY($2) OR lower(slug) = ANY($2))",
            &[&org, &names],
        )
        .await?;
    Ok(match rows.as_slice() {
        [one] => Some(one.get(0)),
        _ => None,
    })
}

/// One link from a Linear organization (or one of its teams) to our organization.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LinearLink {
    pub linear_organization_id: String,
    /// `None`: the whole Linear organization.
    pub linear_team_id: Option<String>,
}

/// Replaces `org`'s Linear links: the whole Linear organization when `teams` is empty, else
/// each of those teams. 409 when one is linked to another organization already.
pub async fn set_links(
    client: &mut impl GenericClient,
    org: Uuid,
    linear_org: &str,
    teams: &[String],
) -> AppResult<Vec<LinearLink>> {
    let linear_org = linear_org.trim();
    if linear_org.is_empty() {
        return Err(AppError::BadRequest(
            "linear_organization_id must not be empty: it is the organizationId Linear's webhooks carry"
                .to_owned(),
        ));
    }
    let mut teams: Vec<Option<String>> = teams
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .map(Some)
        .collect();
    teams.sort();
    teams.dedup();
    if teams.is_empty() {
        teams.push(None);
    }
    let tx = client.transaction().await?;
    tx.execute(
        "DELETE FROM integrations WHERE provider = 'linear' AND organization_id = $1",
        &[&org],
    )
    .await?;
    for team in &teams {
        tx.execute(
            "INSERT INTO integrations (organization_id, provider, external_organization_id, external_team_id) \
             VALUES ($1, 'linear', $2, $3)",
            &[&org, &linear_org, team],
        )
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => AppError::Conflict(match team {
                Some(team) => format!(
                    "the Linear team {team} is already linked to another organization: unlink it there first"
                ),
                None => format!(
                    "the Linear organization {linear_org} is already linked to another organization: unlink it there first"
                ),
            }),
            other => other,
        })?;
    }
    tx.commit().await?;
    Ok(teams
        .into_iter()
        .map(|team| LinearLink {
            linear_organization_id: linear_org.to_owned(),
            linear_team_id: team,
        })
        .collect())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub linear_organization_id: String,
    #[serde(default)]
    pub linear_team_ids: Vec<String>,
}

/// `PUT /api/organizations/{org}/linear`: link a Linear organization (or some of its teams).
pub async fn put_link(
    State(state): State<IntegrationsState>,
    user: AuthUser,
    PathParams(org): PathParams<Uuid>,
    JsonBody(body): JsonBody<LinkRequest>,
) -> AppResult<Json<Vec<LinearLink>>> {
    let mut client = state.pool.get().await?;
    require_admin(&**client, org, user.id).await?;
    let links = set_links(
        &mut **client,
        org,
        &body.linear_organization_id,
        &body.linear_team_ids,
    )
    .await?;
    Ok(Json(links))
}

/// `DELETE /api/organizations/{org}/linear`: unlink Linear.
pub async fn delete_link(
    State(state): State<IntegrationsState>,
    user: AuthUser,
    PathParams(org): PathParams<Uuid>,
) -> AppResult<StatusCode> {
    let client = state.pool.get().await?;
    require_admin(&**client, org, user.id).await?;
    client
        .execute(
            "DELETE FROM integrations WHERE provider = 'linear' AND organization_id = $1",
            &[&org],
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_follow_linears_numbers() {
        assert_eq!(priority(Some(0.0)), "none");
        assert_eq!(priority(Some(1.0)), "urgent");
        assert_eq!(priority(Some(2.0)), "high");
        assert_eq!(priority(Some(3.0)), "medium");
        assert_eq!(priority(Some(4.0)), "low");
        assert_eq!(priority(Some(7.0)), "none");
        assert_eq!(priority(None), "none");
    }

    #[test]
    fn only_six_digit_colours_and_real_dates_pass() {
        assert_eq!(color(Some("#5e6ad2")).as_deref(), Some("#5e6ad2"));
        assert_eq!(color(Some("#fff")), None);
        assert_eq!(color(Some("blue")), None);
        assert_eq!(color(Some("#12345é")), None);
        assert_eq!(
            due_date(Some("2026-12-01")),
            Some(time::macros::date!(2026 - 12 - 01))
        );
        assert_eq!(due_date(Some("2026-13-01")), None);
        assert_eq!(due_date(Some("soon")), None);
    }

    #[test]
    fn issue_data_parses_from_linears_shape() {
        let issue: Issue = serde_json::from_value(serde_json::json!({
            "id": "abc", "identifier": "ENG-1", "title": "T", "priority": 2,
            "team": {"id": "team-1", "key": "ENG", "name": "Engineering"},
            "state": {"id": "s", "name": "In Progress", "color": "#f2c94c", "type": "started"},
            "labels": [{"id": "l", "name": "Bug", "color": "#eb5757"}],
            "updatedAt": "2026-01-02T03:04:05.678Z",
            "somethingNew": {"nested": true}
        }))
        .unwrap();
        assert_eq!(issue.team_id(), Some("team-1"));
        assert_eq!(issue.state.unwrap().name, "In Progress");
        assert!(issue.updated_at.is_some());
    }
}
