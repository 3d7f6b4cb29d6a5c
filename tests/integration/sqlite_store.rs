//! The desktop's SQLite file: created fresh, reopened, and refused when it is from the future.

use superset::store;

#[test]
fn a_fresh_file_gets_the_whole_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("superset.db");
    let conn = store::open(&path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in [
        "electric_sync_state",
        "local_repos",
        "organization_members",
        "organizations",
        "outbox",
        "repositories",
        "settings",
        "tasks",
        "users",
        "workspaces",
    ] {
        assert!(
            tables.contains(&table.to_string()),
            "{table} missing from {tables:?}"
        );
    }
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    // settings is a single row that always exists.
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM settings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
    assert!(
        conn.execute("INSERT INTO settings (id) VALUES (2)", [])
            .is_err()
    );
}

#[test]
fn synced_tables_keep_postgres_column_names() {
    let dir = tempfile::tempdir().unwrap();
    let conn = store::open(&dir.path().join("superset.db")).unwrap();
    let columns = |table: &str| -> Vec<String> {
        conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        columns("workspaces"),
        [
            "id",
            "organization_id",
            "task_id",
            "repository_id",
            "owner_id",
            "type",
            "device_name",
            "status",
            "git_branch",
            "git_status",
            "pr_url",
            "pr_number",
            "pr_status",
            "last_activity_at",
            "created_at",
            "updated_at",
            "pr_review_status"
        ]
    );
    assert_eq!(columns("tasks").len(), 19);
    assert!(columns("local_repos").contains(&"remote_url".to_string()));
}

#[test]
fn an_already_migrated_file_reopens_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("superset.db");
    {
        let conn = store::open(&path).unwrap();
        conn.execute(
            "INSERT INTO local_repos (id, local_path, device_id) VALUES ('r1', '/code/app', 'd1')",
            [],
        )
        .unwrap();
        conn.execute("UPDATE settings SET theme = 'dark'", [])
            .unwrap();
    }
    let conn = store::open(&path).unwrap();
    let theme: String = conn
        .query_row("SELECT theme FROM settings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(theme, "dark");
    let repos: i64 = conn
        .query_row("SELECT count(*) FROM local_repos", [], |r| r.get(0))
        .unwrap();
    assert_eq!(repos, 1);
}

#[test]
fn a_file_from_a_newer_app_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("superset.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let error = store::open(&path).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("newer Superset"), "{text}");
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("superset.db");
    std::fs::write(
        &path,
        b"this is not sqlite, just some text that is long enough........",
    )
    .unwrap();
    assert!(store::open(&path).is_err());
}
