//! Server-only bookkeeping that would otherwise grow forever, pruned every ten minutes:
//! idempotency keys older than a day (a client retries a lost answer within minutes), sign-in
//! counts idle for a day and not blocking anyone, and invitations nobody answered in 30 days.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;

/// The pruning task, stopped when the last clone is dropped.
#[derive(Clone)]
pub struct Housekeeping {
    _task: Arc<Task>,
}

struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

const PRUNING: [&str; 3] = [
    "DELETE FROM idempotency_keys WHERE created_at < now() - interval '1 day'",
    "DELETE FROM login_attempts WHERE checked_at < now() - interval '1 day' \
     AND (blocked_until IS NULL OR blocked_until < now())",
    "DELETE FROM invitations WHERE created_at < now() - interval '30 days'",
];

impl Housekeeping {
    /// Starts pruning on the current runtime.
    pub fn start(pool: Pool) -> Self {
        let task = Task(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(600)).await;
                if let Err(error) = prune(&pool).await {
                    tracing::warn!(%error, "pruning old bookkeeping failed");
                }
            }
        }));
        Self {
            _task: Arc::new(task),
        }
    }
}

/// Deletes what has outlived its use; returns how many rows went.
pub async fn prune(pool: &Pool) -> Result<u64, crate::server::http::error::AppError> {
    let client = pool.get().await?;
    let mut removed = 0;
    for statement in PRUNING {
        removed += client.execute(statement, &[]).await?;
    }
    Ok(removed)
}
