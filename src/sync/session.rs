//! The desktop's signed-in session: the server it talks to, the access token it sends, and the
//! refresh token that renews it.
//!
//! The session (server, user, e-mail) is kept in `session.json` in the data dir, mode 0600; the
//! refresh token goes to the OS keyring when there is one ([`token_vault`]) and into that file
//! otherwise. When the server refuses an access token, every stream asks for a new one at
//! once; [`Session::refresh`] makes that a single request (the first caller refreshes, the
//! others see the new token), and after repeated failures it stops asking until the user signs
//! in again — no refresh storm.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::token_vault::{self, TokenPlace};

/// Why signing in or staying signed in failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("not signed in: run `superset login` or sign in from the window")]
    SignedOut,
    /// The server answered with an error (`status`), e.g. 401 for a wrong password.
    #[error("the server refused the sign-in: {message}")]
    Refused { status: u16, message: String },
    #[error("the server's answer cannot be read: {0}")]
    BadResponse(String),
    #[error("the server at {url} cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("cannot save the session in {path}: {reason}")]
    Storage { path: String, reason: String },
}

/// What is kept between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub server_url: String,
    pub user_id: Uuid,
    pub email: String,
    pub refresh_token: String,
}

/// `session.json`: the session, with the refresh token only when the keyring could not take it.
#[derive(Debug, Serialize, Deserialize)]
struct SessionFile {
    server_url: String,
    user_id: Uuid,
    email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    user_id: Uuid,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    message: String,
}

fn session_file(data_dir: &Path) -> PathBuf {
    data_dir.join("session.json")
}

/// Reads the stored session, if any (signed out when its token is in neither place).
pub fn load(data_dir: &Path) -> Option<StoredSession> {
    let bytes = std::fs::read(session_file(data_dir)).ok()?;
    let file: SessionFile = serde_json::from_slice(&bytes).ok()?;
    let refresh_token = match file.refresh_token {
        Some(token) => token,
        None => token_vault::load(data_dir)?,
    };
    Some(StoredSession {
        server_url: file.server_url,
        user_id: file.user_id,
        email: file.email,
        refresh_token,
    })
}

/// Where the refresh token of the session in `data_dir` is kept, if there is one.
pub fn token_place(data_dir: &Path) -> Option<TokenPlace> {
    let bytes = std::fs::read(session_file(data_dir)).ok()?;
    let file: SessionFile = serde_json::from_slice(&bytes).ok()?;
    Some(match file.refresh_token {
        Some(_) => TokenPlace::File,
        None => TokenPlace::Keyring,
    })
}

pub(crate) fn save(data_dir: &Path, session: &StoredSession) -> Result<(), SessionError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let path = session_file(data_dir);
    let storage_error = |e: std::io::Error| SessionError::Storage {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(data_dir).map_err(storage_error)?;
    let in_file = match token_vault::save(data_dir, &session.refresh_token) {
        TokenPlace::Keyring => None,
        TokenPlace::File => Some(session.refresh_token.clone()),
    };
    let file_contents = SessionFile {
        server_url: session.server_url.clone(),
        user_id: session.user_id,
        email: session.email.clone(),
        refresh_token: in_file,
    };
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    // Readable only by its owner; on Windows the profile folder's ACL already is.
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&temporary).map_err(storage_error)?;
    file.write_all(&serde_json::to_vec(&file_contents).expect("a session serialises"))
        .and_then(|()| file.sync_all())
        .map_err(storage_error)?;
    std::fs::rename(&temporary, &path).map_err(storage_error)
}

/// Deletes the stored session.
pub fn forget(data_dir: &Path) {
    token_vault::delete(data_dir);
    let _ = std::fs::remove_file(session_file(data_dir));
}

fn unreachable(url: &str, error: &reqwest::Error) -> SessionError {
    SessionError::Unreachable {
        url: url.to_owned(),
        reason: error.to_string(),
    }
}

async fn refused(response: reqwest::Response) -> SessionError {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<ErrorBody>(&text)
        .map(|b| b.error.message)
        .unwrap_or_else(|_| format!("HTTP {status}"));
    SessionError::Refused {
        status: status.as_u16(),
        message,
    }
}

/// Signs in with e-mail and password and stores the session. Returns it.
pub async fn login(
    http: &reqwest::Client,
    data_dir: &Path,
    server_url: &str,
    email: &str,
    password: &str,
) -> Result<(StoredSession, String), SessionError> {
    let server_url = server_url.trim_end_matches('/').to_owned();
    let url = format!("{server_url}/api/auth/login");
    let response = http
        .post(&url)
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .map_err(|e| unreachable(&server_url, &e))?;
    if !response.status().is_success() {
        return Err(refused(response).await);
    }
    let tokens: TokenResponse = response
        .json()
        .await
        .map_err(|e| SessionError::BadResponse(format!("unexpected sign-in response: {e}")))?;
    let stored = StoredSession {
        server_url,
        user_id: tokens.user_id,
        email: email.to_owned(),
        refresh_token: tokens.refresh_token,
    };
    save(data_dir, &stored)?;
    Ok((stored, tokens.access_token))
}

