//! Two API replicas behind `dist/deploy/nginx-balancer.conf` (a real nginx), sharing one
//! Postgres and one sync service: requests are spread over both, and what must hold across
//! them does — the login limit counts attempts on either replica, and a token one replica
//! issued works on the other.

use std::collections::BTreeSet;

use serde_json::json;
use superset::server::api::accounts;
use superset::server::app::ElectricConfig;
use superset::server::seed;
use superset::testkit::{self, AppServer, ServerOptions, SyncServer};

use super::nginx::Nginx;
use crate::api::support::PASSWORD;
use crate::support::reply;

#[tokio::test]
async fn login_limits_hold_across_replicas_behind_the_balancer() {
    let database_url = testkit::fresh_database().await;
    let mut client = superset::server::db::connect(&database_url).await.unwrap();
    let team = seed::generate(&seed::SeedConfig::default());
    seed::insert(&mut client, &team).await.unwrap();
    let hash = accounts::hash_password(PASSWORD.to_owned()).await.unwrap();
    seed::set_passwords(&client, &team, &hash).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut sync_config =
        superset::server::shapes::ShapeServiceConfig::new(&database_url, data.path().join("sync"));
    sync_config.slot = testkit::unique_name("slot");
    sync_config.secret = Some("sync-secret".to_owned());
    let sync = SyncServer::start(sync_config).await;
    let mut replicas = Vec::new();
    for n in 0..2 {
        let options = ServerOptions {
            electric: Some(ElectricConfig::Remote {
                url: format!("{}/v1/shape", sync.base_url),
                secret: Some("sync-secret".to_owned()),
                source_id: None,
            }),
            ..ServerOptions::default()
        };
        let dir = data.path().join(format!("api-{n}"));
        replicas.push(AppServer::start_with(&database_url, &dir, options).await);
    }
    let servers: Vec<String> = replicas
        .iter()
        .map(|r| format!("server {};", r.base_url.trim_start_matches("http://")))
        .collect();
    let nginx = Nginx::start(
        "nginx-balancer.conf",
        &[("@API_REPLICAS@", &servers.join(" "))],
    );
    let http = reqwest::Client::new();
    let login = |email: String, password: String| {
        let (http, base) = (http.clone(), nginx.base());
        async move {
            reply(
                http.post(format!("{base}/api/auth/login"))
                    .json(&json!({"email": email, "password": password})),
            )
            .await
        }
    };
    let user = &team.users[3];
    // Eleven wrong passwords at once through the balancer: both replicas answer, and together
    // they check ten — the eleventh is refused, whichever replica it reached.
    let replies = futures_util::future::join_all(
        (0..11).map(|n| login(user.email.clone(), format!("guess {n}"))),
    )
    .await;
    let upstreams: BTreeSet<&str> = replies
        .iter()
        .filter_map(|r| r.header("x-upstream"))
        .collect();
    assert_eq!(upstreams.len(), 2, "both replicas answered: {upstreams:?}");
    let checked = replies.iter().filter(|r| r.status == 401).count();
    let limited = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!((checked, limited), (10, 1), "ten checked, one refused");
    // The right password is refused too, on every replica, until the window passes.
    for _ in 0..4 {
        let refused = login(user.email.clone(), PASSWORD.to_owned()).await;
        assert_eq!(refused.status, 429, "{}", refused.body);
    }
    // Another person signs in through one replica; the token works on both.
    let other = &team.users[4];
    let signed_in = login(other.email.clone(), PASSWORD.to_owned()).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let token = signed_in.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for replica in &replicas {
        let me = reply(
            http.get(format!("{}/api/me", replica.base_url))
                .bearer_auth(&token),
        )
        .await;
        assert_eq!(me.status, 200, "{}", me.body);
    }
    drop(nginx);
    for replica in replicas {
        replica.stop().await;
    }
    sync.stop().await;
}
