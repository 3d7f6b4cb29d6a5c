//! What the window hears from the engine, and the hub every stream and the outbox sender report
//! to.
//!
//! Events go over a bounded channel; a table change that finds the channel full is kept and
//! merged into the next [`Events::drain`], so nothing is lost and nothing piles up. Each stream
//! (by its name: `organizations`, `tasks@<organization id>`, …) reports its own `TableState`;
//! the hub folds those it expects into one [`SyncStatus`] and sends it only when it changes. After each event the hub calls the waker (the window passes
//! `ctx.request_repaint`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::slices::StreamKey;

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
    /// First sync (or a refetch) under way: `live` of `total` streams are complete.
    Syncing {
        live: usize,
        total: usize,
    },
    Live,
    /// The server cannot be reached (or keeps failing) since `since`; `reason` says why.
    Offline {
        since: OffsetDateTime,
        reason: String,
    },
    NeedsSignIn(String),
    Error(String),
}

/// One stream's state.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TableState {
    Connecting,
    Syncing,
    Live,
    Offline {
        since: OffsetDateTime,
        reason: String,
    },
    NeedsSignIn(String),
    Failed(String),
}

type Waker = Box<dyn Fn() + Send + Sync>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where the engine's tasks report; the window reads it through [`Events`].
pub(super) struct Hub {
    events: mpsc::Sender<SyncEvent>,
    pending_tables: Mutex<BTreeSet<&'static str>>,
    streams: Mutex<BTreeMap<String, TableState>>,
    last_status: Mutex<Option<SyncStatus>>,
    waker: Waker,
}

impl Hub {
    /// A hub expecting the directory's stream, and the window's end of its events.
    pub(super) fn new(waker: impl Fn() + Send + Sync + 'static) -> (Arc<Self>, Events) {
        let (sender, receiver) = mpsc::channel(64);
        let hub = Arc::new(Self {
            events: sender,
            pending_tables: Mutex::new(BTreeSet::new()),
            streams: Mutex::new(BTreeMap::from([(
                StreamKey::directory().name(),
                TableState::Connecting,
            )])),
            last_status: Mutex::new(None),
            waker: Box::new(waker),
        });
        let events = Events {
            receiver,
            hub: hub.clone(),
        };
        (hub, events)
    }

    /// `table`'s rows changed (or the outbox did: pending writes are drawn too).
    pub(super) fn tables_changed(&self, table: &'static str) {
        let mut pending = lock(&self.pending_tables);
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

    /// The API refused a write, which was rolled back.
    pub(super) fn write_rejected(&self, reason: String) {
        let _ = self.events.try_send(SyncEvent::WriteRejected { reason });
        self.tables_changed("outbox");
    }

    /// When stream `name` went offline, if it is offline now.
    pub(super) fn offline_since(&self, name: &str) -> Option<OffsetDateTime> {
        match lock(&self.streams).get(name) {
            Some(TableState::Offline { since, .. }) => Some(*since),
            _ => None,
        }
    }

    /// These streams are about to run: until they are live, the engine is not.
    pub(super) fn expect(&self, keys: &[StreamKey]) {
        let mut streams = lock(&self.streams);
        for key in keys {
            streams.entry(key.name()).or_insert(TableState::Connecting);
        }
        let status = aggregate(&streams);
        drop(streams);
        self.publish(status);
    }

    /// These streams stopped for good (the user left their organization).
    pub(super) fn forget(&self, keys: &[StreamKey]) {
        let mut streams = lock(&self.streams);
        for key in keys {
            streams.remove(&key.name());
        }
        let status = aggregate(&streams);
        drop(streams);
        self.publish(status);
    }

    /// Stream `name` is in `state` now. A stream already forgotten stays forgotten.
    pub(super) fn set_state(&self, name: &str, state: TableState) {
        let status = {
            let mut streams = lock(&self.streams);
            match streams.get_mut(name) {
                Some(current) if *current != state => *current = state,
                _ => return,
            }
            aggregate(&streams)
        };
        tracing::debug!(name, ?status, "stream state changed");
        self.publish(status);
    }

    /// Sends `status` when it differs from the last one sent.
    fn publish(&self, status: SyncStatus) {
        let mut last = lock(&self.last_status);
        if last.as_ref() != Some(&status) {
            *last = Some(status.clone());
            drop(last);
            // A full channel drops this status; the next change sends the current one.
            let _ = self.events.try_send(SyncEvent::Status(status));
            (self.waker)();
        }
    }

    fn status(&self) -> SyncStatus {
        aggregate(&lock(&self.streams))
    }

    fn take_pending_tables(&self) -> BTreeSet<&'static str> {
        std::mem::take(&mut *lock(&self.pending_tables))
    }
}

/// The worst state wins: sign-in, then failure, then offline (the earliest), then progress.
fn aggregate(streams: &BTreeMap<String, TableState>) -> SyncStatus {
    let states: Vec<&TableState> = streams.values().collect();
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
    if let Some((since, reason)) = states
        .iter()
        .filter_map(|s| match s {
            TableState::Offline { since, reason } => Some((*since, reason)),
            _ => None,
        })
        .min_by_key(|(since, _)| *since)
    {
        return SyncStatus::Offline {
            since,
            reason: reason.clone(),
        };
    }
    let live = states
        .iter()
        .filter(|s| matches!(s, TableState::Live))
        .count();
    if live == states.len() {
        SyncStatus::Live
    } else if states.iter().all(|s| matches!(s, TableState::Connecting)) {
        SyncStatus::Connecting
    } else {
        SyncStatus::Syncing {
            live,
            total: states.len(),
        }
    }
}

/// The receiving end of the engine's events.
pub struct Events {
    receiver: mpsc::Receiver<SyncEvent>,
    hub: Arc<Hub>,
}

impl Events {
    /// Everything that happened since the last call, without waiting.
    pub fn drain(&mut self) -> Vec<SyncEvent> {
        let mut events = Vec::new();
        while let Ok(event) = self.receiver.try_recv() {
            events.push(event);
        }
        let pending = self.hub.take_pending_tables();
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
        self.hub.status()
    }
}
