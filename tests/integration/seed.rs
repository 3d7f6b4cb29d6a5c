//! `superset-server seed`: deterministic, consistent, and fast enough for benchmark sizes.

use superset::server::{db, seed};
use superset::testkit;
use time::macros::datetime;
use tokio_postgres::Client;

fn config(seed: u64) -> seed::SeedConfig {
    seed::SeedConfig {
        seed,
        now: datetime!(2026-11-25 10:00 UTC),
        ..seed::SeedConfig::default()
    }
}

async fn seeded(config: &seed::SeedConfig) -> Client {
    let mut client = db::connect(&testkit::fresh_database().await).await.unwrap();
    seed::insert(&mut client, &seed::generate(config))
        .await
        .unwrap();
    client
}

/// Every synced row as text, in a stable order.
async fn dump(client: &Client) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "organizations",
        "users",
        "organization_members",
        "repositories",
        "tasks",
        "workspaces",
    ] {
        let sql = format!(
            "SELECT (to_jsonb(t) - 'created_at' - 'updated_at')::text FROM {table} t ORDER BY id"
        );
        for row in client.query(&sql, &[]).await.unwrap() {
            out.push(format!("{table} {}", row.get::<_, String>(0)));
        }
    }
    out
}

#[tokio::test]
async fn the_same_seed_gives_the_same_team_and_another_seed_another() {
    let a = dump(&seeded(&config(7)).await).await;
    let b = dump(&seeded(&config(7)).await).await;
    assert_eq!(a, b);
    let c = dump(&seeded(&config(8)).await).await;
    assert_ne!(a, c);
}

#[tokio::test]
async fn the_default_team_is_realistic_and_consistent() {
    let client = seeded(&config(1)).await;
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(count("SELECT count(*) FROM organizations").await, 2);
    assert_eq!(count("SELECT count(*) FROM users").await, 8);
    assert_eq!(count("SELECT count(*) FROM repositories").await, 5);
    assert_eq!(count("SELECT count(*) FROM tasks").await, 200);
    assert_eq!(count("SELECT count(*) FROM workspaces").await, 20);
    // One user belongs to both organizations; each org has exactly one owner.
    assert_eq!(
        count("SELECT count(*) FROM (SELECT user_id FROM organization_members GROUP BY user_id HAVING count(*) = 2) m").await,
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM (SELECT organization_id FROM organization_members WHERE role = 'owner' GROUP BY organization_id HAVING count(*) = 1) o").await,
        2
    );
    // Foreign keys stay inside one organization: assignees and owners are members, repositories
    // and tasks belong to the workspace's org.
    assert_eq!(
        count("SELECT count(*) FROM tasks t WHERE assignee_id IS NOT NULL AND NOT EXISTS \
               (SELECT 1 FROM organization_members m WHERE m.user_id = t.assignee_id AND m.organization_id = t.organization_id)").await,
        0
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM tasks t JOIN repositories r ON r.id = t.repository_id \
               WHERE r.organization_id <> t.organization_id"
        )
        .await,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM workspaces w JOIN repositories r ON r.id = w.repository_id \
               LEFT JOIN tasks t ON t.id = w.task_id \
               WHERE r.organization_id <> w.organization_id OR t.organization_id <> w.organization_id \
               OR NOT EXISTS (SELECT 1 FROM organization_members m WHERE m.user_id = w.owner_id AND m.organization_id = w.organization_id)").await,
        0
    );
    // Variety the UI needs to show: Linear keys, statuses with colours, every PR status,
    // exploratory work, cloud and local, active and idle.
    assert!(count("SELECT count(*) FROM tasks WHERE external_key ~ '^SUPER-[0-9]+$'").await > 50);
    assert!(count("SELECT count(DISTINCT status) FROM tasks").await >= 5);
    assert_eq!(
        count("SELECT count(*) FROM tasks WHERE status_color IS NULL").await,
        0
    );
    assert_eq!(
        count("SELECT count(DISTINCT pr_status) FROM workspaces").await,
        4
    );
    assert!(count("SELECT count(*) FROM workspaces WHERE task_id IS NULL").await >= 1);
    assert!(count("SELECT count(*) FROM workspaces WHERE type = 'cloud'").await >= 1);
    assert!(count("SELECT count(*) FROM workspaces WHERE status = 'active'").await >= 1);
    assert!(count("SELECT count(*) FROM workspaces WHERE status = 'idle'").await >= 1);
    assert!(count("SELECT count(*) FROM tasks WHERE repository_id IS NOT NULL").await >= 1);
    assert!(count("SELECT count(*) FROM repositories WHERE url ~ '^https://github.com/[a-z0-9-]+/[a-z0-9-]+$'").await == 5);
}

#[tokio::test]
async fn seeding_twice_is_refused_and_wipe_starts_over() {
    let mut client = seeded(&config(1)).await;
    let again = seed::insert(&mut client, &seed::generate(&config(1))).await;
    assert!(matches!(again, Err(seed::SeedError::NotEmpty)), "{again:?}");
    seed::wipe(&client).await.unwrap();
    seed::insert(&mut client, &seed::generate(&config(1)))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_hundred_thousand_tasks_seed() {
    let big = seed::SeedConfig {
        tasks: 100_000,
        workspaces: 2_000,
        ..config(3)
    };
    let client = seeded(&big).await;
    let tasks: i64 = client
        .query_one("SELECT count(*) FROM tasks", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tasks, 100_000);
}
