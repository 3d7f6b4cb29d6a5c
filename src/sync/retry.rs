//! How the desktop reacts when a request to the server does not succeed: one classification of
//! every answer — done, retry later, conflict, sign in again, refused — and one backoff, used by
//! the shape streams and the outbox sender alike.
//!
//! The backoff doubles from 1 s to at most 32 s with full jitter (a random wait up to the
//! ceiling, so a thousand desktops that lost the server together do not come back together),
//! and never waits less than the server's `Retry-After`.

use std::time::Duration;

/// What an HTTP status means for the request that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: it worked.
    Done,
    /// 429 or 5xx (and failures before any answer): the server is busy or away; try again.
    Retry,
    /// 409: the server's state moved on. A shape must be fetched afresh; a write was based on
    /// values that no longer hold.
    Conflict,
    /// 401: the access token was refused; refresh it, or sign in again.
    SignInAgain,
    /// Any other 4xx (and 3xx, 1xx): the server refused the request for good.
    Refused,
}

/// Sorts a response by its status.
pub fn classify(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Done,
        409 => Verdict::Conflict,
        401 => Verdict::SignInAgain,
        429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Refused,
    }
}

/// The seconds of a `Retry-After` header (capped at an hour); dates are not used by our
/// servers and count as absent.
pub fn retry_after(header: Option<&str>) -> Option<Duration> {
    header
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(3600)))
}

const INITIAL: Duration = Duration::from_secs(1);
const CEILING: Duration = Duration::from_secs(32);

/// Consecutive failures of one stream or sender, and the wait they call for.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The wait after one more failure. `jitter` is a random number in `[0, 1)`.
    pub fn next(&mut self, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let ceiling = INITIAL
            .saturating_mul(2_u32.saturating_pow(self.failures.min(10)))
            .min(CEILING);
        self.failures += 1;
        let wait = ceiling.mul_f64(jitter.clamp(0.0, 1.0));
        wait.max(retry_after.unwrap_or_default())
    }

    /// A success: the next failure waits little again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// How many failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_sort_into_verdicts() {
        assert_eq!(classify(200), Verdict::Done);
        assert_eq!(classify(204), Verdict::Done);
        assert_eq!(classify(409), Verdict::Conflict);
        assert_eq!(classify(401), Verdict::SignInAgain);
        assert_eq!(classify(429), Verdict::Retry);
        assert_eq!(classify(503), Verdict::Retry);
        assert_eq!(classify(400), Verdict::Refused);
        assert_eq!(classify(404), Verdict::Refused);
    }

    #[test]
    fn backoff_doubles_to_a_ceiling_and_respects_retry_after() {
        let mut backoff = Backoff::default();
        let secs: Vec<u64> = (0..7)
            .map(|_| backoff.next(0.999_999, None).as_secs_f64().round() as u64)
            .collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 32]);
        assert_eq!(
            backoff.next(0.0, retry_after(Some("60"))),
            Duration::from_secs(60)
        );
        backoff.reset();
        assert!(backoff.next(0.999, None) <= Duration::from_secs(1));
        assert_eq!(retry_after(Some("soon")), None);
    }
}