/// After this many refresh failures in a row, stop trying until the user signs in again.
const MAX_REFRESH_FAILURES: u32 = 3;

#[derive(Debug)]
struct State {
    stored: Option<StoredSession>,
    access_token: Option<String>,
    failures: u32,
    last_attempt: Option<Instant>,
}

/// The live session shared by every stream and the outbox.
#[derive(Debug)]
pub struct Session {
    data_dir: PathBuf,
    http: reqwest::Client,
    state: Mutex<State>,
}

impl Session {
    /// The session stored in `data_dir` (signed out if none).
    pub fn open(data_dir: &Path, http: reqwest::Client) -> Self {
        Self::with(data_dir, http, load(data_dir), None)
    }

    /// The session `stored` (already read with [`load`]), signed in with no access token yet.
    pub fn from_stored(data_dir: &Path, http: reqwest::Client, stored: StoredSession) -> Self {
        Self::with(data_dir, http, Some(stored), None)
    }

    /// A session just signed in.
    pub fn signed_in(
        data_dir: &Path,
        http: reqwest::Client,
        stored: StoredSession,
        access_token: String,
    ) -> Self {
        Self::with(data_dir, http, Some(stored), Some(access_token))
    }

    fn with(
        data_dir: &Path,
        http: reqwest::Client,
        stored: Option<StoredSession>,
        access_token: Option<String>,
    ) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            http,
            state: Mutex::new(State {
                stored,
                access_token,
                failures: 0,
                last_attempt: None,
            }),
        }
    }

    pub async fn server_url(&self) -> Option<String> {
        self.state
            .lock()
            .await
            .stored
            .as_ref()
            .map(|s| s.server_url.clone())
    }

    pub async fn user_id(&self) -> Option<Uuid> {
        self.state.lock().await.stored.as_ref().map(|s| s.user_id)
    }

    /// The access token to send, refreshing first if there is none yet.
    pub async fn access_token(&self) -> Result<String, SessionError> {
        if let Some(token) = self.state.lock().await.access_token.clone() {
            return Ok(token);
        }
        self.refresh(None).await
    }

    /// Gets a new access token because `rejected` was refused. Concurrent callers share one
    /// refresh: whoever comes second finds a token newer than the one it saw refused.
    pub async fn refresh(&self, rejected: Option<&str>) -> Result<String, SessionError> {
        let mut state = self.state.lock().await;
        if let Some(current) = &state.access_token
            && Some(current.as_str()) != rejected
        {
            return Ok(current.clone());
        }
        let Some(stored) = state.stored.clone() else {
            return Err(SessionError::SignedOut);
        };
        if state.failures >= MAX_REFRESH_FAILURES {
            return Err(SessionError::SignedOut);
        }
        // Space attempts out: at most one refresh a second.
        if let Some(last) = state.last_attempt {
            let since = last.elapsed();
            if since < Duration::from_secs(1) {
                tokio::time::sleep(Duration::from_secs(1) - since).await;
            }
        }
        state.last_attempt = Some(Instant::now());
        let url = format!("{}/api/auth/refresh", stored.server_url);
        let response = match self
            .http
            .post(&url)
            .json(&serde_json::json!({"refresh_token": stored.refresh_token}))
            .send()
            .await
        {
            Ok(response) => response,
            // Offline is not a sign-in problem; the stream retries later.
            Err(e) => return Err(unreachable(&stored.server_url, &e)),
        };
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            state.failures = MAX_REFRESH_FAILURES;
            state.access_token = None;
            return Err(refused(response).await);
        }
        if !response.status().is_success() {
            state.failures += 1;
            return Err(refused(response).await);
        }
        let tokens: TokenResponse = response
            .json()
            .await
            .map_err(|e| SessionError::BadResponse(format!("unexpected refresh response: {e}")))?;
        let renewed = StoredSession {
            refresh_token: tokens.refresh_token,
            ..stored
        };
        save(&self.data_dir, &renewed)?;
        state.stored = Some(renewed);
        state.access_token = Some(tokens.access_token.clone());
        state.failures = 0;
        Ok(tokens.access_token)
    }

    /// Ends the session on the server (best effort) and forgets it here.
    pub async fn logout(&self) {
        let mut state = self.state.lock().await;
        if let Some(stored) = state.stored.take() {
            let _ = self
                .http
                .post(format!("{}/api/auth/logout", stored.server_url))
                .json(&serde_json::json!({"refresh_token": stored.refresh_token}))
                .timeout(Duration::from_secs(5))
                .send()
                .await;
        }
        state.access_token = None;
        forget(&self.data_dir);
    }
}
