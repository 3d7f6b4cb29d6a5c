//! `POST /webhooks/linear` with payloads shaped as Linear's docs show, and the Linear links
//! (API route and `superset-server admin link-linear`).

use serde_json::{Value, json};
use superset::server::integrations::signature::sign_hex;
use uuid::Uuid;

use super::support::{LINEAR_SECRET, Team, fixture};

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A fixture with a fresh `webhookTimestamp`.
fn payload(name: &str) -> Value {
    let mut payload = fixture(&format!("linear/{name}.json"));
    payload["webhookTimestamp"] = json!(now_ms());
    payload
}

const LINEAR_ORG: &str = "6d3cd2a1-2bc6-4cdd-9f3d-3f1f4d1a0c11";
const ISSUE: &str = "2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9";

/// Links `team`'s organization to a Linear organization with `body`, signed with
/// [`LINEAR_SECRET`] unless the body names its own secret.
async fn link(team: &Team, mut body: Value) {
    if body.get("signing_secret").is_none() {
        body["signing_secret"] = json!(LINEAR_SECRET);
    }
    let admin = team.login("carol@example.com").await;
    team.call(
        reqwest::Method::PUT,
        &format!("/api/organizations/{}/linear", team.org),
        &admin,
        Some(body),
    )
    .await
    .ok(200);
}

#[derive(Debug, PartialEq)]
struct Task {
    organization_id: Uuid,
    title: String,
    description: Option<String>,
    status: String,
    status_color: Option<String>,
    priority: String,
    assignee_id: Option<Uuid>,
    repository_id: Option<Uuid>,
    external_key: Option<String>,
    external_url: Option<String>,
    branch: Option<String>,
    labels: Value,
    due_date: Option<time::Date>,
    deleted: bool,
}

async fn task(team: &Team) -> Option<Task> {
    team.sql()
        .await
        .query_opt(
            "SELECT organization_id, title, description, status, status_color, priority, assignee_id, \
                    repository_id, external_key, external_url, branch, labels, due_date, deleted_at IS NOT NULL \
             FROM tasks WHERE external_provider = 'linear' AND external_id = $1",
            &[&ISSUE],
        )
        .await
        .unwrap()
        .map(|r| Task {
            organization_id: r.get(0),
            title: r.get(1),
            description: r.get(2),
            status: r.get(3),
            status_color: r.get(4),
            priority: r.get(5),
            assignee_id: r.get(6),
            repository_id: r.get(7),
            external_key: r.get(8),
            external_url: r.get(9),
            branch: r.get(10),
            labels: r.get(11),
            due_date: r.get(12),
            deleted: r.get(13),
        })
}

#[tokio::test]
async fn issues_are_created_updated_and_removed_as_tasks() {
    let team = Team::start().await;
    link(&team, json!({"linear_organization_id": LINEAR_ORG})).await;

    let body = team
        .linear("delivery-create", &payload("issue_create"))
        .await
        .ok(200);
    assert_eq!(body["outcome"], "applied");
    let created = task(&team).await.expect("a task");
    assert_eq!(
        created,
        Task {
            organization_id: team.org,
            title: "Sign-in fails behind a corporate proxy".to_owned(),
            description: Some(
                "Steps:\n1. Set HTTPS_PROXY\n2. Sign in\n\nThe desktop shows *network error*."
                    .to_owned()
            ),
            status: "Todo".to_owned(),
            status_color: Some("#e2e2e2".to_owned()),
            priority: "high".to_owned(),
            assignee_id: Some(team.ada),
            repository_id: None,
            external_key: Some("ENG-123".to_owned()),
            external_url: Some(
                "https://linear.app/acme/issue/ENG-123/sign-in-fails-behind-a-corporate-proxy"
                    .to_owned()
            ),
            branch: None,
            labels: json!(["Bug"]),
            due_date: Some(time::macros::date!(2026 - 12 - 01)),
            deleted: false,
        }
    );

    // Status, priority, assignee (matched by e-mail, case-insensitively: Bob@Example.com)
    // and labels; the `hello-world` label names the organization's repository.
    team.linear("delivery-update", &payload("issue_update"))
        .await
        .ok(200);
    let updated = task(&team).await.unwrap();
    assert_eq!(updated.status, "In Progress");
    assert_eq!(updated.status_color.as_deref(), Some("#f2c94c"));
    assert_eq!(updated.priority, "urgent");
    assert_eq!(updated.assignee_id, Some(team.bob));
    assert_eq!(updated.labels, json!(["Bug", "hello-world"]));
    assert_eq!(updated.repository_id, Some(team.repository));
    assert_eq!(updated.title, created.title);

    // Priorities 3, 4 and 0; an assignee who is not a member; no labels; no due date.
    for (i, (number, expected)) in [(3, "medium"), (4, "low"), (0, "none")]
        .into_iter()
        .enumerate()
    {
        let mut update = payload("issue_update");
        update["data"]["priority"] = json!(number);
        update["data"]["updatedAt"] = json!(format!("2026-11-20T11:1{i}:00.000Z"));
        update["data"]["assignee"]["email"] = json!("eve@elsewhere.example");
        update["data"]["labels"] = json!([]);
        update["data"]["dueDate"] = Value::Null;
        team.linear(&format!("delivery-priority-{number}"), &update)
            .await
            .ok(200);
        let task = task(&team).await.unwrap();
        assert_eq!(task.priority, expected);
        assert_eq!(task.assignee_id, None);
        assert_eq!(task.labels, json!([]));
        assert_eq!(task.due_date, None);
        // The suggested repository stays once made.
        assert_eq!(task.repository_id, Some(team.repository));
    }

    // `branchName`, when a payload has it (Linear's GraphQL field), is the task's branch.
    let mut with_branch = payload("issue_update");
    with_branch["data"]["updatedAt"] = json!("2026-11-20T11:20:00.000Z");
    with_branch["data"]["branchName"] = json!("bob/eng-123-sign-in-fails-behind-a-corporate-proxy");
    team.linear("delivery-branch", &with_branch).await.ok(200);
    assert_eq!(
        task(&team).await.unwrap().branch.as_deref(),
        Some("bob/eng-123-sign-in-fails-behind-a-corporate-proxy")
    );
    // A later payload without it keeps it.
    let mut without = payload("issue_update");
    without["data"]["updatedAt"] = json!("2026-11-20T11:21:00.000Z");
    team.linear("delivery-no-branch", &without).await.ok(200);
    assert!(task(&team).await.unwrap().branch.is_some());

    team.linear("delivery-remove", &payload("issue_remove"))
        .await
        .ok(200);
    let removed = task(&team).await.unwrap();
    assert!(removed.deleted);
    assert_eq!(
        team.count("SELECT count(*) FROM tasks WHERE external_provider = 'linear'")
            .await,
        1
    );
    // An update delivered late (older updatedAt) does not bring the task back.
    let body = team
        .linear("delivery-late", &payload("issue_update"))
        .await
        .ok(200);
    assert_eq!(body["outcome"], "stale");
    assert!(task(&team).await.unwrap().deleted);
    team.finish().await;
}

