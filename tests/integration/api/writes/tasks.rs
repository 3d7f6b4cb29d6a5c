//! Tasks created, updated and soft-deleted, each write answered with the txid its synced
//! change carries.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use super::{txid_of, written};
use crate::api::support::Api;

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
