//! Writes to tasks and workspaces: validated, authorized, and each answered with the txid that
//! the synced change carries.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::support::{Api, Reply};

/// The `{id, txid}` a write answers with.
#[track_caller]
fn written(reply: &Reply) -> (Uuid, i64) {
    assert!(
        reply.status == 200 || reply.status == 201,
        "a write must succeed: {} {}",
        reply.status,
        reply.body
    );
    let body = reply.json();
    let object = body.as_object().unwrap();
    assert_eq!(object.len(), 2, "exactly id and txid: {body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    let txid = body["txid"]
        .as_i64()
        .unwrap_or_else(|| panic!("txid must be a number: {body}"));
    assert!(txid > 0);
    (id, txid)
}

#[track_caller]
fn txid_of(message: &Value) -> i64 {
    message["headers"]["txids"][0]
        .as_i64()
        .unwrap_or_else(|| panic!("no txids in {message}"))
}

#[tokio::test]
async fn task_writes_return_the_txid_of_the_synced_change() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let member = api.only_in(0, "member");
    let member_id = api.user(member);
    let token = api.token(member_id);
    let org = api.org(0);
    let colleague = api.user(api.only_in(0, "admin"));

    let mut shape = api.shape("tasks", &token);
    shape.catch_up().await;

    // Create, with the client's own id.
    let id = Uuid::new_v4();
    let reply = api
        .post(
            "/api/tasks",
            Some(&token),
            json!({
                "id": id,
                "organization_id": org,
                "title": "  Write the API tests  ",
                "description": "All of them",
                "status": "Todo",
                "status_color": "#aabbcc",
                "priority": "high",
                "assignee_id": member_id,
                "repository_id": api.repository_of(0),
                "branch": "api-tests",
                "labels": ["api", "tests"],
                "due_date": "2026-12-01",
            }),
        )
        .await;
    let (created, create_txid) = written(&reply);
    assert_eq!(created, id);
    let row = sql
        .query_one(
            "SELECT organization_id, title, description, status, status_color, priority, assignee_id, \
             repository_id, branch, labels, due_date::text, external_provider, deleted_at IS NULL \
             FROM tasks WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Uuid>(0), org);
    assert_eq!(row.get::<_, String>(1), "Write the API tests");
    assert_eq!(
        row.get::<_, Option<String>>(2).as_deref(),
        Some("All of them")
    );
    assert_eq!(row.get::<_, String>(3), "Todo");
    assert_eq!(row.get::<_, Option<String>>(4).as_deref(), Some("#aabbcc"));
    assert_eq!(row.get::<_, String>(5), "high");
    assert_eq!(row.get::<_, Option<Uuid>>(6), Some(member_id));
    assert_eq!(row.get::<_, Option<Uuid>>(7), Some(api.repository_of(0)));
    assert_eq!(
        row.get::<_, Option<String>>(8).as_deref(),
        Some("api-tests")
    );
    assert_eq!(row.get::<_, Value>(9), json!(["api", "tests"]));
    assert_eq!(
        row.get::<_, Option<String>>(10).as_deref(),
        Some("2026-12-01")
    );
    assert_eq!(row.get::<_, Option<String>>(11), None, "local tasks");
    assert!(row.get::<_, bool>(12));

    shape
        .until(Duration::from_secs(30), |s| !s.changes_of(id).is_empty())
        .await;
    let insert = shape.changes_of(id)[0].clone();
    assert_eq!(insert["headers"]["operation"], "insert");
    assert_eq!(txid_of(&insert), create_txid, "{insert}");

    // A task with only the required fields gets the defaults and a server-made id.
    let (minimal, _) = written(
        &api.post(
            "/api/tasks",
            Some(&token),
            json!({"organization_id": org, "title": "Bare"}),
        )
        .await,
    );
    let row = sql
        .query_one(
            "SELECT status, priority, labels, assignee_id FROM tasks WHERE id = $1",
            &[&minimal],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Backlog");
    assert_eq!(row.get::<_, String>(1), "none");
    assert_eq!(row.get::<_, Value>(2), json!([]));
    assert_eq!(row.get::<_, Option<Uuid>>(3), None);

    // Update: set some fields, clear others, leave the rest.
    let (updated, update_txid) = written(
        &api.patch(
            &format!("/api/tasks/{id}"),
            Some(&token),
            json!({
                "title": "Write more API tests",
                "description": null,
                "status": "In Progress",
                "priority": "urgent",
                "assignee_id": colleague,
                "labels": ["api"],
                "due_date": null,
            }),
        )
        .await,
    );
    assert_eq!(updated, id);
    assert_ne!(update_txid, create_txid);
    let row = sql
        .query_one(
            "SELECT title, description, status, priority, assignee_id, labels, due_date::text, \
             branch, status_color FROM tasks WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Write more API tests");
    assert_eq!(row.get::<_, Option<String>>(1), None);
    assert_eq!(row.get::<_, String>(2), "In Progress");
    assert_eq!(row.get::<_, String>(3), "urgent");
    assert_eq!(row.get::<_, Option<Uuid>>(4), Some(colleague));
    assert_eq!(row.get::<_, Value>(5), json!(["api"]));
    assert_eq!(row.get::<_, Option<String>>(6), None);
    assert_eq!(
        row.get::<_, Option<String>>(7).as_deref(),
        Some("api-tests")
    );
    assert_eq!(row.get::<_, Option<String>>(8).as_deref(), Some("#aabbcc"));
    // Unassigning works too.
    written(
        &api.patch(
            &format!("/api/tasks/{id}"),
            Some(&token),
            json!({"assignee_id": null}),
        )
        .await,
    );
    let assignee: Option<Uuid> = sql
        .query_one("SELECT assignee_id FROM tasks WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(assignee, None);

    // Soft delete: the row stays, with deleted_at.
    let (deleted, delete_txid) =
        written(&api.delete(&format!("/api/tasks/{id}"), Some(&token)).await);
    assert_eq!(deleted, id);
    let first_deleted_at: Option<time::OffsetDateTime> = sql
        .query_one("SELECT deleted_at FROM tasks WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert!(first_deleted_at.is_some(), "soft delete sets deleted_at");
    // Deleting again keeps the first time.
    written(&api.delete(&format!("/api/tasks/{id}"), Some(&token)).await);
    let again: Option<time::OffsetDateTime> = sql
        .query_one("SELECT deleted_at FROM tasks WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(again, first_deleted_at);

    // Each change came through sync with its write's txid.
    shape
        .until(Duration::from_secs(30), |s| {
            s.changes_of(id).iter().any(|m| txid_of(m) == delete_txid)
        })
        .await;
    let changes = shape.changes_of(id);
    let update = changes
        .iter()
        .find(|m| m["value"]["title"] == "Write more API tests")
        .unwrap_or_else(|| panic!("no synced update in {changes:?}"));
    assert_eq!(update["headers"]["operation"], "update");
    assert_eq!(txid_of(update), update_txid);
    let delete = changes.iter().find(|m| txid_of(m) == delete_txid).unwrap();
    assert_eq!(delete["headers"]["operation"], "update");
    assert!(delete["value"]["deleted_at"].is_string(), "{delete}");
    assert!(
        shape
            .rows
            .contains_key(&format!("\"public\".\"tasks\"/\"{id}\""))
    );
    api.finish().await;
}

#[tokio::test]
async fn workspaces_belong_to_their_creator_and_admins_may_archive_them() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let org = api.org(0);
    let members: Vec<usize> = (0..api.team.users.len())
        .filter(|&u| api.orgs_of(u) == [0] && api.role(u, 0) == Some("member"))
        .collect();
    let (owner, other) = (api.user(members[0]), api.user(members[1]));
    let admin = api.user(api.only_in(0, "admin"));
    let outsider = api.user(api.only_in(1, "member"));
    let token = api.token(owner);

    let mut shape = api.shape("workspaces", &token);
    shape.catch_up().await;

    let reply = api
        .post(
            "/api/workspaces",
            Some(&token),
            json!({
                "organization_id": org,
                "task_id": api.task_of(0),
                "repository_id": api.repository_of(0),
                "type": "local",
                "device_name": "Ada's laptop",
                "git_branch": "feature/api",
            }),
        )
        .await;
    let (id, txid) = written(&reply);
    let row = sql
        .query_one(
            "SELECT owner_id, organization_id, task_id, repository_id, type, device_name, status, \
             git_branch FROM workspaces WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Uuid>(0), owner, "the caller owns it");
    assert_eq!(row.get::<_, Uuid>(1), org);
    assert_eq!(row.get::<_, Option<Uuid>>(2), Some(api.task_of(0)));
    assert_eq!(row.get::<_, Uuid>(3), api.repository_of(0));
    assert_eq!(row.get::<_, String>(4), "local");
    assert_eq!(row.get::<_, String>(5), "Ada's laptop");
    assert_eq!(row.get::<_, String>(6), "active");
    assert_eq!(
        row.get::<_, Option<String>>(7).as_deref(),
        Some("feature/api")
    );
    shape
        .until(Duration::from_secs(30), |s| !s.changes_of(id).is_empty())
        .await;
    assert_eq!(txid_of(shape.changes_of(id)[0]), txid);

    // Without a task; and a client-chosen id.
    let chosen = Uuid::new_v4();
    let (second, _) = written(
        &api.post(
            "/api/workspaces",
            Some(&token),
            json!({
                "id": chosen,
                "organization_id": org,
                "repository_id": api.repository_of(0),
                "type": "cloud",
                "device_name": "cloud-1",
            }),
        )
        .await,
    );
    assert_eq!(second, chosen);

    // The owner updates it.
    written(
        &api.patch(
            &format!("/api/workspaces/{id}"),
            Some(&token),
            json!({
                "status": "idle",
                "git_status": {"ahead": 2, "behind": 0, "dirty": true},
                "git_branch": "feature/api-2",
                "last_activity_at": "2026-01-02T03:04:05Z",
                "pr_url": "https://github.com/acme/app/pull/7",
                "pr_number": 7,
                "pr_status": "open",
            }),
        )
        .await,
    );
    let row = sql
        .query_one(
            "SELECT status, git_status, git_branch, last_activity_at = '2026-01-02T03:04:05Z', \
             pr_url, pr_number, pr_status FROM workspaces WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "idle");
    assert_eq!(
        row.get::<_, Option<Value>>(1),
        Some(json!({"ahead": 2, "behind": 0, "dirty": true}))
    );
    assert_eq!(
        row.get::<_, Option<String>>(2).as_deref(),
        Some("feature/api-2")
    );
    assert!(row.get::<_, bool>(3));
    assert_eq!(
        row.get::<_, Option<String>>(4).as_deref(),
        Some("https://github.com/acme/app/pull/7")
    );
    assert_eq!(row.get::<_, Option<i32>>(5), Some(7));
    assert_eq!(row.get::<_, Option<String>>(6).as_deref(), Some("open"));
    written(
        &api.patch(
            &format!("/api/workspaces/{id}"),
            Some(&token),
            json!({"pr_url": null, "pr_number": null, "pr_status": null, "git_status": null}),
        )
        .await,
    );
    let cleared: (Option<String>, Option<i32>, Option<Value>) = {
        let row = sql
            .query_one(
                "SELECT pr_url, pr_number, git_status FROM workspaces WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1), row.get(2))
    };
    assert_eq!(cleared, (None, None, None));

    // Nobody else updates it: not a fellow member, not an admin, not an outsider.
    for who in [other, admin] {
        api.patch(
            &format!("/api/workspaces/{id}"),
            Some(&api.token(who)),
            json!({"status": "active"}),
        )
        .await
        .error(403, "forbidden");
    }
    api.patch(
        &format!("/api/workspaces/{id}"),
        Some(&api.token(outsider)),
        json!({"status": "active"}),
    )
    .await
    .error(403, "forbidden");

    // A plain member may not archive another's workspace; neither may an outsider.
    api.post(
        &format!("/api/workspaces/{id}/archive"),
        Some(&api.token(other)),
        json!({}),
    )
    .await
    .error(403, "forbidden");
    api.post(
        &format!("/api/workspaces/{id}/archive"),
        Some(&api.token(outsider)),
        json!({}),
    )
    .await
    .error(403, "forbidden");
    let status: String = sql
        .query_one("SELECT status FROM workspaces WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "idle", "refused writes change nothing");

    // An admin may.
    written(
        &api.post(
            &format!("/api/workspaces/{id}/archive"),
            Some(&api.token(admin)),
            json!({}),
        )
        .await,
    );
    // And the owner may archive their own.
    written(
        &api.post(
            &format!("/api/workspaces/{second}/archive"),
            Some(&token),
            json!({}),
        )
        .await,
    );
    let archived: i64 = sql
        .query_one(
            "SELECT count(*) FROM workspaces WHERE id = ANY($1) AND status = 'archived'",
            &[&vec![id, second]],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(archived, 2);
    api.finish().await;
}

#[tokio::test]
async fn ids_from_another_org_and_callers_outside_the_org_are_refused() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let both = api.multi_org_user();
    let both_token = api.token(api.user(both));
    let (org_a, org_b) = (api.org(0), api.org(1));
    let only_b = api.user(api.only_in(1, "member"));
    let tally = "SELECT count(*), count(*) FILTER (WHERE deleted_at IS NOT NULL), \
                 count(*) FILTER (WHERE title = 'Intruder') FROM tasks";
    let before = sql.query_one(tally, &[]).await.unwrap();
    let before: (i64, i64, i64) = (before.get(0), before.get(1), before.get(2));

    // Someone in both orgs still cannot mix them in one row.
    for (body, what) in [
        (
            json!({"organization_id": org_a, "title": "x", "repository_id": api.repository_of(1)}),
            "repository",
        ),
        (
            json!({"organization_id": org_a, "title": "x", "assignee_id": only_b}),
            "assignee",
        ),
    ] {
        let message = api
            .post("/api/tasks", Some(&both_token), body)
            .await
            .error(400, "bad_request");
        assert!(message.contains(what), "{message}");
    }
    // Ids that exist nowhere are refused the same way.
    api.post(
        "/api/tasks",
        Some(&both_token),
        json!({"organization_id": org_a, "title": "x", "assignee_id": Uuid::new_v4()}),
    )
    .await
    .error(400, "bad_request");
    let message = api
        .patch(
            &format!("/api/tasks/{}", api.task_of(0)),
            Some(&both_token),
            json!({"assignee_id": only_b}),
        )
        .await
        .error(400, "bad_request");
    assert!(message.contains("assignee"), "{message}");
    for (body, what) in [
        (
            json!({"organization_id": org_a, "repository_id": api.repository_of(1),
                   "type": "local", "device_name": "d"}),
            "repository",
        ),
        (
            json!({"organization_id": org_a, "repository_id": api.repository_of(0),
                   "task_id": api.task_of(1), "type": "local", "device_name": "d"}),
            "task",
        ),
    ] {
        let message = api
            .post("/api/workspaces", Some(&both_token), body)
            .await
            .error(400, "bad_request");
        assert!(message.contains(what), "{message}");
    }

    // Someone only in org A can touch nothing of org B.
    let only_a = api.token(api.user(api.only_in(0, "member")));
    api.post(
        "/api/tasks",
        Some(&only_a),
        json!({"organization_id": org_b, "title": "Intruder"}),
    )
    .await
    .error(403, "forbidden");
    api.patch(
        &format!("/api/tasks/{}", api.task_of(1)),
        Some(&only_a),
        json!({"title": "Intruder"}),
    )
    .await
    .error(403, "forbidden");
    api.delete(&format!("/api/tasks/{}", api.task_of(1)), Some(&only_a))
        .await
        .error(403, "forbidden");
    api.post(
        "/api/workspaces",
        Some(&only_a),
        json!({"organization_id": org_b, "repository_id": api.repository_of(1),
               "type": "local", "device_name": "d"}),
    )
    .await
    .error(403, "forbidden");
    let b_workspace = api
        .team
        .workspaces
        .iter()
        .find(|w| w.organization == 1)
        .unwrap()
        .id;
    api.patch(
        &format!("/api/workspaces/{b_workspace}"),
        Some(&only_a),
        json!({"status": "idle"}),
    )
    .await
    .error(403, "forbidden");
    api.post(
        &format!("/api/workspaces/{b_workspace}/archive"),
        Some(&only_a),
        json!({}),
    )
    .await
    .error(403, "forbidden");
    // Organizations that do not exist are no better.
    api.post(
        "/api/tasks",
        Some(&only_a),
        json!({"organization_id": Uuid::new_v4(), "title": "Nowhere"}),
    )
    .await
    .error(403, "forbidden");
    // Rows that do not exist are 404.
    api.patch(
        &format!("/api/tasks/{}", Uuid::new_v4()),
        Some(&only_a),
        json!({"title": "x"}),
    )
    .await
    .error(404, "not_found");
    api.post(
        &format!("/api/workspaces/{}/archive", Uuid::new_v4()),
        Some(&only_a),
        json!({}),
    )
    .await
    .error(404, "not_found");

    let after = sql.query_one(tally, &[]).await.unwrap();
    let after: (i64, i64, i64) = (after.get(0), after.get(1), after.get(2));
    assert_eq!(
        before, after,
        "no task was created, deleted or renamed (count, deleted, intruders)"
    );
    assert_eq!(after.2, 0);
    let b_status: String = sql
        .query_one(
            "SELECT status FROM workspaces WHERE id = $1",
            &[&b_workspace],
        )
        .await
        .unwrap()
        .get(0);
    let seeded_status = api
        .team
        .workspaces
        .iter()
        .find(|w| w.id == b_workspace)
        .unwrap()
        .status;
    assert_eq!(b_status, seeded_status);
    api.finish().await;
}

#[tokio::test]
async fn malformed_bodies_unknown_fields_and_empty_patches_are_400() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let member = api.user(api.only_in(0, "member"));
    let token = api.token(member);
    let org = api.org(0);
    let task = api.task_of(0);
    let (workspace, _) = written(
        &api.post(
            "/api/workspaces",
            Some(&token),
            json!({"organization_id": org, "repository_id": api.repository_of(0),
                   "type": "local", "device_name": "d"}),
        )
        .await,
    );
    let json = Some("application/json");
    let valid_task = json!({"organization_id": org, "title": "x"}).to_string();
    let cases: Vec<(Method, String, Option<&str>, String)> = vec![
        // Not JSON, or not an object.
        (Method::POST, "/api/tasks".into(), json, "{not json".into()),
        (Method::POST, "/api/tasks".into(), json, String::new()),
        (Method::POST, "/api/tasks".into(), json, "[]".into()),
        (Method::POST, "/api/tasks".into(), json, "null".into()),
        (Method::POST, "/api/tasks".into(), json, format!("{valid_task} trailing")),
        // Not declared as JSON.
        (Method::POST, "/api/tasks".into(), None, valid_task.clone()),
        (Method::POST, "/api/tasks".into(), Some("text/plain"), valid_task.clone()),
        // Unknown fields: nothing the server sets or owns can be smuggled in.
        (Method::POST, "/api/tasks".into(), json,
         json!({"organization_id": org, "title": "x", "external_provider": "linear"}).to_string()),
        (Method::POST, "/api/tasks".into(), json,
         json!({"organization_id": org, "title": "x", "deleted_at": "2026-01-01T00:00:00Z"}).to_string()),
        (Method::POST, "/api/tasks".into(), json,
         json!({"organization_id": org, "title": "x", "Title": "y"}).to_string()),
        // Missing, empty, wrongly typed or invalid values.
        (Method::POST, "/api/tasks".into(), json, json!({"organization_id": org}).to_string()),
        (Method::POST, "/api/tasks".into(), json, json!({"title": "x"}).to_string()),
        (Method::POST, "/api/tasks".into(), json,
         json!({"organization_id": org, "title": "   "}).to_string()),
        (Method::POST, "/api/tasks".into(), json,
         json!({"organization_id": "not-a-uuid", "title": "x"}).to_string()),
        (Method::POST, "/api/tasks".into(), json,
         json!({"organization_id": org, "title": 5}).to_string()),
        (Method::POST, "/api/tasks".into(), json,
         json!({"organization_id": org, "title": "x", "priority": "asap"}).to_string()),
        (Method::POST, "/api/tasks".into(), json,
         json!({"organization_id": org, "title": "x", "due_date": "tomorrow"}).to_string()),
        (Method::POST, "/api/tasks".into(), json,
         json!({"organization_id": org, "title": "x", "labels": "api"}).to_string()),
        (Method::POST, "/api/tasks".into(), json,
         json!({"organization_id": org, "title": "x", "status_color": "red"}).to_string()),
        // Task updates.
        (Method::PATCH, format!("/api/tasks/{task}"), json, "{}".into()),
        (Method::PATCH, format!("/api/tasks/{task}"), json, "{\"title\": ".into()),
        (Method::PATCH, format!("/api/tasks/{task}"), json,
         json!({"organization_id": api.org(1)}).to_string()),
        (Method::PATCH, format!("/api/tasks/{task}"), json,
         json!({"repository_id": api.repository_of(0)}).to_string()),
        (Method::PATCH, format!("/api/tasks/{task}"), json,
         json!({"title": "ok", "external_id": "X-1"}).to_string()),
        (Method::PATCH, format!("/api/tasks/{task}"), json, json!({"title": ""}).to_string()),
        (Method::PATCH, format!("/api/tasks/{task}"), json,
         json!({"priority": "whenever"}).to_string()),
        // Workspaces.
        (Method::POST, "/api/workspaces".into(), json, "{".into()),
        (Method::POST, "/api/workspaces".into(), json,
         json!({"organization_id": org, "repository_id": api.repository_of(0), "type": "local",
                "device_name": "d", "owner_id": api.user(0)}).to_string()),
        (Method::POST, "/api/workspaces".into(), json,
         json!({"organization_id": org, "repository_id": api.repository_of(0), "type": "spaceship",
                "device_name": "d"}).to_string()),
        (Method::POST, "/api/workspaces".into(), json,
         json!({"organization_id": org, "type": "local", "device_name": "d"}).to_string()),
        (Method::POST, "/api/workspaces".into(), json,
         json!({"organization_id": org, "repository_id": api.repository_of(0), "type": "local",
                "device_name": " "}).to_string()),
        (Method::PATCH, format!("/api/workspaces/{workspace}"), json, "{}".into()),
        (Method::PATCH, format!("/api/workspaces/{workspace}"), json, "nope".into()),
        (Method::PATCH, format!("/api/workspaces/{workspace}"), json,
         json!({"owner_id": api.user(0)}).to_string()),
        (Method::PATCH, format!("/api/workspaces/{workspace}"), json,
         json!({"organization_id": api.org(1)}).to_string()),
        (Method::PATCH, format!("/api/workspaces/{workspace}"), json,
         json!({"status": "deleted"}).to_string()),
        (Method::PATCH, format!("/api/workspaces/{workspace}"), json,
         json!({"git_status": [1, 2]}).to_string()),
        (Method::PATCH, format!("/api/workspaces/{workspace}"), json,
         json!({"last_activity_at": "yesterday"}).to_string()),
        (Method::PATCH, format!("/api/workspaces/{workspace}"), json,
         json!({"pr_status": "approved"}).to_string()),
        (Method::PATCH, format!("/api/workspaces/{workspace}"), json,
         json!({"pr_number": 0}).to_string()),
        (Method::PATCH, format!("/api/workspaces/{workspace}"), json,
         json!({"pr_number": "seven"}).to_string()),
        // Organizations.
        (Method::POST, "/api/organizations".into(), json, "{".into()),
        (Method::POST, "/api/organizations".into(), json,
         json!({"name": "X", "slug": "x", "owner": api.user(0)}).to_string()),
        (Method::POST, "/api/organizations".into(), json,
         json!({"name": "X", "slug": "Not A Slug"}).to_string()),
        (Method::POST, "/api/organizations".into(), json,
         json!({"name": " ", "slug": "blank"}).to_string()),
        (Method::POST, format!("/api/organizations/{org}/members"), json,
         json!({"email": "x@example.com", "role": "member", "org": 1}).to_string()),
        (Method::POST, format!("/api/organizations/{org}/members"), json,
         json!({"email": api.email(1), "role": "superuser"}).to_string()),
        (Method::PATCH, format!("/api/organizations/{org}/members/{member}"), json, "{}".into()),
    ];
    let before: (i64, i64) = {
        let row = sql
            .query_one(
                "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM workspaces)",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    let owner_token = api.token(api.user(api.with_role(0, "owner")));
    for (method, path, content_type, body) in cases {
        // Membership changes need a manager to reach the body.
        let who = if path.contains("/members") {
            &owner_token
        } else {
            &token
        };
        let reply = api
            .send_raw(method.clone(), &path, Some(who), content_type, &body)
            .await;
        assert_eq!(
            reply.status, 400,
            "{method} {path} with {body:?} ({content_type:?}): {}",
            reply.body
        );
        reply.error(400, "bad_request");
    }
    let after: (i64, i64) = {
        let row = sql
            .query_one(
                "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM workspaces)",
                &[],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(before, after, "refused writes change nothing");
    api.finish().await;
}

#[tokio::test]
async fn malformed_ids_in_paths_are_400_in_the_json_error_format() {
    let api = Api::start().await;
    let token = api.token(api.user(api.with_role(0, "owner")));
    let org = api.org(0);
    for (method, path, body) in [
        (
            Method::PATCH,
            "/api/tasks/not-a-uuid".to_owned(),
            Some(json!({"title": "x"})),
        ),
        (Method::DELETE, "/api/tasks/123".to_owned(), None),
        (
            Method::PATCH,
            "/api/workspaces/xyz".to_owned(),
            Some(json!({"status": "idle"})),
        ),
        (
            Method::POST,
            "/api/workspaces/xyz/archive".to_owned(),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/api/organizations/acme/members".to_owned(),
            Some(json!({"email": "a@example.com", "role": "member"})),
        ),
        (
            Method::PATCH,
            format!("/api/organizations/{org}/members/someone"),
            Some(json!({"role": "member"})),
        ),
        (
            Method::DELETE,
            format!("/api/organizations/{org}/members/someone"),
            None,
        ),
    ] {
        let reply = api.send(method.clone(), &path, Some(&token), body).await;
        assert_eq!(reply.status, 400, "{method} {path}: {}", reply.body);
        reply.error(400, "bad_request");
    }
    api.finish().await;
}

/// A write retried with the same `Idempotency-Key` (its answer was lost) is applied once and
/// answered with the first answer.
#[tokio::test]
async fn a_retried_write_with_the_same_idempotency_key_is_applied_once() {
    let api = Api::start().await;
    let member = api.only_in(0, "member");
    let token = api.token(api.user(member));
    let body = json!({"organization_id": api.org(0), "title": "Written once"});
    let send = |key: &'static str| {
        let request = api
            .http
            .post(format!("{}/api/tasks", api.base()))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let first = send("outbox-1").await;
    let again = send("outbox-1").await;
    assert_eq!(first, again, "the same answer, txid included");
    let other = send("outbox-2").await;
    assert_ne!(first["id"], other["id"]);
    let count: i64 = api
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM tasks WHERE title = 'Written once'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 2);
    api.finish().await;
}
