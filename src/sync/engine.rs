//! The tokio driver: one task per synced table runs its [`ShapeClient`] over HTTP through the
//! API's proxy and writes each batch into SQLite with its position, then tells the window.
//!
//! Events go over a bounded channel; a table change that finds the channel full is kept and
//! merged into the next [`Events::drain`], so nothing is lost and nothing piles up. After each
//! event the engine calls the waker (the window passes `ctx.request_repaint`). A live request
//! that times out with nothing new writes nothing and sends nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};

use super::session::{Session, SessionError};
use super::shape_client::{Outcome, Position, ShapeClient, ShapeRequest, ShapeResponse};
use crate::store::{self, synced};

/// What the window hears from the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// These tables have new rows: rebuild what is drawn from them.
    TablesChanged(BTreeSet<&'static str>),
    Status(SyncStatus),
    /// The API refused a write; it was rolled back. The reason is the server's, in words.
    WriteRejected {
        reason: String,
    },
}

/// The engine's state as a person would describe it.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncStatus {
    Connecting,
    /// First sync (or a refetch) under way: `live` of `total` tables are complete.
    Syncing {
        live: usize,
        total: usize,
    },
    Live,
    Offline {
        since: OffsetDateTime,
    },
    NeedsSignIn(String),
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
enum TableState {
    Connecting,
    Syncing,
    Live,
    Offline(OffsetDateTime),
    NeedsSignIn(String),
    Failed(String),
}

type Waker = Box<dyn Fn() + Send + Sync>;

pub(super) struct Shared {
    pub(super) db_path: PathBuf,
    pub(super) session: Arc<Session>,
    pub(super) http: reqwest::Client,
    pub(super) events: mpsc::Sender<SyncEvent>,
    pending_tables: Mutex<BTreeSet<&'static str>>,
    tables: Mutex<BTreeMap<&'static str, TableState>>,
    last_status: Mutex<Option<SyncStatus>>,
    waker: Waker,
}

impl Shared {
    pub(super) fn tables_changed(&self, table: &'static str) {
        let mut pending = self
            .pending_tables
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pending.insert(table);
        if self
            .events
            .try_send(SyncEvent::TablesChanged(pending.clone()))
            .is_ok()
        {
            pending.clear();
        }
        drop(pending);
        (self.waker)();
    }

    fn set_state(&self, table: &'static str, state: TableState) {
        let status = {
            let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
            if tables.get(table) == Some(&state) {
                return;
            }
            tables.insert(table, state);
            aggregate(&tables)
        };
        tracing::debug!(table, ?status, "table state changed");
        let mut last = self.last_status.lock().unwrap_or_else(|e| e.into_inner());
        if last.as_ref() != Some(&status) {
            *last = Some(status.clone());
            drop(last);
            // A full channel drops this status; the next change sends the current one.
            let _ = self.events.try_send(SyncEvent::Status(status));
            (self.waker)();
        }
    }
}

fn aggregate(tables: &BTreeMap<&'static str, TableState>) -> SyncStatus {
    let total = synced::SYNCED_TABLES.len();
    let states: Vec<&TableState> = tables.values().collect();
    if let Some(TableState::NeedsSignIn(why)) = states
        .iter()
        .find(|s| matches!(s, TableState::NeedsSignIn(_)))
    {
        return SyncStatus::NeedsSignIn(why.clone());
    }
    if let Some(TableState::Failed(why)) =
        states.iter().find(|s| matches!(s, TableState::Failed(_)))
    {
        return SyncStatus::Error(why.clone());
    }
    if let Some(since) = states
        .iter()
        .filter_map(|s| match s {
            TableState::Offline(since) => Some(*since),
            _ => None,
        })
        .min()
    {
        return SyncStatus::Offline { since };
    }
    let live = states
        .iter()
        .filter(|s| matches!(s, TableState::Live))
        .count();
    if live == total {
        SyncStatus::Live
    } else if states.iter().all(|s| matches!(s, TableState::Connecting)) {
        SyncStatus::Connecting
    } else {
        SyncStatus::Syncing { live, total }
    }
}

/// The receiving end of the engine's events.
pub struct Events {
    receiver: mpsc::Receiver<SyncEvent>,
    shared: Arc<Shared>,
}

