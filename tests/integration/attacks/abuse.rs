//! Abuse of resources (items 5–7 of the attack review): what a person can cause to exist is
//! bounded, slow and silent sockets cannot starve the server, and a flood of sign-ins cannot
//! starve everyone else. Each attack is refused and leaves the victim's rows unchanged.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::support::{Arena, PASSWORD};

#[tokio::test]
async fn organizations_text_and_shapes_are_bounded() {
    let arena = Arena::start_with(|options| {
        options.api_limits.organizations_per_user = 3;
        options.shape_limits.max_shapes = 8;
    })
    .await;
    let victim_org = arena.victim_org();
    let before = arena.state_of(victim_org).await;
    let attacker = arena.token(arena.attacker().id);
    for n in 0..3 {
        arena
            .call(
                Method::POST,
                "/api/organizations",
                Some(&attacker),
                Some(json!({"name": format!("Spam {n}"), "slug": format!("spam-{n}")})),
            )
            .await
            .ok(201);
    }
    let refused = arena
        .call(
            Method::POST,
            "/api/organizations",
            Some(&attacker),
            Some(json!({"name": "Spam 3", "slug": "spam-3"})),
        )
        .await
        .error(403, "forbidden");
    assert!(refused.contains('3'), "{refused}");
    // Oversized text: 400 naming the field and the limit, nothing written.
    let attacker_org = arena.team.organizations[1].id;
    let huge = "x".repeat(2_000_000);
    for (body, field) in [
        (
            json!({"organization_id": attacker_org, "title": "t", "description": huge}),
            "description",
        ),
        (
            json!({"organization_id": attacker_org, "title": huge}),
            "title",
        ),
        (
            json!({"organization_id": attacker_org, "title": "t", "labels": vec!["l"; 51]}),
            "labels",
        ),
    ] {
        let message = arena
            .call(Method::POST, "/api/tasks", Some(&attacker), Some(body))
            .await
            .error(400, "bad_request");
        assert!(message.contains(field), "{message}");
    }
    // Shapes past the cap: the least recently requested ones are evicted, and their clients
    // are told to fetch afresh.
    let sync = |query: String| {
        let http = arena.http.clone();
        let base = arena.base().to_owned();
        async move {
            crate::support::reply(http.get(format!("{base}/v1/shape?secret=sync-secret&{query}")))
                .await
        }
    };
    let first = sync("table=tasks&offset=-1&where=priority%3D%27low%27".into()).await;
    assert_eq!(first.status, 200);
    let handle = first.header("electric-handle").unwrap().to_owned();
    for n in 0..12 {
        let reply = sync(format!("table=tasks&offset=-1&where=title%3D%27spam{n}%27")).await;
        assert_eq!(reply.status, 200);
    }
    let held = arena
        .server
        .server
        .shapes
        .as_ref()
        .unwrap()
        .registry()
        .len();
    assert!(held <= 8, "{held} shapes held, the cap is 8");
    let evicted = sync(format!(
        "table=tasks&offset=0_0&handle={handle}&where=priority%3D%27low%27"
    ))
    .await;
    assert_eq!(evicted.status, 409, "{}", evicted.body);
    assert_eq!(arena.state_of(victim_org).await, before);
    arena.finish().await;
}

#[tokio::test]
async fn slow_and_silent_sockets_are_dropped_and_capped() {
    let arena = Arena::start_with(|options| {
        options.listener.header_timeout = Duration::from_secs(1);
        options.listener.max_connections_per_address = 20;
    })
    .await;
    let address = arena.base().trim_start_matches("http://").to_owned();
    let port: u16 = address.rsplit(':').next().unwrap().parse().unwrap();
    // 100 sockets from another loopback address, each sending half a request line and then
    // nothing.
    let mut silent = Vec::new();
    for _ in 0..100 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        if let Ok(mut stream) = socket.connect(([127, 0, 0, 1], port).into()).await {
            let _ = stream
                .write_all(b"GET /api/me HTTP/1.1\r\nHost: x\r\n")
                .await;
            silent.push(stream);
        }
    }
    // Meanwhile everyone else is served at once.
    let login = arena
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": arena.victim().email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    // A long-poll outlives the header timeout: the timeout is for headers only.
    let token = arena.token(arena.victim().id);
    let mut follower = arena.synced("tasks", &token).await;
    let held = follower.step().await;
    assert_eq!(held.status, 200);
    // Within a few seconds every silent socket is closed by the server.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut closed = 0;
    for stream in &mut silent {
        let mut buffer = [0_u8; 1024];
        // End of stream, a reset, or a last answer before the close: the server let go.
        let read = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await;
        if read.is_ok() {
            closed += 1;
        }
    }
    assert_eq!(closed, silent.len(), "every silent socket was closed");
    arena.finish().await;
}

#[tokio::test]
async fn a_login_flood_is_limited_per_address_and_does_not_starve_others() {
    let arena = Arena::start().await;
    let token = arena.token(arena.victim().id);
    let flood = futures_util::future::join_all((0..200).map(|n| {
        let arena = &arena;
        async move {
            arena
                .call(
                    Method::POST,
                    "/api/auth/login",
                    None,
                    Some(json!({"email": format!("guess{n}@example.com"), "password": "nope"})),
                )
                .await
                .status
        }
    }));
    let me = async {
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(
                arena
                    .call(Method::GET, "/api/me", Some(&token), None)
                    .await
                    .status,
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        statuses
    };
    let (flood, me) = tokio::join!(flood, me);
    assert!(
        me.iter().all(|&s| s == 200),
        "/api/me during the flood: {me:?}"
    );
    let limited = flood.iter().filter(|&&s| s == 429).count();
    let checked = flood.iter().filter(|&&s| s == 401).count();
    assert_eq!(limited + checked, 200, "{flood:?}");
    assert!(
        checked <= 55,
        "the address's budget is 50 failures, {checked} were checked"
    );
    // The address stays blocked, even for a right password; another account's limit is apart.
    let blocked = arena
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": arena.victim().email, "password": PASSWORD})),
        )
        .await;
    blocked.error(429, "rate_limited");
    arena.finish().await;
}
