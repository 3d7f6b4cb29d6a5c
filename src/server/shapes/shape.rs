//! One live shape: its definition, its log, and where it stands (snapshotting, live, retired).
//!
//! Changes that arrive while the initial snapshot is still being read wait in memory; when the
//! snapshot ends they are replayed behind it, minus the transactions the snapshot already saw
//! (xid visibility, see [`SnapshotFilter`]). Waiters (long polls, SSE) watch a counter that moves
//! whenever new messages become visible or the shape is retired.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::watch;

use super::definition::{ShapeDefinition, ShapeParams};
use super::log::{Batch, ShapeLog, Slice};
use super::offset::LogOffset;

/// Which transactions an initial snapshot already contains: those visible in its Postgres
/// snapshot (`pg_current_snapshot()`), which all committed at or before `lsn`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotFilter {
    pub xmin: u64,
    pub xmax: u64,
    pub xip: Vec<u64>,
    /// `pg_current_wal_lsn()` when the snapshot was taken.
    pub lsn: u64,
}

impl SnapshotFilter {
    /// True when the transaction `xid` (pgoutput's 32-bit xid) committed with `commit_lsn` is
    /// already in the snapshot. Comparisons are modulo 2^32, as Postgres compares xids.
    pub fn contains(&self, xid: u32, commit_lsn: u64) -> bool {
        commit_lsn <= self.lsn && self.sees(xid)
    }

    /// True when the transaction `xid` is visible in this snapshot (committed before it was
    /// taken), by Postgres's rule, comparing modulo 2^32.
    pub fn sees(&self, xid: u32) -> bool {
        let precedes = |a: u32, b: u64| (a.wrapping_sub(b as u32) as i32) < 0;
        precedes(xid, self.xmin)
            || (precedes(xid, self.xmax) && !self.xip.iter().any(|&x| x as u32 == xid))
    }
}

/// A committed transaction's messages for one shape.
#[derive(Debug)]
pub struct ShapeTransaction {
    pub xid: u32,
    pub lsn: u64,
    pub messages: Batch,
}

#[derive(Debug)]
enum Phase {
    Snapshotting { pending: Vec<ShapeTransaction> },
    Live { filter: Option<SnapshotFilter> },
    Retired,
}

#[derive(Debug)]
struct Inner {
    log: ShapeLog,
    phase: Phase,
    /// The last transaction written, so a replayed stream does not write it twice.
    last_lsn: u64,
}

/// What is persisted beside the log, to bring the shape back after a restart.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ShapeMeta {
    pub handle: String,
    pub params: ShapeParams,
    pub filter: SnapshotFilter,
    /// The table's columns (name, type oid) when the shape was made: if they differ after a
    /// restart, the log no longer describes the table and the shape is dropped.
    pub columns: Vec<(String, u32)>,
}

#[derive(Debug)]
pub struct Shape {
    pub handle: String,
    pub definition: ShapeDefinition,
    dir: PathBuf,
    inner: Mutex<Inner>,
    changes: watch::Sender<u64>,
    /// When a client last asked for the shape, as a number that grows with every request to
    /// any shape: the least recently requested shape is the first to go when the service must
    /// make room.
    last_requested: AtomicU64,
}

/// A shape's state as a reader sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Snapshotting,
    Live,
    Retired,
}

