//! Where the benchmark runs: a throwaway PostgreSQL cluster in a scratch folder, one fresh
//! database per scenario, and the sync service on its own thread and tokio runtime (as if it
//! were its own process), serving on a loopback port.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use tokio::sync::oneshot;

use crate::localpg::{Durability, LocalCluster};
use crate::server::shapes::{ShapeService, ShapeServiceConfig};
use crate::server::{self, db, migrate};

/// A folder under the system's temp dir, deleted when dropped.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("superset-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The benchmark's cluster. Dropping it stops PostgreSQL and deletes every file it made.
pub struct Lab {
    // Field order matters: the server must stop before its folder is deleted.
    cluster: LocalCluster,
    scratch: Scratch,
}

/// A migrated database made for one scenario.
pub struct Database {
    pub name: String,
    pub url: String,
}

impl Lab {
    /// Creates and starts a throwaway cluster (blocking: `initdb` and the postmaster's start).
    pub fn start() -> anyhow::Result<Self> {
        let scratch = Scratch::new()?;
        let mut cluster =
            LocalCluster::open_or_init(&scratch.path.join("pg"), Durability::Throwaway)
                .context("creating the benchmark's PostgreSQL cluster")?;
        cluster
            .start()
            .context("starting the benchmark's PostgreSQL cluster")?;
        Ok(Self { cluster, scratch })
    }

    /// The cluster's server process, while it runs.
    pub fn postmaster_pid(&self) -> Option<u32> {
        self.cluster.server_pid()
    }

    /// One of the cluster's installation's programs (see [`LocalCluster::program`]).
    pub fn program(&self, name: &str) -> PathBuf {
        self.cluster.program(name)
    }

    pub fn admin_url(&self) -> String {
        self.cluster.url("postgres")
    }

    /// A new database with the schema applied.
    pub async fn database(&self, name: &str) -> anyhow::Result<Database> {
        let admin = db::connect(&self.admin_url()).await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("creating database {name}"))?;
        let url = self.cluster.url(name);
        let mut client = db::connect(&url).await?;
        migrate::migrate(&mut client).await?;
        Ok(Database {
            name: name.to_owned(),
            url,
        })
    }

    /// Drops a scenario's database and its replication slots, once the service let go of them.
    pub async fn drop_database(&self, database: &Database) -> anyhow::Result<()> {
        let admin = db::connect(&self.admin_url()).await?;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let active: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_replication_slots WHERE database = $1 AND active",
                    &[&database.name],
                )
                .await?
                .get(0);
            if active == 0 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        admin
            .execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                 WHERE database = $1 AND NOT active",
                &[&database.name],
            )
            .await?;
        admin
            .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", database.name))
            .await
            .with_context(|| format!("dropping database {}", database.name))?;
        Ok(())
    }

    /// Where a scenario's sync service keeps its shape logs.
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.scratch.path.join("sync").join(name)
    }

    pub fn root(&self) -> &Path {
        &self.scratch.path
    }
}

/// A sync service configured for a scenario: its own slot, logs under the lab's folder.
pub fn sync_config(lab: &Lab, database: &Database) -> ShapeServiceConfig {
    let mut config = ShapeServiceConfig::new(&database.url, lab.data_dir(&database.name));
    config.slot = format!("bench_{}", database.name);
    config
}

/// The sync service running on its own thread and runtime, serving on `127.0.0.1`.
pub struct Server {
    /// `http://127.0.0.1:<port>`
    pub base_url: String,
    pub service: Arc<ShapeService>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Pending connections the listener queues: 2,000 clients connect at once in one scenario,
/// and an overflowing accept queue costs a one-second SYN retransmit per dropped connection.
const ACCEPT_BACKLOG: u32 = 4096;

impl Server {
    /// Starts the service with `worker_threads` runtime threads, and waits until it streams.
    pub async fn start(config: ShapeServiceConfig, worker_threads: usize) -> anyhow::Result<Self> {
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sync-service".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(worker_threads)
                    .thread_name("sync-worker")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow::Error::from(e)));
                        return;
                    }
                };
                runtime.block_on(serve(config, ready_tx, stop_rx));
            })
            .context("starting the sync service's thread")?;
        let (base_url, service) = ready_rx
            .await
            .context("the sync service's thread ended early")??;
        let server = Self {
            base_url,
            service,
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !server.service.is_streaming() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "replication did not start within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(server)
    }

    /// Stops serving and replicating, and waits for the service's thread to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

async fn serve(
    config: ShapeServiceConfig,
    ready: oneshot::Sender<anyhow::Result<(String, Arc<ShapeService>)>>,
    stopped: oneshot::Receiver<()>,
) {
    let started = async {
        let service = ShapeService::start(config)
            .await
            .context("starting the sync service")?;
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(([127, 0, 0, 1], 0).into())?;
        let listener = socket.listen(ACCEPT_BACKLOG)?;
        let base_url = format!("http://{}", listener.local_addr()?);
        anyhow::Ok((service, listener, base_url))
    }
    .await;
    let (service, listener, base_url) = match started {
        Ok(started) => started,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok((base_url, service.clone())));
    let stopping = service.clone();
    let router = service.router();
    let result = server::serve(
        listener,
        router,
        // Every simulated client connects from 127.0.0.1, where real ones would each have an
        // address of their own: no per-address cap (2,000 connect at once in `fanout`).
        crate::server::ListenerConfig {
            max_connections_per_address: 0,
            ..crate::server::ListenerConfig::default()
        },
        async move {
            let _ = stopped.await;
            stopping.shutdown();
        },
    )
    .await;
    if let Err(error) = result {
        tracing::warn!(%error, "the benchmark's sync service stopped with an error");
    }
    // Let the replication task notice the shutdown and release its slot.
    let deadline = Instant::now() + Duration::from_secs(10);
    while service.is_streaming() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
