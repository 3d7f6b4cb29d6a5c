//! `dist/deploy/local-cluster.sh` brings the whole topology up on this machine — Postgres, one
//! sync service, the nginx shape cache, two API replicas, the nginx load balancer — and down
//! again: a person signs in through the balancer, both replicas answer, an organization's shape
//! is read once from the sync service and then from the shared cache, and `down` leaves no
//! process and no directory behind.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::{Reply, reply};

/// A base port whose next five are free too.
fn free_ports() -> u16 {
    for _ in 0..100 {
        let base = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if base < 60_000 && (0..6).all(|n| TcpListener::bind(("127.0.0.1", base + n)).is_ok()) {
            return base;
        }
    }
    panic!("no six free ports in a row");
}

fn script(action: &str, dir: &Path, port: u16) -> std::process::Output {
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/deploy/local-cluster.sh"))
        .args([
            action,
            "--dir",
            dir.to_str().unwrap(),
            "--port",
            &port.to_string(),
        ])
        .env("SUPERSET_SERVER", env!("CARGO_BIN_EXE_superset-server"))
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_local_cluster_comes_up_serves_through_both_tiers_and_goes_down() {
    let parent = tempfile::tempdir().unwrap();
    // As root the script runs PostgreSQL as `postgres`, who must be able to reach the folder.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = parent.path().join("cluster");
    let port = free_ports();
    let up = script("up", &dir, port);
    let said = String::from_utf8_lossy(&up.stderr).into_owned();
    assert!(up.status.success(), "up failed: {said}");
    assert!(said.contains("up: the API is at"), "{said}");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let login = reply(
        http.post(format!("{base}/api/auth/login"))
            .json(&json!({"email": "sarah.chen@example.com", "password": "superset"})),
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let token = login.json()["access_token"].as_str().unwrap().to_owned();
    let me = reply(http.get(format!("{base}/api/me")).bearer_auth(&token)).await;
    let org = me.json()["memberships"][0]["organization_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shape = format!("{base}/api/electric/tasks?offset=-1&organization_id={org}");
    let mut replies: Vec<Reply> = Vec::new();
    for _ in 0..4 {
        replies.push(reply(http.get(&shape).bearer_auth(&token)).await);
    }
    let statuses: Vec<&str> = replies
        .iter()
        .map(|r| r.header("x-cache-status").unwrap_or("(none)"))
        .collect();
    assert_eq!(statuses, ["MISS", "HIT", "HIT", "HIT"], "the shared cache");
    let replicas: std::collections::BTreeSet<&str> = replies
        .iter()
        .filter_map(|r| r.header("x-upstream"))
        .collect();
    assert_eq!(replicas.len(), 2, "both replicas answered: {replicas:?}");
    assert!(replies.iter().all(|r| r.body == replies[0].body));
    let down = script("down", &dir, port);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert!(!dir.exists(), "down removes the cluster's directory");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the load balancer is gone"
    );
}
