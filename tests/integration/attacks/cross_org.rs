//! Attacks across organizations (items 1–4 of the attack review): each is driven as the review
//! did, refused, and the victim organization's rows — in Postgres and as its members sync
//! them — are unchanged.

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::support::{Arena, LINEAR_DEPLOYMENT_SECRET, linear_issue};

const VICTIM_LINEAR: &str = "linear-org-victim";
const VICTIM_SECRET: &str = "victim-signing-secret";
const ISSUE: &str = "issue-of-the-victim";

/// The victim's admin links the victim organization to its Linear organization, and Linear
/// sends one issue: the victim's task.
async fn victim_linked(arena: &Arena) -> Uuid {
    let victim = arena.token(arena.victim().id);
    arena
        .call(
            Method::PUT,
            &format!("/api/organizations/{}/linear", arena.victim_org()),
            Some(&victim),
            Some(json!({"linear_organization_id": VICTIM_LINEAR,
                        "signing_secret": VICTIM_SECRET})),
        )
        .await
        .ok(200);
    let created = linear_issue(VICTIM_LINEAR, "create", ISSUE, "The victim's issue");
    arena.linear(&created, VICTIM_SECRET).await.ok(200);
    arena
        .sql()
        .await
        .query_one("SELECT id FROM tasks WHERE external_id = $1", &[&ISSUE])
        .await
        .unwrap()
        .get(0)
}

