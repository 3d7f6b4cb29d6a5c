//! Failed sign-ins, limited: after ten in a row for one e-mail address, one a minute.

use std::num::NonZeroU32;

use governor::{Quota, RateLimiter, clock::Clock};

use crate::server::http::error::{AppError, AppResult};

/// Limits failed sign-ins per e-mail address: 10 in a row, then one a minute. Successful
/// sign-ins do not count. governor keeps the failure budget; a failure that finds it spent
/// blocks the address until the next one is allowed.
#[derive(Debug)]
pub struct LoginLimiter {
    failures: governor::DefaultKeyedRateLimiter<String>,
    blocked_until: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl LoginLimiter {
    pub fn new() -> Self {
        Self {
            failures: RateLimiter::keyed(
                Quota::per_minute(NonZeroU32::new(1).expect("nonzero"))
                    .allow_burst(NonZeroU32::new(10).expect("nonzero")),
            ),
            blocked_until: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// 429 while `key` is blocked.
    pub(super) fn check_blocked(&self, key: &str) -> AppResult<()> {
        let mut blocked = self.blocked_until.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        blocked.retain(|_, until| *until > now);
        match blocked.get(key) {
            Some(until) => Err(AppError::RateLimited {
                retry_after: (*until - now).as_secs().max(1),
            }),
            None => Ok(()),
        }
    }

    /// Counts a failure; the one that spends the budget is answered 429 itself.
    pub(super) fn record_failure(&self, key: &str) -> AppResult<()> {
        let Err(not_until) = self.failures.check_key(&key.to_owned()) else {
            return Ok(());
        };
        let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
        self.blocked_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), std::time::Instant::now() + wait);
        Err(AppError::RateLimited {
            retry_after: wait.as_secs().max(1),
        })
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new()
    }
}
