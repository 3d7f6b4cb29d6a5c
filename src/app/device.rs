//! Keeping the signed-in user's workspaces on this device current while the window is open:
//! every few seconds the watcher has `workspaces::report` queue what changed (git state from
//! each workspace's own folder, the activity heartbeat, "idle" once the person is away), wakes
//! the outbox when something was queued, and asks the API for the pull request of a branch that
//! was just pushed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

use crate::store;
use crate::sync::requests::Api;
use crate::workspaces::lookup::look_up_pull_request;
use crate::workspaces::report::{Report, report};

/// How often the watcher looks at the repositories and the user's activity.
const POLL: Duration = Duration::from_secs(5);
/// At most one activity heartbeat per this many seconds.
const HEARTBEAT_SECONDS: i64 = 60;
/// No input for this long: the user's workspaces go idle.
const IDLE_AFTER_SECONDS: i64 = 15 * 60;

/// Keeps the user's workspaces on this device current; stops when dropped.
pub struct DeviceWatcher {
    last_input: Arc<AtomicI64>,
    task: tokio::task::JoinHandle<()>,
}

impl DeviceWatcher {
    pub fn start(
        runtime: &tokio::runtime::Handle,
        db: PathBuf,
        me: Option<String>,
        api: Api,
        outbox_signal: Arc<tokio::sync::Notify>,
    ) -> Self {
        let last_input = Arc::new(AtomicI64::new(now_seconds()));
        let seen = last_input.clone();
        let task = runtime.spawn(async move {
            let Some(me) = me else { return };
            let mut last_heartbeat = 0;
            let connection = Arc::new(std::sync::Mutex::new(None));
            loop {
                tokio::time::sleep(POLL).await;
                let input = seen.load(Ordering::Relaxed);
                let now = now_seconds();
                let heartbeat =
                    now - input < HEARTBEAT_SECONDS && now - last_heartbeat >= HEARTBEAT_SECONDS;
                let idle = now - input >= IDLE_AFTER_SECONDS;
                if heartbeat {
                    last_heartbeat = now;
                }
                let done = poll_once(&db, &me, &connection, heartbeat, idle).await;
                if done.queued > 0 {
                    outbox_signal.notify_one();
                }
                for id in done.lookups {
                    if let Err(error) = look_up_pull_request(&api, id).await {
                        tracing::info!(%id, %error, "no pull request looked up");
                    }
                }
            }
        });
        Self { last_input, task }
    }

    /// The window saw input this frame.
    pub fn user_was_active(&self) {
        self.last_input.store(now_seconds(), Ordering::Relaxed);
    }
}

/// One report, on the blocking pool, with the watcher's one connection (opened on first use).
async fn poll_once(
    db: &std::path::Path,
    me: &str,
    connection: &Arc<std::sync::Mutex<Option<rusqlite::Connection>>>,
    heartbeat: bool,
    idle: bool,
) -> Report {
    let (db, me, open) = (db.to_owned(), me.to_owned(), connection.clone());
    tokio::task::spawn_blocking(move || {
        let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
        let conn = match open.take() {
            Some(conn) => Ok(conn),
            None => store::open(&db),
        };
        let reported = conn.and_then(|mut conn| {
            let done = report(&mut conn, &me, heartbeat, idle);
            *open = Some(conn);
            done
        });
        reported.unwrap_or_else(|e| {
            tracing::warn!("cannot update this device's workspaces: {e}");
            Report::default()
        })
    })
    .await
    .unwrap_or_default()
}

impl Drop for DeviceWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now_seconds() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}
