//! `POST /api/workspaces/{id}/pull-request` against the stand-in GitHub: the workspace's branch
//! is looked up in GitHub's "List pull requests", the most relevant pull request is set on the
//! workspace as the webhook sets it, and every refusal or GitHub failure changes nothing.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::github_stand_in::{ListedPull, StandIn, TOKEN, repository};
use super::support::{HELLO_WORLD_ID, PR_URL, Reply, Team};

/// The stand-in GitHub listing `pulls` of Hello-World, the team's server asking it, and ada
/// (who owns the workspaces) signed in; with the organization's token stored when `token`.
struct Setup {
    github: StandIn,
    team: Team,
    ada: String,
}

impl Setup {
    async fn start(pulls: &[ListedPull<'_>], token: bool) -> Self {
        let github = StandIn::start(vec![repository(
            HELLO_WORLD_ID,
            "Codertocat/Hello-World",
            "master",
            false,
        )])
        .await;
        github.set_pulls(pulls.iter().map(ListedPull::json).collect());
        let base = github.base_url.clone();
        let team = Team::start_with(|c| c.github_api_url = base).await;
        let ada = team.login("ada@example.com").await;
        if token {
            let path = format!("/api/organizations/{}/github/token", team.org);
            team.call(Method::PUT, &path, &ada, Some(json!({"token": TOKEN})))
                .await
                .ok(204);
        }
        Self { github, team, ada }
    }

    async fn ask(&self, workspace: Uuid, token: &str) -> Reply {
        let path = format!("/api/workspaces/{workspace}/pull-request");
        self.team.call(Method::POST, &path, token, None).await
    }

    /// A workspace of ada's on `branch` (or none) of a repository at `url`, created for it.
    async fn workspace_in(&self, url: &str, branch: Option<&str>) -> Uuid {
        let sql = self.team.sql().await;
        let repository: Uuid = sql
            .query_one(
                "INSERT INTO repositories (organization_id, name, slug, url) \
                 VALUES ($1, 'other', $2, $3) RETURNING id",
                &[&self.team.org, &Uuid::new_v4().to_string(), &url],
            )
            .await
            .unwrap()
            .get(0);
        sql.query_one(
            "INSERT INTO workspaces (organization_id, repository_id, owner_id, device_name, git_branch) \
             VALUES ($1, $2, $3, 'ada-laptop', $4) RETURNING id",
            &[&self.team.org, &repository, &self.team.ada, &branch],
        )
        .await
        .unwrap()
        .get(0)
    }

    /// Every workspace's pull request columns and row version, to tell that nothing changed.
    async fn workspaces(&self) -> Vec<Value> {
        self.team
            .sql()
            .await
            .query(
                "SELECT json_build_object('id', id, 'pr_url', pr_url, 'pr_number', pr_number, \
                        'pr_status', pr_status, 'version', xmin::text) \
                 FROM workspaces ORDER BY id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    async fn finish(self) {
        self.github.stop().await;
        self.team.finish().await;
    }
}

fn pull<'a>(number: i64, branch: &'a str, state: &'a str, updated_at: &'a str) -> ListedPull<'a> {
    ListedPull {
        number,
        branch,
        state,
        draft: false,
        merged_at: None,
        updated_at,
    }
}

#[tokio::test]
async fn an_open_pull_request_is_found_and_set_on_the_workspace() {
    let setup = Setup::start(
        &[
            pull(1, "changes", "closed", "2019-05-20T10:00:00Z"),
            pull(2, "changes", "open", "2019-05-15T15:20:33Z"),
            pull(3, "elsewhere", "open", "2019-05-21T10:00:00Z"),
        ],
        true,
    )
    .await;
    let team = &setup.team;
    let workspace = team.workspace("changes", None).await;
    let answer = setup.ask(workspace, &setup.ada).await.ok(200);
    assert_eq!(answer["id"], workspace.to_string());
    assert!(answer["txid"].as_i64().unwrap() > 0, "{answer}");
    assert_eq!(
        answer["pull_request"],
        json!({"number": 2, "url": PR_URL, "status": "open"})
    );
    assert_eq!(
        team.pr_of(workspace).await,
        (
            Some(PR_URL.to_owned()),
            Some(2),
            Some("open".to_owned()),
            None
        )
    );
    let seen = setup.github.take_seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].path_and_query,
        "/repos/Codertocat/Hello-World/pulls?head=Codertocat%3Achanges&state=all&per_page=10"
    );
    assert!(
        seen[0].authorized,
        "Authorization: Bearer <the stored token>"
    );
    let header = |name: &str| seen[0].headers.get(name).map(|v| v.to_str().unwrap());
    assert_eq!(header("accept"), Some("application/vnd.github+json"));
    assert_eq!(header("x-github-api-version"), Some("2022-11-28"));
    assert!(header("user-agent").is_some_and(|a| !a.is_empty()));

    // Asking again answers the same and writes nothing.
    let before = setup.workspaces().await;
    let again = setup.ask(workspace, &setup.ada).await.ok(200);
    assert_eq!(again["pull_request"], answer["pull_request"]);
    assert_eq!(setup.workspaces().await, before);
    setup.finish().await;
}

