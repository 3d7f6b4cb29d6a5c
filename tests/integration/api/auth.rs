//! Sign-in, access tokens, refresh-token rotation and the login rate limit.

use reqwest::Method;
use serde_json::{Value, json};
use superset::server::api::tokens;
use superset::server::http::auth::{self, Claims, TokenKeys};
use superset::testkit::TEST_JWT_SECRET;
use uuid::Uuid;

use super::support::{Api, PASSWORD, base64url, now};

fn claims(user: Uuid) -> Claims {
    let now = now();
    Claims {
        sub: user.to_string(),
        exp: now + 600,
        iat: now,
        nbf: Some(now),
        iss: auth::ISSUER.to_owned(),
        aud: auth::AUDIENCE.to_owned(),
    }
}

fn sign(claims: &Claims) -> String {
    TokenKeys::new(Some(TEST_JWT_SECRET))
        .unwrap()
        .sign(claims)
        .unwrap()
}

/// A JWT with this header and payload and no signature at all.
fn unsigned(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}.",
        base64url(header.to_string().as_bytes()),
        base64url(payload.to_string().as_bytes())
    )
}

/// Every route that takes a Bearer token, with a request that would succeed with a good one.
fn protected(api: &Api) -> Vec<(Method, String, Option<Value>)> {
    let org = api.org(0);
    vec![
        (Method::GET, "/api/me".to_owned(), None),
        (
            Method::GET,
            "/api/electric/tasks?offset=-1".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/tasks".to_owned(),
            Some(json!({"organization_id": org, "title": "Should not exist"})),
        ),
        (
            Method::POST,
            "/api/organizations".to_owned(),
            Some(json!({"name": "Nope", "slug": "nope"})),
        ),
        (
            Method::PATCH,
            format!("/api/tasks/{}", api.task_of(0)),
            Some(json!({"title": "Hijacked"})),
        ),
    ]
}

/// Asserts that `authorization` (a whole header value, or none) is refused with 401 and `code`
/// on every protected route, and returns the message.
async fn refused(api: &Api, authorization: Option<&str>, code: &str) -> String {
    let mut messages = Vec::new();
    for (method, path, body) in protected(api) {
        let mut request = api
            .http
            .request(method.clone(), format!("{}{path}", api.base()));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let reply = super::support::Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        };
        messages.push(reply.error(401, code));
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "one message for one fault: {messages:?}");
    messages.remove(0)
}

