//! The Postgres schema: every seed column with its type, constraints, indexes, `updated_at`
//! maintenance, the publication, and migrations that are safe to run twice.

use std::collections::BTreeSet;

use superset::server::{db, migrate};
use superset::testkit;
use tokio_postgres::Client;

const SYNCED: [&str; 6] = [
    "organizations",
    "users",
    "organization_members",
    "repositories",
    "tasks",
    "workspaces",
];

async fn migrated() -> Client {
    db::connect(&testkit::fresh_database().await).await.unwrap()
}

#[tokio::test]
async fn migrations_apply_to_a_fresh_database_and_a_second_run_is_a_no_op() {
    let mut client = db::connect(&testkit::empty_database().await).await.unwrap();
    let first = migrate::migrate(&mut client).await.unwrap();
    assert!(!first.is_empty(), "a fresh database gets every migration");
    let second = migrate::migrate(&mut client).await.unwrap();
    assert!(
        second.is_empty(),
        "nothing to apply the second time: {second:?}"
    );
    let recorded: i64 = client
        .query_one("SELECT count(*) FROM refinery_schema_history", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(recorded as usize, first.len());
}

#[tokio::test]
async fn every_seed_column_exists_with_its_type() {
    let client = migrated().await;
    let expected: &[(&str, &[(&str, &str)])] = &[
        (
            "organizations",
            &[
                ("id", "uuid"),
                ("name", "text"),
                ("slug", "text"),
                ("avatar_url", "text"),
                ("created_at", "timestamp with time zone"),
                ("updated_at", "timestamp with time zone"),
            ],
        ),
        (
            "users",
            &[
                ("id", "uuid"),
                ("email", "text"),
                ("name", "text"),
                ("avatar_url", "text"),
                ("created_at", "timestamp with time zone"),
                ("updated_at", "timestamp with time zone"),
            ],
        ),
        (
            "organization_members",
            &[
                ("id", "uuid"),
                ("organization_id", "uuid"),
                ("user_id", "uuid"),
                ("role", "text"),
                ("created_at", "timestamp with time zone"),
                ("updated_at", "timestamp with time zone"),
            ],
        ),
        (
            "repositories",
            &[
                ("id", "uuid"),
                ("organization_id", "uuid"),
                ("name", "text"),
                ("slug", "text"),
                ("url", "text"),
                ("default_branch", "text"),
                ("github_id", "bigint"),
                ("created_at", "timestamp with time zone"),
                ("updated_at", "timestamp with time zone"),
            ],
        ),
        (
            "tasks",
            &[
                ("id", "uuid"),
                ("organization_id", "uuid"),
                ("repository_id", "uuid"),
                ("title", "text"),
                ("description", "text"),
                ("status", "text"),
                ("status_color", "text"),
                ("priority", "text"),
                ("assignee_id", "uuid"),
                ("external_provider", "text"),
                ("external_id", "text"),
                ("external_key", "text"),
                ("external_url", "text"),
                ("branch", "text"),
                ("labels", "jsonb"),
                ("due_date", "date"),
                ("created_at", "timestamp with time zone"),
                ("updated_at", "timestamp with time zone"),
                ("deleted_at", "timestamp with time zone"),
            ],
        ),
        (
            "workspaces",
            &[
                ("id", "uuid"),
                ("organization_id", "uuid"),
                ("task_id", "uuid"),
                ("repository_id", "uuid"),
                ("owner_id", "uuid"),
                ("type", "text"),
                ("device_name", "text"),
                ("status", "text"),
                ("git_branch", "text"),
                ("git_status", "jsonb"),
                ("pr_url", "text"),
                ("pr_number", "integer"),
                ("pr_status", "text"),
                ("last_activity_at", "timestamp with time zone"),
                ("created_at", "timestamp with time zone"),
                ("updated_at", "timestamp with time zone"),
            ],
        ),
    ];
    for (table, columns) in expected {
        let rows = client
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1",
                &[table],
            )
            .await
            .unwrap();
        let actual: BTreeSet<(String, String)> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        for (column, ty) in *columns {
            assert!(
                actual.contains(&(column.to_string(), ty.to_string())),
                "{table}.{column} should be {ty}; table has {actual:?}"
            );
        }
    }
    // ids default to gen_random_uuid() and times to now().
    let default: String = client
        .query_one(
            "SELECT column_default FROM information_schema.columns \
             WHERE table_name = 'tasks' AND column_name = 'id'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(default, "gen_random_uuid()");
}

/// Inserts one organization, user and repository and returns their ids.
async fn minimal_team(client: &Client) -> (uuid::Uuid, uuid::Uuid, uuid::Uuid) {
    let org: uuid::Uuid = client
        .query_one(
            "INSERT INTO organizations (name, slug) VALUES ('Acme', 'acme') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let user: uuid::Uuid = client
        .query_one(
            "INSERT INTO users (email, name) VALUES ('a@example.com', 'A') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let repo: uuid::Uuid = client
        .query_one(
            "INSERT INTO repositories (organization_id, name, slug, url) \
             VALUES ($1, 'r', 'r', 'https://github.com/acme/r') RETURNING id",
            &[&org],
        )
        .await
        .unwrap()
        .get(0);
    (org, user, repo)
}

#[tokio::test]
async fn check_constraints_reject_invalid_enum_values() {
    let client = migrated().await;
    let (org, user, repo) = minimal_team(&client).await;
    let bad_priority = client
        .execute(
            "INSERT INTO tasks (organization_id, title, priority) VALUES ($1, 't', 'critical')",
            &[&org],
        )
        .await;
    assert_check_violation(bad_priority);
    let bad_pr = client
        .execute(
            "INSERT INTO workspaces (organization_id, repository_id, owner_id, device_name, pr_status) \
             VALUES ($1, $2, $3, 'laptop', 'approved')",
            &[&org, &repo, &user],
        )
        .await;
    assert_check_violation(bad_pr);
    let bad_role = client
        .execute(
            "INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, 'god')",
            &[&org, &user],
        )
        .await;
    assert_check_violation(bad_role);
    let bad_type = client
        .execute(
            "INSERT INTO workspaces (organization_id, repository_id, owner_id, device_name, type) \
             VALUES ($1, $2, $3, 'laptop', 'vm')",
            &[&org, &repo, &user],
        )
        .await;
    assert_check_violation(bad_type);
    let bad_provider = client
        .execute(
            "INSERT INTO tasks (organization_id, title, external_provider, external_id) \
             VALUES ($1, 't', 'jira', 'J-1')",
            &[&org],
        )
        .await;
    assert_check_violation(bad_provider);
    // And the good values go in.
    client
        .execute(
            "INSERT INTO workspaces (organization_id, repository_id, owner_id, device_name, type, status, pr_status) \
             VALUES ($1, $2, $3, 'laptop', 'cloud', 'idle', 'merged')",
            &[&org, &repo, &user],
        )
        .await
        .unwrap();
}

fn assert_check_violation(result: Result<u64, tokio_postgres::Error>) {
    let error = result.expect_err("the insert should be rejected");
    assert_eq!(
        error.code(),
        Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION),
        "{error}"
    );
}

#[tokio::test]
async fn uniqueness_and_foreign_keys_hold() {
    let client = migrated().await;
    let (org, user, _) = minimal_team(&client).await;
    client
        .execute(
            "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2)",
            &[&org, &user],
        )
        .await
        .unwrap();
    let twice = client
        .execute(
            "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2)",
            &[&org, &user],
        )
        .await
        .expect_err("a user is a member of an org once");
    assert_eq!(
        twice.code(),
        Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
    );
    for _ in 0..2 {
        let _ = client
            .execute(
                "INSERT INTO tasks (organization_id, title, external_provider, external_id) \
                 VALUES ($1, 't', 'linear', 'L-1')",
                &[&org],
            )
            .await;
    }
    let count: i64 = client
        .query_one("SELECT count(*) FROM tasks WHERE external_id = 'L-1'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1, "(external_provider, external_id) is unique");
    let orphan = client
        .execute(
            "INSERT INTO tasks (organization_id, title) VALUES (gen_random_uuid(), 't')",
            &[],
        )
        .await
        .expect_err("a task needs a real organization");
    assert_eq!(
        orphan.code(),
        Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION)
    );
}

#[tokio::test]
async fn the_required_indexes_exist() {
    let client = migrated().await;
    let rows = client
        .query(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'",
            &[],
        )
        .await
        .unwrap();
    let defs: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let has = |table: &str, columns: &str| {
        defs.iter()
            .any(|d| d.contains(&format!("ON public.{table} USING btree ({columns})")))
    };
    for table in [
        "organization_members",
        "repositories",
        "tasks",
        "workspaces",
    ] {
        assert!(
            has(table, "organization_id"),
            "{table}(organization_id) in {defs:#?}"
        );
    }
    assert!(has("organization_members", "organization_id, user_id"));
    // A task is one per (organization, provider, external id): webhooks never move tasks.
    assert!(has(
        "tasks",
        "organization_id, external_provider, external_id"
    ));
    assert!(has("workspaces", "pr_url"));
    assert!(has("workspaces", "repository_id, git_branch"));
    assert!(has("repositories", "organization_id, url"));
}

#[tokio::test]
async fn updated_at_is_maintained_by_the_database() {
    let client = migrated().await;
    let (org, _, _) = minimal_team(&client).await;
    let task: uuid::Uuid = client
        .query_one(
            "INSERT INTO tasks (organization_id, title, updated_at) \
             VALUES ($1, 'old', now() - interval '1 day') RETURNING id",
            &[&org],
        )
        .await
        .unwrap()
        .get(0);
    let before = updated_at(&client).await;
    client
        .execute("UPDATE tasks SET title = 'new' WHERE id = $1", &[&task])
        .await
        .unwrap();
    let after = updated_at(&client).await;
    assert!(
        after > before,
        "a real change moves updated_at ({before} → {after})"
    );
    client
        .execute("UPDATE tasks SET title = 'new' WHERE id = $1", &[&task])
        .await
        .unwrap();
    assert_eq!(
        updated_at(&client).await,
        after,
        "a no-op update leaves updated_at alone"
    );
}

async fn updated_at(client: &Client) -> time::OffsetDateTime {
    client
        .query_one("SELECT updated_at FROM tasks", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn the_publication_holds_exactly_the_six_synced_tables_with_full_replica_identity() {
    let client = migrated().await;
    let rows = client
        .query(
            "SELECT tablename::text FROM pg_publication_tables WHERE pubname = 'superset_sync'",
            &[],
        )
        .await
        .unwrap();
    let published: BTreeSet<String> = rows.iter().map(|r| r.get(0)).collect();
    let expected: BTreeSet<String> = SYNCED.iter().map(|t| t.to_string()).collect();
    assert_eq!(published, expected);
    for table in SYNCED {
        let identity: i8 = client
            .query_one(
                "SELECT relreplident::\"char\" FROM pg_class WHERE oid = $1::text::regclass",
                &[&table],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(identity as u8, b'f', "{table} has REPLICA IDENTITY FULL");
    }
}

#[tokio::test]
async fn a_row_never_moves_to_another_organization() {
    let client = migrated().await;
    let (org, _, _) = minimal_team(&client).await;
    let other: uuid::Uuid = client
        .query_one(
            "INSERT INTO organizations (name, slug) VALUES ('Other', 'other') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let task: uuid::Uuid = client
        .query_one(
            "INSERT INTO tasks (organization_id, title) VALUES ($1, 'Stays') RETURNING id",
            &[&org],
        )
        .await
        .unwrap()
        .get(0);
    let moved = client
        .execute(
            "UPDATE tasks SET organization_id = $1 WHERE id = $2",
            &[&other, &task],
        )
        .await;
    let error = moved.unwrap_err();
    let message = error.as_db_error().map(|e| e.message().to_owned());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("cannot move to another organization")),
        "{error:?}"
    );
    let still: uuid::Uuid = client
        .query_one("SELECT organization_id FROM tasks WHERE id = $1", &[&task])
        .await
        .unwrap()
        .get(0);
    assert_eq!(still, org);
    // Other columns change as before.
    client
        .execute("UPDATE tasks SET title = 'Renamed' WHERE id = $1", &[&task])
        .await
        .unwrap();
}
