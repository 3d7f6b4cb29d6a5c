//! Every shape the service holds, found by handle or by definition, and the routing index that
//! sends a replicated change only to the shapes it can concern.
//!
//! A shape whose where clause pins a column (`organization_id IN ($1, $2)`, `id = $1`) is filed
//! under each of those values; a change looks up its old and new values for the table's pinned
//! columns, so 10,000 org-scoped shapes cost a few hash lookups per change, not 10,000
//! evaluations. Shapes without such a column are checked one by one. A subquery shape is also
//! filed under each table its subqueries read, the same way (by the subquery's own pinned
//! column), so a change there finds the shapes whose value sets it may change.
//! Handles are `<hash>-<microseconds>`, strictly increasing, so none is ever handed out twice.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use super::schema::TableInfo;
use super::shape::Shape;
use super::where_clause::Routing;

#[derive(Debug)]
struct TableRoutes<T> {
    /// column index → value → entries pinned to it
    routed: HashMap<usize, HashMap<String, Vec<T>>>,
    unrouted: Vec<T>,
}

impl<T> Default for TableRoutes<T> {
    fn default() -> Self {
        Self {
            routed: HashMap::new(),
            unrouted: Vec::new(),
        }
    }
}

impl<T: Clone> TableRoutes<T> {
    fn add(&mut self, entry: T, routing: Option<Routing>) {
        match routing {
            Some(routing) => {
                let by_value = self.routed.entry(routing.column).or_default();
                for value in routing.values {
                    by_value.entry(value).or_default().push(entry.clone());
                }
            }
            None => self.unrouted.push(entry),
        }
    }

    fn remove(&mut self, is_gone: impl Fn(&T) -> bool) {
        self.unrouted.retain(|e| !is_gone(e));
        for by_value in self.routed.values_mut() {
            by_value.retain(|_, entries| {
                entries.retain(|e| !is_gone(e));
                !entries.is_empty()
            });
        }
        self.routed.retain(|_, by_value| !by_value.is_empty());
    }

    /// Every entry (possibly repeated).
    fn all(&self) -> impl Iterator<Item = &T> {
        self.unrouted.iter().chain(
            self.routed
                .values()
                .flat_map(|by_value| by_value.values().flatten()),
        )
    }

    /// The entries any of `rows` may concern (possibly repeated).
    fn lookup(&self, rows: &[&[Option<&str>]]) -> Vec<T> {
        let mut out: Vec<T> = self.unrouted.clone();
        for (&column, by_value) in &self.routed {
            for row in rows {
                if let Some(Some(value)) = row.get(column)
                    && let Some(entries) = by_value.get(*value)
                {
                    out.extend(entries.iter().cloned());
                }
            }
        }
        out
    }
}

/// A subquery shape filed under an inner table: the shape and which of its subqueries (an index
/// into `WhereClause::all_subqueries`).
pub type Dependent = (Arc<Shape>, usize);

#[derive(Debug, Default)]
struct Inner {
    by_handle: HashMap<String, Arc<Shape>>,
    by_identity: HashMap<String, Arc<Shape>>,
    tables: HashMap<u32, TableRoutes<Arc<Shape>>>,
    /// Inner table oid → the subquery shapes reading it.
    dependencies: HashMap<u32, TableRoutes<Dependent>>,
}

#[derive(Debug, Default)]
pub struct Registry {
    inner: RwLock<Inner>,
    last_handle_micros: AtomicU64,
    /// Catalog descriptions by (schema, name), dropped when the stream announces a change.
    tables: Mutex<HashMap<(String, String), Arc<TableInfo>>>,
    /// The newest WAL position the stream has passed (`global_last_seen_lsn`).
    last_seen_lsn: AtomicU64,
    /// Subquery shapes waiting for the replication task to take their snapshot.
    snapshot_queue: Mutex<Vec<Arc<Shape>>>,
    snapshot_wanted: tokio::sync::Notify,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn cached_table(&self, schema: &str, name: &str) -> Option<Arc<TableInfo>> {
        let tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables.get(&(schema.to_owned(), name.to_owned())).cloned()
    }

    pub fn cache_table(&self, table: Arc<TableInfo>) {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables.insert((table.schema.clone(), table.name.clone()), table);
    }

    /// Drops the cached description of table `oid` (its schema may have changed).
    pub fn forget_table(&self, oid: u32) {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        tables.retain(|_, t| t.oid != oid);
    }

    pub fn last_seen_lsn(&self) -> u64 {
        self.last_seen_lsn.load(Ordering::Relaxed)
    }

    pub fn saw_lsn(&self, lsn: u64) {
        self.last_seen_lsn.fetch_max(lsn, Ordering::Relaxed);
    }

    /// A fresh handle for a shape with this identity.
    pub fn new_handle(&self, identity: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        // Strictly increasing even when two handles are made in the same microsecond.
        let micros = loop {
            let last = self.last_handle_micros.load(Ordering::SeqCst);
            let candidate = now.max(last + 1);
            if self
                .last_handle_micros
                .compare_exchange(last, candidate, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                break candidate;
            }
        };
        let mut hasher = DefaultHasher::new();
        identity.hash(&mut hasher);
        format!("{}-{micros}", hasher.finish() % 100_000_000)
    }

