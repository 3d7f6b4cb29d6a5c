//! `Idempotency-Key`: a retried write is applied once and answered with the first answer.

use serde_json::{Value, json};

use crate::api::support::Api;

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
