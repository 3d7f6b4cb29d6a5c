//! The sync service for tests: a seeded database, the service on it, plain requests to
//! `/v1/shape`, and shape followers straight from it (the shared `ShapeFollower`).

use std::time::Duration;

use superset::server::shapes::ShapeServiceConfig;
use superset::server::{db, seed};
use superset::testkit::{self, SyncServer};

pub use crate::support::{Reply, ShapeFollower};
use crate::support::{drop_replication_slots, reply, show_server_log};

/// `GET /v1/shape?{query}` on the service at `base`.
pub async fn get(base: &str, query: &str) -> Reply {
    let request = reqwest::Client::new()
        .get(format!("{base}/v1/shape?{query}"))
        .timeout(Duration::from_secs(60));
    reply(request).await
}

/// A fresh migrated database with a seeded team, and a sync service on it.
pub struct Fixture {
    pub database_url: String,
    pub server: SyncServer,
    pub config: ShapeServiceConfig,
    pub data_dir: tempfile::TempDir,
    pub team: seed::Team,
}

impl Fixture {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut ShapeServiceConfig)) -> Self {
        show_server_log();
        let database_url = testkit::fresh_database().await;
        let mut client = db::connect(&database_url).await.unwrap();
        let team = seed::generate(&seed::SeedConfig {
            tasks: 50,
            ..seed::SeedConfig::default()
        });
        seed::insert(&mut client, &team).await.unwrap();
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = ShapeServiceConfig::new(&database_url, data_dir.path());
        config.slot = testkit::unique_name("slot");
        adjust(&mut config);
        let server = SyncServer::start(config.clone()).await;
        Self {
            database_url,
            server,
            config,
            data_dir,
            team,
        }
    }

    pub fn base(&self) -> &str {
        &self.server.base_url
    }

    pub async fn sql(&self) -> tokio_postgres::Client {
        db::connect(&self.database_url).await.unwrap()
    }

    /// The query defining "tasks of the first organization".
    pub fn org_tasks(&self) -> String {
        format!(
            "table=tasks&where=organization_id%20%3D%20%241&params%5B1%5D={}",
            self.team.organizations[0].id
        )
    }

    /// Drops the test's replication slot once the service has stopped using it.
    pub async fn finish(self) {
        self.server.stop().await;
        drop_replication_slots(&self.database_url).await;
    }

    /// A follower of the shape `definition` on this service.
    pub fn follow(&self, definition: &str) -> ShapeFollower {
        ShapeFollower::direct(self.base(), definition)
    }
}