#[tokio::test]
async fn bad_tokens_are_refused_with_a_clear_json_error() {
    let api = Api::start().await;
    let user = api.user(0);

    let message = refused(&api, None, "missing_token").await;
    assert!(message.contains("Authorization"), "{message}");

    for header in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Token abc",
        "bearer",
    ] {
        let message = refused(&api, Some(header), "invalid_token").await;
        assert!(message.contains("Bearer"), "{header:?}: {message}");
    }
    for garbage in ["garbage", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30.x"] {
        let message = refused(&api, Some(&format!("Bearer {garbage}")), "invalid_token").await;
        assert!(message.contains("token"), "{garbage:?}: {message}");
    }

    // Signed with another secret.
    let other = TokenKeys::new(Some("another-secret-that-is-also-32-bytes-or-more"))
        .unwrap()
        .sign(&claims(user))
        .unwrap();
    let message = refused(&api, Some(&format!("Bearer {other}")), "invalid_token").await;
    assert!(message.contains("signature"), "{message}");

    // A good token with its signature altered.
    let good = sign(&claims(user));
    let (body, signature) = good.rsplit_once('.').unwrap();
    let flipped: String = signature
        .chars()
        .rev()
        .collect::<String>()
        .replace('A', "B");
    let message = refused(
        &api,
        Some(&format!("Bearer {body}.{flipped}")),
        "invalid_token",
    )
    .await;
    assert!(
        message.contains("signature") || message.contains("malformed"),
        "{message}"
    );
    // A good token's payload swapped for another user's: the signature no longer matches.
    let forged_payload = base64url(
        serde_json::to_string(&claims(api.user(1)))
            .unwrap()
            .as_bytes(),
    );
    let header = good.split('.').next().unwrap();
    let message = refused(
        &api,
        Some(&format!("Bearer {header}.{forged_payload}.{signature}")),
        "invalid_token",
    )
    .await;
    assert!(message.contains("signature"), "{message}");

    // alg: none, unsigned.
    let payload = serde_json::to_value(claims(user)).unwrap();
    let none = unsigned(&json!({"alg": "none", "typ": "JWT"}), &payload);
    assert!(none.starts_with("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."));
    refused(&api, Some(&format!("Bearer {none}")), "invalid_token").await;
    // … and with a good signature glued on.
    let none_signed = format!("{}{signature}", none);
    refused(
        &api,
        Some(&format!("Bearer {none_signed}")),
        "invalid_token",
    )
    .await;

    // Wrong audience, wrong issuer.
    let mut wrong = claims(user);
    wrong.aud = "someone-else".to_owned();
    let message = refused(
        &api,
        Some(&format!("Bearer {}", sign(&wrong))),
        "invalid_token",
    )
    .await;
    assert!(message.contains("audience"), "{message}");
    let mut wrong = claims(user);
    wrong.iss = "evil".to_owned();
    let message = refused(
        &api,
        Some(&format!("Bearer {}", sign(&wrong))),
        "invalid_token",
    )
    .await;
    assert!(message.contains("issuer"), "{message}");

    // Expired beyond the 5 s leeway.
    let mut expired = claims(user);
    expired.iat = now() - 3600;
    expired.nbf = Some(now() - 3600);
    expired.exp = now() - 60;
    let message = refused(
        &api,
        Some(&format!("Bearer {}", sign(&expired))),
        "invalid_token",
    )
    .await;
    assert!(message.contains("expired"), "{message}");

    // Not valid yet.
    let mut early = claims(user);
    early.nbf = Some(now() + 120);
    let message = refused(
        &api,
        Some(&format!("Bearer {}", sign(&early))),
        "invalid_token",
    )
    .await;
    assert!(message.contains("not valid yet"), "{message}");

    // Required claims missing; a subject that is no user id.
    let mut payload = serde_json::to_value(claims(user)).unwrap();
    payload.as_object_mut().unwrap().remove("aud");
    let keyless = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &payload,
        &jsonwebtoken::EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap();
    refused(&api, Some(&format!("Bearer {keyless}")), "invalid_token").await;
    let mut odd = claims(user);
    odd.sub = "admin".to_owned();
    let message = refused(
        &api,
        Some(&format!("Bearer {}", sign(&odd))),
        "invalid_token",
    )
    .await;
    assert!(message.contains("subject"), "{message}");

    // The good one works, also for a user id that is not (or no longer) an account.
    api.get("/api/me", Some(&good)).await.ok(200);
    api.get("/api/me", Some(&sign(&claims(Uuid::new_v4()))))
        .await
        .error(401, "unknown_user");
    api.finish().await;
}

#[tokio::test]
async fn the_error_for_a_foreign_algorithm_says_so() {
    let api = Api::start().await;
    let user = api.user(0);
    let payload = serde_json::to_value(claims(user)).unwrap();
    // HS384 with the right secret: the algorithm is pinned to HS256.
    let hs384 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS384),
        &payload,
        &jsonwebtoken::EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let message = refused(&api, Some(&format!("Bearer {hs384}")), "invalid_token").await;
    assert!(message.contains("algorithm"), "HS384: {message}");
    // RS256 named in the header, HMAC bytes as signature (key confusion).
    let rs256 = unsigned(&json!({"alg": "RS256", "typ": "JWT"}), &payload);
    let message = refused(
        &api,
        Some(&format!("Bearer {rs256}{}", base64url(&[7; 32]))),
        "invalid_token",
    )
    .await;
    assert!(message.contains("algorithm"), "RS256: {message}");
    // alg: none must be named as what it is, not as a malformed token.
    let none = unsigned(&json!({"alg": "none", "typ": "JWT"}), &payload);
    let message = refused(&api, Some(&format!("Bearer {none}")), "invalid_token").await;
    assert!(message.contains("algorithm"), "alg none: {message}");
    api.finish().await;
}

