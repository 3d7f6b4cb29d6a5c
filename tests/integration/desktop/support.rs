//! A seeded server, a signed-in desktop profile, and a comparison of what the profile's SQLite
//! holds with what the user may see in Postgres.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use superset::profile;
use superset::server::{api::accounts, db, seed};
use superset::store;
use superset::sync::engine::Engine;
use superset::sync::events::{Events, SyncStatus};
use superset::sync::session::Session;
use superset::testkit::{self, AppServer};
use tokio_postgres::Client;
use uuid::Uuid;

pub const PASSWORD: &str = "superset";

pub struct Setup {
    pub database_url: String,
    pub server: AppServer,
    pub team: seed::Team,
    /// Keeps the server's shape store alive for the test.
    pub _server_dir: tempfile::TempDir,
}

impl Setup {
    pub async fn start(tasks: usize) -> Self {
        let database_url = testkit::fresh_database().await;
        let mut client = db::connect(&database_url).await.unwrap();
        let team = seed::generate(&seed::SeedConfig {
            tasks,
            ..seed::SeedConfig::default()
        });
        seed::insert(&mut client, &team).await.unwrap();
        let hash = accounts::hash_password(PASSWORD.into()).await.unwrap();
        seed::set_passwords(&client, &team, &hash).await.unwrap();
        let server_dir = tempfile::tempdir().unwrap();
        let server = AppServer::start(&database_url, server_dir.path()).await;
        Self {
            database_url,
            server,
            team,
            _server_dir: server_dir,
        }
    }

    pub async fn sql(&self) -> Client {
        db::connect(&self.database_url).await.unwrap()
    }

    /// The seeded user that belongs to both organizations.
    pub fn multi_org_user(&self) -> &seed::User {
        &self.team.users[0]
    }

    /// A server with `tasks` tasks, and a profile of the multi-organization user whose
    /// engine is live.
    pub async fn live_desktop(tasks: usize) -> (Self, tempfile::TempDir, seed::User, Desktop) {
        let setup = Self::start(tasks).await;
        let profile = tempfile::tempdir().unwrap();
        let user = setup.multi_org_user().clone();
        setup.login(profile.path(), &user.email).await;
        let mut desktop = Desktop::start(profile.path());
        desktop.wait_live(Duration::from_secs(30)).await;
        (setup, profile, user, desktop)
    }

    pub async fn login(&self, profile: &Path, email: &str) {
        profile::login(profile, &self.server.base_url, email, PASSWORD)
            .await
            .unwrap();
    }

    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// An engine running in this process on a profile.
pub struct Desktop {
    pub engine: Option<Engine>,
    pub events: Events,
}

impl Desktop {
    pub fn start(profile: &Path) -> Self {
        let http = profile::http_client();
        let session = Arc::new(Session::open(profile, http.clone()));
        store::open(&profile::database_path(profile)).unwrap();
        let (engine, events) = Engine::start(profile::database_path(profile), session, http, || {});
        Self {
            engine: Some(engine),
            events,
        }
    }

