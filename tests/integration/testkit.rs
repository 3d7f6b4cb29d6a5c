//! The test kit itself: clusters side by side, and cleanup after a panicking test.

use std::sync::mpsc;

use nix::sys::signal::kill;
use nix::unistd::Pid;
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