#[tokio::test]
async fn login_me_refresh_rotation_reuse_detection_and_logout() {
    let api = Api::start().await;
    let who = api.multi_org_user();
    let email = api.email(who).to_owned();

    let tokens = api.login(&email, PASSWORD).await.ok(200);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["user_id"], api.user(who).to_string());
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(!refresh.is_empty() && refresh != access);
    let expires_at = tokens["expires_at"].as_i64().unwrap();
    assert!(expires_at > now() && expires_at <= now() + auth::ACCESS_TTL_SECS + 5);

    // /api/me with it: the user and every membership with its role.
    let me = api.get("/api/me", Some(&access)).await.ok(200);
    assert_eq!(me["id"], api.user(who).to_string());
    assert_eq!(me["email"], email);
    let memberships = me["memberships"].as_array().unwrap();
    assert_eq!(memberships.len(), api.orgs_of(who).len());
    for org in api.orgs_of(who) {
        let m = memberships
            .iter()
            .find(|m| m["organization_id"] == api.org(org).to_string())
            .unwrap_or_else(|| panic!("org {org} missing from {me}"));
        assert_eq!(m["role"], api.role(who, org).unwrap());
        assert_eq!(m["slug"], api.team.organizations[org].slug);
    }
    // The refresh token is stored hashed, never as is.
    let sql = api.sql().await;
    let stored: i64 = sql
        .query_one(
            "SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND \
             (encode(token_hash, 'hex') = $2 OR encode(token_hash, 'escape') = $2)",
            &[&api.user(who), &refresh],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 0);

    // E-mail addresses are case-insensitive; wrong password and unknown e-mail look the same.
    api.login(&email.to_uppercase(), PASSWORD).await.ok(200);
    let wrong = api.login(&email, "not the password").await;
    let wrong_message = wrong.error(401, "invalid_credentials");
    let unknown = api.login("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.error(401, "invalid_credentials"), wrong_message);

    // Rotation: a refresh gives a new pair, and the new access token works.
    let refreshed = api
        .post("/api/auth/refresh", None, json!({"refresh_token": refresh}))
        .await
        .ok(200);
    let refresh2 = refreshed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh);
    assert_eq!(refreshed["user_id"], api.user(who).to_string());
    api.get("/api/me", Some(refreshed["access_token"].as_str().unwrap()))
        .await
        .ok(200);
    let refreshed = api
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": refresh2}),
        )
        .await
        .ok(200);
    let newest = refreshed["refresh_token"].as_str().unwrap().to_owned();

    // A second session, which reuse in the first must not end.
    let other_session = api.login(&email, PASSWORD).await.ok(200);
    let other_refresh = other_session["refresh_token"].as_str().unwrap().to_owned();

    // Reuse of an old token: refused, and the family's newest token dies with it.
    let reused = api
        .post("/api/auth/refresh", None, json!({"refresh_token": refresh}))
        .await;
    reused.error(401, "refresh_token_reused");
    let after = api
        .post("/api/auth/refresh", None, json!({"refresh_token": newest}))
        .await;
    assert_eq!(after.status, 401, "{}", after.body);
    after.error(401, after.json()["error"]["code"].as_str().unwrap());
    api.post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": refresh2}),
    )
    .await
    .error(401, "refresh_token_reused");

    // Unknown refresh tokens.
    api.post(
        "/api/auth/refresh",
        None,
        json!({"refresh_token": "0".repeat(64)}),
    )
    .await
    .error(401, "invalid_refresh_token");

    // An expired refresh token is refused.
    let stale = api.login(&email, PASSWORD).await.ok(200);
    let stale = stale["refresh_token"].as_str().unwrap().to_owned();
    sql.execute(
        "UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' WHERE token_hash = $1",
        &[&tokens::hash_refresh_token(&stale)],
    )
    .await
    .unwrap();
    api.post("/api/auth/refresh", None, json!({"refresh_token": stale}))
        .await
        .error(401, "invalid_refresh_token");

    // The other session lives on; logging it out revokes its refresh token.
    let rotated = api
        .post(
            "/api/auth/refresh",
            None,
            json!({"refresh_token": other_refresh}),
        )
        .await
        .ok(200);
    let live = rotated["refresh_token"].as_str().unwrap().to_owned();
    api.post("/api/auth/logout", None, json!({"refresh_token": live}))
        .await
        .ok(204);
    let logged_out = api
        .post("/api/auth/refresh", None, json!({"refresh_token": live}))
        .await;
    assert_eq!(logged_out.status, 401, "{}", logged_out.body);
    logged_out.error(401, logged_out.json()["error"]["code"].as_str().unwrap());
    let revoked: i64 = sql
        .query_one(
            "SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL \
             AND used_at IS NULL",
            &[&api.user(who)],
        )
        .await
        .unwrap()
        .get(0);
    // Only the second login (uppercase e-mail) and the expired one remain unused and unrevoked.
    assert_eq!(revoked, 2);
    api.finish().await;
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_email() {
    let api = Api::start().await;
    let email = api.email(3).to_owned();
    // Eleven wrong passwords at once: ten are checked, one is refused by the limiter. (Sent
    // together so that the limiter's slow refill, one attempt per 6 s, cannot blur the count.)
    let replies = futures_util::future::join_all((0..11).map(|attempt| {
        let api = &api;
        let email = email.clone();
        async move { api.login(&email, &format!("guess {attempt}")).await }
    }))
    .await;
    let mut checked = 0;
    for reply in &replies {
        if reply.status == 401 {
            reply.error(401, "invalid_credentials");
            checked += 1;
        } else {
            reply.error(429, "rate_limited");
        }
    }
    assert_eq!(checked, 10, "ten attempts are checked, the eleventh is not");
    // The 11th within the minute is refused before the password is even checked, also with
    // the right password and also spelt differently.
    for variant in [email.clone(), email.to_uppercase(), format!("  {email} ")] {
        let limited = api.login(&variant, PASSWORD).await;
        let message = limited.error(429, "rate_limited");
        let retry_after: u64 = limited
            .header("retry-after")
            .unwrap_or_else(|| panic!("no retry-after: {message}"))
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "retry-after {retry_after}");
    }
    // Another address is not affected.
    api.login(api.email(4), PASSWORD).await.ok(200);
    // Unknown addresses are limited the same way (no account enumeration by the limiter).
    let replies = futures_util::future::join_all((0..11).map(|attempt| {
        let api = &api;
        async move {
            api.login("ghost@example.com", &format!("guess {attempt}"))
                .await
        }
    }))
    .await;
    assert_eq!(replies.iter().filter(|r| r.status == 401).count(), 10);
    assert_eq!(replies.iter().filter(|r| r.status == 429).count(), 1);
    api.finish().await;
}

