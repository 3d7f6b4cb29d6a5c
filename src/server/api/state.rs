//! What the API's routes need: the database, the token keys, where shapes come from, an HTTP
//! client for an external Electric, and the sign-in limiter.

use std::sync::Arc;

use axum::extract::FromRef;
use deadpool_postgres::Pool;

use super::accounts;
use super::limiter::LoginLimiter;
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

#[derive(Clone)]
pub struct ApiState {
    pub pool: Pool,
    pub keys: Arc<TokenKeys>,
    pub upstream: Arc<Upstream>,
    pub http: reqwest::Client,
    pub(super) login_limiter: Arc<LoginLimiter>,
    /// Checked against when an e-mail is unknown, so failures take the same time either way.
    pub(super) dummy_hash: Arc<str>,
}

impl ApiState {
    pub async fn new(
        pool: Pool,
        keys: Arc<TokenKeys>,
        upstream: Upstream,
    ) -> Result<Self, AppError> {
        Ok(Self {
            pool,
            keys,
            upstream: Arc::new(upstream),
            http: reqwest::Client::new(),
            login_limiter: Arc::new(LoginLimiter::new()),
            dummy_hash: accounts::hash_password("not a real password".to_owned())
                .await?
                .into(),
        })
    }
}

impl FromRef<ApiState> for Arc<TokenKeys> {
    fn from_ref(state: &ApiState) -> Self {
        state.keys.clone()
    }
}
