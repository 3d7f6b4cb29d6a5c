//! The desktop's SQLite database, the bottom of the desktop's layers: opening it, tuning it,
//! migrating it, and write transactions. What goes into the tables is decided above (the sync
//! engine's `sync::apply`, the outbox, folder links); this module knows no table's meaning.
//!
//! The schema lives in `migrations/sqlite/*.sql` and is applied by rusqlite_migration (which
//! tracks the version in `PRAGMA user_version`) every time the file is opened, so an old file
//! is brought up to date and a current one is left alone.

use std::path::Path;
use std::sync::LazyLock;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

/// Why the local database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("opening the local database {path} failed: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "the local database {path} was written by a newer Superset (schema version {found}, this \
         build knows {known}): update the app, or move the file away to start afresh"
    )]
    TooNew {
        path: String,
        found: usize,
        known: usize,
    },
    #[error("migrating the local database {path} failed: {source}")]
    Migrate {
        path: String,
        source: rusqlite_migration::Error,
    },
    #[error("local database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0} is not a synced table")]
    UnknownTable(String),
    #[error("the sync server sent a change the local database cannot hold: {0}")]
    BadChange(String),
}

/// The migration scripts, in order; the schema version is their count.
const SCRIPTS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_initial.sql"),
    include_str!("../../migrations/sqlite/0002_review_status.sql"),
    include_str!("../../migrations/sqlite/0003_seen_txids.sql"),
    include_str!("../../migrations/sqlite/0004_conflicts_and_notifications.sql"),
    include_str!("../../migrations/sqlite/0005_workspace_paths.sql"),
    include_str!("../../migrations/sqlite/0006_row_tags.sql"),
    include_str!("../../migrations/sqlite/0007_organization_streams.sql"),
];

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::new(SCRIPTS.iter().map(|sql| M::up(sql)).collect()));

/// The schema version this build migrates to.
pub fn schema_version() -> usize {
    SCRIPTS.len()
}

/// Opens (creating if needed) the database at `path`, applies pragmas and pending migrations.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let display = path.display().to_string();
    let mut conn = Connection::open(path).map_err(|source| StoreError::Open {
        path: display.clone(),
        source,
    })?;
    configure(&conn)?;
    migrate(&mut conn, &display)?;
    Ok(conn)
}

/// Opens the database for a reader that keeps its connection (the window): as [`open()`], with
/// SQLite's default-sized page cache. Its reads are scans the OS's file cache already serves, and
/// a writer-sized cache would keep a copy of every page it read for as long as the window runs.
pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = open(path)?;
    conn.pragma_update(None, "cache_size", READER_CACHE_KIB)?;
    Ok(conn)
}

/// A reader's page cache, in KiB when negative (SQLite's default).
const READER_CACHE_KIB: i64 = -2_000;

fn configure(conn: &Connection) -> Result<(), StoreError> {
    // WAL lets the UI thread read while the sync engine writes; NORMAL sync is durable across
    // app crashes (only an OS crash can lose the last transactions, which sync re-fetches).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Rows arrive in key order of the server, not of the uuid primary keys: with SQLite's
    // default 2 MB page cache a 100k-row initial sync thrashes the B-trees.
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let found = usize::try_from(found).unwrap_or(usize::MAX);
    if found > schema_version() {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            known: schema_version(),
        });
    }
    MIGRATIONS
        .to_latest(conn)
        .map_err(|source| StoreError::Migrate {
            path: path.to_owned(),
            source,
        })
}

/// Starts a transaction that takes the write lock at once (`BEGIN IMMEDIATE`). With several
/// connections writing (one per shape stream), a deferred transaction that reads first and
/// writes later fails with "database is locked" when another writer got in between; an
/// immediate one waits its turn under the busy timeout instead.
pub fn write_transaction(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>, StoreError> {
    Ok(conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn schema_version_matches_the_migration_list() {
        let mut conn = Connection::open_in_memory().unwrap();
        MIGRATIONS.to_latest(&mut conn).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, schema_version() as i64);
    }
}
