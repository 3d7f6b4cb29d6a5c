//! The webhook bookkeeping tables: `webhook_deliveries` (a delivery id is applied at most
//! once) and `webhook_versions` (an object is never set back to an older state). Both are
//! written inside the transaction that applies the delivery, so the record and the effect
//! commit or roll back together.

use time::OffsetDateTime;
use tokio_postgres::GenericClient;

use crate::server::http::error::AppResult;

/// Claims `delivery_id` for `provider`. Returns `false` when it was already recorded (a
/// redelivery, or a concurrent copy that committed first): the caller must not apply it again.
/// A concurrent copy still in flight makes this wait on the unique key until it ends.
pub async fn claim(
    tx: &impl GenericClient,
    provider: &str,
    delivery_id: &str,
    event: &str,
) -> AppResult<bool> {
    let inserted = tx
        .execute(
            "INSERT INTO webhook_deliveries (provider, delivery_id, event) VALUES ($1, $2, $3) \
             ON CONFLICT (provider, delivery_id) DO NOTHING",
            &[&provider, &delivery_id, &event],
        )
        .await?;
    Ok(inserted == 1)
}

/// Records what a claimed delivery did.
pub async fn set_outcome(
    tx: &impl GenericClient,
    provider: &str,
    delivery_id: &str,
    outcome: &str,
) -> AppResult<()> {
    tx.execute(
        "UPDATE webhook_deliveries SET outcome = $3 WHERE provider = $1 AND delivery_id = $2",
        &[&provider, &delivery_id, &outcome],
    )
    .await?;
    Ok(())
}

/// Moves `object_key`'s version to `updated_at` unless a newer one was applied already.
/// Returns `false` for a stale delivery. Equal times pass: sources stamp in whole seconds or
/// milliseconds, and two events in the same instant must both apply.
pub async fn advance(
    tx: &impl GenericClient,
    provider: &str,
    object_key: &str,
    updated_at: OffsetDateTime,
) -> AppResult<bool> {
    let row = tx
        .query_opt(
            "INSERT INTO webhook_versions (provider, object_key, source_updated_at) \
             VALUES ($1, $2, $3) \
             ON CONFLICT (provider, object_key) DO UPDATE \
             SET source_updated_at = EXCLUDED.source_updated_at \
             WHERE webhook_versions.source_updated_at <= EXCLUDED.source_updated_at \
             RETURNING 1",
            &[&provider, &object_key, &updated_at],
        )
        .await?;
    Ok(row.is_some())
}

/// Deletes delivery records older than `days` (GitHub allows redelivery for about 3 days,
/// Linear retries for about 6 hours). Returns how many were removed.
pub async fn prune(client: &impl GenericClient, days: i32) -> AppResult<u64> {
    Ok(client
        .execute(
            "DELETE FROM webhook_deliveries WHERE received_at < now() - make_interval(days => $1)",
            &[&days],
        )
        .await?)
}
