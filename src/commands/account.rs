//! The account's commands: `superset login`, `logout`, `status` and `invitations`.

use std::path::Path;
use std::sync::Arc;

use super::error::CommandError;
use crate::invitations;
use crate::profile;
use crate::protocol::SYNCED_TABLES;
use crate::store;
use crate::sync::requests::Api;
use crate::sync::session::{self, Session, SessionError};
use crate::sync::token_vault::TokenPlace;

/// `superset login`: signs in and says as whom.
pub async fn login(
    data_dir: &Path,
    server: &str,
    email: &str,
    password: &str,
) -> Result<String, CommandError> {
    let stored = profile::login(data_dir, server, email, password).await?;
    Ok(format!(
        "signed in to {} as {}",
        stored.server_url, stored.email
    ))
}

/// `superset logout`: signs out and says what was kept and what was lost.
pub async fn logout(data_dir: &Path) -> Result<String, CommandError> {
    Ok(profile::logout(data_dir).await?.to_string())
}

/// `superset invitations`: the invitations waiting, one a line; or, with `answer` (an
/// invitation's id and whether to accept it), answers one.
pub async fn invitations(
    data_dir: &Path,
    answer: Option<(uuid::Uuid, bool)>,
) -> Result<String, CommandError> {
    let http = profile::http_client();
    let session = Arc::new(Session::open(data_dir, http.clone()));
    if session.server_url().await.is_none() {
        return Err(SessionError::SignedOut.into());
    }
    let api = Api::new(session, http);
    match answer {
        Some((id, true)) => {
            invitations::accept(&api, id).await?;
            Ok("joined; its tasks arrive with the next sync\n".to_owned())
        }
        Some((id, false)) => {
            invitations::decline(&api, id).await?;
            Ok("declined\n".to_owned())
        }
        None => {
            let waiting = invitations::waiting(&api).await?;
            if waiting.is_empty() {
                return Ok("no invitations\n".to_owned());
            }
            Ok(waiting
                .iter()
                .map(|i| format!("{}  {}\n", i.id, i.describe()))
                .collect())
        }
    }
}

/// Per-table row counts, each stream's position and last sync time, and pending writes.
pub fn status(data_dir: &Path) -> Result<String, CommandError> {
    let conn = store::open(&profile::database_path(data_dir))?;
    let mut out = match session::load(data_dir) {
        Some(s) => {
            let kept_in = match session::token_place(data_dir) {
                Some(TokenPlace::Keyring) => "the OS keyring",
                _ => "session.json (no OS keyring)",
            };
            format!(
                "signed in to {} as {}; refresh token in {kept_in}\n\n",
                s.server_url, s.email
            )
        }
        None => "not signed in\n\n".to_owned(),
    };
    out.push_str(&format!("{:<22} {:>7}\n", "table", "rows"));
    for table in SYNCED_TABLES {
        let rows: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .map_err(store::StoreError::from)?;
        out.push_str(&format!("{table:<22} {rows:>7}\n"));
    }
    out.push_str(&format!(
        "\n{:<60} {:<28} {:<24} {}\n",
        "stream", "handle", "offset", "last synced"
    ));
    let streams: Vec<(String, String, String, String, i64)> = conn
        .prepare(
            "SELECT table_name, coalesce(handle, '-'), shape_offset, coalesce(last_synced_at, 'never'), \
             refetching FROM electric_sync_state ORDER BY table_name",
        )
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
                .collect()
        })
        .map_err(store::StoreError::from)?;
    for (stream, handle, offset, synced, refetching) in streams {
        let refetch = if refetching != 0 { " (refetching)" } else { "" };
        out.push_str(&format!(
            "{stream:<60} {handle:<28} {offset:<24} {synced}{refetch}\n"
        ));
    }
    let pending: i64 = conn
        .query_row(
            "SELECT count(*) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )
        .map_err(store::StoreError::from)?;
    out.push_str(&format!("\npending writes: {pending}\n"));
    Ok(out)
}
