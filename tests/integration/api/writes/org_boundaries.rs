//! Organization boundaries: ids from another org are 400, callers outside the org are 403,
//! rows that do not exist are 404, and nothing refused changes a row.

use serde_json::json;
use uuid::Uuid;

use crate::api::support::Api;

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
