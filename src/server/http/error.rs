//! The server's one HTTP error type, which owns the JSON error format:
//! `{"error": {"code": "…", "message": "…"}}` (a stale write's 409 adds `current` and
//! `conflicts`). Client errors say what was wrong and how to fix it; server errors keep their cause as a value, log it in full, and answer without internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    /// A write based on values that have changed since: 409 with the row as it is now.
    #[error("{}", .0.message)]
    Stale(Box<StaleWrite>),
    #[error("too many attempts: wait {retry_after} s and try again")]
    RateLimited { retry_after: u64 },
    #[error("the database is unavailable")]
    Unavailable(#[source] Cause),
    #[error("internal error")]
    Internal(#[source] Cause),
}

/// Why a write based on stale values was not applied, for its 409: the words, the row as it is
/// now, and each field that changed (`{"field", "expected", "current", "changed_by"}`).
#[derive(Debug)]
pub struct StaleWrite {
    pub message: String,
    pub current: serde_json::Value,
    pub conflicts: Vec<serde_json::Value>,
}

/// What made a server error happen, kept for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

impl AppError {
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Unauthorized {
            code,
            message: message.into(),
        }
    }

    /// A server-side failure: `cause` is logged, the client hears "internal error".
    pub fn internal(cause: impl Into<Cause>) -> Self {
        AppError::Internal(cause.into())
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, code),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            AppError::Conflict(_) | AppError::Stale(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let AppError::Internal(cause) | AppError::Unavailable(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut body = serde_json::json!({"error": {"code": code, "message": self.to_string()}});
        if let AppError::Stale(stale) = self {
            body["current"] = stale.current;
            body["conflicts"] = serde_json::Value::Array(stale.conflicts);
            return (status, Json(body)).into_response();
        }
        let mut response = (status, Json(body)).into_response();
        if let AppError::RateLimited { retry_after } = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after.into());
        }
        if matches!(self, AppError::Unavailable(_)) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, 1.into());
        }
        response
    }
}

impl From<tokio_postgres::Error> for AppError {
    fn from(error: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        let Some(db) = error.as_db_error() else {
            return if error.is_closed() {
                AppError::Unavailable(error.into())
            } else {
                AppError::Internal(error.into())
            };
        };
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION {
            AppError::Conflict("that already exists".to_owned())
        } else if *code == SqlState::CHECK_VIOLATION || *code == SqlState::NOT_NULL_VIOLATION {
            AppError::BadRequest(format!(
                "{} is not an allowed value",
                field_of(db.constraint(), db.table(), "_check")
                    .or_else(|| db.column().map(str::to_owned))
                    .unwrap_or_else(|| "one of the values".to_owned())
            ))
        } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
            AppError::BadRequest(format!(
                "{} refers to something that does not exist",
                field_of(db.constraint(), db.table(), "_fkey")
                    .unwrap_or_else(|| "one of the values".to_owned())
            ))
        } else if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE
            || *code == SqlState::UNTRANSLATABLE_CHARACTER
            || *code == SqlState::STRING_DATA_RIGHT_TRUNCATION
        {
            AppError::BadRequest(
                "a text holds a character that cannot be stored (such as NUL) or is too long"
                    .to_owned(),
            )
        } else {
            AppError::Internal(error.into())
        }
    }
}

/// The field a constraint named `<table>_<field><suffix>` guards (Postgres's naming), so a
/// refusal names the field, never the constraint.
fn field_of(constraint: Option<&str>, table: Option<&str>, suffix: &str) -> Option<String> {
    let field = constraint?.strip_suffix(suffix)?;
    let field = match table {
        Some(table) => field.strip_prefix(&format!("{table}_")).unwrap_or(field),
        None => field,
    };
    (!field.is_empty()).then(|| field.to_owned())
}

impl From<deadpool_postgres::PoolError> for AppError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        AppError::Unavailable(error.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;