/// The attacker creates an organization of their own; returns its id.
async fn attacker_org(arena: &Arena, token: &str) -> Uuid {
    let created = arena
        .call(
            Method::POST,
            "/api/organizations",
            Some(token),
            Some(json!({"name": "Mallory Inc", "slug": "mallory"})),
        )
        .await
        .ok(201);
    Uuid::parse_str(created["id"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_linear_organization_linked_elsewhere_cannot_be_claimed() {
    let arena = Arena::start().await;
    let task = victim_linked(&arena).await;
    let victim_token = arena.token(arena.victim().id);
    let before = arena.state_of(arena.victim_org()).await;
    let synced_before = arena.synced("tasks", &victim_token).await.ids();
    let attacker = arena.token(arena.attacker().id);
    let mallory = attacker_org(&arena, &attacker).await;
    // The claim, the whole organization or a team of it, with the attacker's own secret: 409.
    for teams in [json!([]), json!(["team-1"])] {
        arena
            .call(
                Method::PUT,
                &format!("/api/organizations/{mallory}/linear"),
                Some(&attacker),
                Some(
                    json!({"linear_organization_id": VICTIM_LINEAR, "linear_team_ids": teams,
                            "signing_secret": "mallory-secret"}),
                ),
            )
            .await
            .error(409, "conflict");
    }
    // A delivery for the victim's issue signed with anything but the victim's secret: 401.
    let moved = linear_issue(VICTIM_LINEAR, "update", ISSUE, "Stolen");
    for secret in ["mallory-secret", LINEAR_DEPLOYMENT_SECRET] {
        arena
            .linear(&moved, secret)
            .await
            .error(401, "invalid_signature");
    }
    assert_eq!(arena.state_of(arena.victim_org()).await, before);
    let in_mallory: i64 = arena
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM tasks WHERE organization_id = $1",
            &[&mallory],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(in_mallory, 0, "nothing reached the attacker's organization");
    let synced_after = arena.synced("tasks", &victim_token).await.ids();
    assert_eq!(synced_after, synced_before);
    assert!(synced_after.contains(&task.to_string()));
    arena.finish().await;
}

#[tokio::test]
async fn a_signing_secret_speaks_for_its_own_linear_organization_only() {
    let arena = Arena::start().await;
    let task = victim_linked(&arena).await;
    let attacker = arena.token(arena.attacker().id);
    let mallory = attacker_org(&arena, &attacker).await;
    // The attacker links a Linear organization of their own, with their own secret.
    arena
        .call(
            Method::PUT,
            &format!("/api/organizations/{mallory}/linear"),
            Some(&attacker),
            Some(json!({"linear_organization_id": "linear-org-mallory",
                        "signing_secret": "mallory-secret"})),
        )
        .await
        .ok(200);
    let before = arena.state_of(arena.victim_org()).await;
    // Signed with the attacker's secret, claiming to be the victim's workspace: 401.
    let forged = linear_issue(VICTIM_LINEAR, "remove", ISSUE, "x");
    arena
        .linear(&forged, "mallory-secret")
        .await
        .error(401, "invalid_signature");
    // Through the attacker's own link, naming the victim's issue: only the attacker's
    // organization is looked in, so the victim's task is not removed.
    let own = linear_issue("linear-org-mallory", "remove", ISSUE, "x");
    let outcome = arena.linear(&own, "mallory-secret").await.ok(200);
    assert_eq!(outcome["outcome"], "unmatched");
    assert_eq!(arena.state_of(arena.victim_org()).await, before);
    let victim_token = arena.token(arena.victim().id);
    assert!(
        arena
            .synced("tasks", &victim_token)
            .await
            .ids()
            .contains(&task.to_string())
    );
    arena.finish().await;
}

#[tokio::test]
async fn a_pull_request_of_another_repository_cannot_be_claimed() {
    let arena = Arena::start().await;
    let sql = arena.sql().await;
    let victim_repo = arena
        .team
        .repositories
        .iter()
        .find(|r| r.organization == 0)
        .unwrap();
    let attacker_repo = arena
        .team
        .repositories
        .iter()
        .find(|r| r.organization == 1)
        .unwrap();
    // The victim works on branch `feature/x` of their repository; so does the attacker, in
    // the attacker's.
    let victim = arena.token(arena.victim().id);
    let attacker = arena.token(arena.attacker().id);
    let mut workspaces = Vec::new();
    for (token, org, repo) in [
        (&victim, arena.victim_org(), victim_repo),
        (&attacker, arena.team.organizations[1].id, attacker_repo),
    ] {
        let written = arena
            .call(
                Method::POST,
                "/api/workspaces",
                Some(token),
                Some(
                    json!({"organization_id": org, "repository_id": repo.id, "type": "local",
                            "device_name": "laptop", "git_branch": "feature/x"}),
                ),
            )
            .await
            .ok(200);
        workspaces.push(Uuid::parse_str(written["id"].as_str().unwrap()).unwrap());
    }
    let victim_pr = format!("{}/pull/7", victim_repo.url);
    // The attacker's workspace claims the victim's pull request: 400, nothing set.
    for pr_url in [
        victim_pr.clone(),
        format!("{}/pull/7", attacker_repo.url.replace("https", "http")),
        "javascript:alert(1)".to_owned(),
    ] {
        arena
            .call(
                Method::PATCH,
                &format!("/api/workspaces/{}", workspaces[1]),
                Some(&attacker),
                Some(json!({"pr_url": pr_url, "pr_number": 7})),
            )
            .await
            .error(400, "bad_request");
    }
    // GitHub reports the victim's pull request: only the victim's repository is searched.
    let event = json!({
        "action": "opened",
        "pull_request": {"html_url": victim_pr, "number": 7, "state": "open",
                         "head": {"ref": "feature/x"}},
        "repository": {"id": victim_repo.github_id, "html_url": victim_repo.url,
                       "default_branch": "main"},
    });
    arena.github("pull_request", &event).await.ok(200);
    let pr_of = |row: tokio_postgres::Row| row.get::<_, Option<String>>(0);
    let victim_row = sql
        .query_one(
            "SELECT pr_url FROM workspaces WHERE id = $1",
            &[&workspaces[0]],
        )
        .await
        .unwrap();
    let attacker_row = sql
        .query_one(
            "SELECT pr_url FROM workspaces WHERE id = $1",
            &[&workspaces[1]],
        )
        .await
        .unwrap();
    assert_eq!(pr_of(victim_row), Some(victim_pr));
    assert_eq!(
        pr_of(attacker_row),
        None,
        "the attacker's workspace was not matched"
    );
    arena.finish().await;
}

#[tokio::test]
async fn people_join_by_invitation_and_addresses_cannot_be_probed() {
    let arena = Arena::start().await;
    let attacker = arena.token(arena.attacker().id);
    let mallory = attacker_org(&arena, &attacker).await;
    let victim = arena.victim();
    let victim_token = arena.token(victim.id);
    let synced_before = arena.synced("organizations", &victim_token).await.ids();
    // Adding the victim creates an invitation; the answer for an address with no account has
    // the same shape and status.
    let members = format!("/api/organizations/{mallory}/members");
    let known = arena
        .call(
            Method::POST,
            &members,
            Some(&attacker),
            Some(json!({"email": victim.email, "role": "member"})),
        )
        .await;
    let unknown = arena
        .call(
            Method::POST,
            &members,
            Some(&attacker),
            Some(json!({"email": "nobody-at-all@example.com", "role": "member"})),
        )
        .await;
    assert_eq!((known.status, unknown.status), (201, 201));
    let keys = |v: serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(known.json()), keys(unknown.json()));
    // The victim is no member and syncs nothing of the attacker's organization.
    let is_member: i64 = arena
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM organization_members WHERE organization_id = $1 AND user_id = $2",
            &[&mallory, &victim.id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(is_member, 0);
    assert_eq!(
        arena.synced("organizations", &victim_token).await.ids(),
        synced_before
    );
    // The victim sees the invitation, and declines it; it is gone.
    let waiting = arena
        .call(Method::GET, "/api/invitations", Some(&victim_token), None)
        .await
        .ok(200);
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    assert_eq!(waiting[0]["organization_name"], "Mallory Inc");
    let id = waiting[0]["id"].as_str().unwrap();
    // Nobody else can answer it for them.
    arena
        .call(
            Method::POST,
            &format!("/api/invitations/{id}/accept"),
            Some(&attacker),
            None,
        )
        .await
        .error(404, "not_found");
    arena
        .call(
            Method::POST,
            &format!("/api/invitations/{id}/decline"),
            Some(&victim_token),
            None,
        )
        .await
        .ok(204);
    let pending = arena
        .call(
            Method::GET,
            &format!("/api/organizations/{mallory}/invitations"),
            Some(&attacker),
            None,
        )
        .await
        .ok(200);
    assert_eq!(
        pending.as_array().unwrap().len(),
        1,
        "only the unknown address's invitation is left: {pending}"
    );
    assert_eq!(
        arena.synced("organizations", &victim_token).await.ids(),
        synced_before
    );
    arena.finish().await;
}
