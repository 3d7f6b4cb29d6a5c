//! The API served beside the sync service: sign-in and tokens (`session`, `tokens`,
//! `accounts`, `limiter`), organizations and invitations (`orgs`, `invitations`), the org-scoped
//! Electric proxy (`proxy`, which ends a removed member's live requests through `removals`) and
//! writes (`writes`), on the shared HTTP pieces of `server::http`; `housekeeping` prunes old
//! bookkeeping. [`routes`] lists them;
//! `server::app` merges them with the integrations' routes.

pub mod accounts;
pub mod housekeeping;
pub mod invitations;
mod limiter;
pub mod orgs;
pub mod proxy;
pub mod removals;
pub mod session;
pub mod state;
pub mod tokens;
pub mod writes;

use axum::Router;
use axum::routing::{delete, get, patch, post};

pub use state::{ApiLimits, ApiState, Upstream};

/// The `/api/...` routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/auth/login", post(session::login))
        .route("/api/auth/refresh", post(session::refresh))
        .route("/api/auth/logout", post(session::logout))
        .route("/api/me", get(session::me))
        .route("/api/electric/{table}", get(proxy::electric))
        .route("/api/organizations", post(orgs::create))
        .route(
            "/api/organizations/{org}/members",
            post(invitations::invite),
        )
        .route(
            "/api/organizations/{org}/invitations",
            get(invitations::pending),
        )
        .route(
            "/api/organizations/{org}/invitations/{id}",
            delete(invitations::revoke),
        )
        .route("/api/invitations", get(invitations::received))
        .route("/api/invitations/{id}/accept", post(invitations::accept))
        .route("/api/invitations/{id}/decline", post(invitations::decline))
        .route(
            "/api/organizations/{org}/members/{user}",
            patch(orgs::change_role).delete(orgs::remove),
        )
        .route("/api/tasks", post(writes::tasks::create_task))
        .route(
            "/api/tasks/{id}",
            patch(writes::task_update::update_task).delete(writes::tasks::delete_task),
        )
        .route("/api/tasks/{id}/restore", post(writes::tasks::restore_task))
        .route(
            "/api/workspaces",
            post(writes::workspaces::create_workspace),
        )
        .route(
            "/api/workspaces/{id}",
            patch(writes::workspaces::update_workspace),
        )
        .route(
            "/api/workspaces/{id}/archive",
            post(writes::workspaces::archive_workspace),
        )
}
