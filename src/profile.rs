//! A profile: one data folder on this computer — its session, its SQLite file — and signing it
//! in and out. The window and the command line both go through here, so signing in as another
//! user forgets the previous user's rows the same way everywhere, and signing out keeps linked
//! folders and preferences everywhere.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::outbox;
use crate::store::{self, StoreError};
use crate::sync::apply;
use crate::sync::session::{self, Session, SessionError, StoredSession};

/// Why signing in or out did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The default profile's folder: the platform's per-user data folder
/// (`~/.local/share/superset` on Linux, `~/Library/Application Support/dev.Superset.superset`
/// on macOS, `%APPDATA%\Superset\superset\data` on Windows); `None` without a home folder.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "Superset", "superset")
        .map(|dirs| dirs.data_dir().to_path_buf())
}

/// The profile's database file.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("superset.db")
}

/// An HTTP client for one window or command: connections are reused, and there is no
/// per-host limit, which six long-polls and the outbox would otherwise hit.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .expect("building the HTTP client")
}

/// Signs in, remembers the server in the profile's settings, and returns the session. Signing in
/// as someone else (or to another server) forgets the previous account's rows and writes.
pub async fn login(
    data_dir: &Path,
    server: &str,
    email: &str,
    password: &str,
) -> Result<StoredSession, ProfileError> {
    let http = http_client();
    let previous = session::load(data_dir);
    let (stored, _) = session::login(&http, data_dir, server, email, password).await?;
    let path = database_path(data_dir);
    let server_url = stored.server_url.clone();
    let switched_user =
        previous.is_some_and(|p| p.user_id != stored.user_id || p.server_url != stored.server_url);
    tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
        let mut conn = store::open(&path)?;
        if switched_user {
            // Another account's rows must not show: sync afresh.
            forget_synced(&mut conn)?;
        }
        conn.execute("UPDATE settings SET server_url = ?1", [&server_url])?;
        Ok(())
    })
    .await
    .expect("the settings task panicked")?;
    Ok(stored)
}

/// What signing out did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedOut {
    /// Writes that had not reached the server and are gone.
    pub dropped_writes: usize,
}

impl fmt::Display for SignedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("signed out; linked folders and preferences are kept")?;
        match self.dropped_writes {
            0 => Ok(()),
            1 => f.write_str("; 1 write that had not reached the server was dropped"),
            n => write!(
                f,
                "; {n} writes that had not reached the server were dropped"
            ),
        }
    }
}

/// Signs out: ends the session and forgets synced data, keeping linked folders and preferences.
pub async fn logout(data_dir: &Path) -> Result<SignedOut, ProfileError> {
    Session::open(data_dir, http_client()).logout().await;
    let path = database_path(data_dir);
    let dropped_writes = tokio::task::spawn_blocking(move || -> Result<usize, StoreError> {
        let mut conn = store::open(&path)?;
        forget_synced(&mut conn)
    })
    .await
    .expect("the sign-out task panicked")?;
    Ok(SignedOut { dropped_writes })
}

/// Forgets what belongs to the signed-in account — synced rows, positions, the active
/// organization, unsent writes — and returns how many writes were dropped.
fn forget_synced(conn: &mut Connection) -> Result<usize, StoreError> {
    apply::clear(conn)?;
    conn.execute("UPDATE settings SET active_organization_id = NULL", [])?;
    outbox::discard_pending(conn)
}
