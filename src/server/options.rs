//! The server's limits as command-line options (each with its environment variable), shared by
//! `superset-server serve` and `superset-server sync`, and what they become.

use std::time::Duration;

use clap::Args;

use super::api::ApiLimits;
use super::http::listener::ListenerConfig;
use super::shapes::ShapeLimits;

/// How connections are limited.
#[derive(Debug, Clone, Args)]
pub struct ListeningOptions {
    /// Seconds a client has to send a request's headers; also how long a kept-alive
    /// connection may sit idle between requests.
    #[arg(long, env = "SUPERSET_HEADER_TIMEOUT", default_value_t = 30)]
    pub header_timeout: u64,
    /// Open connections at most (default: half the open-file limit, at most 16,384).
    #[arg(long, env = "SUPERSET_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Open connections at most from one client address (0: no limit; set 0 behind a load
    /// balancer, where every connection has its address).
    #[arg(
        long,
        env = "SUPERSET_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 512
    )]
    pub max_connections_per_address: usize,
}

impl ListeningOptions {
    pub fn config(&self) -> ListenerConfig {
        let defaults = ListenerConfig::default();
        ListenerConfig {
            header_timeout: Duration::from_secs(self.header_timeout.max(1)),
            max_connections: self.max_connections.unwrap_or(defaults.max_connections),
            max_connections_per_address: self.max_connections_per_address,
            ..defaults
        }
    }
}

/// What the sync service may hold.
#[derive(Debug, Clone, Args)]
pub struct ShapeOptions {
    /// Shapes kept at most; past it the least recently requested is evicted (its clients get
    /// a 409 and fetch afresh).
    #[arg(long, env = "SUPERSET_MAX_SHAPES", default_value_t = 5_000)]
    pub max_shapes: usize,
    /// Megabytes the shape logs may take on disk, with the same eviction past it.
    #[arg(long, env = "SUPERSET_MAX_SHAPE_DISK_MB", default_value_t = 20_480)]
    pub max_shape_disk_mb: u64,
    /// Browser origins that may read /v1/shape (comma-separated; none by default).
    #[arg(long, env = "SUPERSET_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
}

impl ShapeOptions {
    pub fn limits(&self) -> ShapeLimits {
        ShapeLimits {
            max_shapes: self.max_shapes.max(1),
            max_disk_bytes: self.max_shape_disk_mb.saturating_mul(1024 * 1024),
            allowed_origins: self
                .cors_origins
                .iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
        }
    }
}

/// What one person may cause to exist through the API.
#[derive(Debug, Clone, Args)]
pub struct ApiOptions {
    /// Organizations one person may create.
    #[arg(
        long,
        env = "SUPERSET_MAX_ORGANIZATIONS_PER_USER",
        default_value_t = 10
    )]
    pub max_organizations_per_user: usize,
    /// Count sign-in attempts by the X-Forwarded-For address (only behind a load balancer
    /// that sets it).
    #[arg(long, env = "SUPERSET_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
}

impl ApiOptions {
    pub fn limits(&self) -> ApiLimits {
        ApiLimits {
            organizations_per_user: self.max_organizations_per_user,
            trust_forwarded_for: self.trust_forwarded_for,
        }
    }
}