impl Shape {
    /// A new shape whose snapshot is about to be taken.
    pub fn create(handle: String, definition: ShapeDefinition, dir: PathBuf) -> io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let log = ShapeLog::create(&dir)?;
        Ok(Self::with(
            handle,
            definition,
            dir,
            log,
            Phase::Snapshotting {
                pending: Vec::new(),
            },
        ))
    }

    /// A shape brought back from disk.
    pub fn reopen(meta: ShapeMeta, definition: ShapeDefinition, dir: PathBuf) -> io::Result<Self> {
        let log = ShapeLog::open(&dir)?;
        let last_lsn = log.latest().map_or(0, |o| o.tx);
        let shape = Self::with(
            meta.handle,
            definition,
            dir,
            log,
            Phase::Live {
                filter: Some(meta.filter),
            },
        );
        shape.lock().last_lsn = last_lsn;
        Ok(shape)
    }

    fn with(
        handle: String,
        definition: ShapeDefinition,
        dir: PathBuf,
        log: ShapeLog,
        phase: Phase,
    ) -> Self {
        Self {
            handle,
            definition,
            dir,
            inner: Mutex::new(Inner {
                log,
                phase,
                last_lsn: 0,
            }),
            changes: watch::Sender::new(0),
            last_requested: AtomicU64::new(next_request()),
        }
    }

    /// A client asked for the shape now.
    pub fn touch(&self) {
        self.last_requested.store(next_request(), Ordering::Relaxed);
    }

    pub fn last_requested(&self) -> u64 {
        self.last_requested.load(Ordering::Relaxed)
    }

    /// Bytes the shape's log takes on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.lock().log.disk_bytes()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn status(&self) -> Status {
        match self.lock().phase {
            Phase::Snapshotting { .. } => Status::Snapshotting,
            Phase::Live { .. } => Status::Live,
            Phase::Retired => Status::Retired,
        }
    }

    /// A receiver that wakes when messages are added or the shape is retired.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Appends snapshot rows (during the snapshot only); they can be served at once. Waiters
    /// are woken from the second batch on, so a snapshot that fits one batch is served whole.
    pub fn append_snapshot(&self, batch: &Batch) -> io::Result<()> {
        let mut inner = self.lock();
        let more = inner.log.latest().is_some();
        inner.log.commit_batch(batch)?;
        drop(inner);
        if more {
            self.bump();
        }
        Ok(())
    }

    /// Ends the snapshot: writes its closing message, replays the transactions that arrived
    /// meanwhile and were not in the snapshot, persists the metadata and goes live.
    pub fn finish_snapshot(
        &self,
        end: (LogOffset, Vec<u8>),
        filter: SnapshotFilter,
    ) -> io::Result<()> {
        let meta = ShapeMeta {
            handle: self.handle.clone(),
            params: self.definition.params.clone(),
            filter: filter.clone(),
            columns: table_columns(&self.definition.table),
        };
        let mut inner = self.lock();
        inner.log.append(end.0, &end.1);
        let pending = match std::mem::replace(
            &mut inner.phase,
            Phase::Live {
                filter: Some(filter),
            },
        ) {
            Phase::Snapshotting { pending } => pending,
            other => {
                inner.phase = other;
                return Ok(());
            }
        };
        for tx in pending {
            write_transaction(&mut inner, tx)?;
        }
        inner.log.commit()?;
        inner.log.sync()?;
        let json = serde_json::to_vec(&meta).map_err(io::Error::other)?;
        write_atomically(&self.dir.join("shape.json"), &json)?;
        drop(inner);
        self.bump();
        Ok(())
    }

    /// Adds a committed transaction's messages; they become visible at once.
    pub fn apply(&self, tx: ShapeTransaction) -> io::Result<()> {
        let mut inner = self.lock();
        match &mut inner.phase {
            Phase::Snapshotting { pending } => {
                pending.push(tx);
                return Ok(());
            }
            Phase::Retired => return Ok(()),
            Phase::Live { .. } => {}
        }
        if write_transaction(&mut inner, tx)? {
            drop(inner);
            self.bump();
        }
        Ok(())
    }

    /// True when the transaction `xid` committed at `lsn` is already in the shape's snapshot
    /// (or the shape is not live yet, so nothing may be applied to it).
    pub fn snapshot_contains(&self, xid: u32, lsn: u64) -> bool {
        match &self.lock().phase {
            Phase::Live {
                filter: Some(filter),
            } => filter.contains(xid, lsn),
            Phase::Live { filter: None } => false,
            Phase::Snapshotting { .. } | Phase::Retired => true,
        }
    }

    /// Makes everything written so far durable.
    pub fn sync(&self) -> io::Result<()> {
        self.lock().log.sync()
    }

    /// Marks the shape retired and wakes its waiters (who answer 409).
    pub fn retire(&self) {
        self.lock().phase = Phase::Retired;
        self.bump();
    }

    /// The newest visible offset.
    pub fn latest(&self) -> Option<LogOffset> {
        self.lock().log.latest()
    }

    /// Visible messages after `after`, bounded by `max_bytes`, and the data file to read them.
    pub fn slice_after(
        &self,
        after: Option<LogOffset>,
        max_bytes: u64,
    ) -> Option<(Slice, std::sync::Arc<std::fs::File>)> {
        let inner = self.lock();
        inner
            .log
            .slice_after(after, max_bytes)
            .map(|slice| (slice, inner.log.reader()))
    }
}

