//! A stand-in GitHub: an axum server on a loopback port that answers as api.github.com does
//! `GET /user/repos` (the recorded repository shape of `@octokit/fixtures`, two per page,
//! `Link` headers with first/prev/next/last) and `GET /repos/{owner}/{repo}/pulls` (the items
//! of "List pull requests", filtered by `head` and `state`, newest first, 404 for a repository
//! it does not list). It records every request and, when told to, answers every one with a
//! failure instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::support::fixture;

/// The organization's token, as the stand-in accepts it.
pub const TOKEN: &str = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
const PAGE_SIZE: usize = 2;

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path_and_query: String,
    /// Whether it carried `Authorization: Bearer {TOKEN}`.
    pub authorized: bool,
    pub headers: HeaderMap,
}

/// A failure to answer every request with: status, headers, body.
type Failure = (StatusCode, Vec<(&'static str, String)>, Value);

struct GithubState {
    origin: String,
    repositories: Vec<Value>,
    pulls: Mutex<Vec<Value>>,
    failure: Mutex<Option<Failure>>,
    requests: Mutex<Vec<Seen>>,
}

/// The stand-in GitHub.
pub struct StandIn {
    pub base_url: String,
    state: Arc<GithubState>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// One repository in GitHub's shape, from the recorded one.
pub fn repository(id: i64, full_name: &str, default_branch: &str, private: bool) -> Value {
    let mut repo = fixture("github/repository.json");
    let (owner, name) = full_name.split_once('/').unwrap();
    repo["id"] = json!(id);
    repo["name"] = json!(name);
    repo["full_name"] = json!(full_name);
    repo["html_url"] = json!(format!("https://github.com/{full_name}"));
    repo["url"] = json!(format!("https://api.github.com/repos/{full_name}"));
    repo["clone_url"] = json!(format!("https://github.com/{full_name}.git"));
    repo["ssh_url"] = json!(format!("git@github.com:{full_name}.git"));
    repo["owner"]["login"] = json!(owner);
    repo["default_branch"] = json!(default_branch);
    repo["private"] = json!(private);
    repo["visibility"] = json!(if private { "private" } else { "public" });
    repo
}

/// What a pull request in "List pull requests" looks like: the pull request of the first
/// `pull_request` webhook example (Codertocat/Hello-World), reduced to the list's
/// `pull-request-simple` schema (the full object's counts and merge fields are not listed;
/// `active_lock_reason` and `auto_merge` are), with this number, head branch and state.
pub struct ListedPull<'a> {
    pub number: i64,
    pub branch: &'a str,
    pub state: &'a str,
    pub draft: bool,
    pub merged_at: Option<&'a str>,
    pub updated_at: &'a str,
}

impl ListedPull<'_> {
    pub fn json(&self) -> Value {
        let mut pr = fixture("github/pull_request.json")[0]["pull_request"].clone();
        let object = pr.as_object_mut().unwrap();
        for full_only in [
            "merged",
            "mergeable",
            "rebaseable",
            "mergeable_state",
            "merged_by",
            "comments",
            "review_comments",
            "maintainer_can_modify",
            "commits",
            "additions",
            "deletions",
            "changed_files",
        ] {
            object.remove(full_only).unwrap();
        }
        object.insert("active_lock_reason".to_owned(), Value::Null);
        object.insert("auto_merge".to_owned(), Value::Null);
        let (n, api) = (
            self.number,
            "https://api.github.com/repos/Codertocat/Hello-World",
        );
        let html = format!("https://github.com/Codertocat/Hello-World/pull/{n}");
        pr["number"] = json!(n);
        pr["id"] = json!(279_147_437 + n);
        pr["url"] = json!(format!("{api}/pulls/{n}"));
        pr["html_url"] = json!(html);
        pr["diff_url"] = json!(format!("{html}.diff"));
        pr["patch_url"] = json!(format!("{html}.patch"));
        pr["issue_url"] = json!(format!("{api}/issues/{n}"));
        pr["_links"]["html"]["href"] = json!(html);
        pr["state"] = json!(self.state);
        pr["draft"] = json!(self.draft);
        pr["merged_at"] = json!(self.merged_at);
        pr["closed_at"] =
            json!((self.state == "closed").then(|| self.merged_at.unwrap_or(self.updated_at)));
        pr["updated_at"] = json!(self.updated_at);
        pr["head"]["ref"] = json!(self.branch);
        pr["head"]["label"] = json!(format!("Codertocat:{}", self.branch));
        pr
    }
}

/// Records the request; the answer instead of the listing when the stand-in is failing or the
/// token is wrong.
fn refusal(state: &GithubState, headers: &HeaderMap, uri: &axum::http::Uri) -> Option<Response> {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"));
    state.requests.lock().unwrap().push(Seen {
        path_and_query: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        authorized,
        headers: headers.clone(),
    });
    if let Some((status, failure_headers, body)) = state.failure.lock().unwrap().clone() {
        let mut response = (status, axum::Json(body)).into_response();
        for (name, value) in failure_headers {
            response
                .headers_mut()
                .insert(name, HeaderValue::from_str(&value).unwrap());
        }
        return Some(response);
    }
    (!authorized).then(|| github_error(StatusCode::UNAUTHORIZED, "Bad credentials"))
}

fn github_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": status.as_u16().to_string()
        })),
    )
        .into_response()
}

