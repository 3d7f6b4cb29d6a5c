//! `dist/deploy/nginx-cache.conf` with a real nginx in front of a real sync service: a
//! non-live response is served from the cache the second time; 50 concurrent identical live
//! requests reach the sync service once and all get the change; a 409 is never kept; and two
//! organizations' shapes never share an entry. What reached the sync service is read from the
//! cache's own verdict (`X-Cache-Status`: only a MISS went upstream).

use std::time::Duration;

use super::nginx::Nginx;
use crate::support::Reply;
use crate::sync::support::{Fixture, get};

fn cache_status(reply: &Reply) -> &str {
    reply.header("x-cache-status").unwrap_or("(none)")
}

#[tokio::test]
async fn the_cache_collapses_identical_requests_and_keeps_only_what_it_may() {
    let fx = Fixture::start_with(|c| c.long_poll = Duration::from_secs(5)).await;
    let upstream = fx.base().trim_start_matches("http://").to_owned();
    let nginx = Nginx::start("nginx-cache.conf", &[("@SYNC_UPSTREAM@", &upstream)]);
    let base = nginx.base();
    let shape = fx.org_tasks();

    // Non-live: the second identical request is answered from the cache, byte for byte.
    let first = get(&base, &format!("{shape}&offset=-1")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(cache_status(&first), "MISS");
    let again = get(&base, &format!("{shape}&offset=-1")).await;
    assert_eq!(cache_status(&again), "HIT");
    assert_eq!(again.body, first.body);
    assert_eq!(
        again.header("electric-handle"),
        first.header("electric-handle")
    );

    // Catch up through the cache, then 50 identical live requests at once.
    let handle = first.header("electric-handle").unwrap().to_owned();
    let mut offset = first.header("electric-offset").unwrap().to_owned();
    loop {
        let page = get(&base, &format!("{shape}&offset={offset}&handle={handle}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        offset = page.header("electric-offset").unwrap().to_owned();
        if page.header("electric-up-to-date").is_some() {
            break;
        }
    }
    let live = format!("{shape}&offset={offset}&handle={handle}&live=true&cursor=0");
    let requests: Vec<_> = (0..50)
        .map(|_| {
            let (base, live) = (base.clone(), live.clone());
            tokio::spawn(async move { get(&base, &live).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let task = fx
        .team
        .tasks
        .iter()
        .find(|t| t.organization == 0)
        .unwrap()
        .id;
    fx.sql()
        .await
        .execute(
            "UPDATE tasks SET title = 'seen by fifty' WHERE id = $1",
            &[&task],
        )
        .await
        .unwrap();
    let mut upstream_requests = 0;
    for request in requests {
        let reply = request.await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.body.contains("seen by fifty"), "{}", reply.body);
        upstream_requests += usize::from(cache_status(&reply) != "HIT");
    }
    assert_eq!(
        upstream_requests, 1,
        "50 identical live requests reached the sync service {upstream_requests} times"
    );

    // A 409 is never kept: asked again, it goes to the sync service again.
    let stale = format!("{shape}&offset=0_0&handle=no-such-handle");
    for _ in 0..2 {
        let conflict = get(&base, &stale).await;
        assert_eq!(conflict.status, 409, "{}", conflict.body);
        assert_ne!(cache_status(&conflict), "HIT", "a 409 came from the cache");
    }

    // Another organization's shape is another entry.
    let other = format!(
        "table=tasks&where=organization_id%20%3D%20%241&params%5B1%5D={}&offset=-1",
        fx.team.organizations[1].id
    );
    let theirs = get(&base, &other).await;
    assert_eq!(cache_status(&theirs), "MISS");
    assert_ne!(theirs.body, first.body);
    assert!(
        !theirs
            .body
            .contains(&fx.team.organizations[0].id.to_string())
    );
    drop(nginx);
    fx.finish().await;
}