#[tokio::test]
async fn merged_draft_and_closed_pull_requests_map_as_the_webhook_maps_them() {
    let merged = ListedPull {
        merged_at: Some("2019-05-16T09:00:00Z"),
        ..pull(5, "merged-work", "closed", "2019-05-16T09:00:00Z")
    };
    let draft = ListedPull {
        draft: true,
        ..pull(6, "draft-work", "open", "2019-05-17T09:00:00Z")
    };
    let setup = Setup::start(
        &[
            merged,
            draft,
            pull(7, "dropped-work", "closed", "2019-05-18T09:00:00Z"),
        ],
        true,
    )
    .await;
    let team = &setup.team;
    for (branch, number, status) in [
        ("merged-work", 5, "merged"),
        ("draft-work", 6, "draft"),
        ("dropped-work", 7, "closed"),
    ] {
        let workspace = team.workspace(branch, None).await;
        let answer = setup.ask(workspace, &setup.ada).await.ok(200);
        let url = format!("https://github.com/Codertocat/Hello-World/pull/{number}");
        assert_eq!(
            answer["pull_request"],
            json!({"number": number, "url": url, "status": status})
        );
        assert_eq!(
            team.pr_of(workspace).await,
            (Some(url), Some(number), Some(status.to_owned()), None)
        );
    }
    setup.finish().await;
}

#[tokio::test]
async fn no_pull_request_answers_null_and_changes_nothing() {
    let setup = Setup::start(&[pull(2, "changes", "open", "2019-05-15T15:20:33Z")], true).await;
    let workspace = setup.team.workspace("lonely", None).await;
    let before = setup.workspaces().await;
    let answer = setup.ask(workspace, &setup.ada).await.ok(200);
    assert_eq!(answer["id"], workspace.to_string());
    assert!(answer["txid"].as_i64().is_some(), "{answer}");
    assert_eq!(answer["pull_request"], Value::Null);
    assert_eq!(setup.workspaces().await, before);
    assert_eq!(setup.github.take_seen().len(), 1);
    setup.finish().await;
}

