//! Everything `superset-server serve` runs behind one listener: the API (`/api/...`) and,
//! unless the proxy is pointed at an external Electric, the sync service (`/v1/...`) it proxies
//! to in-process.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;

use super::api::{self, ApiState, Upstream, tokens::TokenKeys};
use super::integrations::IntegrationsConfig;
use super::shapes::{SyncConfig, SyncError, SyncService};

/// Where shapes come from.
#[derive(Debug, Clone)]
pub enum ElectricConfig {
    /// Our own sync service, in this process; `secret` guards its `/v1/shape` route.
    Local {
        secret: Option<String>,
        slot: String,
    },
    /// An external Electric (e.g. Electric Cloud: `source_id` + `secret`).
    Remote {
        url: String,
        secret: Option<String>,
        source_id: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub jwt_secret: Option<String>,
    pub electric: ElectricConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Secret(#[from] api::tokens::SecretError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("bad DATABASE_URL: {0}")]
    Database(String),
    #[error("starting the API failed: {0}")]
    Api(#[from] api::error::AppError),
}

/// A started server: its routes, and the sync service when it runs in-process.
pub struct Server {
    pub router: Router,
    pub sync: Option<Arc<SyncService>>,
    pub api: Arc<ApiState>,
}

impl Server {
    pub async fn start(config: ServerConfig) -> Result<Self, StartError> {
        Self::start_with_integrations(config, IntegrationsConfig::default()).await
    }

    /// [`start`](Self::start) with GitHub and Linear configured (webhook secrets, GitHub's
    /// API, the key for tokens at rest).
    pub async fn start_with_integrations(
        config: ServerConfig,
        integrations: IntegrationsConfig,
    ) -> Result<Self, StartError> {
        let keys = TokenKeys::new(config.jwt_secret.as_deref())?;
        let pool = super::db::pool(&config.database_url, None, 16).map_err(StartError::Database)?;
        match config.electric {
            ElectricConfig::Local { secret, slot } => {
                let mut sync_config = SyncConfig::new(&config.database_url, &config.data_dir);
                sync_config.secret = secret.clone();
                sync_config.slot = slot;
                let sync = SyncService::start(sync_config).await?;
                let sync_router = sync.router();
                let api = ApiState::with_integrations(
                    pool,
                    keys,
                    Upstream::InProcess {
                        router: sync_router.clone(),
                        secret,
                    },
                    integrations,
                )
                .await?;
                Ok(Self {
                    router: sync_router.merge(api::router(api.clone())),
                    sync: Some(sync),
                    api,
                })
            }
            ElectricConfig::Remote {
                url,
                secret,
                source_id,
            } => {
                let api = ApiState::with_integrations(
                    pool,
                    keys,
                    Upstream::Remote {
                        url,
                        secret,
                        source_id,
                    },
                    integrations,
                )
                .await?;
                Ok(Self {
                    router: api::router(api.clone()),
                    sync: None,
                    api,
                })
            }
        }
    }

    /// Ends held requests and the replication stream (call when shutting down).
    pub fn shutdown(&self) {
        if let Some(sync) = &self.sync {
            sync.shutdown();
        }
    }
}
