//! `POST /api/workspaces/{id}/pull-request`: a workspace's pull request, asked of GitHub.
//!
//! The webhook is the live path; this one works where none is configured: the desktop asks
//! after pushing a workspace's branch. Only the workspace's owner may ask (403); anyone outside
//! its organization hears 404, as for an unknown workspace. The workspace needs a `git_branch`
//! and a repository on GitHub (`github.com`, or the host of `GITHUB_API_URL` for GitHub
//! Enterprise Server), else 400. With the organization's stored token (409 when there is none)
//! the server lists `GET /repos/{owner}/{repo}/pulls?head={owner}:{branch}&state=all&per_page=10`,
//! takes the most relevant one (an open one over closed ones, then the most recently updated),
//! and shows it on the workspace as the webhook would (`github::set_pull_request`, only when
//! something changes), in one transaction that also records the pull request's version, so an
//! older webhook delivery cannot set it back. No pull request found changes nothing.
//!
//! The answer is `{"id", "txid", "pull_request": {"number", "url", "status"} | null}`. Asking
//! again changes nothing more, so no `Idempotency-Key` is needed.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use uuid::Uuid;

use super::error::IntegrationError;
use super::github::{self, PullRequest};
use super::github_api::{self, key};
use super::state::IntegrationsState;
use crate::gitlink::urls;
use crate::server::http::auth::{AuthUser, role_of};
use crate::server::http::error::AppError;
use crate::server::http::extract::PathParams;

/// GitHub lists at most this many pull requests of one head; the most relevant is among them.
const PER_PAGE: &str = "10";

type Result<T, E = IntegrationError> = std::result::Result<T, E>;

/// The answer: the workspace, the transaction that looked, and the pull request found.
#[derive(Debug, Serialize)]
pub struct PullRequestLookup {
    pub id: Uuid,
    /// The 32-bit transaction id, as in the synced change's `txids`.
    pub txid: i64,
    pub pull_request: Option<FoundPullRequest>,
}

#[derive(Debug, Serialize)]
pub struct FoundPullRequest {
    pub number: i32,
    pub url: String,
    /// `open`, `draft`, `merged` or `closed`, as the webhook sets `pr_status`.
    pub status: &'static str,
}

/// What to ask GitHub, and with which token.
struct Question {
    org: Uuid,
    branch: String,
    owner: String,
    name: String,
    token: String,
}

/// `POST /api/workspaces/{id}/pull-request`.
pub async fn lookup(
    State(state): State<IntegrationsState>,
    user: AuthUser,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<PullRequestLookup>> {
    let question = question(&state, id, user.id).await?;
    let pulls = list_pulls(&state, &question).await?;
    let found = most_relevant(pulls, &question.branch);
    let txid = record(&state, id, &question.branch, found.as_ref()).await?;
    tracing::info!(workspace = %id, org = %question.org, found = found.is_some(), "pull request lookup");
    Ok(Json(PullRequestLookup {
        id,
        txid,
        pull_request: found.map(|pr| FoundPullRequest {
            status: pr.status(),
            number: pr.number,
            url: pr.html_url,
        }),
    }))
}

/// The workspace's branch and GitHub repository and its organization's token, once the caller
/// is found to own it.
async fn question(state: &IntegrationsState, id: Uuid, user: Uuid) -> Result<Question> {
    let client = state.pool.get().await?;
    let unknown = || AppError::NotFound(format!("no workspace {id}"));
    let row = client
        .query_opt(
            "SELECT w.organization_id, w.owner_id, w.git_branch, r.url \
             FROM workspaces w JOIN repositories r ON r.id = w.repository_id WHERE w.id = $1",
            &[&id],
        )
        .await?
        .ok_or_else(unknown)?;
    let (org, owner): (Uuid, Uuid) = (row.get(0), row.get(1));
    if role_of(&**client, org, user).await?.is_none() {
        return Err(unknown().into());
    }
    if owner != user {
        return Err(AppError::Forbidden(
            "only the workspace's owner can ask for its pull request".to_owned(),
        )
        .into());
    }
    let branch = row
        .get::<_, Option<String>>(2)
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| {
            AppError::BadRequest(
                "the workspace has no git_branch: set its branch before asking for its pull request"
                    .to_owned(),
            )
        })?;
    let (owner, name) =
        github_repository(row.get(3), &state.config.github_api_url).ok_or_else(|| {
            AppError::BadRequest(
                "the workspace's repository is not on GitHub (its URL is not \
                 https://github.com/<owner>/<repo>): only GitHub pull requests can be looked up"
                    .to_owned(),
            )
        })?;
    let token = github_api::stored_token(&**client, key(state)?, org)
        .await?
        .ok_or_else(|| {
            IntegrationError::NotConnected(format!(
                "the organization has not connected GitHub: an owner or admin stores a GitHub \
                 token for it with PUT /api/organizations/{org}/github/token {{\"token\": \"github_pat_…\"}}"
            ))
        })?;
    Ok(Question {
        org,
        branch,
        owner,
        name,
        token,
    })
}

