//! `POST /webhooks/github` with `@octokit/webhooks-examples` 7.6.1's real payloads.

use serde_json::{Value, json};
use uuid::Uuid;

use super::support::{HELLO_WORLD_ID, HELLO_WORLD_URL, PR_BRANCH, PR_URL, Team, fixture};

/// Every `pull_request` example, in the package's order.
fn pull_request_examples() -> Vec<Value> {
    fixture("github/pull_request.json")
        .as_array()
        .unwrap()
        .clone()
}

fn review_examples() -> Vec<Value> {
    fixture("github/pull_request_review.json")
        .as_array()
        .unwrap()
        .clone()
}

/// The first example with `action`.
fn example(action: &str) -> Value {
    pull_request_examples()
        .into_iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} example"))
}

/// What each action of the package leaves on a workspace, `None` for actions we ignore.
fn expected_status(action: &str) -> Option<&'static str> {
    match action {
        "opened" | "reopened" | "synchronize" | "ready_for_review" | "edited" => Some("open"),
        "closed" => Some("closed"),
        "converted_to_draft" => Some("draft"),
        _ => None,
    }
}

/// A merge, as GitHub sends it: `closed` with `merged: true` (there is no `merged` action).
fn merged_close() -> Value {
    let mut payload = example("closed");
    payload["pull_request"]["merged"] = json!(true);
    payload["pull_request"]["merged_at"] = json!("2019-05-15T15:21:18Z");
    payload["pull_request"]["merged_by"] = payload["sender"].clone();
    payload["pull_request"]["merge_commit_sha"] = json!("c4295bd74fb0f4fda03689c3df3f2803b658fd85");
    payload
}

/// `edited` (no example in the package): an `opened` payload with GitHub's `changes` object.
fn edited() -> Value {
    let mut payload = example("opened");
    payload["action"] = json!("edited");
    payload["changes"] = json!({"title": {"from": "Update the README"}});
    payload["pull_request"]["title"] = json!("Update the README with new information.");
    payload
}

async fn reset(team: &Team, workspace: Uuid) {
    let sql = team.sql().await;
    sql.execute(
        "UPDATE workspaces SET pr_url = NULL, pr_number = NULL, pr_status = NULL, pr_review_status = NULL WHERE id = $1",
        &[&workspace],
    )
    .await
    .unwrap();
    sql.execute("DELETE FROM webhook_versions", &[])
        .await
        .unwrap();
}

#[tokio::test]
async fn every_pull_request_example_sets_the_workspace_by_repository_and_branch() {
    let team = Team::start().await;
    let workspace = team.workspace(PR_BRANCH, None).await;
    let mut cases: Vec<Value> = pull_request_examples();
    cases.push(merged_close());
    cases.push(edited());
    let mut handled = std::collections::BTreeSet::new();
    for (i, payload) in cases.iter().enumerate() {
        reset(&team, workspace).await;
        let action = payload["action"].as_str().unwrap();
        let reply = team
            .github("pull_request", &format!("delivery-{i}"), payload)
            .await;
        let merged = payload["pull_request"]["merged"] == json!(true);
        let expected = if merged {
            Some("merged")
        } else {
            expected_status(action)
        };
        match expected {
            Some(status) => {
                let body = reply.ok(200);
                assert_eq!(body["outcome"], "applied", "{action}: {body}");
                assert_eq!(body["rows"], 1, "{action}: {body}");
                assert_eq!(
                    team.pr_of(workspace).await,
                    (
                        Some(PR_URL.to_owned()),
                        Some(2),
                        Some(status.to_owned()),
                        None
                    ),
                    "example {i} ({action})"
                );
                handled.insert(if merged { "merged" } else { action });
            }
            None => {
                reply.ok(204);
                assert_eq!(
                    team.pr_of(workspace).await,
                    (None, None, None, None),
                    "example {i} ({action}) must change nothing"
                );
            }
        }
    }
    let expected: std::collections::BTreeSet<&str> = [
        "opened",
        "reopened",
        "closed",
        "merged",
        "converted_to_draft",
        "ready_for_review",
        "edited",
        "synchronize",
    ]
    .into();
    assert_eq!(handled, expected);
    // Handled deliveries are recorded once each; ignored actions are not recorded.
    let recorded = team
        .count("SELECT count(*) FROM webhook_deliveries WHERE provider = 'github' AND outcome = 'applied'")
        .await;
    assert_eq!(
        recorded as usize,
        cases
            .iter()
            .filter(|c| {
                c["pull_request"]["merged"] == json!(true)
                    || expected_status(c["action"].as_str().unwrap()).is_some()
            })
            .count()
    );
    team.finish().await;
}

