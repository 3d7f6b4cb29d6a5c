//! `superset demo`: a seeded team on a private PostgreSQL cluster, ready to look at.
//!
//! The cluster lives under the data dir (created on first run, reused afterwards), is migrated
//! and seeded once, and is stopped when the demo ends. [`Demo::serve`] starts the API and the
//! sync service in-process on a loopback port (the same port each run when it is free, so the
//! desktop profile under `<data dir>/desktop` resumes its sync instead of starting over) and
//! signs the demo user in; the window then opens on that profile.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod simulator;
mod team;

use crate::localpg::{Durability, LocalCluster, LocalPgError};
use crate::profile::{self, ProfileError};
use crate::server::app::{ElectricConfig, Server, ServerConfig, StartError};
use crate::server::http::error::AppError;
use crate::server::integrations::IntegrationsConfig;
use crate::server::integrations::linear::{NewLink, set_links};
use crate::server::integrations::secrets::EncryptionKey;
use crate::server::integrations::secrets::SecretsError;
use crate::server::{db, migrate, seed};
use simulator::{Simulator, WebhookSecrets};
pub use team::{DEMO_PASSWORD, demo_user};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Cluster(#[from] LocalPgError),
    #[error("connecting to the demo database failed: {0}")]
    Connect(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Migrate(#[from] migrate::MigrateError),
    #[error(transparent)]
    Seed(#[from] seed::SeedError),
    #[error(transparent)]
    Accounts(#[from] AppError),
    #[error("starting the demo server failed: {0}")]
    Server(#[from] StartError),
    #[error("the demo's webhook secrets are unusable: {0}")]
    Secrets(#[from] SecretsError),
    #[error("cannot listen on loopback: {0}")]
    Listen(#[source] std::io::Error),
    #[error("signing in the demo user failed: {0}")]
    SignIn(#[from] ProfileError),
    #[error("cannot remove the old demo data in {path}: {source}")]
    Reset {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What `superset demo` was asked to do.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub data_dir: PathBuf,
    pub reset: bool,
}

/// A running demo: its cluster and the database URL.
pub struct Demo {
    /// Held for its drop, which stops the cluster.
    _cluster: LocalCluster,
    pub database_url: String,
    pub seeded_now: Option<seed::Team>,
}

impl Demo {
    /// Starts the API and sync service on loopback and signs the demo user into the desktop
    /// profile under `data_dir`.
    pub async fn serve(&self, data_dir: &Path) -> Result<DemoServer, DemoError> {
        let server_dir = data_dir.join("server");
        let secret = |bytes: usize| {
            use rand::RngCore;
            let mut key = vec![0u8; bytes];
            rand::rng().fill_bytes(&mut key);
            hex::encode(key)
        };
        let config = ServerConfig::new(
            &self.database_url,
            server_dir,
            Some(secret(32)),
            ElectricConfig::Local {
                secret: Some(secret(16)),
                slot: "superset_demo".to_owned(),
            },
        );
        let secrets = WebhookSecrets {
            github: secret(16),
            linear: secret(16),
        };
        let encryption_key = secret(32);
        let integrations = IntegrationsConfig::from_values(
            Some(&secrets.github),
            None,
            None,
            Some(&encryption_key),
        )?;
        let key = integrations
            .encryption_key
            .clone()
            .expect("the demo's key was just made");
        self.link_linear(&secrets, &key).await?;
        let server = Arc::new(Server::start_with_integrations(config, integrations).await?);
        let listener = bind_remembered_port(&data_dir.join("demo-port")).await?;
        let base_url = format!(
            "http://{}",
            listener.local_addr().map_err(DemoError::Listen)?
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let stopping = server.clone();
        let task = tokio::spawn(async move {
            let _ = crate::server::serve(
                listener,
                server.router.clone(),
                crate::server::ListenerConfig::default(),
                async move {
                    let _ = stopped.await;
                    stopping.shutdown();
                },
            )
            .await;
        });
        let profile = data_dir.join("desktop");
        let user = demo_user();
        let signed_in = crate::sync::session::load(&profile)
            .is_some_and(|s| s.server_url == base_url && s.email == user);
        if !signed_in {
            profile::login(&profile, &base_url, &user, DEMO_PASSWORD).await?;
        }
        let simulator = Simulator::start(base_url.clone(), self.database_url.clone(), secrets);
        Ok(DemoServer {
            base_url,
            profile,
            user,
            stop,
            task,
            _simulator: simulator,
        })
    }

    /// Links each demo organization to a Linear organization of its own, each with its own
    /// signing secret, so the simulator's Linear webhooks land in it.
    async fn link_linear(
        &self,
        secrets: &WebhookSecrets,
        key: &EncryptionKey,
    ) -> Result<(), DemoError> {
        let mut client = db::connect(&self.database_url).await?;
        let organizations: Vec<(uuid::Uuid, String)> = client
            .query("SELECT id, slug FROM organizations", &[])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        for (id, slug) in organizations {
            let linear_org = simulator::linear_organization(&slug);
            let secret = simulator::linear_signing_secret(secrets, &linear_org);
            let link = NewLink {
                linear_org: &linear_org,
                teams: &[],
                secret: Some((&secret, key)),
            };
            set_links(&mut client, id, link).await?;
        }
        Ok(())
    }
}

/// The demo's server, running until [`DemoServer::stop`].
pub struct DemoServer {
    pub base_url: String,
    /// The desktop profile signed in as [`DemoServer::user`].
    pub profile: PathBuf,
    pub user: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    /// Stops with the server.
    _simulator: Simulator,
}

impl DemoServer {
    /// Stops the simulator, ends held requests and replication, and waits for the server.
    pub async fn stop(self) {
        drop(self._simulator);
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Listens on the port used last time when it is free, else on a new one (remembered).
async fn bind_remembered_port(file: &Path) -> Result<tokio::net::TcpListener, DemoError> {
    if let Some(port) = std::fs::read_to_string(file)
        .ok()
        .and_then(|p| p.trim().parse::<u16>().ok())
        && let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await
    {
        return Ok(listener);
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(DemoError::Listen)?;
    if let Ok(address) = listener.local_addr() {
        let _ = std::fs::write(file, address.port().to_string());
    }
    Ok(listener)
}

/// Where the demo's cluster lives: under the data dir when the server's OS user can reach it,
/// else (root with a data dir under /root) in a folder of its own under /var/tmp.
fn open_cluster(data_dir: &Path, reset: bool) -> Result<LocalCluster, DemoError> {
    let preferred = data_dir.join("postgres");
    let fallback = Path::new("/var/tmp").join(format!(
        "superset-demo-{:016x}",
        fnv1a(data_dir.as_os_str().as_encoded_bytes())
    ));
    if reset {
        for dir in [&preferred, &fallback] {
            if dir.exists() {
                std::fs::remove_dir_all(dir).map_err(|source| DemoError::Reset {
                    path: dir.clone(),
                    source,
                })?;
            }
        }
    }
    match LocalCluster::open_or_init(&preferred, Durability::Durable) {
        Err(LocalPgError::Unreachable(_)) => {
            tracing::info!(
                "the postgres user cannot reach {}; keeping the demo database in {}",
                preferred.display(),
                fallback.display()
            );
            Ok(LocalCluster::open_or_init(&fallback, Durability::Durable)?)
        }
        other => Ok(other?),
    }
}

/// A stable, dependency-free hash for naming a folder after a path.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Starts the cluster, migrates it, and seeds a team the first time.
pub async fn start(options: &DemoOptions) -> Result<Demo, DemoError> {
    std::fs::create_dir_all(&options.data_dir).map_err(|source| LocalPgError::Io {
        context: format!("creating {}", options.data_dir.display()),
        source,
    })?;
    let data_dir = options.data_dir.clone();
    let reset = options.reset;
    let cluster = tokio::task::spawn_blocking(move || -> Result<_, DemoError> {
        let mut cluster = open_cluster(&data_dir, reset)?;
        cluster.start()?;
        Ok(cluster)
    })
    .await
    .expect("the cluster start task panicked")?;
    let database_url = cluster.url("postgres");
    let mut client = db::connect(&database_url).await?;
    migrate::migrate(&mut client).await?;
    let seeded_now = if seed::is_empty(&client).await? {
        let team = seed::generate(&seed::SeedConfig::default());
        seed::insert(&mut client, &team).await?;
        let hash = crate::server::api::accounts::hash_password(DEMO_PASSWORD.to_owned()).await?;
        seed::set_passwords(&client, &team, &hash).await?;
        Some(team)
    } else {
        None
    };
    Ok(Demo {
        _cluster: cluster,
        database_url,
        seeded_now,
    })
}
