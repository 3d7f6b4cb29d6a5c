//! `superset demo`: a seeded team on a private PostgreSQL cluster, ready to look at.
//!
//! The cluster lives under the data dir (created on first run, reused afterwards), is migrated
//! and seeded once, and is stopped when the demo ends. The window and the in-process server
//! join it as their issues land; until then the demo serves the database itself.

use std::path::{Path, PathBuf};

use crate::localpg::{Durability, LocalCluster, LocalPgError};
use crate::server::{db, migrate, seed};

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
    Accounts(#[from] crate::server::api::error::AppError),
    #[error("cannot remove the old demo data in {path}: {source}")]
    Reset {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Every demo user's password.
pub const DEMO_PASSWORD: &str = "superset";

/// What `superset demo` was asked to do.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub data_dir: PathBuf,
    pub reset: bool,
}

/// A running demo: its cluster (stopped on drop) and the database URL.
pub struct Demo {
    cluster: LocalCluster,
    pub database_url: String,
    pub seeded_now: Option<seed::Team>,
}

impl Demo {
    pub fn cluster_root(&self) -> &Path {
        self.cluster.root()
    }
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
        cluster,
        database_url,
        seeded_now,
    })
}
