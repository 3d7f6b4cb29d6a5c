//! The integration routes' error type.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::server::http::error::AppError;

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
