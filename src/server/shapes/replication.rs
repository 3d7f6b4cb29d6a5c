//! The replication stream: reads the publication through a logical slot (pgoutput), turns each
//! committed transaction into per-shape messages, and acknowledges a position to Postgres only
//! once everything before it is durable in the shape logs.
//!
//! New messages become visible to clients as soon as they are written (page cache); the fsync
//! that allows the acknowledgement is batched whenever the stream pauses. After a crash the
//! slot replays from the last acknowledged position and the logs skip what they already hold
//! (transactions are identified by commit LSN), so nothing is lost or doubled. A lost
//! connection is retried with backoff, picking up from the slot.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use pgwire_replication::{Lsn, ReplicationClient, ReplicationConfig, ReplicationEvent, TlsConfig};
use tokio::sync::watch;
use tokio_postgres::config::Host;

use super::definition::{RowChange, Scratch, ShapeOp};
use super::log::Batch;
use super::message::TxPosition;
use super::moves::{self, Step};
use super::offset::LogOffset;
use super::pgoutput::{self, Message, Tuple, Value};
use super::registry::Registry;
use super::schema::TableInfo;
use super::shape::{Shape, ShapeTransaction};
use super::snapshot::{self, SESSION_SETTINGS};

/// How the stream is doing, for `/v1/health` and for clients' 503s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    Starting,
    Streaming,
    Reconnecting,
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    #[error("replication connection failed: {0}")]
    Connection(#[from] pgwire_replication::PgWireError),
    #[error("bad DATABASE_URL for replication: {0}")]
    Config(String),
    #[error("cannot decode the replication stream: {0}")]
    Decode(#[from] pgoutput::DecodeError),
    #[error("writing shape logs failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Postgres(#[from] tokio_postgres::Error),
}

/// Creates the logical slot if it does not exist yet.
pub async fn ensure_slot(
    client: &tokio_postgres::Client,
    slot: &str,
) -> Result<(), tokio_postgres::Error> {
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await?
        .is_some();
    if !exists {
        client
            .execute(
                "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
                &[&slot],
            )
            .await?;
        tracing::info!(slot, "created logical replication slot");
    }
    Ok(())
}

/// What the replication connection needs from `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    pub database_url: String,
    pub slot: String,
    pub publication: String,
}

impl StreamSettings {
    fn replication_config(&self) -> Result<ReplicationConfig, ReplicationError> {
        let config: tokio_postgres::Config = self
            .database_url
            .parse()
            .map_err(|e: tokio_postgres::Error| ReplicationError::Config(e.to_string()))?;
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            #[cfg(unix)]
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_owned(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config
            .get_user()
            .ok_or_else(|| ReplicationError::Config("no user in the URL".into()))?;
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        let database = config.get_dbname().unwrap_or(user).to_owned();
        Ok(ReplicationConfig::new(
            host,
            user,
            password,
            database,
            self.slot.clone(),
            self.publication.clone(),
        )
        .with_port(port)
        .with_tls(TlsConfig::disabled())
        .with_start_lsn(Lsn(0))
        .with_options(SESSION_SETTINGS)
        .with_status_interval(Duration::from_secs(1))
        .with_application_name("superset-sync"))
    }
}

#[derive(Debug)]
struct PendingTx {
    xid: u32,
    changes: Vec<Message>,
    truncated: Vec<u32>,
}

/// Reads the stream and feeds the registry's shapes.
pub struct Replicator {
    registry: Arc<Registry>,
    /// Connections for subquery shapes' snapshots and move-in reads.
    pool: Pool,
    settings: StreamSettings,
    status: watch::Sender<StreamStatus>,
    /// Relations announced in this session, by oid.
    relations: HashMap<u32, pgoutput::Relation>,
    /// Commit LSN of the last transaction handed to the shapes.
    processed_lsn: u64,
    /// Shapes written since the last fsync.
    dirty: Vec<Arc<Shape>>,
    /// Highest WAL position that is durable once `dirty` is synced.
    ack_candidate: u64,
}

impl Replicator {
    pub fn new(
        registry: Arc<Registry>,
        pool: Pool,
        settings: StreamSettings,
        status: watch::Sender<StreamStatus>,
    ) -> Self {
        Self {
            registry,
            pool,
            settings,
            status,
            relations: HashMap::new(),
            processed_lsn: 0,
            dirty: Vec::new(),
            ack_candidate: 0,
        }
    }

