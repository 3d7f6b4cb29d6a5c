//! `POST /webhooks/github`: pull request state onto workspaces.
//!
//! The signature (`X-Hub-Signature-256`) is checked over the raw body before anything is
//! parsed; a missing or wrong one is 401 and nothing is written. `ping` and events or actions
//! we do not act on are 204. A handled delivery is claimed by its `X-GitHub-Delivery` id in the
//! transaction that applies it (a redelivery is answered 200 `duplicate` and changes nothing),
//! and a delivery older than one already applied to the same pull request (by the payload's
//! `updated_at`) is recorded as `stale` and not applied, because deliveries can arrive out of
//! order and redeliveries are replayed by hand.
//!
//! `pull_request` (opened, reopened, closed, converted_to_draft, ready_for_review, edited,
//! synchronize) sets `pr_url`, `pr_number` and `pr_status` from the payload's state: merged
//! when `merged` (a merge is `closed` with `merged: true`; GitHub sends no `merged` action),
//! closed when `state` is closed, draft when `draft`, else open. Workspaces are matched only in
//! the payload's repository (our `repositories` rows with that `github_id`, or without an id
//! and the same normalised URL — never across repositories or organizations): those with that
//! `pr_url`; when there are none, those on the head branch (`head.ref` = `git_branch`), except
//! when the head branch is the repository's default branch (a fork's `main` would otherwise
//! claim everyone's `main`). Archived workspaces are only matched by URL.
//!
//! `pull_request_review` `submitted` records `approved` / `changes_requested` in
//! `pr_review_status`; `commented` only fills an empty one (a comment does not undo a
//! decision); `dismissed` clears it. This is the latest decision, not GitHub's aggregate
//! `reviewDecision`, which webhooks do not carry.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use time::OffsetDateTime;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::deliveries;
use super::state::IntegrationsState;
use super::webhook::{WEBHOOK_DEADLINE, header, maybe_prune, outcome_response};
use crate::gitlink::urls;
use crate::server::http::error::{AppError, AppResult};

const PROVIDER: &str = "github";

/// `pull_request` actions that can change what a workspace shows.
const PR_ACTIONS: [&str; 7] = [
    "opened",
    "reopened",
    "closed",
    "converted_to_draft",
    "ready_for_review",
    "edited",
    "synchronize",
];