#[tokio::test]
async fn a_branch_naming_a_repository_suggests_it() {
    let team = Team::start().await;
    link(&team, json!({"linear_organization_id": LINEAR_ORG})).await;
    let mut create = payload("issue_create");
    create["data"]["branchName"] = json!("Hello-World/eng-123-sign-in");
    team.linear("d-1", &create).await.ok(200);
    let task = task(&team).await.unwrap();
    assert_eq!(task.repository_id, Some(team.repository));
    assert_eq!(task.branch.as_deref(), Some("Hello-World/eng-123-sign-in"));
    team.finish().await;
}

#[tokio::test]
async fn stale_timestamps_and_bad_signatures_are_rejected() {
    let team = Team::start().await;
    link(&team, json!({"linear_organization_id": LINEAR_ORG})).await;
    // Older than 60 s, and too far in the future.
    for offset in [-61_000, -3_600_000, 120_000] {
        let mut stale = payload("issue_create");
        stale["webhookTimestamp"] = json!(now_ms() + offset);
        let message = team
            .linear("d-stale", &stale)
            .await
            .error(401, "stale_delivery");
        assert!(message.contains("webhookTimestamp"), "{message}");
    }
    let body = payload("issue_create").to_string();
    let wrong = sign_hex(b"wrong secret", body.as_bytes());
    let other = sign_hex(LINEAR_SECRET.as_bytes(), b"{}");
    let prefixed = format!(
        "sha256={}",
        sign_hex(LINEAR_SECRET.as_bytes(), body.as_bytes())
    );
    for signature in ["", wrong.as_str(), other.as_str(), prefixed.as_str(), "zz"] {
        team.linear_raw("d-bad", body.as_bytes(), Some(signature))
            .await
            .error(401, "invalid_signature");
    }
    // Signed but not JSON; signed without a timestamp.
    team.linear_raw("d-junk", b"{nope", None)
        .await
        .error(400, "bad_request");
    let mut untimed = payload("issue_create");
    untimed.as_object_mut().unwrap().remove("webhookTimestamp");
    team.linear("d-untimed", &untimed)
        .await
        .error(400, "bad_request");
    assert!(task(&team).await.is_none());
    assert_eq!(
        team.count("SELECT count(*) FROM webhook_deliveries").await,
        0
    );
    // A fresh, signed copy is accepted.
    team.linear("d-stale", &payload("issue_create"))
        .await
        .ok(200);
    assert!(task(&team).await.is_some());
    team.finish().await;
}