/// GitHub's usual headers on a JSON answer.
fn as_github(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert("x-ratelimit-limit", HeaderValue::from_static("5000"));
    headers.insert("x-ratelimit-remaining", HeaderValue::from_static("4999"));
    headers.insert(
        "x-github-media-type",
        HeaderValue::from_static("github.v3; format=json"),
    );
    response
}

async fn user_repos(
    State(state): State<Arc<GithubState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if let Some(refusal) = refusal(&state, &headers, &uri) {
        return refusal;
    }
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let pages = state.repositories.len().div_ceil(PAGE_SIZE);
    let items: Vec<Value> = state
        .repositories
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .cloned()
        .collect();
    let at = |p: usize| format!("<{}/user/repos?per_page=100&page={p}>", state.origin);
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", at(page - 1)));
    }
    if page < pages {
        links.push(format!("{}; rel=\"next\"", at(page + 1)));
        links.push(format!("{}; rel=\"last\"", at(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", at(1)));
    }
    let mut response = as_github(axum::Json(items).into_response());
    if !links.is_empty() {
        response.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&links.join(", ")).unwrap(),
        );
    }
    response
}

/// `GET /repos/{owner}/{repo}/pulls`: `head` is `user:ref` (the user compared without case),
/// `state` is `open` unless given, newest first, at most `per_page`.
async fn pulls(
    State(state): State<Arc<GithubState>>,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if let Some(refusal) = refusal(&state, &headers, &uri) {
        return refusal;
    }
    let full_name = format!("{owner}/{repo}");
    if !state.repositories.iter().any(|r| {
        r["full_name"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&full_name)
    }) {
        return github_error(StatusCode::NOT_FOUND, "Not Found");
    }
    let wanted_state = query.get("state").map_or("open", String::as_str);
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30);
    let mut items: Vec<Value> = state
        .pulls
        .lock()
        .unwrap()
        .iter()
        .filter(|pr| wanted_state == "all" || pr["state"] == wanted_state)
        .filter(|pr| match query.get("head") {
            None => true,
            Some(head) => {
                let (user, branch) = head.split_once(':').unwrap_or((&owner, head));
                let label = pr["head"]["label"].as_str().unwrap();
                let (label_user, label_branch) = label.split_once(':').unwrap();
                label_user.eq_ignore_ascii_case(user) && label_branch == branch
            }
        })
        .cloned()
        .collect();
    items.sort_by_key(|pr| std::cmp::Reverse(pr["number"].as_i64()));
    items.truncate(per_page);
    as_github(axum::Json(items).into_response())
}

impl StandIn {
    pub async fn start(repositories: Vec<Value>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(GithubState {
            origin: base_url.clone(),
            repositories,
            pulls: Mutex::new(Vec::new()),
            failure: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
        });
        let router = axum::Router::new()
            .route("/user/repos", axum::routing::get(user_repos))
            .route("/repos/{owner}/{repo}/pulls", axum::routing::get(pulls))
            .with_state(state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            base_url,
            state,
            stop,
            task,
        }
    }

    /// The pull requests `/repos/…/pulls` lists (of any repository it knows).
    pub fn set_pulls(&self, pulls: Vec<Value>) {
        *self.state.pulls.lock().unwrap() = pulls;
    }

    /// Answers every request with this status, headers and body until told otherwise.
    pub fn fail_with(&self, failure: Option<Failure>) {
        *self.state.failure.lock().unwrap() = failure;
    }

    /// The requests received since the last call.
    pub fn take_seen(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.state.requests.lock().unwrap())
    }

    /// Path and query of the requests received since the last call, each with whether it
    /// carried the right token.
    pub fn take_requests(&self) -> Vec<(String, bool)> {
        self.take_seen()
            .into_iter()
            .map(|s| (s.path_and_query, s.authorized))
            .collect()
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
