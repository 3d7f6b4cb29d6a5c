//! The command line end to end, as a developer uses it from a shell: `superset link`, `tasks`,
//! `cd "$(superset start KEY)"`, `workspaces`, `explore` and `done`, against the real server and
//! real git repositories — and its errors, in words on stderr with a non-zero exit.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use super::support::head;
use crate::desktop::support::Setup;
use crate::window::support::git_repository;

/// `superset --data-dir PROFILE ARGS…`.
fn superset(profile: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_superset"))
        .arg("--data-dir")
        .arg(profile)
        .args(args)
        .env("SUPERSET_KEYRING", "off")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs `script` in bash with `superset` meaning the profile's command.
fn shell(profile: &Path, script: &str) -> Output {
    let binary = env!("CARGO_BIN_EXE_superset");
    Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -e\nsuperset() {{ '{binary}' --data-dir '{}' \"$@\"; }}\n{script}",
            profile.display()
        ))
        .env("SUPERSET_KEYRING", "off")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\nstdout: {}",
        text(&output.stderr),
        text(&output.stdout)
    );
    text(&output.stdout)
}

#[track_caller]
fn refused(output: &Output, says: &str) {
    assert!(
        !output.status.success(),
        "should fail: {}",
        text(&output.stdout)
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(says),
        "stderr should say {says:?}: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_developer_starts_and_finishes_work_from_the_shell() {
    let setup = Setup::start(30).await;
    let user = setup.multi_org_user().clone();
    let profile = tempfile::tempdir().unwrap();
    setup.login(profile.path(), &user.email).await;
    let p = profile.path().to_owned();
    // The organization `tasks` shows first (by name), and a clone of one of its repositories.
    let mut orgs: Vec<(usize, &str)> = setup
        .team
        .organizations
        .iter()
        .enumerate()
        .map(|(i, o)| (i, o.name.as_str()))
        .collect();
    orgs.sort_by_key(|(_, name)| name.to_lowercase());
    let repository = setup
        .team
        .repositories
        .iter()
        .find(|r| r.organization == orgs[0].0)
        .unwrap()
        .clone();
    let folders = tempfile::tempdir().unwrap();
    let clone = folders.path().join(&repository.name);
    git_repository(&clone, Some(&repository.url));

    let linked = tokio::task::spawn_blocking({
        let (p, clone) = (p.clone(), clone.clone());
        move || superset(&p, &["link", clone.to_str().unwrap()])
    })
    .await
    .unwrap();
    assert!(ok(&linked).contains(&format!("linked to {}", repository.name)));

    let listed = tokio::task::spawn_blocking({
        let p = p.clone();
        move || superset(&p, &["--json", "tasks"])
    })
    .await
    .unwrap();
    let tasks: Value = serde_json::from_str(&ok(&listed)).unwrap();
    let key = tasks[0]["key"].as_str().unwrap().to_owned();

    // cd "$(superset start KEY)" lands in the task's own worktree; the clone is untouched.
    let started = tokio::task::spawn_blocking({
        let (p, key) = (p.clone(), key.clone());
        move || {
            shell(
                &p,
                &format!("cd \"$(superset start {key})\"\npwd\ngit rev-parse --abbrev-ref HEAD"),
            )
        }
    })
    .await
    .unwrap();
    let out = ok(&started);
    let mut lines = out.lines();
    let worktree = lines.next().unwrap().to_owned();
    let branch = lines.next().unwrap().to_owned();
    assert!(worktree.contains(".worktrees"), "{worktree}");
    assert!(
        branch.to_lowercase().contains(&key.to_lowercase()),
        "{branch} for {key}"
    );
    assert_eq!(head(&clone), "main");
    assert!(
        text(&started.stderr).contains("working on"),
        "{}",
        text(&started.stderr)
    );

    let mine = tokio::task::spawn_blocking({
        let p = p.clone();
        move || superset(&p, &["--json", "workspaces"])
    })
    .await
    .unwrap();
    let mine: Value = serde_json::from_str(&ok(&mine)).unwrap();
    let listed = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["task"] == key.as_str())
        .unwrap();
    assert_eq!(listed["path"], worktree.as_str());
    assert_eq!(listed["branch"], branch.as_str());
    // It reached the server.
    let pg = setup.sql().await;
    let on_server: i64 = pg
        .query_one(
            "SELECT count(*) FROM workspaces WHERE owner_id = $1 AND git_branch = $2",
            &[&user.id, &branch],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(on_server, 1);

    // Errors, in words.
    let errors = tokio::task::spawn_blocking({
        let (p, key, clone) = (p.clone(), key.clone(), clone.clone());
        let elsewhere = folders.path().join("not-linked");
        move || {
            std::fs::create_dir_all(&elsewhere).unwrap();
            let unknown = superset(&p, &["start", "NOPE-999"]);
            let unlinked = superset(
                &p,
                &["start", &key, "--folder", elsewhere.to_str().unwrap()],
            );
            // A branch whose worktree folder vanished is busy: refused, saying where.
            let gone = superset(
                &p,
                &["explore", &repository.name, "--branch", "gone-branch"],
            );
            let gone_path = text(&gone.stdout).trim().to_owned();
            std::fs::remove_dir_all(&gone_path).unwrap();
            let busy = superset(
                &p,
                &[
                    "explore",
                    clone.to_str().unwrap(),
                    "--branch",
                    "gone-branch",
                ],
            );
            (unknown, unlinked, busy, gone_path)
        }
    })
    .await
    .unwrap();
    refused(&errors.0, "there is no task NOPE-999");
    refused(&errors.1, "is not a folder linked");
    refused(&errors.2, &errors.3);
    refused(&errors.2, "git worktree prune");

    // Done with --remove: the clean worktree goes, the branch stays.
    let done = tokio::task::spawn_blocking({
        let (p, key) = (p.clone(), key.clone());
        move || superset(&p, &["done", &key, "--remove"])
    })
    .await
    .unwrap();
    ok(&done);
    assert!(
        text(&done.stderr).contains("removed the worktree"),
        "{}",
        text(&done.stderr)
    );
    assert!(!Path::new(&worktree).exists());
    let archived: i64 = pg
        .query_one(
            "SELECT count(*) FROM workspaces WHERE owner_id = $1 AND git_branch = $2 \
                    AND status = 'archived'",
            &[&user.id, &branch],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(archived, 1);
    setup.stop().await;
}