#[tokio::test]
async fn redeliveries_apply_once_and_unlinked_or_other_events_change_nothing() {
    let team = Team::start().await;
    // Not linked yet: recorded, nothing created.
    let create = payload("issue_create");
    let body = team.linear("d-unlinked", &create).await.ok(200);
    assert_eq!(body["outcome"], "unlinked");
    assert!(task(&team).await.is_none());

    link(&team, json!({"linear_organization_id": LINEAR_ORG})).await;
    assert_eq!(
        team.linear("d-1", &create).await.ok(200)["outcome"],
        "applied"
    );
    team.sql()
        .await
        .execute(
            "UPDATE tasks SET title = 'renamed here' WHERE external_id = $1",
            &[&ISSUE],
        )
        .await
        .unwrap();
    assert_eq!(
        team.linear("d-1", &create).await.ok(200)["outcome"],
        "duplicate"
    );
    assert_eq!(task(&team).await.unwrap().title, "renamed here");

    // Comments and other actions are not tasks.
    let mut comment = payload("issue_create");
    comment["type"] = json!("Comment");
    comment["data"] = json!({"id": "c1", "body": "Indeed.", "issueId": ISSUE});
    team.linear("d-comment", &comment).await.ok(204);
    let mut restore = payload("issue_create");
    restore["action"] = json!("restore");
    team.linear("d-restore", &restore).await.ok(204);
    assert_eq!(team.count("SELECT count(*) FROM tasks").await, 1);
    team.finish().await;
}

#[tokio::test]
async fn team_links_cover_only_their_teams_and_only_admins_link() {
    let team = Team::start().await;
    let sql = team.sql().await;
    // A second organization of ours, owned by bob.
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
    let engineering = fixture("linear/issue_create.json")["data"]["teamId"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = team.login("bob@example.com").await;
    let path = |org: Uuid| format!("/api/organizations/{org}/linear");
    let body = |teams: Value| {
        json!({"linear_organization_id": LINEAR_ORG, "linear_team_ids": teams,
               "signing_secret": LINEAR_SECRET})
    };
    // bob is a member of acme, not an admin.
    team.call(
        reqwest::Method::PUT,
        &path(team.org),
        &bob,
        Some(body(json!([]))),
    )
    .await
    .error(403, "forbidden");
    team.call(reqwest::Method::DELETE, &path(team.org), &bob, None)
        .await
        .error(403, "forbidden");
    // Acme links only the Engineering team.
    let carol = team.login("carol@example.com").await;
    let links = team
        .call(
            reqwest::Method::PUT,
            &path(team.org),
            &carol,
            Some(body(json!([engineering]))),
        )
        .await
        .ok(200);
    assert_eq!(
        links,
        json!([{"linear_organization_id": LINEAR_ORG, "linear_team_id": engineering}])
    );
    // The Linear organization belongs to acme now: beta cannot claim it, nor a team of it.
    for teams in [json!([]), json!([engineering]), json!(["another-team"])] {
        team.call(reqwest::Method::PUT, &path(beta), &bob, Some(body(teams)))
            .await
            .error(409, "conflict");
    }

    // An issue of the Engineering team is acme's; another team's is not linked anywhere.
    team.linear("d-eng", &payload("issue_create")).await.ok(200);
    assert_eq!(task(&team).await.unwrap().organization_id, team.org);
    let mut other_team = payload("issue_create");
    other_team["data"]["id"] = json!("99999999-f7c8-44e3-bbf3-2d60b5ea8bc9");
    other_team["data"]["teamId"] = json!("another-team");
    other_team["data"]["team"]["id"] = json!("another-team");
    let unlinked = team.linear("d-other", &other_team).await.ok(200);
    assert_eq!(unlinked["outcome"], "unlinked");
    assert_eq!(
        team.count(
            "SELECT count(*) FROM tasks WHERE external_id = '99999999-f7c8-44e3-bbf3-2d60b5ea8bc9'"
        )
        .await,
        0
    );

    // Once acme unlinks, beta may link the whole Linear organization; acme's task stays acme's.
    team.call(reqwest::Method::DELETE, &path(team.org), &carol, None)
        .await
        .ok(204);
    team.call(
        reqwest::Method::PUT,
        &path(beta),
        &bob,
        Some(body(json!([]))),
    )
    .await
    .ok(200);
    let mut moved = payload("issue_update");
    moved["data"]["updatedAt"] = json!("2026-11-20T11:30:00.000Z");
    team.linear("d-moved", &moved).await.ok(200);
    let orgs: Vec<Uuid> = sql
        .query(
            "SELECT organization_id FROM tasks WHERE external_id = $1 ORDER BY organization_id",
            &[&ISSUE],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut expected = vec![team.org, beta];
    expected.sort();
    assert_eq!(
        orgs, expected,
        "a webhook never moves a task between organizations"
    );
    team.finish().await;
}

#[tokio::test]
async fn the_admin_command_links_a_linear_organization() {
    let team = Team::start().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_superset-server"))
        .args([
            "admin",
            "link-linear",
            "--org",
            "acme",
            "--linear-org",
            LINEAR_ORG,
        ])
        .env("DATABASE_URL", &team.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("linked Linear organization"), "{text}");
    team.linear("d-1", &payload("issue_create")).await.ok(200);
    assert_eq!(task(&team).await.unwrap().organization_id, team.org);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_superset-server"))
        .args(["admin", "link-linear", "--org", "nope", "--linear-org", "x"])
        .env("DATABASE_URL", &team.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no organization has the slug nope"));
    team.finish().await;
}
