//! Malformed requests: bad bodies, unknown fields, empty patches and malformed path ids are 400
//! in the JSON error format, and change nothing.

use reqwest::Method;
use serde_json::json;

use super::written;
use crate::api::support::Api;

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
         json!({"branch": "renamed"}).to_string()),
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
