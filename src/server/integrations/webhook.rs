//! What both webhooks do alike: read headers, answer with the outcome, give up after a deadline,
//! and now and then prune old delivery records.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use deadpool_postgres::Pool;

use super::deliveries;

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
