//! A Linear `Issue` delivery as a task: the payload's shape, and applying it inside the
//! organization its link belongs to.
//!
//! `create` / `update` upsert the task keyed by (organization, `linear`, issue id) — a task
//! never moves between organizations: `external_key` (identifier), `external_url` (http(s)
//! only), title, description, status and `status_color` from the workflow state, priority
//! (0 none, 1 urgent, 2 high, 3 medium, 4 low), label names, due date, the assignee when a
//! member of the organization has the assignee's e-mail (else none), `branch` from
//! `branchName` (kept when a payload lacks it: Linear's webhooks usually do not carry it), and
//! the suggested repository when a label or a segment of the branch before its last `/` names
//! exactly one repository of the organization (by name or slug, `repo:` prefix allowed on
//! labels; recorded in `task_field_writes` as written by no member, since members may change
//! it too). `remove` (and a trashed issue) soft-deletes the organization's task. An issue
//! whose `updatedAt` is older than what was already applied is recorded as `stale` (Linear
//! retries after 1 min, 1 h and 6 h, so an old attempt can land after a newer update).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;
use time::{Date, OffsetDateTime};
use tokio_postgres::{GenericClient, Transaction};
use uuid::Uuid;

use super::super::deliveries;
use crate::server::http::error::AppResult;
use crate::server::http::limits;

pub(super) const PROVIDER: &str = "linear";

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
    pub(super) fn team_id(&self) -> Option<&str> {
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

/// Applies the issue to `org`'s task; returns the outcome and the rows changed.
pub(super) async fn apply(
    tx: &Transaction<'_>,
    org: Uuid,
    action: &str,
    issue: &Issue,
) -> AppResult<(&'static str, u64)> {
    if let Some(updated_at) = issue.updated_at
        && !deliveries::advance(
            tx,
            PROVIDER,
            &format!("issue:{org}:{}", issue.id),
            updated_at,
        )
        .await?
    {
        return Ok(("stale", 0));
    }
    if action == "remove" || issue.trashed == Some(true) {
        let removed = tx
            .execute(
                "UPDATE tasks SET deleted_at = now() \
                 WHERE organization_id = $1 AND external_provider = 'linear' AND external_id = $2 \
                   AND deleted_at IS NULL",
                &[&org, &issue.id],
            )
            .await?;
        return Ok((if removed == 0 { "unmatched" } else { "applied" }, removed));
    }
    let upserted = upsert(tx, org, issue).await?;
    Ok(("applied", upserted))
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
    let written = tx
        .query_opt(
            "INSERT INTO tasks AS t (organization_id, title, description, status, status_color, \
                 priority, assignee_id, repository_id, external_provider, external_id, \
                 external_key, external_url, branch, labels, due_date) \
             VALUES ($1, $2, $3, coalesce($4, 'Backlog'), $5, $6, $7, $8, 'linear', $9, $10, $11, \
                     $12, $13, $14) \
             ON CONFLICT (organization_id, external_provider, external_id) DO UPDATE SET \
                 title = EXCLUDED.title, description = EXCLUDED.description, \
                 status = EXCLUDED.status, status_color = EXCLUDED.status_color, \
                 priority = EXCLUDED.priority, assignee_id = EXCLUDED.assignee_id, \
                 repository_id = coalesce(EXCLUDED.repository_id, t.repository_id), \
                 external_key = EXCLUDED.external_key, external_url = EXCLUDED.external_url, \
                 branch = coalesce(EXCLUDED.branch, t.branch), labels = EXCLUDED.labels, \
                 due_date = EXCLUDED.due_date, deleted_at = NULL \
             WHERE (t.title, t.description, t.status, t.status_color, t.priority, t.assignee_id, \
                    t.repository_id, t.external_key, t.external_url, t.branch, t.labels, \
                    t.due_date, t.deleted_at) \
               IS DISTINCT FROM \
                   (EXCLUDED.title, EXCLUDED.description, EXCLUDED.status, \
                    EXCLUDED.status_color, EXCLUDED.priority, EXCLUDED.assignee_id, \
                    coalesce(EXCLUDED.repository_id, t.repository_id), EXCLUDED.external_key, \
                    EXCLUDED.external_url, coalesce(EXCLUDED.branch, t.branch), EXCLUDED.labels, \
                    EXCLUDED.due_date, NULL::timestamptz) \
             RETURNING t.id",
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
                &limits::web_url(issue.url.as_deref()),
                &issue.branch_name,
                &serde_json::json!(labels),
                &due_date(issue.due_date.as_deref()),
            ],
        )
        .await?;
    let Some(row) = written else {
        return Ok(0);
    };
    if repository.is_some() {
        // The suggested repository is the one field members also change: Linear wrote it last.
        tx.execute(
            "INSERT INTO task_field_writes (task_id, field, user_id) \
             VALUES ($1, 'repository_id', NULL) \
             ON CONFLICT (task_id, field) DO UPDATE SET user_id = NULL, written_at = now()",
            &[&row.get::<_, Uuid>(0)],
        )
        .await?;
    }
    Ok(1)
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
