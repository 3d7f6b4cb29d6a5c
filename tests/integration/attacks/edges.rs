//! The edges (item 10 of the attack review): NUL characters, database names in errors, links
//! that are not web links, the sync service's secret and CORS, and bookkeeping that grew
//! forever. Each is refused in the user's terms and changes nothing.

use reqwest::Method;
use serde_json::json;

use super::support::{Arena, linear_issue};

#[tokio::test]
async fn nul_characters_and_bad_values_are_refused_in_the_users_terms() {
    let arena = Arena::start().await;
    let org = arena.victim_org();
    let before = arena.state_of(org).await;
    let token = arena.token(arena.victim().id);
    let task = arena
        .team
        .tasks
        .iter()
        .find(|t| t.organization == 0)
        .unwrap()
        .id;
    let cases = [
        (
            Method::POST,
            "/api/tasks".to_owned(),
            json!({"organization_id": org, "title": "a\u{0}b"}),
            "title",
        ),
        (
            Method::POST,
            "/api/tasks".to_owned(),
            json!({"organization_id": org, "title": "t", "labels": ["ok", "b\u{0}d"]}),
            "labels[1]",
        ),
        (
            Method::PATCH,
            format!("/api/tasks/{task}"),
            json!({"description": "\u{0}"}),
            "description",
        ),
        (
            Method::PATCH,
            format!("/api/tasks/{task}"),
            json!({"status_color": "red"}),
            "status_color",
        ),
        (
            Method::POST,
            "/api/tasks".to_owned(),
            json!({"organization_id": org, "title": "t", "status_color": "#12345g"}),
            "status_color",
        ),
    ];
    for (method, path, body, field) in cases {
        let message = arena
            .call(method, &path, Some(&token), Some(body))
            .await
            .error(400, "bad_request");
        assert!(message.contains(field), "{message} should name {field}");
        assert!(
            !message.contains("_check") && !message.contains("_fkey"),
            "{message}"
        );
    }
    assert_eq!(arena.state_of(org).await, before);
    arena.finish().await;
}

#[tokio::test]
async fn only_web_links_are_kept() {
    let arena = Arena::start().await;
    let org = arena.victim_org();
    let token = arena.token(arena.victim().id);
    // A Linear issue whose URL is a script: the task is made, without the link.
    arena
        .call(
            Method::PUT,
            &format!("/api/organizations/{org}/linear"),
            Some(&token),
            Some(json!({"linear_organization_id": "lin", "signing_secret": "s3cret"})),
        )
        .await
        .ok(200);
    let mut issue = linear_issue("lin", "create", "issue-1", "Scripted");
    issue["data"]["url"] = json!("javascript:alert(document.cookie)");
    arena.linear(&issue, "s3cret").await.ok(200);
    let url: Option<String> = arena
        .sql()
        .await
        .query_one(
            "SELECT external_url FROM tasks WHERE external_id = 'issue-1'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(url, None);
    // A NUL in a webhook's text is refused, naming where it is; nothing is written.
    let before = arena.state_of(org).await;
    let mut nul = linear_issue("lin", "create", "issue-2", "a\u{0}b");
    nul["data"]["description"] = json!("ok");
    let message = arena.linear(&nul, "s3cret").await.error(400, "bad_request");
    assert!(message.contains("title"), "{message}");
    assert_eq!(arena.state_of(org).await, before);
    arena.finish().await;
}

#[tokio::test]
async fn the_sync_service_wants_its_secret_and_allows_no_foreign_origin() {
    let arena = Arena::start().await;
    let shape = |secret: &str, origin: Option<&str>| {
        let mut request = arena.http.get(format!(
            "{}/v1/shape?table=organizations&offset=-1&secret={secret}",
            arena.base()
        ));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        crate::support::reply(request)
    };
    for wrong in ["", "sync-secreT", "sync-secret-and-more", "s"] {
        assert_eq!(shape(wrong, None).await.status, 401, "{wrong:?}");
    }
    let from_evil = shape("sync-secret", Some("https://evil.example")).await;
    assert_eq!(from_evil.status, 200);
    assert_eq!(from_evil.header("access-control-allow-origin"), None);
    arena.finish().await;
}

#[tokio::test]
async fn old_bookkeeping_is_pruned() {
    let arena = Arena::start().await;
    let sql = arena.sql().await;
    let user = arena.victim().id;
    sql.execute(
        "INSERT INTO idempotency_keys (user_id, key, response, created_at) \
         VALUES ($1, 'old', '{}', now() - interval '2 days'), ($1, 'new', '{}', now())",
        &[&user],
    )
    .await
    .unwrap();
    sql.execute(
        "INSERT INTO login_attempts (key, credit, checked_at) \
         VALUES ('email:old@example.com', 3, now() - interval '2 days'), \
                ('email:new@example.com', 3, now())",
        &[],
    )
    .await
    .unwrap();
    let pool = superset::server::db::pool(&arena.database_url, None, 2).unwrap();
    let removed = superset::server::api::housekeeping::prune(&pool)
        .await
        .unwrap();
    assert_eq!(removed, 2);
    let left: Vec<String> = sql
        .query(
            "SELECT key FROM idempotency_keys UNION ALL SELECT key FROM login_attempts ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(left, ["email:new@example.com", "new"]);
    arena.finish().await;
}