impl Events {
    /// Everything that happened since the last call, without waiting.
    pub fn drain(&mut self) -> Vec<SyncEvent> {
        let mut events = Vec::new();
        while let Ok(event) = self.receiver.try_recv() {
            events.push(event);
        }
        let pending = std::mem::take(
            &mut *self
                .shared
                .pending_tables
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        if !pending.is_empty() {
            events.push(SyncEvent::TablesChanged(pending));
        }
        events
    }

    /// Waits for the next event (for the command line).
    pub async fn next(&mut self) -> Option<SyncEvent> {
        self.receiver.recv().await
    }

    /// The current overall status.
    pub fn status(&self) -> SyncStatus {
        aggregate(&self.shared.tables.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A running engine; dropping it stops the streams.
pub struct Engine {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    outbox: Arc<tokio::sync::Notify>,
}

impl Engine {
    /// Starts one stream per synced table. `waker` is called after every event.
    pub fn start(
        db_path: PathBuf,
        session: Arc<Session>,
        http: reqwest::Client,
        waker: impl Fn() + Send + Sync + 'static,
    ) -> (Self, Events) {
        let (sender, receiver) = mpsc::channel(64);
        let shared = Arc::new(Shared {
            db_path,
            session,
            http,
            events: sender,
            pending_tables: Mutex::new(BTreeSet::new()),
            tables: Mutex::new(
                synced::SYNCED_TABLES
                    .iter()
                    .map(|t| (*t, TableState::Connecting))
                    .collect(),
            ),
            last_status: Mutex::new(None),
            waker: Box::new(waker),
        });
        let (stop, stopped) = watch::channel(false);
        let outbox = Arc::new(tokio::sync::Notify::new());
        let mut tasks: Vec<_> = synced::SYNCED_TABLES
            .iter()
            .map(|table| tokio::spawn(run_table(shared.clone(), table, stopped.clone())))
            .collect();
        tasks.push(tokio::spawn(super::sender::run(
            shared.clone(),
            outbox.clone(),
            stopped,
        )));
        (
            Self {
                stop,
                tasks,
                outbox,
            },
            Events { receiver, shared },
        )
    }

    /// Wakes the outbox sender after a command was enqueued.
    pub fn outbox_added(&self) {
        self.outbox.notify_one();
    }

    /// What wakes the outbox sender, for background tasks that enqueue commands.
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        self.outbox.clone()
    }

    /// Stops every stream and waits for them (an in-flight write finishes first).
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// Runs blocking database work for one table on the blocking pool.
pub(super) async fn with_db<T: Send + 'static>(
    conn: &Arc<Mutex<rusqlite::Connection>>,
    work: impl FnOnce(&mut rusqlite::Connection) -> Result<T, store::StoreError> + Send + 'static,
) -> Result<T, store::StoreError> {
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
        work(&mut conn)
    })
    .await
    .expect("a database task panicked")
}

/// Where a shape request goes: the API's proxy for `table`, with the client's query.
fn shape_url(server: &str, table: &str, request: &ShapeRequest) -> String {
    format!(
        "{server}/api/electric/{table}?{}",
        serde_urlencoded::to_string(&request.query).unwrap_or_default()
    )
}

/// One shape request through the proxy; `Err` when no complete response arrived.
async fn fetch(
    http: reqwest::Client,
    url: String,
    token: String,
    live: bool,
) -> Result<ShapeResponse, ()> {
    let response = http
        .get(url)
        .bearer_auth(&token)
        .timeout(Duration::from_secs(if live { 60 } else { 120 }))
        .send()
        .await
        .map_err(|_| ())?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = response.bytes().await.map_err(|_| ())?;
    Ok(ShapeResponse {
        status,
        headers,
        body: body.to_vec(),
    })
}

/// Sleeps for `duration` unless stopped first; true when stopped.
pub(super) async fn pause(stopped: &mut watch::Receiver<bool>, duration: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = stopped.wait_for(|s| *s) => {}
    }
    *stopped.borrow()
}

