//! Membership changes as they happen. Postgres notifies `superset_membership_removed` when a
//! member row is deleted or inserted (triggers, in the same transaction; a join says
//! `"joined": true`); every API replica listens and tells the proxy's live requests, so a
//! removed person's held long-poll or event stream ends at once instead of delivering the
//! organization's changes until it times out, and a request whose shape covers all of a
//! person's organizations ends when they join another.
//!
//! If the listening connection drops, it is made again (1 s, doubling to 30 s); meanwhile live
//! requests end at their usual timeouts and every new request checks membership anyway.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use crate::server::db;

const CHANNEL: &str = "superset_membership_removed";

/// Someone left, was removed from, or joined an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MembershipChange {
    pub organization_id: Uuid,
    pub user_id: Uuid,
    /// A join rather than a removal.
    #[serde(default)]
    pub joined: bool,
}

/// Where removals are announced within this process. The listening stops when the last clone
/// is dropped.
#[derive(Clone)]
pub struct Removals {
    sender: broadcast::Sender<MembershipChange>,
    _listener: Arc<Listener>,
}

/// The listening task, aborted (closing its connection) when dropped.
struct Listener(tokio::task::JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Removals {
    /// Starts listening on `database_url` (on the current runtime).
    pub fn start(database_url: String) -> Self {
        let (sender, _) = broadcast::channel(1024);
        let task = tokio::spawn(listen(database_url, sender.clone()));
        Self {
            sender,
            _listener: Arc::new(Listener(task)),
        }
    }

    /// Resolves when `user` is removed from any of `organizations`, or, with `joins`, joins
    /// any organization (or when changes were missed, to be safe: the request ends and the next
    /// one checks membership afresh).
    pub fn removed(
        &self,
        user: Uuid,
        organizations: Vec<Uuid>,
        joins: bool,
    ) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.sender.subscribe();
        async move {
            loop {
                match receiver.recv().await {
                    Ok(change)
                        if change.user_id == user
                            && if change.joined {
                                joins
                            } else {
                                organizations.contains(&change.organization_id)
                            } =>
                    {
                        return;
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
                }
            }
        }
    }
}

/// Keeps a `LISTEN` connection open (reconnecting with backoff) and announces what it hears.
async fn listen(database_url: String, announce: broadcast::Sender<MembershipChange>) {
    let (payloads, mut received) = mpsc::unbounded_channel::<String>();
    let forward = async move {
        while let Some(payload) = received.recv().await {
            match serde_json::from_str::<MembershipChange>(&payload) {
                Ok(change) => {
                    let _ = announce.send(change);
                }
                Err(error) => tracing::warn!(%error, %payload, "an unreadable removal"),
            }
        }
    };
    let connect = async move {
        let mut wait = Duration::from_secs(1);
        loop {
            match db::listen(&database_url, CHANNEL, &payloads).await {
                Ok(()) => wait = Duration::from_secs(1),
                Err(error) => {
                    tracing::warn!(%error, "listening for membership removals failed; retrying");
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            }
            tokio::time::sleep(wait).await;
        }
    };
    tokio::join!(forward, connect);
}
