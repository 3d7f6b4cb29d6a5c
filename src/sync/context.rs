//! What every task of a running engine shares — the profile's database file, the session, the
//! HTTP client, the hub it reports to and the directory's change signal — and the two waits they all make: for blocking
//! database work on tokio's blocking pool, and for a pause that ends early when the engine
//! stops.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::{Notify, watch};

use super::events::Hub;
use super::session::Session;
use crate::store::{self, StoreError};

/// The engine's shared parts.
pub(super) struct Context {
    pub(super) db_path: PathBuf,
    pub(super) session: Arc<Session>,
    pub(super) http: reqwest::Client,
    pub(super) hub: Arc<Hub>,
    /// The directory's rows changed: the supervisor starts and stops organizations' streams.
    pub(super) organizations_changed: Notify,
}

/// One task's own connection to the profile's database.
#[derive(Clone)]
pub(super) struct Database(Arc<Mutex<Connection>>);

impl Database {
    /// Opens (and migrates, if needed) the database off the async threads.
    pub(super) async fn open(context: &Context) -> Result<Self, StoreError> {
        let path = context.db_path.clone();
        let conn = tokio::task::spawn_blocking(move || store::open(&path))
            .await
            .expect("opening the database panicked")?;
        Ok(Self(Arc::new(Mutex::new(conn))))
    }

    /// Runs blocking database work on the blocking pool.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            work(&mut conn)
        })
        .await
        .expect("a database task panicked")
    }
}

/// Sleeps for `duration` unless stopped first; true when stopped.
pub(super) async fn pause(stopped: &mut watch::Receiver<bool>, duration: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = stopped.wait_for(|s| *s) => {}
    }
    *stopped.borrow()
}
