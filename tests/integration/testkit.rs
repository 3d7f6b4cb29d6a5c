//! The test kit itself: clusters side by side, cleanup after a panicking test, and a server
//! left running by a killed process stopped before the next start.

use std::sync::mpsc;

use nix::sys::signal::kill;
use nix::unistd::Pid;
use superset::localpg::{Durability, LocalCluster};
use superset::server::db;
use superset::testkit::TestCluster;

#[tokio::test]
async fn two_clusters_run_side_by_side_with_logical_wal() {
    let (a, b) = tokio::task::spawn_blocking(|| {
        (TestCluster::start().unwrap(), TestCluster::start().unwrap())
    })
    .await
    .unwrap();
    assert_ne!(a.port(), b.port());
    assert_ne!(a.root(), b.root());
    for cluster in [&a, &b] {
        let client = db::connect(&cluster.url("postgres")).await.unwrap();
        let level: String = client
            .query_one("SHOW wal_level", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(level, "logical");
        let socket_dir: String = client
            .query_one("SHOW unix_socket_directories", &[])
            .await
            .unwrap()
            .get(0);
        assert!(socket_dir.starts_with(&cluster.root().display().to_string()));
    }
}

#[test]
fn a_panicking_test_leaves_no_server_and_no_files_behind() {
    let (tx, rx) = mpsc::channel();
    let outcome = std::thread::spawn(move || {
        let cluster = TestCluster::start().unwrap();
        tx.send((cluster.root().to_path_buf(), cluster.server_pid().unwrap()))
            .unwrap();
        panic!("a test failing while its cluster runs");
    })
    .join();
    assert!(outcome.is_err());
    let (root, pid) = rx.recv().unwrap();
    assert!(!root.exists(), "{} should be deleted", root.display());
    assert!(
        kill(Pid::from_raw(pid as i32), None).is_err(),
        "postmaster {pid} should be gone"
    );
}

#[test]
fn a_server_left_running_by_a_killed_process_is_stopped_before_the_next_start() {
    let dir = tempfile::Builder::new()
        .prefix("superset-pg-")
        .tempdir()
        .unwrap();
    let mut first = LocalCluster::open_or_init(dir.path(), Durability::Throwaway).unwrap();
    first.start().unwrap();
    let leftover = first.server_pid().unwrap();
    // As if its process had been killed: nothing stops the server, which keeps the folder.
    std::mem::forget(first);
    let mut second = LocalCluster::open_or_init(dir.path(), Durability::Throwaway).unwrap();
    second.start().unwrap();
    assert_ne!(second.server_pid(), Some(leftover));
    // Gone, or a zombie: it was this process's child, and nobody waits for it any more.
    let state = std::fs::read_to_string(format!("/proc/{leftover}/stat")).ok();
    assert!(
        state
            .as_deref()
            .is_none_or(|stat| stat.split_whitespace().nth(2) == Some("Z")),
        "postmaster {leftover} still runs: {state:?}"
    );
    second.stop();
}
