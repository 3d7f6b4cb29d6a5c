//! Throwaway PostgreSQL clusters for the integration tests (behind the `test-utils` feature).
//!
//! [`TestCluster::start`] makes a private cluster in a temporary folder (`wal_level=logical`,
//! a free loopback port, its own socket folder) and removes it when dropped, also when the test
//! panics. Most tests share one cluster per test binary through [`fresh_database`], which hands
//! each test its own database cloned from a migrated template: one `initdb` per run instead of
//! one per test. The shared cluster is stopped and deleted when the test process exits.

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tempfile::TempDir;

use crate::localpg::{Durability, LocalCluster, LocalPgError};
use crate::server::{db, migrate};

/// A cluster that exists for one test (or one test binary) and is deleted afterwards.
pub struct TestCluster {
    // Field order matters: the server must stop before its folder is deleted.
    cluster: LocalCluster,
    dir: TempDir,
}

impl TestCluster {
    /// Creates and starts a throwaway cluster.
    pub fn start() -> Result<Self, LocalPgError> {
        let dir = tempfile::Builder::new()
            .prefix("superset-pg-")
            .tempdir()
            .map_err(|source| LocalPgError::Io {
                context: "creating a temporary folder for PostgreSQL".into(),
                source,
            })?;
        let mut cluster = LocalCluster::open_or_init(dir.path(), Durability::Throwaway)?;
        cluster.start()?;
        Ok(Self { cluster, dir })
    }

    /// The folder holding the cluster's data, socket and log.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn port(&self) -> u16 {
        self.cluster.port()
    }

    /// The postmaster's process id.
    pub fn server_pid(&self) -> Option<u32> {
        self.cluster.server_pid()
    }

    /// A superuser connection URL for `database`.
    pub fn url(&self, database: &str) -> String {
        self.cluster.url(database)
    }

    fn shut_down(&self) {
        self.cluster.stop();
        let _ = std::fs::remove_dir_all(self.dir.path());
    }
}

static SHARED: OnceLock<TestCluster> = OnceLock::new();
const TEMPLATE: &str = "superset_template";

extern "C" fn shut_down_shared() {
    if let Some(cluster) = SHARED.get() {
        cluster.shut_down();
    }
}

/// The test binary's shared cluster, started on first use with a migrated template database.
pub fn shared() -> &'static TestCluster {
    SHARED.get_or_init(|| {
        let cluster = TestCluster::start().unwrap_or_else(|e| panic!("{e}"));
        // SAFETY: registering a plain `extern "C" fn` with no captured state; it runs once at
        // process exit, after the tests, and only stops a child process and deletes a folder.
        unsafe {
            libc::atexit(shut_down_shared);
        }
        let url = cluster.url("postgres");
        let template_url = cluster.url(TEMPLATE);
        // Our caller may be inside a test's runtime; the setup gets a runtime of its own.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the test template");
            rt.block_on(async {
                let admin = db::connect(&url)
                    .await
                    .expect("connecting to the test cluster");
                admin
                    .batch_execute(&format!("CREATE DATABASE {TEMPLATE}"))
                    .await
                    .expect("creating the template database");
                let mut client = db::connect(&template_url)
                    .await
                    .expect("connecting to the template");
                migrate::migrate(&mut client)
                    .await
                    .expect("migrating the template");
            });
        })
        .join()
        .expect("the template setup thread panicked");
        cluster
    })
}

/// A new, migrated, empty database in the shared cluster, for one test. Returns its URL.
pub async fn fresh_database() -> String {
    create_database("test", &format!("TEMPLATE {TEMPLATE}")).await
}

/// A new database in the shared cluster with no schema at all (for migration tests).
pub async fn empty_database() -> String {
    create_database("empty", "").await
}

async fn create_database(prefix: &str, options: &str) -> String {
    let cluster = shared();
    let name = unique_name(prefix);
    let admin = db::connect(&cluster.url("postgres"))
        .await
        .expect("connecting to the test cluster");
    admin
        .batch_execute(&format!("CREATE DATABASE {name} {options}"))
        .await
        .expect("creating a test database");
    cluster.url(&name)
}

/// A name no other test in this process uses (for replication slots, which are cluster-wide).
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Serves `router` on a free loopback port until stopped; returns the base URL.
/// The handles of a test server: its base URL, the stop signal and its task.
type Serving = (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
);

async fn serve_on_loopback(
    router: axum::Router,
    on_stop: impl FnOnce() + Send + 'static,
) -> Serving {
    serve_at("127.0.0.1:0", router, Default::default(), on_stop).await
}

/// Serves `router` at `address` (`host:port`), retrying while a previous server's socket is
/// released.
async fn serve_at(
    address: &str,
    router: axum::Router,
    listening: crate::server::ListenerConfig,
    on_stop: impl FnOnce() + Send + 'static,
) -> Serving {
    let mut attempts = 0;
    let listener = loop {
        match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => break listener,
            Err(e) if attempts < 50 => {
                attempts += 1;
                tracing::debug!(%e, "address busy; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("binding {address}: {e}"),
        }
    };
    let base_url = format!("http://{}", listener.local_addr().expect("a local address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = crate::server::serve(listener, router, listening, async move {
            let _ = stopped.await;
            on_stop();
        })
        .await;
    });
    (base_url, stop, task)
}

