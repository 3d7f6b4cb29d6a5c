//! Attacks on sessions (items 8–9 of the attack review): a replayed refresh token never mints a
//! second live session, and a removed member's live requests end within a second.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use super::support::{Arena, PASSWORD};

#[tokio::test]
async fn a_replayed_refresh_token_gets_the_same_successor_and_no_second_session() {
    let arena = Arena::start().await;
    let email = &arena.victim().email;
    let login = arena
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": email, "password": PASSWORD})),
        )
        .await
        .ok(200);
    let stolen = login["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String| {
        let arena = &arena;
        async move {
            arena
                .call(
                    Method::POST,
                    "/api/auth/refresh",
                    None,
                    Some(json!({"refresh_token": token})),
                )
                .await
        }
    };
    let live_tokens = || async {
        let count: i64 = arena
            .sql()
            .await
            .query_one(
                "SELECT count(*) FROM refresh_tokens WHERE user_id = $1 \
                 AND used_at IS NULL AND revoked_at IS NULL",
                &[&arena.victim().id],
            )
            .await
            .unwrap()
            .get(0);
        count
    };
    // The real user refreshes; the thief replays the spent token within the grace.
    let real = refresh(stolen.clone()).await.ok(200);
    let successor = real["refresh_token"].as_str().unwrap().to_owned();
    let replayed = refresh(stolen.clone()).await.ok(200);
    assert_eq!(
        replayed["refresh_token"].as_str(),
        Some(successor.as_str()),
        "the replay gets the same successor"
    );
    assert_eq!(live_tokens().await, 1, "still one live session");
    // Using the successor moves on; a replay of it in the grace gets that same next token.
    let next = refresh(successor.clone()).await.ok(200);
    let next_token = next["refresh_token"].as_str().unwrap().to_owned();
    let replayed = refresh(successor.clone()).await.ok(200);
    assert_eq!(
        replayed["refresh_token"].as_str(),
        Some(next_token.as_str())
    );
    assert_eq!(live_tokens().await, 1, "still one live session");
    // Once the next token is used too, a replay of the old one is theft: the family ends.
    let last = refresh(next_token).await.ok(200);
    refresh(successor).await.error(401, "refresh_token_reused");
    refresh(last["refresh_token"].as_str().unwrap().to_owned())
        .await
        .error(401, "invalid_refresh_token");
    assert_eq!(live_tokens().await, 0);
    arena.finish().await;
}

#[tokio::test]
async fn a_removed_member_hears_nothing_more_within_a_second() {
    let arena = Arena::start().await;
    let victim = arena.victim();
    let org = arena.victim_org();
    let token = arena.token(victim.id);
    // A long-poll is held for the victim's tasks.
    let mut tasks = arena.synced("tasks", &token).await;
    let held = tokio::spawn(async move {
        let started = Instant::now();
        let reply = tasks.step().await;
        (reply.status, started.elapsed(), tasks.rows.len())
    });
    // An event stream too, from where the workspaces shape is up to date.
    let workspaces = arena.synced("workspaces", &token).await;
    let url = format!(
        "{}/api/electric/workspaces?offset={}&handle={}&live=true&live_sse=true",
        arena.base(),
        workspaces.offset,
        workspaces.handle.as_deref().unwrap()
    );
    let stream = arena
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200, "{url}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The owner removes the victim.
    let owner = arena
        .team
        .members
        .iter()
        .find(|m| m.organization == 0 && m.role == "owner")
        .unwrap();
    let owner_token = arena.token(arena.team.users[owner.user].id);
    let removed_at = Instant::now();
    arena
        .call(
            Method::DELETE,
            &format!("/api/organizations/{org}/members/{}", victim.id),
            Some(&owner_token),
            None,
        )
        .await
        .ok(204);
    // A change in the organization right after must not reach the victim.
    arena
        .sql()
        .await
        .execute(
            "INSERT INTO tasks (organization_id, title) VALUES ($1, 'after the removal')",
            &[&org],
        )
        .await
        .unwrap();
    let (status, _, _) = tokio::time::timeout(Duration::from_secs(5), held)
        .await
        .expect("the long-poll ended")
        .unwrap();
    assert!(
        removed_at.elapsed() < Duration::from_secs(2),
        "{:?}",
        removed_at.elapsed()
    );
    assert_eq!(status, 409, "the held long-poll is told to fetch afresh");
    let body = tokio::time::timeout(Duration::from_secs(2), stream.text())
        .await
        .expect("the event stream ended within a second")
        .unwrap_or_default();
    assert!(!body.contains("after the removal"), "{body}");
    // Fetching afresh, the organization is gone.
    let mut fresh = arena.synced("tasks", &token).await;
    fresh.catch_up().await;
    assert!(fresh.rows.is_empty(), "{} rows", fresh.rows.len());
    arena.finish().await;
}
