//! The outbox sender: one task beside the shape streams that sends stored writes to the API in
//! order, one at a time, with their idempotency keys. Answers are sorted by
//! [`retry::classify`]: a write that worked is marked sent (sync confirms it later); a refused
//! one is rolled back with the server's reason (`SyncEvent::WriteRejected`), or kept as a
//! conflict when a teammate changed the same fields meanwhile; a 401 refreshes
//! the token; anything else waits as [`retry::Backoff`] says (never sooner than `Retry-After`)
//! and goes again.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, watch};

use super::context::{Context, Database, pause};
use super::retry::{self, Backoff, Verdict};
use crate::outbox::{self, Conflict, Entry};

/// Sends outbox commands until the engine stops.
pub(super) async fn run(context: Arc<Context>, wake: Arc<Notify>, stopped: watch::Receiver<bool>) {
    let db = match Database::open(&context).await {
        Ok(db) => db,
        Err(error) => {
            tracing::warn!(%error, "the outbox cannot open the local database");
            return;
        }
    };
    let device_id = db
        .run(|c| {
            Ok(c.query_row("SELECT device_id FROM settings", [], |r| {
                r.get::<_, String>(0)
            })?)
        })
        .await
        .unwrap_or_else(|_| "device".to_owned());
    let mut sender = Sender {
        context,
        db,
        device_id,
        backoff: Backoff::default(),
        stopped,
    };
    while sender.send_next(&wake).await.is_some() {}
}

struct Sender {
    context: Arc<Context>,
    db: Database,
    device_id: String,
    backoff: Backoff,
    stopped: watch::Receiver<bool>,
}

/// What became of one attempt to send a write.
enum Attempt {
    /// Sent, or refused and rolled back: the entry is done with.
    Settled,
    /// The token was renewed: send again at once.
    Again,
    /// Try again after this long, for this reason.
    Failed {
        reason: String,
        retry_after: Option<Duration>,
    },
}

impl Sender {
    /// Sends the oldest pending write (waiting for one if there is none); `None` once stopped.
    async fn send_next(&mut self, wake: &Notify) -> Option<()> {
        if *self.stopped.borrow() {
            return None;
        }
        let entry = match self.db.run(|c| outbox::next_pending(c)).await {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(30)) => {}
                    _ = self.stopped.wait_for(|s| *s) => return None,
                }
                return Some(());
            }
            Err(error) => {
                tracing::warn!(%error, "reading the outbox failed");
                return self.pause(Duration::from_secs(5)).await;
            }
        };
        let (Ok(token), Some(server)) = (
            self.context.session.access_token().await,
            self.context.session.server_url().await,
        ) else {
            return self.pause(Duration::from_secs(2)).await;
        };
        let mut stopped = self.stopped.clone();
        let attempt = tokio::select! {
            attempt = self.attempt(&entry, &server, &token) => attempt,
            _ = stopped.wait_for(|s| *s) => return None,
        };
        match attempt {
            Attempt::Settled => {
                self.backoff.reset();
                Some(())
            }
            Attempt::Again => Some(()),
            Attempt::Failed {
                reason,
                retry_after,
            } => self.back_off(&entry, reason, retry_after).await,
        }
    }

    /// One request for `entry`, and its answer recorded.
    async fn attempt(&self, entry: &Entry, server: &str, token: &str) -> Attempt {
        let (method, path, body) = entry.command.request();
        let mut request = self
            .context
            .http
            .request(method, format!("{server}{path}"))
            .bearer_auth(token)
            .header("idempotency-key", entry.idempotency_key(&self.device_id))
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Attempt::Failed {
                    reason: format!("the server cannot be reached: {error}"),
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        match retry::classify(status.as_u16()) {
            Verdict::Done => self.sent(entry, response).await,
            Verdict::SignInAgain => match self.context.session.refresh(Some(token)).await {
                Ok(_) => Attempt::Again,
                Err(_) => Attempt::Failed {
                    reason: "not signed in".to_owned(),
                    retry_after: None,
                },
            },
            Verdict::Refused | Verdict::Conflict => self.refused(entry, response).await,
            Verdict::Retry => Attempt::Failed {
                reason: format!("the server answered {status}"),
                retry_after: retry::retry_after(
                    response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok()),
                ),
            },
        }
    }

    /// The API took the write in transaction `txid`; sync confirms it when that comes back.
    async fn sent(&self, entry: &Entry, response: reqwest::Response) -> Attempt {
        let txid = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["txid"].as_i64())
            .unwrap_or(0);
        let sent = entry.clone();
        if let Err(error) = self
            .db
            .run(move |c| outbox::mark_sent(c, &sent, txid))
            .await
        {
            tracing::warn!(%error, "recording a sent write failed");
        }
        self.context.hub.tables_changed("outbox");
        Attempt::Settled
    }

    /// The API refused the write. A 409 naming the values that changed meanwhile keeps it as
    /// a conflict for the person to settle; anything else rolls it back, with its reason in
    /// words.
    async fn refused(&self, entry: &Entry, response: reqwest::Response) -> Attempt {
        let status = response.status();
        let body = response
            .json::<serde_json::Value>()
            .await
            .unwrap_or_default();
        if let Some(conflict) = Conflict::from_response(&body, &entry.command) {
            let kept = entry.clone();
            if let Err(error) = self
                .db
                .run(move |c| outbox::mark_conflicted(c, &kept, &conflict))
                .await
            {
                tracing::warn!(%error, "recording a conflicting write failed");
            }
            self.context.hub.tables_changed("outbox");
            return Attempt::Settled;
        }
        let reason = body["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("the server refused the change ({status})"));
        let (refused, stored_reason) = (entry.clone(), reason.clone());
        if let Err(error) = self
            .db
            .run(move |c| outbox::mark_rejected(c, &refused, &stored_reason))
            .await
        {
            tracing::warn!(%error, "recording a refused write failed");
        }
        self.context.hub.write_rejected(reason);
        Attempt::Settled
    }

    /// Counts the failed attempt on the entry and waits before the next one.
    async fn back_off(
        &mut self,
        entry: &Entry,
        reason: String,
        retry_after: Option<Duration>,
    ) -> Option<()> {
        let attempted = entry.clone();
        let _ = self
            .db
            .run(move |c| outbox::mark_attempt(c, &attempted, &reason))
            .await;
        let jitter: f64 = rand::rng().random();
        let wait = self.backoff.next(jitter, retry_after);
        self.pause(wait).await
    }

    async fn pause(&mut self, duration: Duration) -> Option<()> {
        (!pause(&mut self.stopped, duration).await).then_some(())
    }
}