#[tokio::test]
async fn only_the_workspaces_owner_may_ask() {
    let setup = Setup::start(&[pull(2, "changes", "open", "2019-05-15T15:20:33Z")], true).await;
    let team = &setup.team;
    let hash = superset::server::api::accounts::hash_password(super::support::PASSWORD.to_owned())
        .await
        .unwrap();
    let mut sql = team.sql().await;
    let dan = superset::server::api::accounts::create_user(&sql, "dan@example.com", "Dan", &hash)
        .await
        .unwrap();
    superset::server::api::orgs::create_org(&mut sql, "Other", "other", dan)
        .await
        .unwrap();
    let workspace = team.workspace("changes", None).await;
    let before = setup.workspaces().await;

    let bob = team.login("bob@example.com").await;
    let message = setup.ask(workspace, &bob).await.error(403, "forbidden");
    assert!(message.contains("owner"), "{message}");
    // Another organization's member learns nothing: the same 404 as for no workspace at all.
    let dan = team.login("dan@example.com").await;
    let hidden = setup.ask(workspace, &dan).await.error(404, "not_found");
    assert_eq!(hidden, format!("no workspace {workspace}"));
    let unknown = Uuid::new_v4();
    let missing = setup.ask(unknown, &setup.ada).await.error(404, "not_found");
    assert_eq!(missing, format!("no workspace {unknown}"));
    let anonymous = team
        .http
        .post(format!(
            "{}/api/workspaces/{workspace}/pull-request",
            team.base()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    assert_eq!(setup.workspaces().await, before);
    assert!(
        setup.github.take_seen().is_empty(),
        "refused callers never reach GitHub"
    );
    setup.finish().await;
}

#[tokio::test]
async fn without_a_token_branch_or_github_repository_the_refusal_says_why() {
    let setup = Setup::start(&[pull(2, "changes", "open", "2019-05-15T15:20:33Z")], false).await;
    let team = &setup.team;
    let workspace = team.workspace("changes", None).await;
    let no_branch = setup
        .workspace_in("https://github.com/octo-org/api", None)
        .await;
    let gitlab = setup
        .workspace_in("https://gitlab.com/octo-org/api", Some("changes"))
        .await;
    let before = setup.workspaces().await;

    let message = setup
        .ask(workspace, &setup.ada)
        .await
        .error(409, "github_not_connected");
    assert!(
        message.contains(&format!("PUT /api/organizations/{}/github/token", team.org)),
        "{message}"
    );
    let message = setup
        .ask(no_branch, &setup.ada)
        .await
        .error(400, "bad_request");
    assert!(message.contains("git_branch"), "{message}");
    let message = setup
        .ask(gitlab, &setup.ada)
        .await
        .error(400, "bad_request");
    assert!(message.contains("not on GitHub"), "{message}");

    assert_eq!(setup.workspaces().await, before);
    assert!(setup.github.take_seen().is_empty());
    setup.finish().await;
}

#[tokio::test]
async fn github_failing_changes_nothing_and_says_what_happened() {
    let setup = Setup::start(&[pull(2, "changes", "open", "2019-05-15T15:20:33Z")], true).await;
    let workspace = setup.team.workspace("changes", None).await;
    let private = setup
        .workspace_in("https://github.com/octo-org/secret", Some("changes"))
        .await;
    let before = setup.workspaces().await;
    let github_error = |message: &str| json!({"message": message, "documentation_url": "https://docs.github.com/rest"});
    let mut messages = Vec::new();

    setup.github.fail_with(Some((
        reqwest::StatusCode::INTERNAL_SERVER_ERROR,
        Vec::new(),
        github_error("Server Error"),
    )));
    let message = setup
        .ask(workspace, &setup.ada)
        .await
        .error(502, "github_unavailable");
    assert!(message.starts_with("GitHub did not answer"), "{message}");
    messages.push(message);

    // The primary rate limit: 403 with nothing remaining, reset in 30 s.
    let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 30;
    setup.github.fail_with(Some((
        reqwest::StatusCode::FORBIDDEN,
        vec![
            ("x-ratelimit-remaining", "0".to_owned()),
            ("x-ratelimit-reset", reset.to_string()),
        ],
        github_error("API rate limit exceeded for user ID 1."),
    )));
    let reply = setup.ask(workspace, &setup.ada).await;
    let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    messages.push(reply.error(503, "github_rate_limited"));
    // A secondary rate limit: 429 with `retry-after`.
    setup.github.fail_with(Some((
        reqwest::StatusCode::TOO_MANY_REQUESTS,
        vec![("retry-after", "12".to_owned())],
        github_error("You have exceeded a secondary rate limit."),
    )));
    let reply = setup.ask(workspace, &setup.ada).await;
    assert_eq!(reply.header("retry-after"), Some("12"));
    messages.push(reply.error(503, "github_rate_limited"));

    setup.github.fail_with(None);
    let message = setup
        .ask(private, &setup.ada)
        .await
        .error(400, "bad_request");
    assert!(
        message.contains("GitHub does not know the repository octo-org/secret"),
        "{message}"
    );
    assert!(message.contains("token"), "{message}");
    messages.push(message);

    let before_github_stopped = setup.workspaces().await;
    let Setup { github, team, ada } = setup;
    github.stop().await;
    let path = format!("/api/workspaces/{workspace}/pull-request");
    let message = team
        .call(Method::POST, &path, &ada, None)
        .await
        .error(502, "github_unavailable");
    assert!(message.starts_with("GitHub did not answer"), "{message}");
    messages.push(message);

    for message in &messages {
        assert!(!message.contains(TOKEN), "the token leaked: {message}");
    }
    assert_eq!(before_github_stopped, before);
    assert_eq!(
        team.pr_of(workspace).await,
        (None, None, None, None),
        "nothing was set"
    );
    team.finish().await;
}
