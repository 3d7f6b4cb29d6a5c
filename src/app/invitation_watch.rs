//! Invitations waiting for the signed-in person, looked up when the window's session starts,
//! every minute after, and right after one is answered — so "Acme invited you" shows (and
//! goes) without a restart. Lookups that fail (offline) keep what was shown.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::invitations::{self, Invitation};
use crate::sync::requests::Api;

/// How often invitations are looked up while nothing else asks.
const EVERY: Duration = Duration::from_secs(60);

/// The lookup task; stops when dropped.
pub struct InvitationWatch {
    again: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl InvitationWatch {
    /// Starts looking up on `runtime`; each answer goes to `deliver`.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        api: Api,
        deliver: impl Fn(Vec<Invitation>) + Send + 'static,
    ) -> Self {
        let again = Arc::new(Notify::new());
        let wake = again.clone();
        let task = runtime.spawn(async move {
            loop {
                match invitations::waiting(&api).await {
                    Ok(waiting) => deliver(waiting),
                    Err(error) => tracing::debug!(%error, "looking up invitations failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(EVERY) => {}
                    _ = wake.notified() => {}
                }
            }
        });
        Self { again, task }
    }

    /// Looks up again now (an invitation was just answered).
    pub fn check_now(&self) {
        self.again.notify_one();
    }
}

impl Drop for InvitationWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}
