//! A small shape client for tests: requests, and a materialised view that follows a shape the
//! way the official client does (insert = set, update = merge, delete = remove, 409 = reset).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use superset::server::shapes::SyncConfig;
use superset::server::{db, seed};
use superset::testkit::{self, SyncServer};

pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn messages(&self) -> Vec<Value> {
        match self.json() {
            Value::Array(items) => items,
            other => panic!("expected an array, got {other}"),
        }
    }
}

pub async fn get(base: &str, query: &str) -> Response {
    let response = reqwest::Client::new()
        .get(format!("{base}/v1/shape?{query}"))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("request");
    Response {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

/// A fresh migrated database with a seeded team, and a sync service on it.
pub struct Fixture {
    pub database_url: String,
    pub server: SyncServer,
    pub config: SyncConfig,
    pub data_dir: tempfile::TempDir,
    pub team: seed::Team,
}

impl Fixture {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut SyncConfig)) -> Self {
        // The service's log, shown with a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .try_init();
        let database_url = testkit::fresh_database().await;
        let mut client = db::connect(&database_url).await.unwrap();
        let team = seed::generate(&seed::SeedConfig {
            tasks: 50,
            ..seed::SeedConfig::default()
        });
        seed::insert(&mut client, &team).await.unwrap();
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = SyncConfig::new(&database_url, data_dir.path());
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
        let slot = self.config.slot.clone();
        let url = self.database_url.clone();
        self.server.stop().await;
        let client = db::connect(&url).await.unwrap();
        for _ in 0..100 {
            let dropped = client
                .execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                     WHERE slot_name = $1 AND NOT active",
                    &[&slot],
                )
                .await
                .unwrap();
            if dropped == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Follows one shape like the official client's `Shape`.
pub struct Follower {
    pub base: String,
    pub definition: String,
    pub handle: Option<String>,
    pub offset: String,
    pub cursor: String,
    pub rows: BTreeMap<String, serde_json::Map<String, Value>>,
    pub up_to_date: bool,
    pub refetches: usize,
    /// Every change message applied, in order.
    pub log: Vec<Value>,
}

impl Follower {
    pub fn new(base: &str, definition: &str) -> Self {
        Self {
            base: base.to_owned(),
            definition: definition.to_owned(),
            handle: None,
            offset: "-1".to_owned(),
            cursor: String::new(),
            rows: BTreeMap::new(),
            up_to_date: false,
            refetches: 0,
            log: Vec::new(),
        }
    }

    /// One request; live once up to date. Returns the response for inspection.
    pub async fn step(&mut self) -> Response {
        let mut query = format!("{}&offset={}", self.definition, self.offset);
        if let Some(handle) = &self.handle {
            query.push_str(&format!("&handle={handle}"));
        }
        if self.up_to_date {
            query.push_str(&format!("&live=true&cursor={}", self.cursor));
        }
        let response = get(&self.base, &query).await;
        match response.status {
            200 => {
                self.handle = response.header("electric-handle").map(str::to_owned);
                self.offset = response.header("electric-offset").unwrap().to_owned();
                if let Some(cursor) = response.header("electric-cursor") {
                    self.cursor = cursor.to_owned();
                }
                let messages = response.messages();
                for message in &messages {
                    self.apply(message);
                }
                if messages
                    .last()
                    .is_some_and(|m| m["headers"]["control"] == "up-to-date")
                {
                    self.up_to_date = true;
                }
            }
            409 => {
                self.handle = response.header("electric-handle").map(str::to_owned);
                self.offset = "-1".to_owned();
                self.rows.clear();
                self.up_to_date = false;
                self.refetches += 1;
            }
            other => panic!("unexpected {other}: {}", response.body),
        }
        response
    }

    fn apply(&mut self, message: &Value) {
        let Some(operation) = message["headers"]["operation"].as_str() else {
            return;
        };
        let key = message["key"].as_str().unwrap().to_owned();
        let value = message["value"].as_object().unwrap().clone();
        match operation {
            "insert" => {
                self.rows.insert(key, value);
            }
            "update" => {
                self.rows.entry(key).or_default().extend(value);
            }
            "delete" => {
                self.rows.remove(&key);
            }
            other => panic!("unknown operation {other}"),
        }
        self.log.push(message.clone());
    }

    /// Requests until up to date (non-live).
    pub async fn catch_up(&mut self) {
        for _ in 0..1000 {
            if self.up_to_date {
                return;
            }
            self.step().await;
        }
        panic!("never caught up");
    }

    /// Live requests until `done` holds for the materialised rows (at most `limit`).
    pub async fn until(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) {
        let deadline = std::time::Instant::now() + limit;
        self.catch_up().await;
        while !done(self) {
            assert!(
                std::time::Instant::now() < deadline,
                "condition not reached in {limit:?}"
            );
            self.step().await;
        }
    }
}