/// The (name, type oid) list a shape's log was written against.
pub fn table_columns(table: &super::schema::TableInfo) -> Vec<(String, u32)> {
    table
        .columns
        .iter()
        .zip(&table.type_oids)
        .map(|(c, oid)| (c.name.clone(), *oid))
        .collect()
}

/// Writes `tx` unless the snapshot or the log already holds it; true when something was written.
fn write_transaction(inner: &mut Inner, tx: ShapeTransaction) -> io::Result<bool> {
    if tx.lsn <= inner.last_lsn || tx.messages.is_empty() {
        return Ok(false);
    }
    if let Phase::Live {
        filter: Some(filter),
    } = &inner.phase
        && filter.contains(tx.xid, tx.lsn)
    {
        return Ok(false);
    }
    inner.log.commit_batch(&tx.messages)?;
    inner.last_lsn = tx.lsn;
    Ok(true)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, bytes)?;
    std::fs::File::open(&temporary)?.sync_all()?;
    std::fs::rename(&temporary, path)
}

/// The number of the next request to any shape (see `Shape::last_requested`).
fn next_request() -> u64 {
    static REQUESTS: AtomicU64 = AtomicU64::new(0);
    REQUESTS.fetch_add(1, Ordering::Relaxed)
}

/// Why a wait for new changes ended.
pub(super) enum Woken {
    Changed,
    TimedOut,
    ShuttingDown,
}

/// Waits until the shape's log grows (`changes`), the service shuts down, or `deadline`: the
/// one wait behind long-polls and server-sent events.
pub(super) async fn wait_for_change(
    changes: &mut watch::Receiver<u64>,
    shutdown: &mut watch::Receiver<bool>,
    deadline: Instant,
) -> Woken {
    tokio::select! {
        result = tokio::time::timeout_at(deadline.into(), changes.changed()) => match result {
            Ok(Ok(())) => Woken::Changed,
            Ok(Err(_)) => Woken::ShuttingDown,
            Err(_) => Woken::TimedOut,
        },
        _ = shutdown.wait_for(|stop| *stop) => Woken::ShuttingDown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_visibility_follows_postgres_rules() {
        let filter = SnapshotFilter {
            xmin: 100,
            xmax: 110,
            xip: vec![103, 105],
            lsn: 5000,
        };
        assert!(
            filter.contains(99, 4000),
            "committed before the snapshot's xmin"
        );
        assert!(filter.contains(104, 4000), "below xmax and not in progress");
        assert!(
            !filter.contains(103, 4000),
            "in progress when the snapshot was taken"
        );
        assert!(!filter.contains(110, 4000), "started after the snapshot");
        assert!(
            !filter.contains(99, 5001),
            "committed after the snapshot's LSN"
        );
        // xid wraparound: the 64-bit snapshot is compared in 32-bit space.
        let epoch = 1_u64 << 32;
        let wrapped = SnapshotFilter {
            xmin: epoch + 5,
            xmax: epoch + 10,
            xip: vec![],
            lsn: 5000,
        };
        assert!(wrapped.contains(4_294_967_290, 1), "just before the wrap");
        assert!(wrapped.contains(7, 1));
        assert!(!wrapped.contains(12, 1));
    }
}
