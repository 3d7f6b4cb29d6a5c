//! The outbox sender: one task beside the shape streams that sends stored writes to the API in
//! order, one at a time, with their idempotency keys; retries with backoff while the server is
//! unreachable, refreshes the token on a 401, and rolls a refused write back with the server's
//! reason (`SyncEvent::WriteRejected`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;

use super::engine::{Shared, SyncEvent, pause, with_db};
use crate::store;

/// Sends outbox commands in order: one at a time, retried with backoff while the server is
/// unreachable, rolled back when it refuses them.
pub(super) async fn run(
    shared: Arc<Shared>,
    wake: Arc<tokio::sync::Notify>,
    mut stopped: watch::Receiver<bool>,
) {
    let path = shared.db_path.clone();
    let Ok(Ok(conn)) = tokio::task::spawn_blocking(move || store::open(&path)).await else {
        tracing::warn!("the outbox cannot open the local database");
        return;
    };
    let conn = Arc::new(Mutex::new(conn));
    let device_id = with_db(&conn, |c| {
        Ok(c.query_row("SELECT device_id FROM settings", [], |r| {
            r.get::<_, String>(0)
        })?)
    })
    .await
    .unwrap_or_else(|_| "device".to_owned());
    let mut failures: u32 = 0;
    loop {
        if *stopped.borrow() {
            return;
        }
        let entry = match with_db(&conn, |c| crate::outbox::next_pending(c)).await {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
                continue;
            }
            Err(error) => {
                tracing::warn!(%error, "reading the outbox failed");
                if pause(&mut stopped, Duration::from_secs(5)).await {
                    return;
                }
                continue;
            }
        };
        let (Ok(token), Some(server)) = (
            shared.session.access_token().await,
            shared.session.server_url().await,
        ) else {
            if pause(&mut stopped, Duration::from_secs(2)).await {
                return;
            }
            continue;
        };
        let (method, path, body) = entry.command.request();
        let mut request = shared
            .http
            .request(method, format!("{server}{path}"))
            .bearer_auth(&token)
            .header("idempotency-key", entry.idempotency_key(&device_id))
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let result = tokio::select! {
            result = request.send() => result,
            _ = stopped.wait_for(|s| *s) => return,
        };
        let retry = match result {
            Ok(response) if response.status().is_success() => {
                let txid = response
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["txid"].as_i64())
                    .unwrap_or(0);
                let sent = entry.clone();
                if let Err(error) =
                    with_db(&conn, move |c| crate::outbox::mark_sent(c, &sent, txid)).await
                {
                    tracing::warn!(%error, "recording a sent write failed");
                }
                failures = 0;
                shared.tables_changed("outbox");
                None
            }
            Ok(response) if response.status() == reqwest::StatusCode::UNAUTHORIZED => {
                match shared.session.refresh(Some(&token)).await {
                    Ok(_) => None,
                    Err(_) => Some("not signed in".to_owned()),
                }
            }
            Ok(response)
                if response.status().is_client_error() && response.status().as_u16() != 429 =>
            {
                let status = response.status();
                let reason = response
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("the server refused the change ({status})"));
                let refused = entry.clone();
                let stored_reason = reason.clone();
                if let Err(error) = with_db(&conn, move |c| {
                    crate::outbox::mark_rejected(c, &refused, &stored_reason)
                })
                .await
                {
                    tracing::warn!(%error, "recording a refused write failed");
                }
                let _ = shared.events.try_send(SyncEvent::WriteRejected { reason });
                shared.tables_changed("outbox");
                None
            }
            Ok(response) => Some(format!("the server answered {}", response.status())),
            Err(error) => Some(format!("the server cannot be reached: {error}")),
        };
        if let Some(error) = retry {
            let attempted = entry.clone();
            let _ = with_db(&conn, move |c| {
                crate::outbox::mark_attempt(c, &attempted, &error)
            })
            .await;
            let ceiling = Duration::from_secs(1) * 2_u32.saturating_pow(failures.min(5));
            failures += 1;
            let jitter: f64 = rand::rng().random();
            let wait = ceiling.mul_f64(0.5 + jitter / 2.0);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
        }
    }
}
