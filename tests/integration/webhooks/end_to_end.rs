//! A signed webhook changes Postgres, and a desktop-style shape stream through the proxy sees
//! it: GitHub's pull request on a workspace, Linear's issue as a task.

use std::time::Duration;

use serde_json::json;

use super::support::{PR_BRANCH, PR_URL, Team, fixture};

#[tokio::test]
async fn a_signed_github_webhook_reaches_a_shape_stream_through_the_proxy() {
    let team = Team::start().await;
    let workspace = team.workspace(PR_BRANCH, None).await;
    let token = team.login("ada@example.com").await;
    let mut follower = team.follow("workspaces", &token);
    follower
        .until(Duration::from_secs(30), |f| f.row(workspace).is_some())
        .await;
    let row = follower.row(workspace).unwrap();
    assert_eq!(row["pr_status"], serde_json::Value::Null);
    // The new column is part of the synced row.
    assert!(row.contains_key("pr_review_status"), "{row:?}");

    let examples = fixture("github/pull_request.json");
    let opened = examples
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "opened")
        .unwrap()
        .clone();
    team.github("pull_request", "e2e-1", &opened).await.ok(200);
    follower
        .until(Duration::from_secs(30), |f| {
            f.row(workspace).is_some_and(|r| r["pr_status"] == "open")
        })
        .await;
    let row = follower.row(workspace).unwrap();
    assert_eq!(row["pr_url"], PR_URL);
    // Electric sends every value as text.
    assert_eq!(row["pr_number"].to_string().trim_matches('"'), "2");

    let mut merged = examples
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "closed")
        .unwrap()
        .clone();
    merged["pull_request"]["merged"] = json!(true);
    merged["pull_request"]["merged_at"] = json!("2019-05-15T15:21:18Z");
    let mut approved = fixture("github/pull_request_review.json")[0].clone();
    approved["review"]["state"] = json!("approved");
    team.github("pull_request_review", "e2e-2", &approved)
        .await
        .ok(200);
    team.github("pull_request", "e2e-3", &merged).await.ok(200);
    follower
        .until(Duration::from_secs(30), |f| {
            f.row(workspace)
                .is_some_and(|r| r["pr_status"] == "merged" && r["pr_review_status"] == "approved")
        })
        .await;
    team.finish().await;
}

#[tokio::test]
async fn a_signed_linear_webhook_reaches_a_shape_stream_through_the_proxy() {
    let team = Team::start().await;
    let admin = team.login("carol@example.com").await;
    let mut create = fixture("linear/issue_create.json");
    team.call(
        reqwest::Method::PUT,
        &format!("/api/organizations/{}/linear", team.org),
        &admin,
        Some(json!({
            "linear_organization_id": create["organizationId"],
            "signing_secret": super::support::LINEAR_SECRET,
        })),
    )
    .await
    .ok(200);
    let token = team.login("bob@example.com").await;
    let mut follower = team.follow("tasks", &token);
    follower
        .until(Duration::from_secs(30), |f| f.up_to_date)
        .await;
    assert!(follower.rows.is_empty());
    create["webhookTimestamp"] = json!(super::linear::now_ms());
    team.linear("e2e-linear-1", &create).await.ok(200);
    follower
        .until(Duration::from_secs(30), |f| {
            f.rows
                .values()
                .any(|r| r["external_key"] == "ENG-123" && r["status"] == "Todo")
        })
        .await;
    team.finish().await;
}
