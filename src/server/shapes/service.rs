//! The sync service itself: its configuration, starting it (checking the database, the slot,
//! bringing back kept shapes, starting replication), and finding or creating the shape a
//! request defines.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::watch;

use super::definition::{ShapeDefinition, ShapeParams};
use super::registry::Registry;
use super::replication::{self, Replicator, StreamSettings, StreamStatus};
use super::schema::{self, TableInfo};
use super::shape::{self, Shape, ShapeMeta};
use super::subset::{self, Subset, SubsetReply};
use super::where_clause::{InnerTables, subquery_tables};
use super::{log, request, snapshot};

/// How the sync service runs.
#[derive(Debug, Clone)]
pub struct ShapeServiceConfig {
    pub database_url: String,
    /// Shape logs live in `<data_dir>/shapes`.
    pub data_dir: PathBuf,
    pub slot: String,
    pub publication: String,
    /// The shared secret clients must send as `secret`; `None` runs without one (development).
    pub secret: Option<String>,
    pub long_poll: Duration,
    pub sse_timeout: Duration,
    /// Upper bound of one response's data.
    pub chunk_bytes: u64,
    pub limits: ShapeLimits,
}

/// What the service may hold, and who may read it from a browser.
#[derive(Debug, Clone)]
pub struct ShapeLimits {
    /// Shapes kept at most; past it the least recently requested is retired (its clients get a
    /// 409 and fetch afresh).
    pub max_shapes: usize,
    /// Bytes the shape logs may take on disk, with the same eviction past it.
    pub max_disk_bytes: u64,
    /// Browser origins allowed to read `/v1/shape` (CORS); none by default.
    pub allowed_origins: Vec<String>,
}

impl Default for ShapeLimits {
    fn default() -> Self {
        Self {
            max_shapes: 5_000,
            max_disk_bytes: 20 * 1024 * 1024 * 1024,
            allowed_origins: Vec::new(),
        }
    }
}

impl ShapeServiceConfig {
    pub fn new(database_url: impl Into<String>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            database_url: database_url.into(),
            data_dir: data_dir.into(),
            slot: "superset_sync".to_owned(),
            publication: "superset_sync".to_owned(),
            secret: None,
            long_poll: Duration::from_secs(20),
            sse_timeout: Duration::from_secs(60),
            chunk_bytes: 10 * 1024 * 1024,
            limits: ShapeLimits::default(),
        }
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ShapeServiceError {
    #[error("bad database URL: {0}")]
    Url(String),
    #[error("cannot reach Postgres: {0}")]
    Connect(String),
    #[error(
        "Postgres runs with wal_level={0}; the sync service needs wal_level=logical \
         (set it in postgresql.conf and restart Postgres)"
    )]
    WalLevel(String),
    #[error("publication {0} does not exist: run `superset-server migrate` first")]
    NoPublication(String),
    #[error("{0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Why a shape request could not be served (mapped to HTTP statuses in `http`).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0:?}")]
    Invalid(request::FieldErrors),
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
}

impl From<deadpool_postgres::PoolError> for ServeError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        ServeError::Unavailable(e.to_string())
    }
}

impl From<tokio_postgres::Error> for ServeError {
    fn from(e: tokio_postgres::Error) -> Self {
        ServeError::Unavailable(e.to_string())
    }
}

pub struct ShapeService {
    pub(super) config: ShapeServiceConfig,
    pub(super) registry: Arc<Registry>,
    pool: Pool,
    stream: watch::Receiver<StreamStatus>,
    pub(super) shutdown: watch::Sender<bool>,
}

