//! Calling GitHub's REST API as an organization: its stored token read back (sealed at rest by
//! `secrets`), one way to send a request (the headers GitHub asks for, a bounded time, the
//! token only in `Authorization`), and one reading of GitHub's failures — a rejected token
//! (400), a used-up rate limit (503 with GitHub's wait), anything else (502). No message here
//! carries the token.

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, header};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::error::IntegrationError;
use super::secrets::{EncryptionKey, Sealed};
use super::state::IntegrationsState;

/// How long one request to GitHub may take, connecting included.
const GITHUB_TIMEOUT: Duration = Duration::from_secs(20);
/// The wait announced when GitHub's rate limit is used up and it says nothing of when it resets.
const DEFAULT_RATE_LIMIT_WAIT: u64 = 60;

type Result<T, E = IntegrationError> = std::result::Result<T, E>;

/// The server's key for tokens at rest, or 503 saying how the operator sets one.
pub(super) fn key(state: &IntegrationsState) -> Result<&EncryptionKey> {
    state.config.encryption_key.as_ref().ok_or_else(|| {
        IntegrationError::NotConfigured(
            "the server has no SUPERSET_ENCRYPTION_KEY, so it keeps no GitHub tokens: the operator \
             sets one (64 hex digits, e.g. `openssl rand -hex 32`) and restarts the server"
                .to_owned(),
        )
    })
}

/// The organization's GitHub token, decrypted; `None` when none is stored.
pub(super) async fn stored_token(
    client: &impl GenericClient,
    key: &EncryptionKey,
    org: Uuid,
) -> Result<Option<String>> {
    let Some(row) = client
        .query_opt(
            "SELECT ciphertext, nonce FROM github_tokens WHERE organization_id = $1",
            &[&org],
        )
        .await?
    else {
        return Ok(None);
    };
    let sealed = Sealed {
        ciphertext: row.get(0),
        nonce: row.get(1),
    };
    let plain = key
        .open(org, &sealed)
        .map_err(|e| IntegrationError::NotConfigured(e.to_string()))?;
    String::from_utf8(plain).map(Some).map_err(|_| {
        IntegrationError::NotConfigured(
            "the stored GitHub token is not text: store it again".to_owned(),
        )
    })
}

/// `GET url` with `token`, as GitHub asks to be called. Any answer is returned; no answer in
/// time is 502.
pub(super) async fn get(
    http: &reqwest::Client,
    url: reqwest::Url,
    token: &str,
) -> Result<reqwest::Response> {
    let origin = url.origin().ascii_serialization();
    http.get(url)
        .bearer_auth(token)
        .header(header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .header(header::USER_AGENT, "superset-server")
        .timeout(GITHUB_TIMEOUT)
        .send()
        .await
        .map_err(|e| {
            let why = if e.is_timeout() {
                format!("no answer within {} s", GITHUB_TIMEOUT.as_secs())
            } else {
                e.without_url().to_string()
            };
            IntegrationError::Upstream(format!("GitHub did not answer ({origin}): {why}"))
        })
}

/// What an answer of GitHub's that is not a success means.
pub(super) async fn failure(response: reqwest::Response) -> IntegrationError {
    let status = response.status();
    let wait = rate_limit_wait(status, response.headers(), time::OffsetDateTime::now_utc());
    // GitHub's errors are `{"message": "…", "documentation_url": "…"}`.
    let message = response
        .text()
        .await
        .ok()
        .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if let Some(retry_after) = wait {
        return IntegrationError::RateLimited {
            message: format!(
                "GitHub's rate limit for the organization's token is used up ({status} {message}): \
                 try again in {retry_after} s"
            ),
            retry_after,
        };
    }
    match status {
        StatusCode::UNAUTHORIZED => IntegrationError::TokenRejected(format!(
            "GitHub rejected the organization's token ({status} {message}): an owner or admin \
             stores a new one"
        )),
        StatusCode::FORBIDDEN => IntegrationError::TokenRejected(format!(
            "GitHub refused the organization's token ({status} {message}): it lacks access; an \
             owner or admin stores one that can read the repositories and their pull requests"
        )),
        _ if status.is_server_error() => {
            IntegrationError::Upstream(format!("GitHub did not answer: it said {status} {message}"))
        }
        _ => IntegrationError::Upstream(format!("GitHub answered {status} {message}")),
    }
}

/// Seconds to wait when GitHub says the token's rate limit is used up (403 or 429 with
/// `x-ratelimit-remaining: 0` or a `retry-after`; 429 always): its `retry-after`, else until
/// `x-ratelimit-reset` (Unix seconds), between 1 s and an hour.
fn rate_limit_wait(
    status: StatusCode,
    headers: &HeaderMap,
    now: time::OffsetDateTime,
) -> Option<u64> {
    let number =
        |name: &str| -> Option<i64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let retry_after = number("retry-after");
    let used_up = number("x-ratelimit-remaining") == Some(0);
    let limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN && (used_up || retry_after.is_some()));
    if !limited {
        return None;
    }
    let wait = retry_after
        .or_else(|| number("x-ratelimit-reset").map(|reset| reset - now.unix_timestamp()))
        .map_or(DEFAULT_RATE_LIMIT_WAIT, |s| s.clamp(1, 3600) as u64);
    Some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn rate_limits_wait_as_github_says() {
        let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let primary = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000042"),
        ]);
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &primary, now),
            Some(42)
        );
        let secondary = headers(&[("retry-after", "7"), ("x-ratelimit-remaining", "12")]);
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &secondary, now),
            Some(7)
        );
        assert_eq!(
            rate_limit_wait(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), now),
            Some(DEFAULT_RATE_LIMIT_WAIT)
        );
        let past = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1699999000"),
        ]);
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &past, now), Some(1));
        // A 403 with requests left is a token without access, not a rate limit.
        let refused = headers(&[("x-ratelimit-remaining", "4999")]);
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &refused, now), None);
        assert_eq!(rate_limit_wait(StatusCode::NOT_FOUND, &primary, now), None);
    }
}