#[tokio::test]
async fn a_workspace_with_the_pr_url_wins_over_branch_matches() {
    let team = Team::start().await;
    // Already linked (e.g. by the desktop) but on another branch name locally.
    let linked = team.workspace("local-name", Some(PR_URL)).await;
    let same_branch = team.workspace(PR_BRANCH, None).await;
    let reply = team
        .github("pull_request", "d-1", &example("converted_to_draft"))
        .await;
    assert_eq!(reply.ok(200)["rows"], 1);
    assert_eq!(team.pr_of(linked).await.2.as_deref(), Some("draft"));
    assert_eq!(team.pr_of(same_branch).await, (None, None, None, None));
    team.finish().await;
}

#[tokio::test]
async fn branch_matches_use_github_id_or_the_normalised_url_and_skip_archived_and_default_branches()
{
    let team = Team::start().await;
    let sql = team.sql().await;
    // A second organization added the same repository by its ssh remote, without an id.
    let beta: Uuid = sql
        .query_one(
            "INSERT INTO organizations (name, slug) VALUES ('Beta', 'beta') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    sql.execute(
        "INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, 'owner')",
        &[&beta, &team.bob],
    )
    .await
    .unwrap();
    let beta_repo: Uuid = sql
        .query_one(
            "INSERT INTO repositories (organization_id, name, slug, url) \
             VALUES ($1, 'hello-world', 'hello-world', 'git@github.com:codertocat/hello-world.git') RETURNING id",
            &[&beta],
        )
        .await
        .unwrap()
        .get(0);
    // And an unrelated repository whose name merely contains the same words.
    let other_repo: Uuid = sql
        .query_one(
            "INSERT INTO repositories (organization_id, name, slug, url) \
             VALUES ($1, 'hello-world', 'hello-world', 'https://github.com/someone-else/Hello-World') RETURNING id",
            &[&beta],
        )
        .await
        .unwrap()
        .get(0);
    let insert_workspace = |repo: Uuid, branch: &'static str, status: &'static str| {
        let sql = &sql;
        let bob = team.bob;
        async move {
            sql.query_one(
                "INSERT INTO workspaces (organization_id, repository_id, owner_id, device_name, git_branch, status) \
                 VALUES ($1, $2, $3, 'bob-desktop', $4, $5) RETURNING id",
                &[&beta, &repo, &bob, &branch, &status],
            )
            .await
            .unwrap()
            .get::<_, Uuid>(0)
        }
    };
    let acme_ws = team.workspace(PR_BRANCH, None).await;
    let beta_ws = insert_workspace(beta_repo, PR_BRANCH, "idle").await;
    let archived_ws = insert_workspace(beta_repo, PR_BRANCH, "archived").await;
    let unrelated_ws = insert_workspace(other_repo, PR_BRANCH, "active").await;
    let on_master = team.workspace("master", None).await;

    let reply = team
        .github("pull_request", "d-open", &example("opened"))
        .await;
    assert_eq!(reply.ok(200)["rows"], 2);
    let open = (
        Some(PR_URL.to_owned()),
        Some(2),
        Some("open".to_owned()),
        None,
    );
    assert_eq!(team.pr_of(acme_ws).await, open);
    assert_eq!(team.pr_of(beta_ws).await, open);
    assert_eq!(team.pr_of(archived_ws).await, (None, None, None, None));
    assert_eq!(team.pr_of(unrelated_ws).await, (None, None, None, None));

    // A pull request from the default branch (a fork's master) claims no workspace by branch.
    let mut from_master = example("opened");
    from_master["pull_request"]["html_url"] =
        json!("https://github.com/Codertocat/Hello-World/pull/9");
    from_master["pull_request"]["number"] = json!(9);
    from_master["pull_request"]["head"]["ref"] = json!("master");
    let reply = team.github("pull_request", "d-master", &from_master).await;
    assert_eq!(reply.ok(200)["outcome"], "unmatched");
    assert_eq!(team.pr_of(on_master).await, (None, None, None, None));

    // A repository we do not know: recorded, nothing changes.
    let mut elsewhere = example("opened");
    elsewhere["repository"]["id"] = json!(42);
    elsewhere["repository"]["html_url"] = json!("https://github.com/other/thing");
    elsewhere["pull_request"]["html_url"] = json!("https://github.com/other/thing/pull/1");
    let reply = team.github("pull_request", "d-other", &elsewhere).await;
    assert_eq!(reply.ok(200)["outcome"], "unmatched");
    assert_eq!(
        team.count("SELECT count(*) FROM webhook_deliveries WHERE outcome = 'unmatched'")
            .await,
        2
    );
    assert_eq!(HELLO_WORLD_URL, "https://github.com/Codertocat/Hello-World");
    assert_eq!(HELLO_WORLD_ID, 186853002);
    team.finish().await;
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_401_and_writes_nothing() {
    let team = Team::start().await;
    let workspace = team.workspace(PR_BRANCH, None).await;
    let body = example("opened").to_string();
    let wrong_secret =
        superset::server::integrations::signature::sign_github(b"not-the-secret", body.as_bytes());
    let for_other_body = superset::server::integrations::signature::sign_github(
        super::support::GITHUB_SECRET.as_bytes(),
        b"{}",
    );
    let bare_hex = for_other_body.trim_start_matches("sha256=").to_owned();
    for signature in [
        "",
        wrong_secret.as_str(),
        for_other_body.as_str(),
        bare_hex.as_str(),
        "sha256=",
        "sha256=zz",
        "sha1=0123456789abcdef0123456789abcdef01234567",
    ] {
        let reply = team
            .github_raw("pull_request", "d-1", body.as_bytes(), Some(signature))
            .await;
        let message = reply.error(401, "invalid_signature");
        assert!(message.contains("X-Hub-Signature-256"), "{message}");
    }
    // A body changed after signing.
    let signed = superset::server::integrations::signature::sign_github(
        super::support::GITHUB_SECRET.as_bytes(),
        body.as_bytes(),
    );
    let tampered = body.replace("\"open\"", "\"closed\"");
    assert_ne!(tampered, body);
    team.github_raw("pull_request", "d-1", tampered.as_bytes(), Some(&signed))
        .await
        .error(401, "invalid_signature");
    assert_eq!(team.pr_of(workspace).await, (None, None, None, None));
    assert_eq!(
        team.count("SELECT count(*) FROM webhook_deliveries").await,
        0
    );
    assert_eq!(team.count("SELECT count(*) FROM webhook_versions").await, 0);
    // The same delivery, signed, is then applied: nothing was claimed by the rejected ones.
    team.github_raw("pull_request", "d-1", body.as_bytes(), None)
        .await
        .ok(200);
    assert_eq!(team.pr_of(workspace).await.2.as_deref(), Some("open"));
    team.finish().await;
}

#[tokio::test]
async fn a_redelivery_is_applied_once() {
    let team = Team::start().await;
    let workspace = team.workspace(PR_BRANCH, None).await;
    let opened = example("opened");
    assert_eq!(
        team.github("pull_request", "guid-1", &opened).await.ok(200)["outcome"],
        "applied"
    );
    // Someone changes the row afterwards; replaying the old delivery must not undo that.
    team.sql()
        .await
        .execute(
            "UPDATE workspaces SET pr_status = 'closed' WHERE id = $1",
            &[&workspace],
        )
        .await
        .unwrap();
    for _ in 0..2 {
        let body = team.github("pull_request", "guid-1", &opened).await.ok(200);
        assert_eq!(body["outcome"], "duplicate");
    }
    assert_eq!(team.pr_of(workspace).await.2.as_deref(), Some("closed"));
    assert_eq!(
        team.count("SELECT count(*) FROM webhook_deliveries").await,
        1
    );
    // Concurrent copies of one delivery: exactly one applies.
    let replies = futures_util::future::join_all(
        (0..8).map(|_| team.github("pull_request", "guid-2", &opened)),
    )
    .await;
    let applied = replies
        .iter()
        .filter(|r| r.ok(200)["outcome"] == "applied")
        .count();
    assert_eq!(applied, 1);
    team.finish().await;
}

#[tokio::test]
async fn malformed_json_is_400_and_pings_and_other_events_are_204() {
    let team = Team::start().await;
    let workspace = team.workspace(PR_BRANCH, None).await;
    let reply = team
        .github_raw("pull_request", "d-bad", b"{\"action\": \"opened\", ", None)
        .await;
    let message = reply.error(400, "bad_request");
    assert!(message.contains("not valid JSON"), "{message}");
    // Valid JSON that is not a pull_request event.
    team.github_raw("pull_request", "d-bad2", b"{\"action\":\"opened\"}", None)
        .await
        .error(400, "bad_request");
    team.github_raw("push", "d-bad3", b"not json", None)
        .await
        .error(400, "bad_request");
    team.github(
        "ping",
        "d-ping",
        &json!({"zen": "Keep it logically awesome.", "hook_id": 1}),
    )
    .await
    .ok(204);
    team.github("push", "d-push", &json!({"ref": "refs/heads/changes"}))
        .await
        .ok(204);
    assert_eq!(team.pr_of(workspace).await, (None, None, None, None));
    assert_eq!(
        team.count("SELECT count(*) FROM webhook_deliveries").await,
        0
    );
    team.finish().await;
}

#[tokio::test]
async fn an_older_delivery_does_not_overwrite_a_newer_state() {
    let team = Team::start().await;
    let workspace = team.workspace(PR_BRANCH, None).await;
    // The package's closed example was updated at 15:21:18, its reopened one at 15:20:33.
    let closed = example("closed");
    let reopened = example("reopened");
    team.github("pull_request", "d-closed", &closed)
        .await
        .ok(200);
    let body = team
        .github("pull_request", "d-reopened", &reopened)
        .await
        .ok(200);
    assert_eq!(body["outcome"], "stale");
    assert_eq!(team.pr_of(workspace).await.2.as_deref(), Some("closed"));
    // The same instant is not older: both events apply.
    let draft = example("converted_to_draft");
    assert_eq!(
        draft["pull_request"]["updated_at"],
        closed["pull_request"]["updated_at"]
    );
    team.github("pull_request", "d-draft", &draft).await.ok(200);
    assert_eq!(team.pr_of(workspace).await.2.as_deref(), Some("draft"));
    team.finish().await;
}

#[tokio::test]
async fn reviews_record_the_latest_decision() {
    let team = Team::start().await;
    let workspace = team.workspace(PR_BRANCH, None).await;
    let examples = review_examples();
    let commented = examples
        .iter()
        .find(|e| e["action"] == "submitted")
        .unwrap()
        .clone();
    let at = |mut payload: Value, state: &str, time: &str| {
        payload["review"]["state"] = json!(state);
        payload["review"]["submitted_at"] = json!(time);
        payload
    };
    let review_status = || async { team.pr_of(workspace).await.3 };

    // A comment on a pull request without a decision is recorded (and links the pull request).
    team.github("pull_request_review", "r-1", &commented)
        .await
        .ok(200);
    assert_eq!(
        team.pr_of(workspace).await,
        (
            Some(PR_URL.to_owned()),
            Some(2),
            None,
            Some("commented".to_owned())
        )
    );
    let approved = at(commented.clone(), "approved", "2019-05-15T15:30:00Z");
    team.github("pull_request_review", "r-2", &approved)
        .await
        .ok(200);
    assert_eq!(review_status().await.as_deref(), Some("approved"));
    // A later comment does not undo an approval.
    let later_comment = at(commented.clone(), "commented", "2019-05-15T15:31:00Z");
    team.github("pull_request_review", "r-3", &later_comment)
        .await
        .ok(200);
    assert_eq!(review_status().await.as_deref(), Some("approved"));
    let changes = at(
        commented.clone(),
        "changes_requested",
        "2019-05-15T15:32:00Z",
    );
    team.github("pull_request_review", "r-4", &changes)
        .await
        .ok(200);
    assert_eq!(review_status().await.as_deref(), Some("changes_requested"));
    // An approval older than that request (delivered late) is stale.
    let late = at(commented.clone(), "approved", "2019-05-15T15:31:30Z");
    assert_eq!(
        team.github("pull_request_review", "r-5", &late)
            .await
            .ok(200)["outcome"],
        "stale"
    );
    assert_eq!(review_status().await.as_deref(), Some("changes_requested"));
    // The pull_request events keep the decision of the same pull request.
    team.github("pull_request", "p-1", &example("synchronize"))
        .await
        .ok(200);
    assert_eq!(review_status().await.as_deref(), Some("changes_requested"));

    // The package's dismissed example (another pull request): clears that workspace's status.
    let dismissed = examples
        .iter()
        .find(|e| e["action"] == "dismissed")
        .unwrap()
        .clone();
    let dismissed_url = dismissed["pull_request"]["html_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = team.workspace("gns-branch", Some(&dismissed_url)).await;
    team.sql()
        .await
        .execute(
            "UPDATE workspaces SET pr_review_status = 'approved' WHERE id = $1",
            &[&other],
        )
        .await
        .unwrap();
    team.github("pull_request_review", "r-6", &dismissed)
        .await
        .ok(200);
    assert_eq!(team.pr_of(other).await.3, None);
    assert_eq!(review_status().await.as_deref(), Some("changes_requested"));
    // Review edits are not decisions.
    let mut edited = commented.clone();
    edited["action"] = json!("edited");
    team.github("pull_request_review", "r-7", &edited)
        .await
        .ok(204);
    team.finish().await;
}