impl ShapeService {
    pub async fn start(config: ShapeServiceConfig) -> Result<Arc<Self>, ShapeServiceError> {
        let pool =
            crate::server::db::pool(&config.database_url, Some(snapshot::SESSION_SETTINGS), 16)
                .map_err(ShapeServiceError::Url)?;
        let client = pool
            .get()
            .await
            .map_err(|e| ShapeServiceError::Connect(e.to_string()))?;
        let wal_level: String = client.query_one("SHOW wal_level", &[]).await?.get(0);
        if wal_level != "logical" {
            return Err(ShapeServiceError::WalLevel(wal_level));
        }
        let publication_exists = client
            .query_opt(
                "SELECT 1 FROM pg_publication WHERE pubname = $1",
                &[&config.publication],
            )
            .await?
            .is_some();
        if !publication_exists {
            return Err(ShapeServiceError::NoPublication(config.publication.clone()));
        }
        replication::ensure_slot(&client, &config.slot).await?;
        let registry = Arc::new(Registry::new());
        let shapes_dir = config.data_dir.join("shapes");
        std::fs::create_dir_all(&shapes_dir).map_err(|source| ShapeServiceError::DataDir {
            path: shapes_dir.clone(),
            source,
        })?;
        let restored = restore_shapes(&client, &registry, &shapes_dir, &config.publication).await?;
        tracing::info!(restored, dir = %shapes_dir.display(), "shape logs ready");
        drop(client);

        let (status_tx, status_rx) = watch::channel(StreamStatus::Starting);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let replicator = Replicator::new(
            registry.clone(),
            pool.clone(),
            StreamSettings {
                database_url: config.database_url.clone(),
                slot: config.slot.clone(),
                publication: config.publication.clone(),
            },
            status_tx,
        );
        tokio::spawn(replicator.run(shutdown_rx));
        let service = Arc::new(Self {
            config,
            registry,
            pool,
            stream: status_rx,
            shutdown: shutdown_tx,
        });
        tokio::spawn(watch_disk(Arc::downgrade(&service)));
        Ok(service)
    }

    /// Stops the replication stream and wakes every held request.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// True once the replication stream runs.
    pub fn is_streaming(&self) -> bool {
        *self.stream.borrow() == StreamStatus::Streaming
    }

    pub(super) async fn table(
        &self,
        schema_name: &str,
        name: &str,
    ) -> Result<Option<Arc<TableInfo>>, ServeError> {
        if let Some(table) = self.registry.cached_table(schema_name, name) {
            return Ok(Some(table));
        }
        let client = self.pool.get().await?;
        let Some(table) =
            schema::load_table(&client, schema_name, name, &self.config.publication).await?
        else {
            return Ok(None);
        };
        let table = Arc::new(table);
        self.registry.cache_table(table.clone());
        Ok(Some(table))
    }

    /// Validates shape parameters into a definition.
    pub(super) async fn definition(
        &self,
        params: ShapeParams,
    ) -> Result<ShapeDefinition, ServeError> {
        let invalid = |field, message: String| ServeError::Invalid(request::errors(field, message));
        let (schema_name, name) =
            schema::parse_table_name(&params.table).map_err(|m| invalid("table", m))?;
        let Some(table) = self.table(&schema_name, &name).await? else {
            return Err(invalid(
                "table",
                format!(
                    "Table \"{schema_name}\".\"{name}\" does not exist. If the table name contains \
                     capitals or special characters you must quote it."
                ),
            ));
        };
        if !table.published {
            return Err(invalid(
                "table",
                format!(
                    "Table \"{schema_name}\".\"{name}\" is not in the publication {} and cannot be synced",
                    self.config.publication
                ),
            ));
        }
        let mut inner_tables = InnerTables::new();
        let subquery_tables = params.where_text.as_deref().map(subquery_tables);
        for (schema_name, name) in subquery_tables.unwrap_or_default() {
            match self.table(&schema_name, &name).await? {
                Some(inner) if inner.published => {
                    inner_tables.insert((schema_name, name), inner);
                }
                // Left out: compiling names the table as unknown.
                _ => {}
            }
        }
        ShapeDefinition::new(params, table, &inner_tables).map_err(|e| invalid(e.field, e.message))
    }

