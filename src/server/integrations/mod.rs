//! GitHub and Linear: rows change in Postgres because GitHub or Linear said so, and sync
//! carries them to every desktop. `github` takes signed `pull_request` /
//! `pull_request_review` webhooks and updates workspaces' pull request columns; `linear`
//! takes signed `Issue` webhooks and upserts tasks in the organization a Linear organization or
//! team is linked to; `import` stores an organization's GitHub token (sealed by `secrets`) and
//! lists and imports its repositories. `signature` verifies HMACs in constant time,
//! `deliveries` dedupes deliveries and drops stale ones in the transaction that applies them,
//! and `crate::gitlink::urls` normalises git remote URLs (shared with the desktop).
//!
//! Webhook secrets and the encryption key come from the environment ([`IntegrationsConfig`]);
//! a provider without a secret has its webhook switched off (404), never open.

pub mod deliveries;
pub mod github;
pub mod import;
pub mod linear;
pub mod secrets;
pub mod signature;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use deadpool_postgres::Pool;

use crate::server::api::error::{AppError, AppResult};
use crate::server::api::orgs::role_of;
use secrets::{EncryptionKey, SecretsError};
use signature::Secrets;

/// GitHub's public API.
pub const GITHUB_API_URL: &str = "https://api.github.com";

/// What the integrations need from the server's configuration.
#[derive(Clone, Debug)]
pub struct IntegrationsConfig {
    /// `GITHUB_WEBHOOK_SECRET` (comma-separated for rotation); empty: webhook off.
    pub github_webhook_secrets: Secrets,
    /// `LINEAR_WEBHOOK_SECRET` (comma-separated: one per Linear webhook); empty: webhook off.
    pub linear_webhook_secrets: Secrets,
    /// GitHub's REST API (`GITHUB_API_URL`), without a trailing slash.
    pub github_api_url: String,
    /// `SUPERSET_ENCRYPTION_KEY`; without it, GitHub tokens cannot be stored.
    pub encryption_key: Option<EncryptionKey>,
    /// Linear deliveries whose `webhookTimestamp` is further than this from our clock are
    /// refused (Linear's SDK uses 60 s).
    pub linear_max_clock_skew: Duration,
}

impl Default for IntegrationsConfig {
    fn default() -> Self {
        Self {
            github_webhook_secrets: Secrets::default(),
            linear_webhook_secrets: Secrets::default(),
            github_api_url: GITHUB_API_URL.to_owned(),
            encryption_key: None,
            linear_max_clock_skew: Duration::from_secs(60),
        }
    }
}

impl IntegrationsConfig {
    /// The configuration from the values of `GITHUB_WEBHOOK_SECRET`, `LINEAR_WEBHOOK_SECRET`,
    /// `GITHUB_API_URL` and `SUPERSET_ENCRYPTION_KEY` (each optional; blank counts as unset).
    pub fn from_values(
        github_webhook_secret: Option<&str>,
        linear_webhook_secret: Option<&str>,
        github_api_url: Option<&str>,
        encryption_key: Option<&str>,
    ) -> Result<Self, SecretsError> {
        let encryption_key = match encryption_key.map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => Some(EncryptionKey::from_hex(key)?),
            None => None,
        };
        Ok(Self {
            github_webhook_secrets: Secrets::from_list(github_webhook_secret.unwrap_or("")),
            linear_webhook_secrets: Secrets::from_list(linear_webhook_secret.unwrap_or("")),
            github_api_url: github_api_url
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .unwrap_or(GITHUB_API_URL)
                .trim_end_matches('/')
                .to_owned(),
            encryption_key,
            ..Self::default()
        })
    }
}

/// The integration routes' error: the API's [`AppError`] plus the two cases it has no
/// variant for, in the same JSON format (`{"error": {"code", "message"}}`).
#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error(transparent)]
    App(#[from] AppError),
    /// The server lacks configuration the request needs (503).
    #[error("{0}")]
    NotConfigured(String),
    /// GitHub refused the stored token (400: store a new one).
    #[error("{0}")]
    TokenRejected(String),
    /// GitHub failed or could not be reached (502).
    #[error("{0}")]
    Upstream(String),
}

impl From<tokio_postgres::Error> for IntegrationError {
    fn from(error: tokio_postgres::Error) -> Self {
        IntegrationError::App(error.into())
    }
}

impl From<deadpool_postgres::PoolError> for IntegrationError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        IntegrationError::App(error.into())
    }
}

impl IntoResponse for IntegrationError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            IntegrationError::App(error) => return error.into_response(),
            IntegrationError::NotConfigured(message) => {
                (StatusCode::SERVICE_UNAVAILABLE, "not_configured", message)
            }
            IntegrationError::TokenRejected(message) => {
                (StatusCode::BAD_REQUEST, "github_token_rejected", message)
            }
            IntegrationError::Upstream(message) => {
                tracing::warn!(detail = %message, "a GitHub request failed");
                (StatusCode::BAD_GATEWAY, "github_unavailable", message)
            }
        };
        let body = Json(serde_json::json!({"error": {"code": code, "message": message}}));
        (status, body).into_response()
    }
}

/// How long a webhook may take before we give up (GitHub waits 10 s, Linear 5 s): the
/// transaction is dropped, so nothing is half-applied, and the sender sees a failure.
pub const WEBHOOK_DEADLINE: Duration = Duration::from_secs(4);

/// One header as text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A webhook's answer once verified: what happened, as JSON (200), or 204 for events we do
/// not act on.
pub(crate) fn outcome_response(outcome: &str, workspaces_or_tasks: Option<u64>) -> Response {
    match outcome {
        "ignored" => StatusCode::NO_CONTENT.into_response(),
        _ => {
            let mut body = serde_json::json!({ "outcome": outcome });
            if let Some(n) = workspaces_or_tasks {
                body["rows"] = n.into();
            }
            (StatusCode::OK, Json(body)).into_response()
        }
    }
}

/// Every thousandth delivery prunes delivery records older than 30 days, in the background.
pub(crate) fn maybe_prune(pool: &Pool) {
    static DELIVERIES: AtomicU64 = AtomicU64::new(0);
    if DELIVERIES.fetch_add(1, Ordering::Relaxed) % 1000 != 999 {
        return;
    }
    let pool = pool.clone();
    tokio::spawn(async move {
        if let Ok(client) = pool.get().await {
            match deliveries::prune(&**client, 30).await {
                Ok(n) => tracing::debug!(removed = n, "pruned old webhook deliveries"),
                Err(error) => tracing::warn!(%error, "pruning webhook deliveries failed"),
            }
        }
    });
}

/// 403 unless `user` is an owner or admin of `org`.
pub(crate) async fn require_admin(
    client: &impl tokio_postgres::GenericClient,
    org: uuid::Uuid,
    user: uuid::Uuid,
) -> AppResult<()> {
    match role_of(client, org, user).await?.as_deref() {
        Some("owner" | "admin") => Ok(()),
        Some(_) => Err(AppError::Forbidden(
            "only owners and admins manage the organization's integrations".to_owned(),
        )),
        None => Err(AppError::Forbidden(
            "you are not a member of that organization".to_owned(),
        )),
    }
}