#[tokio::test]
async fn auth_endpoints_answer_bad_bodies_in_the_json_error_format() {
    let api = Api::start().await;
    for path in ["/api/auth/login", "/api/auth/refresh", "/api/auth/logout"] {
        for (content_type, body) in [
            ("application/json", "{not json"),
            (
                "application/json",
                r#"{"email": "a@b.c", "password": "x", "admin": true}"#,
            ),
            ("application/json", r#"{"refresh_token": "x", "extra": 1}"#),
            ("application/json", "[]"),
            ("application/json", r#"{"email": 5}"#),
        ] {
            let reply = api
                .send_raw(Method::POST, path, None, Some(content_type), body)
                .await;
            reply.error(400, "bad_request");
        }
    }
    api.finish().await;
}

/// A client that dies after the server rotated its refresh token but before it saved the new
/// one presents the old token again: within a minute, and with the new token never used, that
/// is a lost answer, not theft.
#[tokio::test]
async fn a_refresh_whose_answer_was_lost_can_be_retried_once_the_successor_is_unused() {
    let api = Api::start().await;
    let email = api.team.users[1].email.clone();
    let session = api.login(&email, PASSWORD).await.ok(200);
    let first = session["refresh_token"].as_str().unwrap().to_owned();
    // The answer to this refresh is "lost".
    api.post("/api/auth/refresh", None, json!({"refresh_token": first}))
        .await
        .ok(200);
    let retried = api
        .post("/api/auth/refresh", None, json!({"refresh_token": first}))
        .await
        .ok(200);
    let second = retried["refresh_token"].as_str().unwrap().to_owned();
    // The retry's token works; the lost one was replaced and no longer does.
    api.post("/api/auth/refresh", None, json!({"refresh_token": second}))
        .await
        .ok(200);
    // Once the successor has been used, presenting the first token again is theft.
    api.post("/api/auth/refresh", None, json!({"refresh_token": first}))
        .await
        .error(401, "refresh_token_reused");
    api.finish().await;
}