    pub async fn wait_live(&mut self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.events.status() == SyncStatus::Live {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not live within {limit:?}: {:?}",
                self.events.status()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(engine) = self.engine.take() {
            engine.stop().await;
        }
    }
}

/// The organizations `user` belongs to.
pub async fn orgs_of(pg: &Client, user: Uuid) -> Vec<Uuid> {
    pg.query(
        "SELECT organization_id FROM organization_members WHERE user_id = $1",
        &[&user],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Per table, the rows `user` may see in Postgres and the rows the profile holds, each as
/// sorted text rows over the SQLite table's columns.
pub async fn differences(pg: &Client, profile: &Path, user: Uuid) -> Vec<String> {
    pg.batch_execute(
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, DMY'; SET extra_float_digits = 1",
    )
    .await
    .unwrap();
    let orgs = orgs_of(pg, user).await;
    let conn = store::open(&profile::database_path(profile)).unwrap();
    let mut problems = Vec::new();
    for table in superset::protocol::SYNCED_TABLES {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let visible = match table {
            "organizations" => "id = ANY($1)",
            "users" => {
                "id IN (SELECT user_id FROM organization_members WHERE organization_id = ANY($1))"
            }
            _ => "organization_id = ANY($1)",
        };
        let select_pg: Vec<String> = columns.iter().map(|c| format!("\"{c}\"::text")).collect();
        let expected: Vec<Vec<Option<String>>> = pg
            .query(
                &format!(
                    "SELECT {} FROM {table} WHERE {visible} ORDER BY id",
                    select_pg.join(", ")
                ),
                &[&orgs],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (0..columns.len()).map(|i| r.get(i)).collect())
            .collect();
        let select_lite: Vec<String> = columns
            .iter()
            .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
            .collect();
        let actual: Vec<Vec<Option<String>>> = conn
            .prepare(&format!(
                "SELECT {} FROM {table} ORDER BY id",
                select_lite.join(", ")
            ))
            .unwrap()
            .query_map([], |r| (0..columns.len()).map(|i| r.get(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        if expected != actual {
            let missing = expected.iter().filter(|r| !actual.contains(r)).count();
            let extra = actual.iter().filter(|r| !expected.contains(r)).count();
            problems.push(format!(
                "{table}: postgres {} rows, sqlite {} rows ({missing} missing or stale, {extra} extra); first diff: {:?}",
                expected.len(),
                actual.len(),
                expected.iter().find(|r| !actual.contains(r)).or(actual.iter().find(|r| !expected.contains(r)))
            ));
        }
    }
    problems
}

/// Waits until the profile matches Postgres for `user`.
pub async fn converge(pg: &Client, profile: &Path, user: Uuid, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let problems = differences(pg, profile, user).await;
        if problems.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "did not converge in {limit:?}:\n{}",
            problems.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Random inserts, updates and deletes across all six tables, `rounds` transactions.
pub async fn churn(pg: &Client, rounds: usize, seed: u64) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for round in 0..rounds {
        let statement = match rng.random_range(0..9) {
            0 => {
                "UPDATE organizations SET name = 'Org ' || substr(md5(random()::text), 1, 6) \
                  WHERE id = (SELECT id FROM organizations ORDER BY random() LIMIT 1)"
            }
            1 => {
                "UPDATE users SET name = 'User ' || substr(md5(random()::text), 1, 6) \
                  WHERE id = (SELECT id FROM users ORDER BY random() LIMIT 1)"
            }
            2 => {
                "UPDATE organization_members SET role = (ARRAY['admin','member'])[1 + (random() * 1)::int] \
                  WHERE id = (SELECT id FROM organization_members WHERE role <> 'owner' ORDER BY random() LIMIT 1)"
            }
            3 => {
                "INSERT INTO repositories (organization_id, name, slug, url) \
                  SELECT id, 'r', 'r', 'https://github.com/x/' || md5(random()::text) FROM organizations ORDER BY random() LIMIT 1"
            }
            4 => {
                "INSERT INTO tasks (organization_id, title, labels) \
                  SELECT id, 'Churn task', '[\"churn\"]' FROM organizations ORDER BY random() LIMIT 1"
            }
            5 => {
                "UPDATE tasks SET status = (ARRAY['Todo','In Progress','Done'])[1 + (random() * 2)::int], \
                  priority = 'high' WHERE id = (SELECT id FROM tasks ORDER BY random() LIMIT 1)"
            }
            6 => {
                "DELETE FROM tasks WHERE id = (SELECT id FROM tasks WHERE id NOT IN \
                  (SELECT task_id FROM workspaces WHERE task_id IS NOT NULL) ORDER BY random() LIMIT 1)"
            }
            7 => {
                "UPDATE workspaces SET git_status = jsonb_build_object('uncommitted', (random() * 9)::int), \
                  last_activity_at = now() WHERE id = (SELECT id FROM workspaces ORDER BY random() LIMIT 1)"
            }
            _ => {
                "UPDATE tasks SET title = 'Renamed ' || substr(md5(random()::text), 1, 6), \
                  assignee_id = NULL WHERE id = (SELECT id FROM tasks ORDER BY random() LIMIT 1)"
            }
        };
        pg.batch_execute(statement)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
}
