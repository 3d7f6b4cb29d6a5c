//! GitHub repository import. An organization's owner or admin stores a GitHub token for the
//! organization (`PUT /api/organizations/{org}/github/token`, sealed with the server's key,
//! never stored in the clear); `GET …/github/repositories` lists what the token can see and
//! which of those are imported already; `POST …/github/repositories/import` with `{"ids": […]}`
//! (GitHub's numeric repository ids) creates the `repositories` rows, or updates the rows that
//! are the same repository (same `github_id`, or no id and the same normalised URL), so
//! importing twice changes nothing.
//!
//! The listing is GitHub's `GET /user/repos?per_page=100` — every repository the token's user
//! can reach (owned, collaborator, organization member), which is what a personal access
//! token sees — following `Link: <…>; rel="next"` for as long as GitHub gives one. Next-page
//! links are only followed on the configured API's own origin, so the token is never sent
//! elsewhere. The API's base URL is configurable (`GITHUB_API_URL`, e.g. a GitHub Enterprise
//! Server's `https://ghe.example.com/api/v3`).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::access::require_admin;
use super::error::IntegrationError;
use super::github_api::{self, key};
use super::secrets::EncryptionKey;
use super::state::IntegrationsState;
use crate::gitlink::urls;
use crate::server::http::auth::AuthUser;
use crate::server::http::error::AppError;
use crate::server::http::extract::{JsonBody, PathParams};

/// At most this many pages (of 100) are read: 10,000 repositories.
const MAX_PAGES: usize = 100;
/// At most this many repositories per import request.
const MAX_IMPORT: usize = 1000;

type Result<T, E = IntegrationError> = std::result::Result<T, E>;

/// A repository as GitHub's REST API describes it (the fields we use).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GithubRepository {
    pub id: i64,
    pub name: String,
    pub full_name: String,
    pub html_url: String,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub fork: bool,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub description: Option<String>,
}

/// One entry of the listing: GitHub's repository and, when imported, our row's id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ListedRepository {
    #[serde(flatten)]
    pub github: GithubRepository,
    pub imported_as: Option<Uuid>,
}

/// The `rel="next"` URL of a response's `Link` headers.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_in)
}

/// Finds `<url>; rel="next"` in one `Link` value (RFC 8288). Parameters are what lies between
/// a `>` and the next `<`, so commas inside URLs do no harm.
fn next_in(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let url = &after[..close];
        let tail = &after[close + 1..];
        let end = tail.find('<').unwrap_or(tail.len());
        let is_next = tail[..end].split(';').any(|param| {
            let param = param.trim().trim_end_matches(',').trim();
            param
                .split_once('=')
                .filter(|(name, _)| name.trim().eq_ignore_ascii_case("rel"))
                .is_some_and(|(_, rel)| {
                    rel.trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
                })
        });
        if is_next {
            return Some(url.to_owned());
        }
        rest = &tail[end..];
    }
    None
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")? + 3;
    let end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    Some(&url[..end])
}

/// The URL to follow for `next`, only on `base`'s origin.
fn follow(base: &str, next: &str) -> Result<String> {
    let base_origin = origin(base).unwrap_or(base);
    if next.starts_with('/') {
        return Ok(format!("{base_origin}{next}"));
    }
    match origin(next) {
        Some(o) if o.eq_ignore_ascii_case(base_origin) => Ok(next.to_owned()),
        _ => Err(IntegrationError::Upstream(format!(
            "GitHub's next-page link leaves {base_origin} ({next}): not following it with the token"
        ))),
    }
}

/// Every repository `token` can see, through `base` (GitHub's REST API).
pub async fn list_repositories(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<Vec<GithubRepository>> {
    let base = base.trim_end_matches('/');
    let mut url = format!("{base}/user/repos?per_page=100");
    let mut seen = BTreeSet::new();
    let mut repositories = Vec::new();
    for _ in 0..MAX_PAGES {
        let parsed = reqwest::Url::parse(&url).map_err(|e| {
            IntegrationError::NotConfigured(format!("GITHUB_API_URL gives no URL ({url}): {e}"))
        })?;
        let response = github_api::get(http, parsed, token).await?;
        if !response.status().is_success() {
            return Err(github_api::failure(response).await);
        }
        let next = next_link(response.headers());
        let page: Vec<GithubRepository> = response.json().await.map_err(|e| {
            IntegrationError::Upstream(format!("GitHub's repository list could not be read: {e}"))
        })?;
        for repository in page {
            if seen.insert(repository.id) {
                repositories.push(repository);
            }
        }
        match next {
            Some(next) => url = follow(base, &next)?,
            None => return Ok(repositories),
        }
    }
    Err(IntegrationError::Upstream(format!(
        "GitHub listed more than {MAX_PAGES} pages of repositories; stopped"
    )))
}

/// The organization's GitHub token, or 404 saying how to store one.
async fn load_token(client: &impl GenericClient, key: &EncryptionKey, org: Uuid) -> Result<String> {
    github_api::stored_token(client, key, org)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "no GitHub token is stored for this organization: an owner or admin stores one with \
                 PUT /api/organizations/{org}/github/token"
            ))
            .into()
        })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreToken {
    pub token: String,
}