/// Owner and name of a repository URL on GitHub (`github.com`, or the API's own host for
/// GitHub Enterprise Server), spelled as the URL spells them.
fn github_repository(url: &str, api_url: &str) -> Option<(String, String)> {
    let remote = urls::parse(url)?;
    let api_host = reqwest::Url::parse(api_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    let api_host = api_host.as_deref().map(|h| h.trim_start_matches("www."));
    if remote.host != "github.com" && Some(remote.host.as_str()) != api_host {
        return None;
    }
    let (owner, name) = remote.owner_and_name()?;
    // The key is lower-cased; GitHub answers either spelling, but the URL's reads better.
    let wanted = format!("{owner}/{name}");
    let spelled = url
        .to_ascii_lowercase()
        .find(&wanted)
        .map_or(wanted.clone(), |at| url[at..at + wanted.len()].to_owned());
    let (owner, name) = spelled.split_once('/')?;
    Some((owner.to_owned(), name.to_owned()))
}

/// GitHub's pull requests with the workspace's branch as head, in every state.
async fn list_pulls(state: &IntegrationsState, question: &Question) -> Result<Vec<PullRequest>> {
    let api = &state.config.github_api_url;
    let not_a_base =
        || IntegrationError::NotConfigured(format!("GITHUB_API_URL ({api}) is not an http(s) URL"));
    let mut url = reqwest::Url::parse(api).map_err(|_| not_a_base())?;
    url.path_segments_mut()
        .map_err(|_| not_a_base())?
        .pop_if_empty()
        .extend(["repos", &question.owner, &question.name, "pulls"]);
    url.query_pairs_mut()
        .append_pair("head", &format!("{}:{}", question.owner, question.branch))
        .append_pair("state", "all")
        .append_pair("per_page", PER_PAGE);
    let response = github_api::get(&state.http, url, &question.token).await?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Err(AppError::BadRequest(format!(
            "GitHub does not know the repository {}/{} (check the stored token's access: GitHub \
             answers 404 for a private repository the token cannot read)",
            question.owner, question.name
        ))
        .into());
    }
    if !response.status().is_success() {
        return Err(github_api::failure(response).await);
    }
    response.json().await.map_err(|e| {
        IntegrationError::Upstream(format!("GitHub's pull request list could not be read: {e}"))
    })
}

/// An open (or draft) pull request over closed ones, then the most recently updated; only
/// those whose head is `branch`.
fn most_relevant(pulls: Vec<PullRequest>, branch: &str) -> Option<PullRequest> {
    pulls
        .into_iter()
        .filter(|pr| pr.head.branch == branch)
        .max_by_key(|pr| (pr.state == "open", pr.updated_at))
}

/// Shows `found` on the workspace unless a newer state of it was applied; returns the
/// transaction's id. 409 when the workspace's branch changed while GitHub was asked.
async fn record(
    state: &IntegrationsState,
    id: Uuid,
    branch: &str,
    found: Option<&PullRequest>,
) -> Result<i64> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let now: Option<String> = tx
        .query_opt(
            "SELECT git_branch FROM workspaces WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no workspace {id}")))?
        .get(0);
    if now.as_deref() != Some(branch) {
        return Err(AppError::Conflict(
            "the workspace's branch changed while GitHub was asked: ask again".to_owned(),
        )
        .into());
    }
    if let Some(pr) = found
        && github::advance_pull_request(&tx, pr).await?
    {
        github::set_pull_request(&tx, &[id], pr).await?;
    }
    let txid: i64 = tx
        .query_one("SELECT pg_current_xact_id()::xid::text::int8", &[])
        .await?
        .get(0);
    tx.commit().await?;
    Ok(txid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_repositories_are_github_com_or_the_apis_host() {
        let api = "https://api.github.com";
        let pair = |o: &str, n: &str| Some((o.to_owned(), n.to_owned()));
        assert_eq!(
            github_repository("https://github.com/Codertocat/Hello-World", api),
            pair("Codertocat", "Hello-World")
        );
        assert_eq!(
            github_repository("git@github.com:Octo-Org/API.git", api),
            pair("Octo-Org", "API")
        );
        assert_eq!(github_repository("https://gitlab.com/o/r", api), None);
        assert_eq!(
            github_repository(
                "https://ghe.example.com/team/tool.git",
                "https://ghe.example.com/api/v3"
            ),
            pair("team", "tool")
        );
        assert_eq!(
            github_repository("https://ghe.example.com/team/tool", api),
            None
        );
        assert_eq!(github_repository("/home/ada/repo", api), None);
    }

    fn pr(number: i32, branch: &str, state: &str, updated: i64) -> PullRequest {
        serde_json::from_value(serde_json::json!({
            "html_url": format!("https://github.com/o/r/pull/{number}"),
            "number": number,
            "state": state,
            "updated_at": time::OffsetDateTime::from_unix_timestamp(updated).unwrap()
                .format(&time::format_description::well_known::Rfc3339).unwrap(),
            "head": {"ref": branch},
        }))
        .unwrap()
    }

    #[test]
    fn an_open_pull_request_wins_then_the_latest() {
        let chosen = |pulls| most_relevant(pulls, "feature").map(|p| p.number);
        assert_eq!(
            chosen(vec![
                pr(1, "feature", "closed", 300),
                pr(2, "feature", "open", 100),
                pr(3, "feature", "closed", 200),
            ]),
            Some(2)
        );
        assert_eq!(
            chosen(vec![
                pr(1, "feature", "closed", 100),
                pr(3, "feature", "closed", 200)
            ]),
            Some(3)
        );
        assert_eq!(chosen(vec![pr(4, "other", "open", 900)]), None);
        assert_eq!(chosen(Vec::new()), None);
    }
}
