//! The API served beside the sync service: sign-in and tokens (`session`, `tokens`,
//! `accounts`), organizations (`orgs`), the org-scoped Electric proxy (`proxy`) and writes
//! (`writes`), on the shared HTTP pieces of `server::http`. [`routes`] lists them;
//! `server::app` merges them with the integrations' routes.

pub mod accounts;
mod limiter;
pub mod orgs;
pub mod proxy;
pub mod session;
pub mod state;
pub mod tokens;
pub mod writes;

use axum::Router;
use axum::routing::{get, patch, post};

pub use state::{ApiState, Upstream};

/// The `/api/...` routes.
pub fn routes() -> Router<ApiState> {
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
}
