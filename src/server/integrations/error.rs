//! The integration routes' error type.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::server::http::error::AppError;

/// The integration routes' error: the API's [`AppError`] plus the cases it has no variant
/// for, in the same JSON format (`{"error": {"code", "message"}}`).
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
    /// The organization has not connected GitHub: no token is stored (409).
    #[error("{0}")]
    NotConnected(String),
    /// GitHub's rate limit for the organization's token is used up (503, `Retry-After`).
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
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
        let mut retry_after = None;
        let (status, code, message) = match self {
            IntegrationError::App(error) => return error.into_response(),
            IntegrationError::NotConnected(message) => {
                (StatusCode::CONFLICT, "github_not_connected", message)
            }
            IntegrationError::RateLimited {
                message,
                retry_after: wait,
            } => {
                retry_after = Some(wait);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "github_rate_limited",
                    message,
                )
            }
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
        let mut response = (status, body).into_response();
        if let Some(wait) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, wait.into());
        }
        response
    }
}
