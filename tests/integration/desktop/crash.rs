//! The headless engine (`superset sync`) killed with SIGKILL again and again, during the
//! initial sync and during live changes, still ends with exactly the rows it should have.

use std::process::{Command, Stdio};
use std::time::Duration;

use rand::{Rng, SeedableRng};

use super::support::{Setup, churn, converge};

fn sync_process(profile: &std::path::Path) -> std::process::Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_superset"));
    command
        .arg("--data-dir")
        .arg(profile)
        .arg("sync")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command.spawn().expect("starting superset sync")
}

#[tokio::test]
async fn killed_twenty_times_it_still_converges_without_duplicates_or_gaps() {
    let setup = Setup::start(3000).await;
    let profile = tempfile::tempdir().unwrap();
    let user = setup.multi_org_user().clone();
    setup.login(profile.path(), &user.email).await;
    let pg = setup.sql().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    for round in 0..24 {
        let mut child = sync_process(profile.path());
        // Early rounds die during the initial sync, later ones amid live changes.
        let lifetime = Duration::from_millis(rng.random_range(30..400));
        if round >= 8 {
            churn(&pg, 5, round).await;
        }
        tokio::time::sleep(lifetime).await;
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
    }
    churn(&pg, 10, 1000).await;
    let profile_dir = profile.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_superset"))
            .arg("--data-dir")
            .arg(&profile_dir)
            .args(["sync", "--until-synced"])
            .env("RUST_LOG", "info")
            .output()
            .expect("running superset sync")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "the final sync failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    converge(&pg, profile.path(), user.id, Duration::from_secs(30)).await;
    setup.stop().await;
}