#[derive(Debug, Deserialize)]
pub struct Repository {
    pub id: i64,
    pub html_url: String,
    #[serde(default)]
    pub default_branch: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Head {
    #[serde(rename = "ref")]
    pub branch: String,
}

#[derive(Debug, Deserialize)]
pub struct PullRequest {
    pub html_url: String,
    pub number: i32,
    pub state: String,
    #[serde(default)]
    pub draft: Option<bool>,
    #[serde(default)]
    pub merged: Option<bool>,
    #[serde(default)]
    pub merged_at: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
    pub head: Head,
}

impl PullRequest {
    /// Our `pr_status` for the pull request's state.
    pub fn status(&self) -> &'static str {
        if self.merged == Some(true) || self.merged_at.is_some() {
            "merged"
        } else if self.state == "closed" {
            "closed"
        } else if self.draft == Some(true) {
            "draft"
        } else {
            "open"
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PullRequestEvent {
    pub action: String,
    pub pull_request: PullRequest,
    pub repository: Repository,
}

#[derive(Debug, Deserialize)]
pub struct Review {
    pub state: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
}

#[derive(Debug, Deserialize)]
pub struct ReviewEvent {
    pub action: String,
    pub review: Review,
    pub pull_request: PullRequest,
    pub repository: Repository,
}

/// What a verified delivery asks of us.
enum Change {
    PullRequest(PullRequestEvent),
    /// The review status to set (`None` clears it) and the event.
    Review(Option<&'static str>, ReviewEvent),
}

fn parse<T: serde::de::DeserializeOwned>(event: &str, body: &[u8]) -> AppResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        AppError::BadRequest(format!(
            "the {event} payload is not valid JSON of that event: {e}"
        ))
    })
}

/// The change a delivery asks for, or `None` for events and actions we ignore.
fn classify(event: &str, body: &[u8]) -> AppResult<Option<Change>> {
    match event {
        "pull_request" => {
            let payload: PullRequestEvent = parse(event, body)?;
            Ok(PR_ACTIONS
                .contains(&payload.action.as_str())
                .then_some(Change::PullRequest(payload)))
        }
        "pull_request_review" => {
            let payload: ReviewEvent = parse(event, body)?;
            let status = match (payload.action.as_str(), payload.review.state.as_str()) {
                ("submitted", "approved") => Some("approved"),
                ("submitted", "changes_requested") => Some("changes_requested"),
                ("submitted", "commented") => Some("commented"),
                ("dismissed", _) => None,
                _ => return Ok(None),
            };
            Ok(Some(Change::Review(status, payload)))
        }
        _ => {
            // Still reject bodies that are not JSON: a sender with our secret but a broken
            // payload should hear about it.
            serde_json::from_slice::<serde::de::IgnoredAny>(body)
                .map_err(|e| AppError::BadRequest(format!("the payload is not valid JSON: {e}")))?;
            Ok(None)
        }
    }
}

pub async fn webhook(
    State(state): State<IntegrationsState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let secrets = &state.config.github_webhook_secrets;
    if secrets.is_empty() {
        return Err(AppError::NotFound(
            "GitHub webhooks are off on this server: set GITHUB_WEBHOOK_SECRET".to_owned(),
        ));
    }
    if !secrets.verify_github(&body, header(&headers, "x-hub-signature-256")) {
        return Err(AppError::unauthorized(
            "invalid_signature",
            "X-Hub-Signature-256 is missing or does not match the body: check the webhook's secret",
        ));
    }
    let event = header(&headers, "x-github-event")
        .ok_or_else(|| AppError::BadRequest("the X-GitHub-Event header is missing".to_owned()))?;
    if event == "ping" {
        return Ok(outcome_response("ignored", None));
    }
    let Some(change) = classify(event, &body)? else {
        return Ok(outcome_response("ignored", None));
    };
    let delivery = header(&headers, "x-github-delivery")
        .ok_or_else(|| AppError::BadRequest("the X-GitHub-Delivery header is missing".to_owned()))?
        .to_owned();
    let event = event.to_owned();
    let work = async {
        let mut client = state.pool.get().await?;
        let tx = client.transaction().await?;
        if !deliveries::claim(&*tx, PROVIDER, &delivery, &event).await? {
            return Ok(("duplicate", None));
        }
        let (outcome, rows) = match change {
            Change::PullRequest(payload) => apply_pull_request(&tx, &payload).await?,
            Change::Review(status, payload) => apply_review(&tx, status, &payload).await?,
        };
        deliveries::set_outcome(&*tx, PROVIDER, &delivery, outcome).await?;
        tx.commit().await?;
        Ok::<_, AppError>((outcome, Some(rows)))
    };
    let (outcome, rows) = tokio::time::timeout(WEBHOOK_DEADLINE, work)
        .await
        .map_err(|_| AppError::Unavailable("applying a GitHub webhook timed out".into()))??;
    tracing::info!(%delivery, %event, outcome, rows, "github webhook");
    maybe_prune(&state.pool);
    Ok(outcome_response(outcome, rows))
}

/// Applies a `pull_request` delivery; returns the outcome and how many workspaces changed.
async fn apply_pull_request(
    tx: &Transaction<'_>,
    payload: &PullRequestEvent,
) -> AppResult<(&'static str, u64)> {
    let pr = &payload.pull_request;
    if !advance_pull_request(tx, pr).await? {
        return Ok(("stale", 0));
    }
    let workspaces = matching_workspaces(tx, &payload.repository, pr).await?;
    if workspaces.is_empty() {
        return Ok(("unmatched", 0));
    }
    Ok(("applied", set_pull_request(tx, &workspaces, pr).await?))
}

/// Records `pr`'s `updated_at` as the newest state of it we have applied. `false` when a newer
/// one was applied already: `pr` must not be applied over it.
pub(super) async fn advance_pull_request(
    tx: &Transaction<'_>,
    pr: &PullRequest,
) -> AppResult<bool> {
    match pr.updated_at {
        Some(updated_at) => {
            deliveries::advance(tx, PROVIDER, &format!("pr:{}", pr.html_url), updated_at).await
        }
        None => Ok(true),
    }
}

/// Shows `pr` (URL, number, status) on `workspaces`; returns how many changed. A different pull
/// request on a workspace starts without a review decision. Rows that already show this state
/// are left alone, so no empty change is synced.
pub(super) async fn set_pull_request(
    tx: &Transaction<'_>,
    workspaces: &[Uuid],
    pr: &PullRequest,
) -> AppResult<u64> {
    Ok(tx
        .execute(
            "UPDATE workspaces SET pr_url = $2, pr_number = $3, pr_status = $4, \
                 pr_review_status = CASE WHEN pr_url IS DISTINCT FROM $2 THEN NULL ELSE pr_review_status END \
             WHERE id = ANY($1) \
               AND (pr_url, pr_number, pr_status) IS DISTINCT FROM ($2, $3, $4)",
            &[&workspaces, &pr.html_url, &pr.number, &pr.status()],
        )
        .await?)
}

/// Applies a `pull_request_review` delivery.
async fn apply_review(
    tx: &Transaction<'_>,
    status: Option<&'static str>,
    payload: &ReviewEvent,
) -> AppResult<(&'static str, u64)> {
    let pr = &payload.pull_request;
    if let Some(submitted_at) = payload.review.submitted_at
        && !deliveries::advance(
            tx,
            PROVIDER,
            &format!("review:{}", pr.html_url),
            submitted_at,
        )
        .await?
    {
        return Ok(("stale", 0));
    }
    let workspaces = matching_workspaces(tx, &payload.repository, pr).await?;
    if workspaces.is_empty() {
        return Ok(("unmatched", 0));
    }
    // `commented` fills an empty status of the same pull request but never replaces a decision.
    let changed = tx
        .execute(
            "UPDATE workspaces w SET pr_url = $2, pr_number = $3, pr_review_status = n.status \
             FROM (SELECT id, CASE WHEN $4::text = 'commented' AND pr_url IS NOT DISTINCT FROM $2 \
                                    AND pr_review_status IS NOT NULL \
                               THEN pr_review_status ELSE $4::text END AS status \
                   FROM workspaces WHERE id = ANY($1)) n \
             WHERE w.id = n.id \
               AND (w.pr_url, w.pr_number, w.pr_review_status) IS DISTINCT FROM ($2, $3, n.status)",
            &[&workspaces, &pr.html_url, &pr.number, &status],
        )
        .await?;
    Ok(("applied", changed))
}

/// The workspaces a pull request belongs to, only ever inside the repositories the event names
/// (ours that are GitHub's `repository`, in whichever organizations imported it): by URL,
/// else by head branch. A URL a workspace of another repository claims never matches.
async fn matching_workspaces(
    tx: &Transaction<'_>,
    repository: &Repository,
    pr: &PullRequest,
) -> AppResult<Vec<Uuid>> {
    let repositories = matching_repositories(tx, repository).await?;
    if repositories.is_empty() {
        return Ok(Vec::new());
    }
    let by_url: Vec<Uuid> = tx
        .query(
            "SELECT id FROM workspaces WHERE repository_id = ANY($1) AND pr_url = $2 \
             ORDER BY id FOR UPDATE",
            &[&repositories, &pr.html_url],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !by_url.is_empty() {
        return Ok(by_url);
    }
    if repository.default_branch.as_deref() == Some(pr.head.branch.as_str()) {
        return Ok(Vec::new());
    }
    Ok(tx
        .query(
            "SELECT id FROM workspaces \
             WHERE repository_id = ANY($1) AND git_branch = $2 AND status <> 'archived' \
             ORDER BY id FOR UPDATE",
            &[&repositories, &pr.head.branch],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Our repositories (in any organization) that are GitHub's `repository`: the same
/// `github_id`, or no id and the same normalised URL.
async fn matching_repositories(
    tx: &Transaction<'_>,
    repository: &Repository,
) -> AppResult<Vec<Uuid>> {
    let Some(wanted) = urls::parse(&repository.html_url) else {
        return Ok(Vec::new());
    };
    // Narrow by id or by the name appearing in the URL; compare normalised URLs here.
    let rows = tx
        .query(
            "SELECT id, url, github_id FROM repositories \
             WHERE github_id = $1 OR (github_id IS NULL AND strpos(lower(url), $2) > 0)",
            &[&repository.id, &wanted.name().to_lowercase()],
        )
        .await?;
    let key = wanted.key();
    Ok(rows
        .iter()
        .filter(|r| {
            let github_id: Option<i64> = r.get(2);
            github_id == Some(repository.id)
                || (github_id.is_none() && urls::normalize(r.get(1)).as_deref() == Some(&key))
        })
        .map(|r| r.get(0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr(state: &str, draft: Option<bool>, merged: Option<bool>) -> PullRequest {
        PullRequest {
            html_url: "https://github.com/o/r/pull/1".to_owned(),
            number: 1,
            state: state.to_owned(),
            draft,
            merged,
            merged_at: None,
            updated_at: None,
            head: Head {
                branch: "feature".to_owned(),
            },
        }
    }

    #[test]
    fn status_follows_the_payload_state() {
        assert_eq!(pr("open", Some(false), Some(false)).status(), "open");
        assert_eq!(pr("open", None, None).status(), "open");
        assert_eq!(pr("open", Some(true), None).status(), "draft");
        assert_eq!(pr("closed", Some(false), Some(false)).status(), "closed");
        assert_eq!(pr("closed", Some(true), Some(false)).status(), "closed");
        assert_eq!(pr("closed", Some(false), Some(true)).status(), "merged");
        let mut merged = pr("closed", None, None);
        merged.merged_at = Some("2026-01-01T00:00:00Z".to_owned());
        assert_eq!(merged.status(), "merged");
    }

    #[test]
    fn unknown_events_and_actions_are_ignored_but_must_be_json() {
        assert!(matches!(classify("push", b"{}"), Ok(None)));
        assert!(classify("push", b"{nope").is_err());
        let labeled = br#"{"action":"labeled","pull_request":{"html_url":"u","number":1,"state":"open","head":{"ref":"b"}},"repository":{"id":1,"html_url":"https://github.com/o/r"}}"#;
        assert!(matches!(classify("pull_request", labeled), Ok(None)));
        let opened = String::from_utf8_lossy(labeled).replace("labeled", "opened");
        assert!(matches!(
            classify("pull_request", opened.as_bytes()),
            Ok(Some(Change::PullRequest(_)))
        ));
        assert!(classify("pull_request", br#"{"action":"opened"}"#).is_err());
    }
}
