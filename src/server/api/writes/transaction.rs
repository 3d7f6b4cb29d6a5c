//! One write, once: the idempotent transaction every write runs in, and its answer.

use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::super::state::ApiState;
use crate::server::http::error::{AppError, AppResult};

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct WriteResult {
    pub id: Uuid,
    /// The 32-bit transaction id, as in the synced change's `txids`.
    pub txid: i64,
}

/// The `Idempotency-Key` header: a client's name for one write, so a retry of a write whose
/// answer was lost gets that answer again instead of writing twice.
pub struct IdempotencyKey(pub(super) Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(Self(None)),
            Some(value) => match value.to_str() {
                Ok(key) if !key.is_empty() && key.len() <= 200 => Ok(Self(Some(key.to_owned()))),
                _ => Err(AppError::BadRequest(
                    "Idempotency-Key must be 1 to 200 visible ASCII characters".to_owned(),
                )),
            },
        }
    }
}

/// Runs `write` in one transaction as `user`, once per idempotency key: a key used before gets
/// the answer it got then, and nothing is written again. `write` returns the row's id; the
/// answer adds the transaction's id, recorded under the key in the same transaction.
pub(super) async fn idempotent(
    state: &ApiState,
    user: Uuid,
    key: &IdempotencyKey,
    write: impl AsyncFnOnce(&Transaction<'_>) -> AppResult<Uuid>,
) -> AppResult<Json<WriteResult>> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    if let Some(done) = replayed(&tx, user, key).await? {
        return Ok(Json(done));
    }
    let id = write(&tx).await?;
    let txid: i64 = tx
        .query_one("SELECT pg_current_xact_id()::xid::text::int8", &[])
        .await?
        .get(0);
    let result = WriteResult { id, txid };
    if let Some(key) = &key.0 {
        let response = serde_json::to_value(&result).map_err(AppError::internal)?;
        tx.execute(
            "INSERT INTO idempotency_keys (user_id, key, response) VALUES ($1, $2, $3)",
            &[&user, key, &response],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Json(result))
}

/// The stored answer when this key was used before.
async fn replayed(
    tx: &Transaction<'_>,
    user: Uuid,
    key: &IdempotencyKey,
) -> AppResult<Option<WriteResult>> {
    let Some(key) = &key.0 else {
        return Ok(None);
    };
    let row = tx
        .query_opt(
            "SELECT response FROM idempotency_keys WHERE user_id = $1 AND key = $2",
            &[&user, key],
        )
        .await?;
    row.map(|r| {
        serde_json::from_value(r.get::<_, Value>(0))
            .map_err(|e| AppError::internal(format!("a stored answer: {e}")))
    })
    .transpose()
}
