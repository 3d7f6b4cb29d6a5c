//! Task updates based on values that changed meanwhile are refused (409, with the row as it is
//! and who changed what) and change nothing; updates of different fields merge; keys are
//! numbered per organization; a tracker's fields are changed in the tracker; a delete can be
//! undone.

use serde_json::{Value, json};
use tokio_postgres::Client;
use uuid::Uuid;

use super::written;
use crate::api::support::Api;

/// A task created by `token` in `org`, with Todo / none.
async fn new_task(api: &Api, token: &str, org: Uuid, title: &str) -> Uuid {
    let reply = api
        .post(
            "/api/tasks",
            Some(token),
            json!({"organization_id": org, "title": title, "status": "Todo"}),
        )
        .await;
    written(&reply).0
}

/// The whole row, to compare before and after.
async fn row(sql: &Client, id: Uuid) -> Value {
    sql.query_one("SELECT to_jsonb(t) FROM tasks t WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_stale_update_is_refused_with_the_current_row_and_changes_nothing() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let (mike, me) = (api.only_in(0, "admin"), api.only_in(0, "member"));
    let (mike_token, my_token) = (api.token(api.user(mike)), api.token(api.user(me)));
    let id = new_task(&api, &my_token, api.org(0), "Contested").await;

    // Mike moves it on, based on what he saw.
    let reply = api
        .patch(
            &format!("/api/tasks/{id}"),
            Some(&mike_token),
            json!({"status": "Done", "expected": {"status": "Todo"}}),
        )
        .await;
    written(&reply);
    let before = row(&sql, id).await;

    // My edit was based on Todo too: refused, naming Mike and the value.
    let reply = api
        .patch(
            &format!("/api/tasks/{id}"),
            Some(&my_token),
            json!({"status": "In Progress", "priority": "high", "expected": {"status": "Todo"}}),
        )
        .await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    let body = reply.json();
    let mike_name = &api.team.users[mike].name;
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(
        body["error"]["message"],
        format!("{mike_name} changed the status to Done while you were editing")
    );
    assert_eq!(body["current"]["status"], "Done");
    assert_eq!(body["current"]["id"], id.to_string());
    assert_eq!(body["conflicts"][0]["field"], "status");
    assert_eq!(body["conflicts"][0]["expected"], "Todo");
    assert_eq!(body["conflicts"][0]["current"], "Done");
    assert_eq!(
        body["conflicts"][0]["changed_by"]["name"],
        mike_name.as_str()
    );
    assert_eq!(
        row(&sql, id).await,
        before,
        "nothing changed, not even the priority"
    );

    // Based on what is there now, it goes through.
    let reply = api
        .patch(
            &format!("/api/tasks/{id}"),
            Some(&my_token),
            json!({"status": "In Progress", "expected": {"status": "Done"}}),
        )
        .await;
    written(&reply);
    assert_eq!(row(&sql, id).await["status"], "In Progress");
}

#[tokio::test]
async fn updates_of_different_fields_merge_and_without_expected_the_last_write_wins() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let (mike, me) = (api.only_in(0, "admin"), api.only_in(0, "member"));
    let (mike_token, my_token) = (api.token(api.user(mike)), api.token(api.user(me)));
    let id = new_task(&api, &my_token, api.org(0), "Shared").await;
    let reply = api
        .patch(
            &format!("/api/tasks/{id}"),
            Some(&mike_token),
            json!({"status": "In Review", "expected": {"status": "Todo"}}),
        )
        .await;
    written(&reply);
    let reply = api
        .patch(
            &format!("/api/tasks/{id}"),
            Some(&my_token),
            json!({"priority": "urgent", "labels": ["ui"], "expected": {"priority": "none", "labels": []}}),
        )
        .await;
    written(&reply);
    let merged = row(&sql, id).await;
    assert_eq!(merged["status"], "In Review");
    assert_eq!(merged["priority"], "urgent");
    assert_eq!(merged["labels"], json!(["ui"]));

    // Without `expected`, as before: the write applies whatever is there.
    let reply = api
        .patch(
            &format!("/api/tasks/{id}"),
            Some(&my_token),
            json!({"status": "Todo"}),
        )
        .await;
    written(&reply);
    assert_eq!(row(&sql, id).await["status"], "Todo");
}

#[tokio::test]
async fn a_malformed_expected_is_refused_in_words_and_changes_nothing() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let token = api.token(api.user(api.only_in(0, "member")));
    let id = new_task(&api, &token, api.org(0), "Guarded").await;
    let before = row(&sql, id).await;
    for (expected, says) in [
        (json!(["status"]), "expected must be an object"),
        (json!({"organization_id": api.org(1)}), "not a task field"),
        (json!({"status; DROP TABLE tasks": "x"}), "not a task field"),
    ] {
        let reply = api
            .patch(
                &format!("/api/tasks/{id}"),
                Some(&token),
                json!({"status": "Done", "expected": expected}),
            )
            .await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        let message = reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(says), "{message}");
        assert_eq!(row(&sql, id).await, before);
    }
}