async fn run_table(shared: Arc<Shared>, table: &'static str, mut stopped: watch::Receiver<bool>) {
    let path = shared.db_path.clone();
    let conn = match tokio::task::spawn_blocking(move || store::open(&path)).await {
        Ok(Ok(conn)) => Arc::new(Mutex::new(conn)),
        Ok(Err(e)) => return shared.set_state(table, TableState::Failed(e.to_string())),
        Err(e) => return shared.set_state(table, TableState::Failed(e.to_string())),
    };
    let (position, mut refetching) = match with_db(&conn, move |c| synced::position(c, table)).await
    {
        Ok(found) => found,
        Err(e) => return shared.set_state(table, TableState::Failed(e.to_string())),
    };
    let mut client = ShapeClient::new(table, position);
    let mut stored = client.position().clone();
    if !refetching && stored.offset != "-1" {
        shared.set_state(table, TableState::Syncing);
    }
    let mut prefetched: Option<(String, tokio::task::JoinHandle<Result<ShapeResponse, ()>>)> = None;
    while !*stopped.borrow() {
        let jitter: f64 = rand::rng().random();
        let token = match shared.session.access_token().await {
            Ok(token) => token,
            Err(SessionError::Unreachable { .. }) => {
                shared.set_state(table, TableState::Offline(OffsetDateTime::now_utc()));
                if pause(&mut stopped, Duration::from_secs(2)).await {
                    return;
                }
                continue;
            }
            Err(e) => {
                shared.set_state(table, TableState::NeedsSignIn(e.to_string()));
                if pause(&mut stopped, Duration::from_secs(5)).await {
                    return;
                }
                continue;
            }
        };
        let Some(server) = shared.session.server_url().await else {
            shared.set_state(
                table,
                TableState::NeedsSignIn(SessionError::SignedOut.to_string()),
            );
            if pause(&mut stopped, Duration::from_secs(5)).await {
                return;
            }
            continue;
        };
        let request = client.next_request();
        let url = shape_url(&server, table, &request);
        let requested = std::time::Instant::now();
        let sent = match prefetched.take() {
            // Fetched while the previous page was being written.
            Some((fetched_url, task)) if fetched_url == url => task,
            _ => tokio::spawn(fetch(shared.http.clone(), url, token.clone(), request.live)),
        };
        let response = tokio::select! {
            response = sent => response.unwrap_or(Err(())),
            _ = stopped.wait_for(|s| *s) => return,
        };
        let outcome = match response {
            Ok(response) => client.on_response(&response, jitter),
            Err(()) => client.on_network_error(jitter),
        };
        tracing::debug!(table, elapsed = ?requested.elapsed(), "response read and parsed");
        match outcome {
            Outcome::Apply(batch) => {
                // A refetch must reach its swap even when the last page brings no rows.
                let unchanged = !refetching
                    && batch.changes.is_empty()
                    && Some(&batch.handle) == stored.handle.as_ref()
                    && batch.offset == stored.offset;
                if !unchanged {
                    let up_to_date = batch.up_to_date;
                    // More pages follow: fetch the next while this one is written.
                    if !up_to_date {
                        let next = client.next_request();
                        let url = shape_url(&server, table, &next);
                        let task = tokio::spawn(fetch(
                            shared.http.clone(),
                            url.clone(),
                            token.clone(),
                            next.live,
                        ));
                        prefetched = Some((url, task));
                    }
                    let rows = batch.changes.len();
                    let applying = std::time::Instant::now();
                    let result = with_db(&conn, move |c| synced::apply(c, table, &batch)).await;
                    tracing::debug!(table, rows, elapsed = ?applying.elapsed(), "applied a batch");
                    match result {
                        Ok(applied) => {
                            stored = client.position().clone();
                            if applied.swapped {
                                refetching = false;
                            }
                            if applied.changed_rows() {
                                shared.tables_changed(table);
                            }
                        }
                        Err(e) => {
                            // The database refused the batch: start again from what is stored.
                            shared.set_state(table, TableState::Failed(e.to_string()));
                            let (position, _) = with_db(&conn, move |c| synced::position(c, table))
                                .await
                                .unwrap_or((Position::start(), false));
                            client = ShapeClient::new(table, position);
                            if pause(&mut stopped, Duration::from_secs(5)).await {
                                return;
                            }
                            continue;
                        }
                    }
                    if up_to_date && client.is_live() {
                        shared.set_state(table, TableState::Live);
                    } else {
                        shared.set_state(table, TableState::Syncing);
                    }
                } else if client.is_live() {
                    shared.set_state(table, TableState::Live);
                }
            }
            Outcome::MustRefetch => {
                let handle = client.position().handle.clone();
                let began = with_db(&conn, move |c| {
                    synced::begin_refetch(c, table, handle.as_deref())
                })
                .await;
                if let Err(e) = began {
                    // Never stream a new snapshot over the old rows: start over from the store.
                    shared.set_state(table, TableState::Failed(e.to_string()));
                    if pause(&mut stopped, Duration::from_secs(1)).await {
                        return;
                    }
                    let (position, _) = with_db(&conn, move |c| synced::position(c, table))
                        .await
                        .unwrap_or((Position::start(), false));
                    client = ShapeClient::new(table, position);
                    continue;
                }
                refetching = true;
                stored = client.position().clone();
                shared.set_state(table, TableState::Syncing);
            }
            Outcome::Retry(wait) => {
                if wait > Duration::ZERO {
                    let since = match shared
                        .tables
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(table)
                    {
                        Some(TableState::Offline(since)) => *since,
                        _ => OffsetDateTime::now_utc(),
                    };
                    shared.set_state(table, TableState::Offline(since));
                }
                if pause(&mut stopped, wait).await {
                    return;
                }
            }
            Outcome::Unauthorized => {
                if let Err(e) = shared.session.refresh(Some(&token)).await {
                    let state = match e {
                        SessionError::Unreachable { .. } => {
                            TableState::Offline(OffsetDateTime::now_utc())
                        }
                        other => TableState::NeedsSignIn(other.to_string()),
                    };
                    shared.set_state(table, state);
                    if pause(&mut stopped, Duration::from_secs(2)).await {
                        return;
                    }
                }
            }
            Outcome::Fatal(e) => {
                tracing::warn!(table, error = %e, "shape stream stopped");
                shared.set_state(table, TableState::Failed(e.to_string()));
                // Configuration problems are rarely fixed in seconds; try again gently.
                if pause(&mut stopped, Duration::from_secs(30)).await {
                    return;
                }
                let (position, _) = with_db(&conn, move |c| synced::position(c, table))
                    .await
                    .unwrap_or((Position::start(), false));
                client = ShapeClient::new(table, position);
            }
        }
    }
}
