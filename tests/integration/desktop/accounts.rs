//! Signing out and in as someone else: synced data goes, linked folders and preferences stay,
//! and folders are re-linked to the new user's repositories by their remote URL.

use std::time::Duration;

use superset::gitlink::linking;
use superset::store;
use superset::{commands, profile};

use super::support::{Desktop, Setup, converge};

#[tokio::test]
async fn sign_out_keeps_folders_and_theme_and_another_user_relinks_them() {
    let setup = Setup::start(30).await;
    let profile = tempfile::tempdir().unwrap();
    let first = setup.multi_org_user().clone();
    setup.login(profile.path(), &first.email).await;
    assert_token_kept_in_a_private_file(profile.path());
    let mut desktop = Desktop::start(profile.path());
    desktop.wait_live(Duration::from_secs(30)).await;
    desktop.stop().await;
    // Two folders: one clone of the first organization's `superset` repository (ssh form), one
    // of a repository of the second organization.
    let org0_repo = setup
        .team
        .repositories
        .iter()
        .find(|r| r.organization == 0)
        .unwrap();
    let org1_repo = setup
        .team
        .repositories
        .iter()
        .find(|r| r.organization == 1)
        .unwrap();
    let ssh = |url: &str| {
        format!(
            "git@github.com:{}.git",
            url.trim_start_matches("https://github.com/")
        )
    };
    let db = profile::database_path(profile.path());
    {
        let conn = store::open(&db).unwrap();
        for (id, path, remote) in [
            ("f1", "/code/a", ssh(&org0_repo.url)),
            (
                "f2",
                "/code/b",
                format!("{}/", org1_repo.url.to_uppercase()),
            ),
        ] {
            conn.execute(
                "INSERT INTO local_repos (id, local_path, remote_url, device_id) VALUES (?1, ?2, ?3, 'd')",
                [id, path, remote.as_str()],
            )
            .unwrap();
        }
        linking::rematch(&conn).unwrap();
        conn.execute("UPDATE settings SET theme = 'dark'", [])
            .unwrap();
    }
    let link_of = |folder: &str| -> Option<String> {
        let conn = store::open(&db).unwrap();
        conn.query_row(
            "SELECT repository_id FROM local_repos WHERE id = ?1",
            [folder],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(link_of("f1"), Some(org0_repo.id.to_string()));
    assert_eq!(link_of("f2"), Some(org1_repo.id.to_string()));

    profile::logout(profile.path()).await.unwrap();
    {
        let conn = store::open(&db).unwrap();
        let synced_rows: i64 = superset::protocol::SYNCED_TABLES
            .iter()
            .map(|t| {
                conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .unwrap()
            })
            .sum();
        assert_eq!(synced_rows, 0, "synced data is gone");
        let positions: i64 = conn
            .query_row("SELECT count(*) FROM electric_sync_state", [], |r| r.get(0))
            .unwrap();
        assert_eq!(positions, 0);
        let folders: i64 = conn
            .query_row("SELECT count(*) FROM local_repos", [], |r| r.get(0))
            .unwrap();
        assert_eq!(folders, 2, "linked folders stay");
        let theme: String = conn
            .query_row("SELECT theme FROM settings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(theme, "dark", "preferences stay");
    }
    assert!(
        superset::sync::session::load(profile.path()).is_none(),
        "the session is forgotten"
    );

    // Someone in the first organization only.
    let second = setup
        .team
        .members
        .iter()
        .find(|m| m.organization == 0 && setup.team.users[m.user].id != first.id)
        .map(|m| setup.team.users[m.user].clone())
        .unwrap();
    setup.login(profile.path(), &second.email).await;
    let mut desktop = Desktop::start(profile.path());
    desktop.wait_live(Duration::from_secs(30)).await;
    let pg = setup.sql().await;
    converge(&pg, profile.path(), second.id, Duration::from_secs(10)).await;
    assert_eq!(
        link_of("f1"),
        Some(org0_repo.id.to_string()),
        "re-linked by remote URL"
    );
    assert_eq!(
        link_of("f2"),
        None,
        "a repository this user cannot see is unlinked"
    );
    desktop.stop().await;
    setup.stop().await;
}

/// Test machines have no session bus, so no OS keyring: the token is in `session.json`, which
/// only its owner can read, and `superset status` says where it is.
fn assert_token_kept_in_a_private_file(profile: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let file = profile.join("session.json");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let contents = std::fs::read_to_string(&file).unwrap();
    assert!(contents.contains("refresh_token"), "{contents}");
    let status = commands::status(profile).unwrap();
    assert!(status.contains("session.json (no OS keyring)"), "{status}");
}
