//! One stream per (table, organization): joining an organization brings its rows and leaves the
//! others' untouched; leaving it, also while the engine is stopped, takes its rows away and
//! keeps the others without refetching them; an older desktop's database moves to per-
//! organization streams without the window ever going empty.
//!
//! "Untouched" is proven on the real SQLite file: triggers record every write to a kept
//! organization's rows, and its streams' handles must not change.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use superset::profile;
use superset::store;
use uuid::Uuid;

use super::support::{Desktop, Setup, converge, differences, orgs_of};

const WATCHED: [&str; 4] = [
    "organization_members",
    "repositories",
    "tasks",
    "workspaces",
];

fn open(profile: &Path) -> Connection {
    store::open(&profile::database_path(profile)).unwrap()
}

/// Records every later write to `organization`'s rows in `watched_writes`.
fn watch_writes(profile: &Path, organization: Uuid) {
    let conn = open(profile);
    conn.execute_batch("CREATE TABLE IF NOT EXISTS watched_writes (what TEXT)")
        .unwrap();
    for table in WATCHED {
        for (event, row) in [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")] {
            conn.execute_batch(&format!(
                "CREATE TRIGGER watch_{table}_{event} AFTER {event} ON {table} \
                 WHEN {row}.organization_id = '{organization}' \
                 BEGIN INSERT INTO watched_writes VALUES ('{event} {table} ' || {row}.id); END"
            ))
            .unwrap();
        }
    }
}