#[tokio::test]
async fn local_tasks_get_keys_numbered_per_organization() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let in_both = api.multi_org_user();
    let token = api.token(api.user(in_both));
    let key = async |id: Uuid| {
        row(&sql, id).await["external_key"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let prefix_of = |k: &str| k.rsplit_once('-').unwrap().0.to_owned();
    let number_of = |k: &str| k.rsplit_once('-').unwrap().1.parse::<u32>().unwrap();

    let mut first_org = Vec::new();
    for title in ["One", "Two", "Three"] {
        first_org.push(key(new_task(&api, &token, api.org(0), title).await).await);
    }
    let prefix = prefix_of(&first_org[0]);
    assert!(
        prefix
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        "{prefix}"
    );
    let start = number_of(&first_org[0]);
    assert_eq!(
        first_org,
        (0..3)
            .map(|i| format!("{prefix}-{}", start + i))
            .collect::<Vec<_>>()
    );
    // The seed's local tasks were numbered before (backfilled by the same counter).
    let unkeyed: i64 = sql
        .query_one("SELECT count(*) FROM tasks WHERE external_key IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(unkeyed, 0);
    let other = key(new_task(&api, &token, api.org(1), "Elsewhere").await).await;
    assert_ne!(
        prefix_of(&other),
        prefix,
        "each organization has its own prefix"
    );

    // No key is used twice within an organization, whoever made it.
    let repeated: i64 = sql
        .query_one(
            "SELECT count(*) FROM (SELECT organization_id, external_key FROM tasks \
             GROUP BY 1, 2 HAVING count(*) > 1) d",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(repeated, 0);
}

#[tokio::test]
async fn a_linear_tasks_fields_are_changed_in_linear_and_its_repository_here() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let token = api.token(api.user(api.only_in(0, "member")));
    let linear = api
        .team
        .tasks
        .iter()
        .find(|t| t.organization == 0 && t.external.is_some())
        .unwrap();
    let id = linear.id;
    let key = linear.external.as_ref().unwrap().1.clone();
    let before = row(&sql, id).await;
    let reply = api
        .patch(
            &format!("/api/tasks/{id}"),
            Some(&token),
            json!({"title": "Renamed here"}),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(
        reply.json()["error"]["message"],
        format!("{key} comes from Linear: change its title in Linear")
    );
    let reply = api.delete(&format!("/api/tasks/{id}"), Some(&token)).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("delete it in Linear"), "{}", reply.body);
    let reply = api
        .post(&format!("/api/tasks/{id}/restore"), Some(&token), json!({}))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply.body.contains("restore it in Linear"),
        "{}",
        reply.body
    );
    assert_eq!(row(&sql, id).await, before);

    let repository = api.repository_of(0);
    let reply = api
        .patch(
            &format!("/api/tasks/{id}"),
            Some(&token),
            json!({"repository_id": repository}),
        )
        .await;
    written(&reply);
    assert_eq!(row(&sql, id).await["repository_id"], repository.to_string());
    // Not a repository of another organization.
    let reply = api
        .patch(
            &format!("/api/tasks/{id}"),
            Some(&token),
            json!({"repository_id": api.repository_of(1)}),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(row(&sql, id).await["repository_id"], repository.to_string());
}

#[tokio::test]
async fn a_deleted_task_is_restored() {
    let api = Api::start().await;
    let sql = api.sql().await;
    let token = api.token(api.user(api.only_in(0, "member")));
    let id = new_task(&api, &token, api.org(0), "Oops").await;
    written(&api.delete(&format!("/api/tasks/{id}"), Some(&token)).await);
    assert!(!row(&sql, id).await["deleted_at"].is_null());
    written(
        &api.post(&format!("/api/tasks/{id}/restore"), Some(&token), json!({}))
            .await,
    );
    assert!(row(&sql, id).await["deleted_at"].is_null());
    // Restoring what is not deleted is harmless; a stranger may not.
    written(
        &api.post(&format!("/api/tasks/{id}/restore"), Some(&token), json!({}))
            .await,
    );
    let stranger = api.token(api.user(api.only_in(1, "member")));
    let reply = api
        .post(
            &format!("/api/tasks/{id}/restore"),
            Some(&stranger),
            json!({}),
        )
        .await;
    assert!(reply.status == 403 || reply.status == 404, "{}", reply.body);
}
