//! Failed sign-ins, limited per e-mail address and per client address. The counts live in
//! Postgres (`login_attempts`), so every API replica sees the same ones. Each key has a budget
//! of failures that refills at a steady rate; the failure that spends it is answered 429 itself
//! and the key is blocked until one more attempt has been earned. Successful sign-ins do not
//! count. Old rows are pruned with the other server-only bookkeeping.

use tokio_postgres::GenericClient;

use crate::server::http::error::{AppError, AppResult};

/// A budget of failed sign-ins: `burst` at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub burst: f64,
    pub per_minute: f64,
}

/// Per e-mail address: ten in a row, then one a minute.
pub const PER_EMAIL: Budget = Budget {
    burst: 10.0,
    per_minute: 1.0,
};

/// Per client address: fifty in a row, then ten a minute (a flood of guesses at many accounts
/// from one place).
pub const PER_ADDRESS: Budget = Budget {
    burst: 50.0,
    per_minute: 10.0,
};

/// 429 while any of `keys` is blocked.
pub async fn check_blocked(client: &impl GenericClient, keys: &[&str]) -> AppResult<()> {
    let keys: Vec<&str> = keys.to_vec();
    let row = client
        .query_one(
            "SELECT ceil(extract(epoch FROM max(blocked_until) - now()))::int8 \
             FROM login_attempts WHERE key = ANY($1) AND blocked_until > now()",
            &[&keys],
        )
        .await?;
    match row.get::<_, Option<i64>>(0) {
        Some(seconds) => Err(AppError::RateLimited {
            retry_after: u64::try_from(seconds).unwrap_or(1).max(1),
        }),
        None => Ok(()),
    }
}

/// Counts a failure on `key`; the one that spends its budget is answered 429 itself.
pub async fn record_failure(
    client: &impl GenericClient,
    key: &str,
    budget: Budget,
) -> AppResult<()> {
    client
        .execute(
            "INSERT INTO login_attempts (key, credit) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &budget.burst],
        )
        .await?;
    // The row lock makes concurrent failures count one after another.
    let credit: f64 = client
        .query_one(
            "UPDATE login_attempts \
             SET credit = least($2::float8, \
                     credit + extract(epoch FROM now() - checked_at)::float8 / 60.0 * $3::float8) - 1, \
                 checked_at = now() \
             WHERE key = $1 RETURNING credit",
            &[&key, &budget.burst, &budget.per_minute],
        )
        .await?
        .get(0);
    if credit >= 0.0 {
        return Ok(());
    }
    let wait = -credit * 60.0 / budget.per_minute;
    client
        .execute(
            "UPDATE login_attempts SET blocked_until = now() + make_interval(secs => $2::float8) \
             WHERE key = $1",
            &[&key, &wait],
        )
        .await?;
    Err(AppError::RateLimited {
        retry_after: wait.ceil().max(1.0) as u64,
    })
}
