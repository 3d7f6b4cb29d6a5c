//! GitHub repository import against the stand-in GitHub (`github_stand_in`), which serves
//! `GET /user/repos` as api.github.com does, with pagination.

use std::collections::HashMap;

use serde_json::{Value, json};
use uuid::Uuid;

use super::github_stand_in::{StandIn, TOKEN, repository};
use super::support::{HELLO_WORLD_ID, HELLO_WORLD_URL, Team};

fn catalogue() -> Vec<Value> {
    vec![
        repository(HELLO_WORLD_ID, "Codertocat/Hello-World", "master", false),
        repository(1001, "octo-org/api", "main", true),
        repository(1002, "octo-org/desktop", "develop", true),
        repository(1003, "octo-org/docs", "main", false),
        repository(1004, "octo-org/Site", "gh-pages", false),
    ]
}

fn paths(org: Uuid) -> (String, String, String) {
    (
        format!("/api/organizations/{org}/github/token"),
        format!("/api/organizations/{org}/github/repositories"),
        format!("/api/organizations/{org}/github/repositories/import"),
    )
}

#[tokio::test]
async fn admins_store_a_token_list_with_pagination_and_import_idempotently() {
    let github = StandIn::start(catalogue()).await;
    let base = github.base_url.clone();
    let team = Team::start_with(|c| c.github_api_url = base).await;
    let (token_path, list_path, import_path) = paths(team.org);
    let carol = team.login("carol@example.com").await;
    use reqwest::Method;

    // A token GitHub rejects is reported as such.
    team.call(
        Method::PUT,
        &token_path,
        &carol,
        Some(json!({"token": "ghp_wrong"})),
    )
    .await
    .ok(204);
    let message = team
        .call(Method::GET, &list_path, &carol, None)
        .await
        .error(400, "github_token_rejected");
    assert!(message.contains("Bad credentials"), "{message}");
    github.take_requests();

    team.call(
        Method::PUT,
        &token_path,
        &carol,
        Some(json!({"token": TOKEN})),
    )
    .await
    .ok(204);
    // Sealed at rest: the token's bytes are nowhere in the row.
    let row = team
        .sql()
        .await
        .query_one(
            "SELECT ciphertext, nonce, created_by FROM github_tokens WHERE organization_id = $1",
            &[&team.org],
        )
        .await
        .unwrap();
    let (ciphertext, nonce, by): (Vec<u8>, Vec<u8>, Uuid) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(nonce.len(), 24);
    assert_eq!(by, team.carol);
    assert!(
        !ciphertext
            .windows(8)
            .any(|w| TOKEN.as_bytes().windows(8).any(|t| t == w))
    );

    let listed = team
        .call(Method::GET, &list_path, &carol, None)
        .await
        .ok(200);
    let listed = listed.as_array().unwrap();
    let names: Vec<&str> = listed
        .iter()
        .map(|r| r["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Codertocat/Hello-World",
            "octo-org/api",
            "octo-org/desktop",
            "octo-org/docs",
            "octo-org/Site"
        ]
    );
    assert_eq!(listed[0]["imported_as"], team.repository.to_string());
    assert!(listed[1..].iter().all(|r| r["imported_as"].is_null()));
    assert_eq!(listed[2]["default_branch"], "develop");
    assert_eq!(listed[2]["private"], true);
    // Three pages, all with the token, starting with per_page=100 and following `next`.
    assert_eq!(
        github.take_requests(),
        [
            ("/user/repos?per_page=100".to_owned(), true),
            ("/user/repos?per_page=100&page=2".to_owned(), true),
            ("/user/repos?per_page=100&page=3".to_owned(), true),
        ]
    );

    let count = || async { team.count("SELECT count(*) FROM repositories").await };
    assert_eq!(count().await, 1);
    let imported = team
        .call(
            Method::POST,
            &import_path,
            &carol,
            Some(json!({"ids": [1001, 1002, HELLO_WORLD_ID]})),
        )
        .await
        .ok(200);
    let created: HashMap<i64, bool> = imported["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["github_id"].as_i64().unwrap(),
                r["created"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        created,
        HashMap::from([(1001, true), (1002, true), (HELLO_WORLD_ID, false)])
    );
    assert!(imported["txid"].as_i64().unwrap() > 0);
    assert_eq!(count().await, 3);
    let desktop = team
        .sql()
        .await
        .query_one(
            "SELECT organization_id, name, slug, url, default_branch, github_id, updated_at \
             FROM repositories WHERE github_id = 1002",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(desktop.get::<_, Uuid>(0), team.org);
    assert_eq!(desktop.get::<_, String>(1), "desktop");
    assert_eq!(desktop.get::<_, String>(2), "desktop");
    assert_eq!(
        desktop.get::<_, String>(3),
        "https://github.com/octo-org/desktop"
    );
    assert_eq!(desktop.get::<_, String>(4), "develop");
    let updated_at: time::OffsetDateTime = desktop.get(6);
    let hello_url: String = team
        .sql()
        .await
        .query_one(
            "SELECT url FROM repositories WHERE id = $1",
            &[&team.repository],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(hello_url, HELLO_WORLD_URL);

    // Importing again (plus one more) creates no duplicates and rewrites nothing.
    let again = team
        .call(
            Method::POST,
            &import_path,
            &carol,
            Some(json!({"ids": [1002, 1001, HELLO_WORLD_ID, 1004, 1004]})),
        )
        .await
        .ok(200);
    let created: HashMap<i64, bool> = again["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["github_id"].as_i64().unwrap(),
                r["created"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        created,
        HashMap::from([
            (1001, false),
            (1002, false),
            (HELLO_WORLD_ID, false),
            (1004, true)
        ])
    );
    assert_eq!(count().await, 4);
    let still: time::OffsetDateTime = team
        .sql()
        .await
        .query_one(
            "SELECT updated_at FROM repositories WHERE github_id = 1002",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(still, updated_at);
    let site_slug: String = team
        .sql()
        .await
        .query_one("SELECT slug FROM repositories WHERE github_id = 1004", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(site_slug, "site");

    // Ids the token cannot see, and an empty selection.
    let message = team
        .call(
            Method::POST,
            &import_path,
            &carol,
            Some(json!({"ids": [1001, 424242]})),
        )
        .await
        .error(400, "bad_request");
    assert!(message.contains("424242"), "{message}");
    team.call(Method::POST, &import_path, &carol, Some(json!({"ids": []})))
        .await
        .error(400, "bad_request");
    assert_eq!(count().await, 4);

    let listed = team
        .call(Method::GET, &list_path, &carol, None)
        .await
        .ok(200);
    let imported: Vec<bool> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| !r["imported_as"].is_null())
        .collect();
    assert_eq!(imported, [true, true, true, false, true]);

    // GitHub down: 502 in the API's error format.
    github.stop().await;
    team.call(Method::GET, &list_path, &carol, None)
        .await
        .error(502, "github_unavailable");
    team.finish().await;
}

#[tokio::test]
async fn only_owners_and_admins_store_tokens_list_and_import() {
    let github = StandIn::start(catalogue()).await;
    let base = github.base_url.clone();
    let team = Team::start_with(|c| c.github_api_url = base).await;
    let (token_path, list_path, import_path) = paths(team.org);
    use reqwest::Method;
    let hash = superset::server::api::accounts::hash_password(super::support::PASSWORD.to_owned())
        .await
        .unwrap();
    superset::server::api::accounts::create_user(
        &team.sql().await,
        "dan@example.com",
        "Dan",
        &hash,
    )
    .await
    .unwrap();
    let ada = team.login("ada@example.com").await;
    let bob = team.login("bob@example.com").await;
    let dan = team.login("dan@example.com").await;

    // Nothing stored yet.
    team.call(Method::GET, &list_path, &ada, None)
        .await
        .error(404, "not_found");
    for token in [&bob, &dan] {
        team.call(
            Method::PUT,
            &token_path,
            token,
            Some(json!({"token": TOKEN})),
        )
        .await
        .error(403, "forbidden");
    }
    assert_eq!(team.count("SELECT count(*) FROM github_tokens").await, 0);
    // The owner stores one; members and outsiders still may not use or replace it.
    team.call(
        Method::PUT,
        &token_path,
        &ada,
        Some(json!({"token": TOKEN})),
    )
    .await
    .ok(204);
    for token in [&bob, &dan] {
        team.call(Method::GET, &list_path, token, None)
            .await
            .error(403, "forbidden");
        team.call(
            Method::POST,
            &import_path,
            token,
            Some(json!({"ids": [1001]})),
        )
        .await
        .error(403, "forbidden");
        team.call(Method::DELETE, &token_path, token, None)
            .await
            .error(403, "forbidden");
    }
    assert_eq!(team.count("SELECT count(*) FROM repositories").await, 1);
    assert!(
        github.take_requests().is_empty(),
        "refused callers never reach GitHub"
    );
    // Without signing in at all.
    let reply = team
        .http
        .get(format!("{}{list_path}", team.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    // Bad bodies.
    team.call(
        Method::PUT,
        &token_path,
        &ada,
        Some(json!({"token": "has space"})),
    )
    .await
    .error(400, "bad_request");
    team.call(Method::PUT, &token_path, &ada, Some(json!({"tokn": TOKEN})))
        .await
        .error(400, "bad_request");
    // The owner removes the token.
    team.call(Method::DELETE, &token_path, &ada, None)
        .await
        .ok(204);
    team.call(Method::GET, &list_path, &ada, None)
        .await
        .error(404, "not_found");
    github.stop().await;
    team.finish().await;
}

#[tokio::test]
async fn without_an_encryption_key_no_token_is_stored() {
    let team = Team::start_with(|c| c.encryption_key = None).await;
    let (token_path, list_path, _) = paths(team.org);
    let ada = team.login("ada@example.com").await;
    let message = team
        .call(
            reqwest::Method::PUT,
            &token_path,
            &ada,
            Some(json!({"token": TOKEN})),
        )
        .await
        .error(503, "not_configured");
    assert!(message.contains("SUPERSET_ENCRYPTION_KEY"), "{message}");
    assert_eq!(team.count("SELECT count(*) FROM github_tokens").await, 0);
    team.call(reqwest::Method::GET, &list_path, &ada, None)
        .await
        .error(503, "not_configured");
    team.finish().await;
}
