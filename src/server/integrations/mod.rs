//! GitHub and Linear: rows change in Postgres because GitHub or Linear said so, and sync
//! carries them to every desktop. `github` takes signed `pull_request` /
//! `pull_request_review` webhooks and updates workspaces' pull request columns; `linear`
//! takes signed `Issue` webhooks and upserts tasks in the organization a Linear organization or
//! team is linked to; `import` stores an organization's GitHub token (sealed by `secrets`) and
//! lists and imports its repositories; `pull_request_lookup` asks GitHub for a workspace's
//! pull request where no webhook tells us (`POST /api/workspaces/{id}/pull-request`, served
//! here beside the other GitHub calls rather than with the API's workspace writes, which this
//! layer does not use); `github_api` is how all of them call GitHub. `signature` verifies HMACs in constant time,
//! `deliveries` dedupes deliveries and drops stale ones in the transaction that applies them,
//! `webhook` holds what both webhooks do alike, and `crate::gitlink::urls` normalises git
//! remote URLs (shared with the desktop).
//!
//! Webhook secrets and the encryption key come from the environment ([`IntegrationsConfig`]);
//! a provider without a secret has its webhook switched off (404), never open.

mod access;
pub mod config;
pub mod deliveries;
pub mod error;
pub mod github;
mod github_api;
pub mod import;
pub mod linear;
pub mod pull_request_lookup;
pub mod secrets;
pub mod signature;
pub mod state;
mod webhook;

use axum::Router;
use axum::routing::{get, post, put};

pub use config::IntegrationsConfig;
pub use state::IntegrationsState;

/// The webhooks, the organization's integration settings and the pull request lookup.
pub fn routes() -> Router<IntegrationsState> {
    Router::new()
        .route("/webhooks/github", post(github::webhook))
        .route("/webhooks/linear", post(linear::webhook))
        .route(
            "/api/organizations/{org}/linear",
            put(linear::put_link).delete(linear::delete_link),
        )
        .route(
            "/api/organizations/{org}/github/token",
            put(import::put_token).delete(import::delete_token),
        )
        .route(
            "/api/organizations/{org}/github/repositories",
            get(import::list),
        )
        .route(
            "/api/organizations/{org}/github/repositories/import",
            post(import::import),
        )
        .route(
            "/api/workspaces/{id}/pull-request",
            post(pull_request_lookup::lookup),
        )
}
