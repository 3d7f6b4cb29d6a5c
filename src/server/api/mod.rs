//! The API served beside the sync service: sign-in and tokens (`session`, `tokens`,
//! `accounts`), organizations (`orgs`), the org-scoped Electric proxy (`proxy`) and writes
//! (`writes`). One [`AppError`](error::AppError) owns the JSON error format; `AuthUser` is the
//! extractor that authenticates a request.

pub mod accounts;
pub(crate) mod body;
pub mod error;
pub mod orgs;
pub mod proxy;
pub mod session;
pub mod tokens;
pub mod writes;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, patch, post, put};
use deadpool_postgres::Pool;

pub use proxy::Upstream;

use crate::server::integrations::{self, IntegrationsConfig};

/// What the API needs to run.
pub struct ApiState {
    pub pool: Pool,
    pub keys: tokens::TokenKeys,
    pub upstream: Upstream,
    pub http: reqwest::Client,
    /// Webhook secrets, GitHub's API and the key for tokens at rest.
    pub integrations: IntegrationsConfig,
    login_limiter: session::LoginLimiter,
    /// Checked against when an e-mail is unknown, so failures take the same time either way.
    dummy_hash: String,
}

impl ApiState {
    pub async fn new(
        pool: Pool,
        keys: tokens::TokenKeys,
        upstream: Upstream,
    ) -> Result<Arc<Self>, error::AppError> {
        Self::with_integrations(pool, keys, upstream, IntegrationsConfig::default()).await
    }

    /// [`new`](Self::new) with the GitHub and Linear integrations configured.
    pub async fn with_integrations(
        pool: Pool,
        keys: tokens::TokenKeys,
        upstream: Upstream,
        integrations: IntegrationsConfig,
    ) -> Result<Arc<Self>, error::AppError> {
        Ok(Arc::new(Self {
            pool,
            keys,
            upstream,
            http: reqwest::Client::new(),
            integrations,
            login_limiter: session::LoginLimiter::new(),
            dummy_hash: accounts::hash_password("not a real password".to_owned()).await?,
        }))
    }
}

/// The `/api/...` routes.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/auth/login", post(session::login))
        .route("/api/auth/refresh", post(session::refresh))
        .route("/api/auth/logout", post(session::logout))
        .route("/api/me", get(session::me))
        .route("/api/electric/{table}", get(proxy::electric))
        .route("/api/organizations", post(orgs::create))
        .route("/api/organizations/{org}/members", post(orgs::add))
        .route(
            "/api/organizations/{org}/members/{user}",
            patch(orgs::change_role).delete(orgs::remove),
        )
        .route("/api/tasks", post(writes::create_task))
        .route(
            "/api/tasks/{id}",
            patch(writes::update_task).delete(writes::delete_task),
        )
        .route("/api/workspaces", post(writes::create_workspace))
        .route("/api/workspaces/{id}", patch(writes::update_workspace))
        .route(
            "/api/workspaces/{id}/archive",
            post(writes::archive_workspace),
        )
        .route("/webhooks/github", post(integrations::github::webhook))
        .route("/webhooks/linear", post(integrations::linear::webhook))
        .route(
            "/api/organizations/{org}/linear",
            put(integrations::linear::put_link).delete(integrations::linear::delete_link),
        )
        .route(
            "/api/organizations/{org}/github/token",
            put(integrations::import::put_token).delete(integrations::import::delete_token),
        )
        .route(
            "/api/organizations/{org}/github/repositories",
            get(integrations::import::list),
        )
        .route(
            "/api/organizations/{org}/github/repositories/import",
            post(integrations::import::import),
        )
        .fallback(|| async { error::AppError::NotFound("no such endpoint".to_owned()) })
        .method_not_allowed_fallback(|| async {
            error::AppError::MethodNotAllowed("this endpoint does not take that method".to_owned())
        })
        .with_state(state)
}
