//! Applies the Postgres schema in `migrations/postgres` with refinery.
//!
//! The SQL files are compiled into the binary, applied in version order inside transactions,
//! and recorded in `refinery_schema_history`, so running `migrate` again changes nothing.
//! An advisory lock keeps two servers starting at once from racing each other.

use tokio_postgres::Client;

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("could not take the migration lock: {0}")]
    Lock(#[source] tokio_postgres::Error),
    #[error("applying migrations failed: {0}")]
    Apply(#[from] refinery::Error),
}

/// Migration key for `pg_advisory_lock`: any constant unique to this application.
const MIGRATION_LOCK_KEY: i64 = 0x5355_5045_5253_4554; // "SUPERSET"

/// Applies every pending migration and returns the names of those applied now
/// (empty when the database was already up to date).
pub async fn migrate(client: &mut Client) -> Result<Vec<String>, MigrateError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .map_err(MigrateError::Lock)?;
    let result = embedded::migrations::runner().run_async(client).await;
    // The lock is per session; if unlocking fails the connection is gone and so is the lock.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    let report = result?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| format!("V{}__{}", m.version(), m.name()))
        .collect())
}