    /// The shape for `definition`, created (and its snapshot started) if needed.
    pub(super) async fn shape_for(
        &self,
        definition: ShapeDefinition,
    ) -> Result<Arc<Shape>, ServeError> {
        if let Some(shape) = self.registry.find(&definition.identity) {
            return Ok(shape);
        }
        self.make_room(1);
        let handle = self.registry.new_handle(&definition.identity);
        let dir = self.config.data_dir.join("shapes").join(&handle);
        let shape = Shape::create(handle, definition, dir)
            .map_err(|e| ServeError::Unavailable(format!("cannot create the shape log: {e}")))?;
        let (shape, created) = self.registry.insert(Arc::new(shape));
        if created && shape.definition.has_subqueries() {
            self.registry.want_snapshot(shape.clone());
        } else if created {
            let registry = self.registry.clone();
            let pool = self.pool.clone();
            let snapshotting = shape.clone();
            tokio::spawn(async move {
                let result = async {
                    let mut client = pool.get().await.map_err(|e| e.to_string())?;
                    snapshot::take(&mut client, &snapshotting)
                        .await
                        .map_err(|e| e.to_string())
                }
                .await;
                if let Err(error) = result {
                    tracing::warn!(handle = %snapshotting.handle, %error, "snapshot failed; dropping the shape");
                    registry.retire(&snapshotting);
                    let _ = log::remove(snapshotting.dir());
                }
            });
        }
        Ok(shape)
    }
}

impl ShapeService {
    /// Reads a subset of the shape `definition` describes (see [`subset`]).
    pub(super) async fn read_subset(
        &self,
        definition: &ShapeDefinition,
        subset: &Subset,
    ) -> Result<SubsetReply, ServeError> {
        let mut client = self.pool.get().await?;
        subset::read(&mut client, definition, subset)
            .await
            .map_err(|e| ServeError::Unavailable(e.to_string()))
    }
}

impl ShapeService {
    /// Retires the least recently requested shapes until `more` new ones fit under the caps on
    /// shapes and disk; their clients get a 409 and fetch afresh.
    pub(super) fn make_room(&self, more: usize) {
        loop {
            let shapes = self.registry.all();
            let disk: u64 = shapes.iter().map(|s| s.disk_bytes()).sum();
            let over_count = shapes.len() + more > self.config.limits.max_shapes;
            let over_disk = disk > self.config.limits.max_disk_bytes;
            if !over_count && !over_disk {
                return;
            }
            let Some(oldest) = shapes.iter().min_by_key(|s| s.last_requested()) else {
                return;
            };
            tracing::info!(
                handle = %oldest.handle,
                shapes = shapes.len(),
                disk,
                "evicting the least recently requested shape to stay under the limits"
            );
            self.registry.retire(oldest);
            let dir = oldest.dir().to_path_buf();
            tokio::task::spawn_blocking(move || log::remove(&dir));
        }
    }
}

/// Every 30 s, keeps the shape logs under the disk cap (they grow as changes arrive, not only
/// when shapes are made).
async fn watch_disk(service: std::sync::Weak<ShapeService>) {
    let Some(mut stopped) = service.upgrade().map(|s| s.shutdown.subscribe()) else {
        return;
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
        match service.upgrade() {
            Some(service) => service.make_room(0),
            None => return,
        }
    }
}

impl Drop for ShapeService {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

/// Brings back the shapes whose snapshot completed before the last stop. A shape whose table
/// changed meanwhile, or whose files are unreadable, is deleted (its clients get a 409).
async fn restore_shapes(
    client: &tokio_postgres::Client,
    registry: &Registry,
    dir: &std::path::Path,
    publication: &str,
) -> Result<usize, ShapeServiceError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ShapeServiceError::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut restored = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let meta: Option<ShapeMeta> = std::fs::read(path.join("shape.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let Some(meta) = meta else {
            let _ = log::remove(&path);
            continue;
        };
        let table = match schema::parse_table_name(&meta.params.table) {
            Ok((schema_name, name)) => {
                schema::load_table(client, &schema_name, &name, publication).await?
            }
            Err(_) => None,
        };
        let definition = table
            .filter(|t| shape::table_columns(t) == meta.columns)
            .and_then(|t| {
                // Subquery shapes are not brought back: their value sets would have to be read
                // at the position the log stopped at, which no snapshot can give.
                ShapeDefinition::new(meta.params.clone(), Arc::new(t), &InnerTables::new()).ok()
            });
        let shape = definition.and_then(|d| Shape::reopen(meta, d, path.clone()).ok());
        match shape {
            Some(shape) => {
                registry.insert(Arc::new(shape));
                restored += 1;
            }
            None => {
                tracing::info!(dir = %path.display(), "dropping a shape that no longer fits its table");
                let _ = log::remove(&path);
            }
        }
    }
    Ok(restored)
}
