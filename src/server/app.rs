//! Everything `superset-server serve` runs behind one listener: the API's routes and the
//! integrations' routes, merged here (the one place that knows both), and, unless the proxy is
//! pointed at an external Electric, the sync service (`/v1/...`) it proxies to in-process.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;

use super::api::{self, ApiLimits, ApiState, Upstream};
use super::http::auth::{SecretError, TokenKeys};
use super::http::error::AppError;
use super::integrations::{self, IntegrationsConfig, IntegrationsState};
use super::shapes::{ShapeLimits, ShapeService, ShapeServiceConfig, ShapeServiceError};

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

impl ElectricConfig {
    /// The configuration `serve`'s options describe: an external Electric when `url` is set,
    /// else the built-in service, which needs a secret unless `insecure` (development only).
    pub fn from_options(
        url: Option<String>,
        source_id: Option<String>,
        secret: Option<String>,
        insecure: bool,
        slot: String,
    ) -> Result<Self, StartError> {
        let secret = secret.filter(|s| !s.is_empty());
        match url.filter(|u| !u.is_empty()) {
            Some(url) => Ok(ElectricConfig::Remote {
                url,
                secret,
                source_id,
            }),
            None if secret.is_none() && !insecure => Err(StartError::NoSyncSecret),
            None => Ok(ElectricConfig::Local { secret, slot }),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub jwt_secret: Option<String>,
    pub electric: ElectricConfig,
    pub api_limits: ApiLimits,
    pub shape_limits: ShapeLimits,
}

impl ServerConfig {
    /// A configuration with the default limits.
    pub fn new(
        database_url: impl Into<String>,
        data_dir: impl Into<PathBuf>,
        jwt_secret: Option<String>,
        electric: ElectricConfig,
    ) -> Self {
        Self {
            database_url: database_url.into(),
            data_dir: data_dir.into(),
            jwt_secret,
            electric,
            api_limits: ApiLimits::default(),
            shape_limits: ShapeLimits::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Shapes(#[from] ShapeServiceError),
    #[error("bad DATABASE_URL: {0}")]
    Database(String),
    #[error("starting the API failed: {0}")]
    Api(#[from] AppError),
    #[error(
        "no ELECTRIC_SECRET: set one (the built-in /v1/shape requires it as `secret`), or set \
         ELECTRIC_INSECURE=true for local development"
    )]
    NoSyncSecret,
}

/// A started server: its routes, and the sync service when it runs in-process.
pub struct Server {
    pub router: Router,
    pub shapes: Option<Arc<ShapeService>>,
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
        let keys = Arc::new(TokenKeys::new(config.jwt_secret.as_deref())?);
        let pool = super::db::pool(&config.database_url, None, 16).map_err(StartError::Database)?;
        let (upstream, shapes) = match config.electric {
            ElectricConfig::Local { secret, slot } => {
                let mut shape_config =
                    ShapeServiceConfig::new(&config.database_url, &config.data_dir);
                shape_config.secret = secret.clone();
                shape_config.slot = slot;
                shape_config.limits = config.shape_limits.clone();
                let shapes = ShapeService::start(shape_config).await?;
                let router = shapes.router();
                (Upstream::InProcess { router, secret }, Some(shapes))
            }
            ElectricConfig::Remote {
                url,
                secret,
                source_id,
            } => (
                Upstream::Remote {
                    url,
                    secret,
                    source_id,
                },
                None,
            ),
        };
        let api = ApiState::new(
            pool.clone(),
            keys.clone(),
            upstream,
            config.api_limits,
            &config.database_url,
        )
        .await?;
        let integrations = IntegrationsState {
            pool,
            keys,
            http: reqwest::Client::new(),
            config: Arc::new(integrations),
        };
        let mut router = routes(api, integrations);
        if let Some(shapes) = &shapes {
            router = shapes.router().merge(router);
        }
        Ok(Self { router, shapes })
    }

    /// Ends held requests and the replication stream (call when shutting down).
    pub fn shutdown(&self) {
        if let Some(shapes) = &self.shapes {
            shapes.shutdown();
        }
    }
}

/// Every HTTP feature's routes, merged, with answers in the API's error format for unknown
/// paths and methods.
pub fn routes(api: ApiState, integrations: IntegrationsState) -> Router {
    Router::new()
        .merge(api::routes().with_state(api))
        .merge(integrations::routes().with_state(integrations))
        .fallback(|| async { AppError::NotFound("no such endpoint".to_owned()) })
        .method_not_allowed_fallback(|| async {
            AppError::MethodNotAllowed("this endpoint does not take that method".to_owned())
        })
}