async fn wait_until_streaming(service: &crate::server::shapes::ShapeService) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !service.is_streaming() {
        assert!(
            std::time::Instant::now() < deadline,
            "replication did not start within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn wait_until_stopped(service: &crate::server::shapes::ShapeService) {
    // The replication task notices the shutdown flag; give it a moment to let go of the slot.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while service.is_streaming() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A sync service serving on a free loopback port, for tests.
pub struct SyncServer {
    /// `http://127.0.0.1:<port>`
    pub base_url: String,
    pub service: std::sync::Arc<crate::server::shapes::ShapeService>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl SyncServer {
    /// Starts the service with its own slot and shape logs as `config` says.
    pub async fn start(config: crate::server::shapes::ShapeServiceConfig) -> Self {
        let service = crate::server::shapes::ShapeService::start(config)
            .await
            .expect("starting the sync service");
        let stopping = service.clone();
        let (base_url, stop, task) =
            serve_on_loopback(service.router(), move || stopping.shutdown()).await;
        wait_until_streaming(&service).await;
        Self {
            base_url,
            service,
            stop,
            task,
        }
    }

    /// Stops serving, ends held requests and the replication stream, and waits for it all.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        wait_until_stopped(&self.service).await;
    }
}

/// The whole server (API + in-process sync service) on a free loopback port, for tests.
pub struct AppServer {
    pub base_url: String,
    pub server: std::sync::Arc<crate::server::app::Server>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// A JWT secret for tests.
pub const TEST_JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

/// How a test's server is set up.
pub struct ServerOptions {
    pub jwt_secret: String,
    /// `host:port` to listen at (port 0: any free one).
    pub address: String,
    pub integrations: crate::server::integrations::IntegrationsConfig,
    pub listener: crate::server::ListenerConfig,
    pub api_limits: crate::server::api::ApiLimits,
    pub shape_limits: crate::server::shapes::ShapeLimits,
    /// Where shapes come from: `None` for a sync service in this process (secret
    /// `sync-secret`, a fresh slot), or another one (an API replica behind a shared service).
    pub electric: Option<crate::server::app::ElectricConfig>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            jwt_secret: TEST_JWT_SECRET.to_owned(),
            address: "127.0.0.1:0".to_owned(),
            integrations: Default::default(),
            listener: Default::default(),
            api_limits: Default::default(),
            shape_limits: Default::default(),
            electric: None,
        }
    }
}

impl AppServer {
    /// Starts API and sync service on `database_url`, with a fresh slot and a fresh data dir
    /// under `data_dir`, the sync secret `sync-secret`, and [`TEST_JWT_SECRET`].
    pub async fn start(database_url: &str, data_dir: &Path) -> Self {
        Self::start_with_secret(database_url, data_dir, TEST_JWT_SECRET).await
    }

    /// As [`AppServer::start`], signing tokens with `jwt_secret`.
    pub async fn start_with_secret(database_url: &str, data_dir: &Path, jwt_secret: &str) -> Self {
        Self::start_on(database_url, data_dir, jwt_secret, "http://127.0.0.1:0").await
    }

    /// As [`AppServer::start_with_secret`], listening at `base_url` (to restart a server on
    /// the address its clients know).
    pub async fn start_on(
        database_url: &str,
        data_dir: &Path,
        jwt_secret: &str,
        base_url: &str,
    ) -> Self {
        let options = ServerOptions {
            jwt_secret: jwt_secret.to_owned(),
            address: base_url.trim_start_matches("http://").to_owned(),
            ..ServerOptions::default()
        };
        Self::start_with(database_url, data_dir, options).await
    }

    /// As [`AppServer::start`], with GitHub and Linear configured by `integrations`
    /// (webhook secrets, a stand-in GitHub API, an encryption key).
    pub async fn start_with_integrations(
        database_url: &str,
        data_dir: &Path,
        integrations: crate::server::integrations::IntegrationsConfig,
    ) -> Self {
        let options = ServerOptions {
            integrations,
            ..ServerOptions::default()
        };
        Self::start_with(database_url, data_dir, options).await
    }

    /// The server as `options` describe it.
    pub async fn start_with(database_url: &str, data_dir: &Path, options: ServerOptions) -> Self {
        let mut config = crate::server::app::ServerConfig::new(
            database_url,
            data_dir,
            Some(options.jwt_secret),
            options
                .electric
                .unwrap_or_else(|| crate::server::app::ElectricConfig::Local {
                    secret: Some("sync-secret".to_owned()),
                    slot: unique_name("slot"),
                }),
        );
        config.api_limits = options.api_limits;
        config.shape_limits = options.shape_limits;
        let server = std::sync::Arc::new(
            crate::server::app::Server::start_with_integrations(config, options.integrations)
                .await
                .expect("starting the server"),
        );
        let stopping = server.clone();
        let (base_url, stop, task) = serve_at(
            &options.address,
            server.router.clone(),
            options.listener,
            move || stopping.shutdown(),
        )
        .await;
        if let Some(sync) = &server.shapes {
            wait_until_streaming(sync).await;
        }
        Self {
            base_url,
            server,
            stop,
            task,
        }
    }

    /// Stops serving and the replication stream, and drops the test's slot.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        if let Some(sync) = &self.server.shapes {
            wait_until_stopped(sync).await;
        }
    }
}