fn watched_writes(profile: &Path) -> Vec<String> {
    open(profile)
        .prepare("SELECT what FROM watched_writes")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// `organization`'s streams and their handles.
fn handles(profile: &Path, organization: Uuid) -> BTreeMap<String, String> {
    open(profile)
        .prepare("SELECT table_name, handle FROM electric_sync_state WHERE table_name GLOB ?1")
        .unwrap()
        .query_map([format!("*@{organization}")], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// `organization`'s streams kept their handles (`before`) and its rows saw no write.
fn assert_untouched(profile: &Path, organization: Uuid, before: &BTreeMap<String, String>) {
    assert_eq!(
        &handles(profile, organization),
        before,
        "a kept stream was refetched"
    );
    assert_eq!(watched_writes(profile), Vec::<String>::new());
}

fn count(db: &Path, sql: &str, organization: Uuid) -> i64 {
    store::open(db)
        .unwrap()
        .query_row(sql, [organization.to_string()], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn joining_an_organization_brings_its_rows_and_leaves_the_others_untouched() {
    let setup = Setup::start(60).await;
    let pg = setup.sql().await;
    let (a, b) = (
        setup.team.organizations[0].id,
        setup.team.organizations[1].id,
    );
    let mut single = None;
    for user in &setup.team.users {
        if orgs_of(&pg, user.id).await == [a] {
            single = Some(user.clone());
            break;
        }
    }
    let user = single.expect("someone belongs to the first organization only");
    let profile = tempfile::tempdir().unwrap();
    setup.login(profile.path(), &user.email).await;
    let mut desktop = Desktop::start(profile.path());
    desktop.wait_live(Duration::from_secs(30)).await;
    converge(&pg, profile.path(), user.id, Duration::from_secs(10)).await;
    assert!(handles(profile.path(), b).is_empty());
    let before = handles(profile.path(), a);
    assert_eq!(before.len(), 5, "{before:?}");
    watch_writes(profile.path(), a);

    pg.execute(
        "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2)",
        &[&b, &user.id],
    )
    .await
    .unwrap();
    converge(&pg, profile.path(), user.id, Duration::from_secs(15)).await;
    desktop.wait_live(Duration::from_secs(10)).await;
    let db = profile::database_path(profile.path());
    assert!(
        count(
            &db,
            "SELECT count(*) FROM tasks WHERE organization_id = ?1",
            b
        ) > 0
    );
    assert_eq!(handles(profile.path(), b).len(), 5);
    assert_untouched(profile.path(), a, &before);
    desktop.stop().await;
    setup.stop().await;
}

#[tokio::test]
async fn leaving_while_stopped_removes_its_rows_and_keeps_the_others_without_a_refetch() {
    let (setup, profile, user, desktop) = Setup::live_desktop(100).await;
    desktop.stop().await;
    let pg = setup.sql().await;
    let (kept, removed) = (
        setup.team.organizations[0].id,
        setup.team.organizations[1].id,
    );
    let before = handles(profile.path(), kept);
    watch_writes(profile.path(), kept);
    pg.execute(
        "DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2",
        &[&removed, &user.id],
    )
    .await
    .unwrap();
    let db = profile::database_path(profile.path());
    let tasks_of = |org| {
        count(
            &db,
            "SELECT count(*) FROM tasks WHERE organization_id = ?1",
            org,
        )
    };
    assert!(tasks_of(removed) > 0);

    let mut desktop = Desktop::start(profile.path());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !differences(&pg, profile.path(), user.id).await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "did not converge: {:?}\n{}",
            differences(&pg, profile.path(), user.id).await,
            superset::commands::status(profile.path()).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    desktop.wait_live(Duration::from_secs(10)).await;
    assert_eq!(tasks_of(removed), 0);
    assert!(handles(profile.path(), removed).is_empty());
    assert_untouched(profile.path(), kept, &before);
    desktop.stop().await;
    setup.stop().await;
}

/// A database of the version that synced one shape per table for all the user's organizations
/// (schema 6, positions keyed by table) is migrated: its rows stay visible while each
/// organization's first snapshot loads beside them, and the result is exactly what the user
/// may see.
#[tokio::test]
async fn an_older_desktops_database_moves_to_organization_streams_without_going_empty() {
    let (setup, profile, user, desktop) = Setup::live_desktop(150).await;
    desktop.stop().await;
    let pg = setup.sql().await;
    let db = profile::database_path(profile.path());
    {
        // What 0006 left: one position per table, tags under the table's name.
        let conn = store::open(&db).unwrap();
        conn.execute_batch(
            "DELETE FROM electric_sync_state WHERE table_name <> 'organizations';
             INSERT INTO electric_sync_state (table_name, handle, shape_offset)
                 SELECT t, 'old-handle', '0_0' FROM (SELECT 'users' AS t UNION SELECT 'tasks'
                 UNION SELECT 'workspaces' UNION SELECT 'repositories' UNION SELECT 'organization_members');
             INSERT OR IGNORE INTO synced_row_tags SELECT 'users', row_id, tag FROM synced_row_tags;
             DELETE FROM synced_row_tags WHERE table_name <> 'users';
             DROP INDEX staging_organization_members_organization_id;
             DROP INDEX staging_repositories_organization_id;
             DROP INDEX staging_tasks_organization_id;
             DROP INDEX staging_workspaces_organization_id;
             PRAGMA user_version = 6;",
        )
        .unwrap();
    }
    let total = || -> (i64, i64) {
        let conn = store::open(&db).unwrap();
        let tasks = conn
            .query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))
            .unwrap();
        let users = conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .unwrap();
        (tasks, users)
    };
    let before = total();
    let mut desktop = Desktop::start(profile.path());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !differences(&pg, profile.path(), user.id).await.is_empty() {
        let now = total();
        assert!(
            now.0 >= before.0 && now.1 >= before.1,
            "rows vanished while the organizations loaded: {before:?} → {now:?}"
        );
        assert!(tokio::time::Instant::now() < deadline, "did not converge");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    desktop.wait_live(Duration::from_secs(10)).await;
    let streams: i64 = store::open(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM electric_sync_state WHERE instr(table_name, '@') > 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        streams, 10,
        "five streams for each of the two organizations"
    );
    desktop.stop().await;
    setup.stop().await;
}
