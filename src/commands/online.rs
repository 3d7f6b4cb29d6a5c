//! The sync engine for the length of a command: `superset sync`, and [`Online`], which the
//! workspace commands use to catch up before reading and to see their writes reach the server
//! before they exit (or to say that they are queued, when the server is away).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::error::CommandError;
use crate::profile;
use crate::store;
use crate::sync::engine::Engine;
use crate::sync::events::{Events, SyncEvent, SyncStatus};
use crate::sync::session::{self, Session, SessionError};

/// The engine running for a command, and what it says.
pub struct Online {
    engine: Engine,
    events: Events,
    pub database: PathBuf,
    /// The signed-in user's id.
    pub me: String,
}

/// How a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reached {
    Yes,
    /// The server did not answer in time; what is local is used, writes stay queued.
    Offline(String),
}

impl Online {
    /// Starts the engine on the profile in `data_dir` (signed in, or an error saying so).
    pub async fn start(data_dir: &Path) -> Result<Self, CommandError> {
        let me = session::load(data_dir)
            .ok_or(SessionError::SignedOut)?
            .user_id
            .to_string();
        let http = profile::http_client();
        let session = Arc::new(Session::open(data_dir, http.clone()));
        let database = profile::database_path(data_dir);
        // Create or migrate the file before six streams open it at once.
        let opened = database.clone();
        tokio::task::spawn_blocking(move || store::open(&opened))
            .await
            .expect("the database task panicked")?;
        let (engine, events) = Engine::start(database.clone(), session, http, || {});
        Ok(Self {
            engine,
            events,
            database,
            me,
        })
    }

    /// Waits until every table is live (or `limit` passes, or the server is away).
    pub async fn until_live(&mut self, limit: Duration) -> Result<Reached, CommandError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match self.events.status() {
                SyncStatus::Live => return Ok(Reached::Yes),
                SyncStatus::NeedsSignIn(why) => return Err(CommandError::Sync(why)),
                SyncStatus::Offline { reason, .. } => return Ok(Reached::Offline(reason)),
                _ => {}
            }
            let event = tokio::time::timeout_at(deadline, self.events.next()).await;
            match event {
                Err(_) => return Ok(Reached::Offline("the server did not answer in time".into())),
                Ok(None) => return Ok(Reached::Offline("sync stopped".into())),
                Ok(Some(_)) => {}
            }
        }
    }

    /// Wakes the outbox and waits until nothing is left in it but what sync has yet to bring
    /// back — every write reached the server — or `limit` passes. A refused write is an error
    /// in the server's words.
    pub async fn until_sent(&mut self, limit: Duration) -> Result<Reached, CommandError> {
        self.engine.outbox_added();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let database = self.database.clone();
            let pending = tokio::task::spawn_blocking(move || {
                let conn = store::open(&database)?;
                Ok::<i64, store::StoreError>(conn.query_row(
                    "SELECT count(*) FROM outbox WHERE state = 'pending'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .expect("the database task panicked")?;
            if pending == 0 {
                return Ok(Reached::Yes);
            }
            let wait = tokio::time::sleep(Duration::from_millis(50));
            tokio::select! {
                _ = wait => {}
                event = self.events.next() => {
                    if let Some(SyncEvent::WriteRejected { reason }) = event {
                        return Err(CommandError::Refused(reason));
                    }
                }
            }
            if tokio::time::Instant::now() > deadline {
                let why = match self.events.status() {
                    SyncStatus::Offline { reason, .. } => reason,
                    _ => "the server did not answer in time".to_owned(),
                };
                return Ok(Reached::Offline(why));
            }
        }
    }

    pub async fn stop(self) {
        self.engine.stop().await;
    }
}

/// Runs the engine headless, printing status changes. With `until_synced`, returns once every
/// table is live; otherwise runs until Ctrl-C.
pub async fn sync(data_dir: &Path, until_synced: bool) -> Result<(), CommandError> {
    let mut online = Online::start(data_dir).await?;
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let event = tokio::select! {
            event = online.events.next() => event,
            _ = &mut interrupted => break,
        };
        let Some(event) = event else { break };
        match event {
            SyncEvent::Status(status) => {
                tracing::info!(?status, "sync status");
                match status {
                    SyncStatus::Live if until_synced => break,
                    SyncStatus::NeedsSignIn(why) => {
                        online.stop().await;
                        return Err(CommandError::Sync(why));
                    }
                    _ => {}
                }
            }
            SyncEvent::TablesChanged(tables) => tracing::debug!(?tables, "tables changed"),
            SyncEvent::WriteRejected { reason } => {
                tracing::warn!(%reason, "a write was refused and rolled back")
            }
        }
    }
    online.stop().await;
    Ok(())
}