    pub fn get(&self, handle: &str) -> Option<Arc<Shape>> {
        self.read().by_handle.get(handle).cloned()
    }

    pub fn find(&self, identity: &str) -> Option<Arc<Shape>> {
        self.read().by_identity.get(identity).cloned()
    }

    /// Adds `shape`, unless a shape with the same identity got there first: returns the one
    /// that is registered, and whether it is `shape`.
    pub fn insert(&self, shape: Arc<Shape>) -> (Arc<Shape>, bool) {
        let mut inner = self.write();
        if let Some(existing) = inner.by_identity.get(&shape.definition.identity) {
            return (existing.clone(), false);
        }
        inner
            .by_identity
            .insert(shape.definition.identity.clone(), shape.clone());
        inner.by_handle.insert(shape.handle.clone(), shape.clone());
        let routing = shape
            .definition
            .where_clause
            .as_ref()
            .and_then(|w| w.routing());
        inner
            .tables
            .entry(shape.definition.table.oid)
            .or_default()
            .add(shape.clone(), routing);
        let dependencies = shape
            .definition
            .where_clause
            .as_ref()
            .map(|w| w.all_subqueries())
            .unwrap_or_default();
        for (index, dependency) in dependencies.into_iter().enumerate() {
            let routing = dependency.subquery.routing();
            inner
                .dependencies
                .entry(dependency.subquery.table.oid)
                .or_default()
                .add((shape.clone(), index), routing);
        }
        (shape, true)
    }

    /// Removes `shape` and marks it retired; its handle is never served again.
    pub fn retire(&self, shape: &Arc<Shape>) {
        let mut inner = self.write();
        if inner.by_handle.remove(&shape.handle).is_none() {
            return;
        }
        if inner
            .by_identity
            .get(&shape.definition.identity)
            .is_some_and(|s| Arc::ptr_eq(s, shape))
        {
            inner.by_identity.remove(&shape.definition.identity);
        }
        if let Some(routes) = inner.tables.get_mut(&shape.definition.table.oid) {
            routes.remove(|s| Arc::ptr_eq(s, shape));
        }
        for routes in inner.dependencies.values_mut() {
            routes.remove(|(s, _)| Arc::ptr_eq(s, shape));
        }
        drop(inner);
        shape.retire();
    }

    /// Every shape on the table with this oid.
    pub fn shapes_of_table(&self, oid: u32) -> Vec<Arc<Shape>> {
        self.read()
            .by_handle
            .values()
            .filter(|s| s.definition.table.oid == oid)
            .cloned()
            .collect()
    }

    pub fn all(&self) -> Vec<Arc<Shape>> {
        self.read().by_handle.values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.read().by_handle.len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().by_handle.is_empty()
    }

    /// The shapes a change to table `oid` may concern, each once.
    pub fn candidates(&self, oid: u32, rows: &[&[Option<&str>]]) -> Vec<Arc<Shape>> {
        let inner = self.read();
        let Some(routes) = inner.tables.get(&oid) else {
            return Vec::new();
        };
        let mut out = routes.lookup(rows);
        if rows.len() > 1 || routes.routed.len() > 1 {
            out.sort_by_key(|s| Arc::as_ptr(s) as usize);
            out.dedup_by(|a, b| Arc::ptr_eq(a, b));
        }
        out
    }

    /// The subqueries (shape, position) a change to table `oid` may concern, each once.
    pub fn dependents(&self, oid: u32, rows: &[&[Option<&str>]]) -> Vec<Dependent> {
        let inner = self.read();
        let Some(routes) = inner.dependencies.get(&oid) else {
            return Vec::new();
        };
        let mut out = routes.lookup(rows);
        out.sort_by_key(|(s, position)| (Arc::as_ptr(s) as usize, *position));
        out.dedup_by(|a, b| Arc::ptr_eq(&a.0, &b.0) && a.1 == b.1);
        out
    }

    /// Asks the replication task for `shape`'s snapshot (subquery shapes: see `moves`).
    pub fn want_snapshot(&self, shape: Arc<Shape>) {
        self.snapshot_queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(shape);
        self.snapshot_wanted.notify_one();
    }

    /// The shapes waiting for a snapshot, taken off the queue.
    pub fn snapshots_wanted(&self) -> Vec<Arc<Shape>> {
        std::mem::take(
            &mut *self
                .snapshot_queue
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }

    /// Wakes when a snapshot is wanted.
    pub async fn snapshot_requested(&self) {
        self.snapshot_wanted.notified().await
    }

    /// Every subquery shape reading the table with this oid.
    pub fn dependents_of_table(&self, oid: u32) -> Vec<Arc<Shape>> {
        let inner = self.read();
        let Some(routes) = inner.dependencies.get(&oid) else {
            return Vec::new();
        };
        let mut out: Vec<Arc<Shape>> = routes.all().map(|(s, _)| s.clone()).collect();
        out.sort_by_key(|s| Arc::as_ptr(s) as usize);
        out.dedup_by(|a, b| Arc::ptr_eq(a, b));
        out
    }
}