    /// Streams until `shutdown` turns true, reconnecting with backoff after failures.
    pub async fn run(mut self, shutdown: watch::Receiver<bool>) {
        self.stream_until(shutdown).await;
        self.status.send_replace(StreamStatus::Stopped);
    }

    async fn stream_until(&mut self, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(250);
        loop {
            let started = std::time::Instant::now();
            let result = tokio::select! {
                result = self.stream_once() => result,
                _ = shutdown.wait_for(|stop| *stop) => return,
            };
            if started.elapsed() > Duration::from_secs(10) {
                backoff = Duration::from_millis(250);
            }
            if let Err(error) = result {
                self.status.send_replace(StreamStatus::Reconnecting);
                tracing::warn!(%error, retry_in = ?backoff, "replication stream lost");
                if matches!(&error, ReplicationError::Connection(e) if is_missing_slot(e)) {
                    match self.recreate_slot().await {
                        Ok(()) => continue,
                        Err(error) => {
                            tracing::warn!(%error, "recreating the replication slot failed")
                        }
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(15));
        }
    }

    async fn stream_once(&mut self) -> Result<(), ReplicationError> {
        let config = self.settings.replication_config()?;
        let mut client = ReplicationClient::connect(config).await?;
        client.wait_started().await?;
        self.relations.clear();
        self.status.send_replace(StreamStatus::Streaming);
        tracing::info!(slot = %self.settings.slot, "replication stream started");
        let mut pending: Option<PendingTx> = None;
        loop {
            self.take_wanted_snapshots().await;
            let event = if self.dirty.is_empty() && self.ack_candidate == 0 {
                tokio::select! {
                    event = client.recv() => event?,
                    () = self.registry.snapshot_requested() => continue,
                }
            } else {
                // Poll without waiting: when the stream pauses, sync and acknowledge.
                match tokio::time::timeout(Duration::ZERO, client.recv()).await {
                    Ok(event) => event?,
                    Err(_) => {
                        self.sync_and_ack(&client).await?;
                        continue;
                    }
                }
            };
            let Some(event) = event else {
                return Ok(());
            };
            match event {
                ReplicationEvent::Begin { xid, .. } => {
                    pending = Some(PendingTx {
                        xid,
                        changes: Vec::new(),
                        truncated: Vec::new(),
                    });
                }
                ReplicationEvent::XLogData { data, .. } => match pgoutput::decode(data)? {
                    Message::Relation(relation) => self.on_relation(relation),
                    Message::Truncate { relation_ids, .. } => {
                        if let Some(tx) = pending.as_mut() {
                            tx.truncated.extend(relation_ids);
                        }
                    }
                    change @ (Message::Insert { .. }
                    | Message::Update { .. }
                    | Message::Delete { .. }) => {
                        if let Some(tx) = pending.as_mut() {
                            tx.changes.push(change);
                        }
                    }
                    _ => {}
                },
                ReplicationEvent::Commit { lsn, end_lsn, .. } => {
                    if let Some(tx) = pending.take() {
                        self.apply(tx, lsn.0).await?;
                    }
                    self.ack_candidate = self.ack_candidate.max(end_lsn.0);
                    self.registry.saw_lsn(lsn.0);
                }
                ReplicationEvent::KeepAlive { wal_end, .. } => {
                    if pending.is_none() {
                        self.ack_candidate = self.ack_candidate.max(wal_end.0);
                    }
                }
                ReplicationEvent::Message { .. } => {}
                ReplicationEvent::StoppedAt { .. } => return Ok(()),
            }
        }
    }

    /// The slot was dropped behind our back: changes since our last position are gone, so every
    /// shape is retired (clients refetch) and a new slot starts from now.
    async fn recreate_slot(&mut self) -> Result<(), ReplicationError> {
        tracing::warn!(slot = %self.settings.slot, "replication slot is missing; recreating it and retiring every shape");
        let client = super::super::db::connect(&self.settings.database_url).await?;
        ensure_slot(&client, &self.settings.slot).await?;
        for shape in self.registry.all() {
            self.retire(&shape);
        }
        self.processed_lsn = 0;
        Ok(())
    }

    async fn sync_and_ack(&mut self, client: &ReplicationClient) -> Result<(), ReplicationError> {
        let dirty = std::mem::take(&mut self.dirty);
        if !dirty.is_empty() {
            tokio::task::spawn_blocking(move || dirty.iter().try_for_each(|shape| shape.sync()))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
        }
        if self.ack_candidate > 0 {
            client.update_applied_lsn(Lsn(self.ack_candidate));
            self.ack_candidate = 0;
        }
        Ok(())
    }

    /// A Relation message: a table's shape as the stream sees it. If it no longer matches what
    /// a shape was built on (a column added, dropped, retyped), the shape is retired.
    fn on_relation(&mut self, relation: pgoutput::Relation) {
        let oid = relation.id;
        for shape in self.registry.shapes_of_table(oid) {
            if !same_columns(&shape.definition.table, &relation) {
                tracing::info!(handle = %shape.handle, table = %relation.name, "schema changed; retiring shape");
                self.retire(&shape);
            }
        }
        for shape in self.registry.dependents_of_table(oid) {
            let reads_changed_table = shape.definition.where_clause.as_ref().is_some_and(|w| {
                w.all_subqueries().iter().any(|d| {
                    d.subquery.table.oid == oid && !same_columns(&d.subquery.table, &relation)
                })
            });
            if reads_changed_table {
                tracing::info!(handle = %shape.handle, table = %relation.name, "a subquery's table changed; retiring shape");
                self.retire(&shape);
            }
        }
        self.registry.forget_table(oid);
        self.relations.insert(oid, relation);
    }

    fn retire(&self, shape: &Arc<Shape>) {
        self.registry.retire(shape);
        let dir = shape.dir().to_path_buf();
        tokio::task::spawn_blocking(move || super::log::remove(&dir));
    }

    async fn apply(&mut self, tx: PendingTx, commit_lsn: u64) -> Result<(), ReplicationError> {
        if commit_lsn <= self.processed_lsn {
            return Ok(()); // replayed after a reconnect
        }
        for oid in &tx.truncated {
            let dependents = self.registry.dependents_of_table(*oid);
            for shape in self
                .registry
                .shapes_of_table(*oid)
                .into_iter()
                .chain(dependents)
            {
                tracing::info!(handle = %shape.handle, "table truncated; retiring shape");
                self.retire(&shape);
            }
        }
        // Per shape, the ops this transaction brings, in order: (op position, change index, op).
        let mut per_shape: Vec<(Arc<Shape>, Vec<PlannedOp>)> = Vec::new();
        let mut slot_of: HashMap<usize, usize> = HashMap::new();
        // Subquery shapes: their steps in order, applied after the others (they may read).
        let mut moving = Moving::new();
        let mut decoded: Vec<(u32, Option<Tuple>, Option<Tuple>)> =
            Vec::with_capacity(tx.changes.len());
        for change in tx.changes {
            decoded.push(match change {
                Message::Insert { relation_id, new } => (relation_id, None, Some(new)),
                Message::Update {
                    relation_id,
                    old,
                    mut new,
                } => {
                    pgoutput::fill_unchanged_toast(&mut new, old.as_ref());
                    (relation_id, old.map(|o| o.values), Some(new))
                }
                Message::Delete { relation_id, old } => (relation_id, Some(old.values), None),
                _ => continue,
            });
        }
        // Text views of each row, built once and shared by routing, conversion and encoding.
        let changes: Vec<(u32, RowChange<'_>)> = decoded
            .iter()
            .map(|(oid, old, new)| {
                (
                    *oid,
                    RowChange {
                        old: old.as_deref().map(text_view),
                        new: new.as_deref().map(text_view),
                    },
                )
            })
            .collect();
        for (index, (oid, change)) in changes.iter().enumerate() {
            let rows: Vec<&[Option<&str>]> = change
                .old
                .iter()
                .chain(change.new.iter())
                .map(Vec::as_slice)
                .collect();
            for (shape, dependency) in self.registry.dependents(*oid, &rows) {
                add_step(&mut moving, shape, Step::Inner { index, dependency });
            }
            for shape in self.registry.candidates(*oid, &rows) {
                if shape.definition.has_subqueries() {
                    add_step(&mut moving, shape, Step::Outer(index));
                    continue;
                }
                let ops = shape.definition.convert(change);
                if ops.is_empty() {
                    continue;
                }
                let slot = *slot_of
                    .entry(Arc::as_ptr(&shape) as usize)
                    .or_insert_with(|| {
                        per_shape.push((shape.clone(), Vec::new()));
                        per_shape.len() - 1
                    });
                for (k, op) in ops.into_iter().enumerate() {
                    per_shape[slot]
                        .1
                        .push(((index as u64) * 2 + k as u64, index, op));
                }
            }
        }
        let mut scratch = Scratch::default();
        for (shape, ops) in per_shape {
            let count = ops.len();
            let mut messages = Batch::default();
            for (n, (op_position, index, op)) in ops.into_iter().enumerate() {
                let (_, change) = &changes[index];
                let position = TxPosition {
                    lsn: commit_lsn,
                    op_position,
                    xid: tx.xid,
                    last: n + 1 == count,
                };
                messages.push(LogOffset::new(commit_lsn, op_position), |out| {
                    (shape.definition).encode(change, &op, position, &mut scratch, out)
                });
            }
            shape.apply(ShapeTransaction {
                xid: tx.xid,
                lsn: commit_lsn,
                messages,
            })?;
            self.dirty.push(shape);
        }
        for (shape, steps) in moving.into_values() {
            self.apply_moves(&shape, &steps, &changes, tx.xid, commit_lsn)
                .await?;
        }
        self.processed_lsn = commit_lsn;
        Ok(())
    }

    /// A transaction's steps for one subquery shape (see [`super::moves`]); a shape whose
    /// move-in cannot be read is retired, never left with sets that disagree with its log.
    async fn apply_moves(
        &mut self,
        shape: &Arc<Shape>,
        steps: &[Step],
        changes: &[(u32, RowChange<'_>)],
        xid: u32,
        commit_lsn: u64,
    ) -> Result<(), ReplicationError> {
        if shape.snapshot_contains(xid, commit_lsn) {
            return Ok(());
        }
        let messages = match moves::transaction_messages(
            &self.pool,
            &shape.definition,
            steps,
            changes,
            xid,
            commit_lsn,
        )
        .await
        {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(handle = %shape.handle, %error, "a move could not be applied; retiring shape");
                self.retire(shape);
                return Ok(());
            }
        };
        if messages.is_empty() {
            return Ok(());
        }
        shape.apply(ShapeTransaction {
            xid,
            lsn: commit_lsn,
            messages,
        })?;
        self.dirty.push(shape.clone());
        Ok(())
    }

    /// Takes the snapshots of subquery shapes created since the last look. They are taken here,
    /// between transactions, so that every transaction this task applies afterwards is either
    /// in the snapshot (skipped by its xid) or after it — their value sets never miss or double
    /// a change.
    async fn take_wanted_snapshots(&self) {
        for shape in self.registry.snapshots_wanted() {
            let result = async {
                let mut client = self.pool.get().await.map_err(|e| e.to_string())?;
                snapshot::take(&mut client, &shape)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            if let Err(error) = result {
                tracing::warn!(handle = %shape.handle, %error, "snapshot failed; dropping the shape");
                self.retire(&shape);
            }
        }
    }
}

/// Subquery shapes' steps of a transaction, by shape, in order.
type Moving = HashMap<usize, (Arc<Shape>, Vec<Step>)>;

fn add_step(moving: &mut Moving, shape: Arc<Shape>, step: Step) {
    moving
        .entry(Arc::as_ptr(&shape) as usize)
        .or_insert_with(|| (shape, Vec::new()))
        .1
        .push(step);
}

/// One op of a transaction for one shape: (op position, index of the change, what to write).
type PlannedOp = (u64, usize, ShapeOp);

fn is_missing_slot(error: &pgwire_replication::PgWireError) -> bool {
    let text = error.to_string();
    text.contains("replication slot") && text.contains("does not exist")
}

fn text_view(tuple: &[Value]) -> Vec<Option<&str>> {
    tuple.iter().map(Value::as_text).collect()
}

fn same_columns(table: &TableInfo, relation: &pgoutput::Relation) -> bool {
    table.columns.len() == relation.columns.len()
        && table
            .columns
            .iter()
            .zip(&table.type_oids)
            .zip(&relation.columns)
            .all(|((column, oid), announced)| {
                column.name == announced.name && *oid == announced.type_oid
            })
}
