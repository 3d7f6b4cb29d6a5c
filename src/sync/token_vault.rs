//! Where the refresh token is kept: the OS keyring when the desktop has one — the freedesktop
//! Secret Service (GNOME Keyring, KWallet, KeePassXC) on Linux, the login Keychain on macOS, the
//! Credential Manager on Windows — otherwise the session file itself, which only its owner can
//! read.
//!
//! The keyring is opened once per process. A machine without a session bus or without a secret
//! service (a server, a container, CI) falls back to the file without asking anything; setting
//! `SUPERSET_KEYRING=off` forces the file. Each data dir has its own keyring entry, so profiles
//! side by side never read each other's token.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Entry};

const SERVICE: &str = "Superset Desktop";

/// Where a token ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPlace {
    Keyring,
    File,
}

static STORE: OnceLock<Option<Arc<CredentialStore>>> = OnceLock::new();

fn store() -> Option<&'static Arc<CredentialStore>> {
    STORE
        .get_or_init(|| {
            if std::env::var("SUPERSET_KEYRING").is_ok_and(|v| v == "off") {
                return None;
            }
            match native_store() {
                Ok(store) => Some(store),
                Err(e) => {
                    tracing::info!("no OS keyring ({e}); the refresh token is kept in a 0600 file");
                    None
                }
            }
        })
        .as_ref()
}

/// This platform's own credential store.
#[cfg(all(unix, not(target_os = "macos")))]
fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()? as Arc<CredentialStore>)
}

/// This platform's own credential store.
#[cfg(target_os = "macos")]
fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()? as Arc<CredentialStore>)
}

/// This platform's own credential store.
#[cfg(windows)]
fn native_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()? as Arc<CredentialStore>)
}

fn entry(data_dir: &Path) -> Option<Entry> {
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    Entry::new_in_store(store()?, SERVICE, &dir.display().to_string()).ok()
}

/// Saves `token` in the keyring. `File` means the caller must keep it in the session file.
pub fn save(data_dir: &Path, token: &str) -> TokenPlace {
    match entry(data_dir).map(|entry| entry.set_password(token)) {
        Some(Ok(())) => TokenPlace::Keyring,
        Some(Err(e)) => {
            tracing::warn!("the OS keyring refused the token ({e}); keeping it in a 0600 file");
            TokenPlace::File
        }
        None => TokenPlace::File,
    }
}

/// The token saved in the keyring for this data dir, if any.
pub fn load(data_dir: &Path) -> Option<String> {
    entry(data_dir)?.get_password().ok()
}

/// Removes this data dir's token from the keyring (nothing happens when there is none).
pub fn delete(data_dir: &Path) {
    if let Some(entry) = entry(data_dir) {
        let _ = entry.delete_credential();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::session::{self, StoredSession};

    /// With a keyring (keyring-core's in-memory store standing in for the Secret Service, which
    /// a test machine has no session bus for) the token stays out of the file.
    #[test]
    fn the_token_goes_to_the_keyring_when_there_is_one_and_leaves_with_the_session() {
        let installed = STORE.set(Some(keyring_core::mock::Store::new().unwrap() as _));
        assert!(installed.is_ok(), "the vault was used before this test");
        let dir = tempfile::tempdir().unwrap();
        let stored = StoredSession {
            server_url: "http://127.0.0.1:1".into(),
            user_id: uuid::Uuid::new_v4(),
            email: "ada@example.com".into(),
            refresh_token: "secret-refresh-token".into(),
        };
        session::save(dir.path(), &stored).unwrap();
        let on_disk = std::fs::read_to_string(dir.path().join("session.json")).unwrap();
        assert!(!on_disk.contains("secret-refresh-token"), "{on_disk}");
        assert_eq!(session::token_place(dir.path()), Some(TokenPlace::Keyring));
        assert_eq!(session::load(dir.path()), Some(stored));
        session::forget(dir.path());
        assert_eq!(load(dir.path()), None);
        assert_eq!(session::load(dir.path()), None);
    }
}