/// `PUT /api/organizations/{org}/github/token`.
pub async fn put_token(
    State(state): State<IntegrationsState>,
    user: AuthUser,
    PathParams(org): PathParams<Uuid>,
    JsonBody(body): JsonBody<StoreToken>,
) -> Result<StatusCode> {
    let token = body.token.trim();
    if token.is_empty()
        || token.len() > 1000
        || token.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(AppError::BadRequest(
            "token must be a GitHub token (e.g. ghp_… or github_pat_…) without spaces".to_owned(),
        )
        .into());
    }
    let client = state.pool.get().await?;
    require_admin(&**client, org, user.id).await?;
    let sealed = key(&state)?.seal(org, token.as_bytes());
    client
        .execute(
            "INSERT INTO github_tokens (organization_id, ciphertext, nonce, created_by) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (organization_id) DO UPDATE \
             SET ciphertext = EXCLUDED.ciphertext, nonce = EXCLUDED.nonce, created_by = EXCLUDED.created_by",
            &[&org, &sealed.ciphertext, &sealed.nonce, &user.id],
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/organizations/{org}/github/token`.
pub async fn delete_token(
    State(state): State<IntegrationsState>,
    user: AuthUser,
    PathParams(org): PathParams<Uuid>,
) -> Result<StatusCode> {
    let client = state.pool.get().await?;
    require_admin(&**client, org, user.id).await?;
    client
        .execute(
            "DELETE FROM github_tokens WHERE organization_id = $1",
            &[&org],
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An organization's repositories as (id, url, github_id).
async fn org_repositories(
    client: &impl GenericClient,
    org: Uuid,
    lock: bool,
) -> Result<Vec<(Uuid, String, Option<i64>)>> {
    let sql = if lock {
        "SELECT id, url, github_id FROM repositories WHERE organization_id = $1 ORDER BY id FOR UPDATE"
    } else {
        "SELECT id, url, github_id FROM repositories WHERE organization_id = $1"
    };
    Ok(client
        .query(sql, &[&org])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// Our row for a GitHub repository: same `github_id`, else no id and the same URL.
fn existing(rows: &[(Uuid, String, Option<i64>)], repository: &GithubRepository) -> Option<Uuid> {
    let key = urls::normalize(&repository.html_url);
    rows.iter()
        .find(|(_, _, github_id)| *github_id == Some(repository.id))
        .or_else(|| {
            rows.iter().find(|(_, url, github_id)| {
                github_id.is_none() && key.is_some() && urls::normalize(url) == key
            })
        })
        .map(|(id, _, _)| *id)
}

/// `GET /api/organizations/{org}/github/repositories`.
pub async fn list(
    State(state): State<IntegrationsState>,
    user: AuthUser,
    PathParams(org): PathParams<Uuid>,
) -> Result<Json<Vec<ListedRepository>>> {
    let client = state.pool.get().await?;
    require_admin(&**client, org, user.id).await?;
    let token = load_token(&**client, key(&state)?, org).await?;
    let repositories = list_repositories(&state.http, &state.config.github_api_url, &token).await?;
    let rows = org_repositories(&**client, org, false).await?;
    Ok(Json(
        repositories
            .into_iter()
            .map(|github| ListedRepository {
                imported_as: existing(&rows, &github),
                github,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// GitHub's repository ids, from the listing.
    pub ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImportedRepository {
    pub id: Uuid,
    pub github_id: i64,
    pub name: String,
    pub url: String,
    pub default_branch: String,
    /// False when the row existed already.
    pub created: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ImportResult {
    /// The import's transaction id, as in the synced changes' `txids`.
    pub txid: i64,
    pub repositories: Vec<ImportedRepository>,
}

/// `POST /api/organizations/{org}/github/repositories/import`.
pub async fn import(
    State(state): State<IntegrationsState>,
    user: AuthUser,
    PathParams(org): PathParams<Uuid>,
    JsonBody(body): JsonBody<ImportRequest>,
) -> Result<Json<ImportResult>> {
    let wanted: BTreeSet<i64> = body.ids.iter().copied().collect();
    if wanted.is_empty() || wanted.len() > MAX_IMPORT {
        return Err(AppError::BadRequest(format!(
            "ids must name between 1 and {MAX_IMPORT} GitHub repository ids"
        ))
        .into());
    }
    let mut client = state.pool.get().await?;
    require_admin(&**client, org, user.id).await?;
    let token = load_token(&**client, key(&state)?, org).await?;
    let visible = list_repositories(&state.http, &state.config.github_api_url, &token).await?;
    let selected: Vec<&GithubRepository> =
        visible.iter().filter(|r| wanted.contains(&r.id)).collect();
    if selected.len() != wanted.len() {
        let missing: Vec<String> = wanted
            .iter()
            .filter(|id| !selected.iter().any(|r| r.id == **id))
            .map(i64::to_string)
            .collect();
        return Err(AppError::BadRequest(format!(
            "the organization's GitHub token cannot see repositories {}: list them again",
            missing.join(", ")
        ))
        .into());
    }
    let tx = client.transaction().await?;
    let rows = org_repositories(&*tx, org, true).await?;
    let mut imported = Vec::with_capacity(selected.len());
    for repository in selected {
        let default_branch = repository
            .default_branch
            .clone()
            .unwrap_or_else(|| "main".to_owned());
        let (id, created) = match existing(&rows, repository) {
            Some(id) => {
                // Only real changes are written, so a repeated import syncs nothing.
                tx.execute(
                    "UPDATE repositories SET name = $2, url = $3, default_branch = $4, github_id = $5 \
                     WHERE id = $1 AND (name, url, default_branch, github_id) IS DISTINCT FROM ($2, $3, $4, $5)",
                    &[&id, &repository.name, &repository.html_url, &default_branch, &repository.id],
                )
                .await?;
                (id, false)
            }
            None => {
                let row = tx
                    .query_one(
                        "INSERT INTO repositories (organization_id, name, slug, url, default_branch, github_id) \
                         VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (organization_id, url) DO UPDATE \
                         SET default_branch = EXCLUDED.default_branch, github_id = EXCLUDED.github_id \
                         RETURNING id, xmax = 0",
                        &[
                            &org,
                            &repository.name,
                            &repository.name.to_lowercase(),
                            &repository.html_url,
                            &default_branch,
                            &repository.id,
                        ],
                    )
                    .await?;
                (row.get(0), row.get(1))
            }
        };
        imported.push(ImportedRepository {
            id,
            github_id: repository.id,
            name: repository.name.clone(),
            url: repository.html_url.clone(),
            default_branch,
            created,
        });
    }
    let txid: i64 = tx
        .query_one("SELECT pg_current_xact_id()::xid::text::int8", &[])
        .await?
        .get(0);
    tx.commit().await?;
    Ok(Json(ImportResult {
        txid,
        repositories: imported,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn link(value: &str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::LINK, HeaderValue::from_str(value).unwrap());
        next_link(&headers)
    }

    #[test]
    fn finds_next_in_githubs_link_headers() {
        // As recorded from api.github.com (octokit fixtures, paginate-issues).
        assert_eq!(
            link(
                r#"<https://api.github.com/repositories/1000/issues?per_page=3&page=2>; rel="next", <https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel="last""#
            )
            .as_deref(),
            Some("https://api.github.com/repositories/1000/issues?per_page=3&page=2")
        );
        assert_eq!(
            link(
                r#"<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next", <https://api.github.com/x?page=5>; rel="last", <https://api.github.com/x?page=1>; rel="first""#
            )
            .as_deref(),
            Some("https://api.github.com/x?page=3")
        );
        assert_eq!(
            link(
                r#"<https://api.github.com/x?page=4>; rel="prev", <https://api.github.com/x?page=1>; rel="first""#
            ),
            None
        );
        assert_eq!(
            link(r#"<https://h/a,b?page=2>; title="x"; REL="last next""#).as_deref(),
            Some("https://h/a,b?page=2")
        );
        assert_eq!(link("garbage"), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn next_links_stay_on_the_apis_origin() {
        let base = "http://127.0.0.1:9/api/v3";
        assert_eq!(
            follow(base, "http://127.0.0.1:9/user/repos?page=2").unwrap(),
            "http://127.0.0.1:9/user/repos?page=2"
        );
        assert_eq!(
            follow(base, "/user/repos?page=2").unwrap(),
            "http://127.0.0.1:9/user/repos?page=2"
        );
        assert!(follow(base, "http://evil.example/user/repos?page=2").is_err());
        assert!(follow(base, "http://127.0.0.1:10/user/repos").is_err());
        assert!(follow("https://api.github.com", "https://api.github.com.evil/x").is_err());
    }

    #[test]
    fn existing_rows_match_by_id_then_by_url() {
        let repo = GithubRepository {
            id: 7,
            name: "Hello-World".to_owned(),
            full_name: "octocat/Hello-World".to_owned(),
            html_url: "https://github.com/octocat/Hello-World".to_owned(),
            default_branch: Some("main".to_owned()),
            private: false,
            fork: false,
            archived: false,
            description: None,
        };
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(
            existing(
                &[(a, "git@github.com:octocat/hello-world.git".to_owned(), None)],
                &repo
            ),
            Some(a)
        );
        assert_eq!(
            existing(
                &[
                    (
                        a,
                        "https://github.com/octocat/Hello-World".to_owned(),
                        Some(8)
                    ),
                    (b, "https://github.com/octocat/renamed".to_owned(), Some(7)),
                ],
                &repo
            ),
            Some(b)
        );
        assert_eq!(
            existing(
                &[(
                    a,
                    "https://github.com/octocat/Hello-World".to_owned(),
                    Some(8)
                )],
                &repo
            ),
            None
        );
    }
}
