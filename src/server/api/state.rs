//! What the API's routes need: the database, the token keys, where shapes come from, an HTTP
//! client for an external Electric, password checking, the limits, membership removals as they
//! happen, and the pruning of old bookkeeping.

use std::sync::Arc;

use axum::extract::FromRef;
use deadpool_postgres::Pool;

use super::accounts::{self, Hasher};
use super::housekeeping::Housekeeping;
use super::removals::Removals;
use crate::server::http::auth::TokenKeys;
use crate::server::http::error::AppError;

/// Where shape requests go.
#[derive(Clone)]
pub enum Upstream {
    /// The sync service in this process.
    InProcess {
        router: axum::Router,
        secret: Option<String>,
    },
    /// Another Electric-compatible service, e.g. Electric Cloud (`source_id` + `secret`).
    Remote {
        url: String,
        secret: Option<String>,
        source_id: Option<String>,
    },
}

/// What one person may cause to exist, and whom to believe about addresses.
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Organizations one person may create.
    pub organizations_per_user: usize,
    /// Take the client's address from `X-Forwarded-For` (its last entry): only behind a load
    /// balancer that sets it, or clients could choose their own address.
    pub trust_forwarded_for: bool,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            organizations_per_user: 10,
            trust_forwarded_for: false,
        }
    }
}

#[derive(Clone)]
pub struct ApiState {
    pub pool: Pool,
    pub keys: Arc<TokenKeys>,
    pub upstream: Arc<Upstream>,
    pub http: reqwest::Client,
    pub limits: ApiLimits,
    pub(super) hasher: Arc<Hasher>,
    /// Checked against when an e-mail is unknown, so failures take the same time either way.
    pub(super) dummy_hash: Arc<str>,
    pub(super) removals: Removals,
    _housekeeping: Housekeeping,
}

impl ApiState {
    /// The API's state; starts listening for membership removals on `database_url` and pruning.
    pub async fn new(
        pool: Pool,
        keys: Arc<TokenKeys>,
        upstream: Upstream,
        limits: ApiLimits,
        database_url: &str,
    ) -> Result<Self, AppError> {
        Ok(Self {
            _housekeeping: Housekeeping::start(pool.clone()),
            pool,
            keys,
            upstream: Arc::new(upstream),
            http: reqwest::Client::new(),
            limits,
            hasher: Arc::new(Hasher::new()),
            dummy_hash: accounts::hash_password("not a real password".to_owned())
                .await?
                .into(),
            removals: Removals::start(database_url.to_owned()),
        })
    }
}

impl FromRef<ApiState> for Arc<TokenKeys> {
    fn from_ref(state: &ApiState) -> Self {
        state.keys.clone()
    }
}
