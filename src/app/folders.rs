//! Linking folders on this device to the organization's repositories: pick a folder, read its
//! remotes with git2 (`origin` first), match their normalised URLs against the synced
//! repositories, and store the link in `local_repos`.
//!
//! One match links at once; several (the same repository in two organizations) or none come
//! back as a [`LinkPrompt`] for the user to settle — choose one, or keep the folder as a local
//! project. Runs on background threads; the window only sees the outcome.

use std::path::{Path, PathBuf};

use rusqlite::params;

use super::logic::LinkPrompt;
use crate::gitlink::{local, urls};
use crate::store;

/// What linking a folder did.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkOutcome {
    /// Linked to this repository (its name).
    Linked {
        repository: String,
    },
    KeptLocal {
        path: String,
    },
    Unlinked,
    /// Several repositories match, or none: the user decides.
    Ask(LinkPrompt),
}

/// Shows the system's folder picker (the desktop portal, or zenity). `None` when the user
/// cancelled or no picker can be shown; the window then offers a typed path.
pub fn pick_folder() -> Option<PathBuf> {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return None;
    }
    rfd::FileDialog::new()
        .set_title("Link a folder to a repository")
        .pick_folder()
}

/// Reads the folder's remotes and links it when exactly one repository matches.
pub fn link(db: &Path, path: &Path, device_id: &str) -> Result<LinkOutcome, String> {
    let folder = local::inspect_folder(path).map_err(|e| e.to_string())?;
    let conn = store::open(db).map_err(|e| e.to_string())?;
    let repositories: Vec<(String, String, String)> = conn
        .prepare("SELECT id, name, url FROM repositories ORDER BY name, id")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .map_err(|e| e.to_string())?;
    // The first remote (origin first) that matches anything decides.
    for remote in &folder.remotes {
        let Some(key) = urls::normalize(&remote.url) else {
            continue;
        };
        let matches: Vec<&(String, String, String)> = repositories
            .iter()
            .filter(|(_, _, url)| urls::normalize(url).as_deref() == Some(key.as_str()))
            .collect();
        match matches.as_slice() {
            [] => continue,
            [(id, name, _)] => {
                save(&conn, &folder.root, Some(&remote.url), Some(id), device_id)?;
                return Ok(LinkOutcome::Linked {
                    repository: name.clone(),
                });
            }
            several => {
                return Ok(LinkOutcome::Ask(LinkPrompt {
                    path: folder.root.clone(),
                    remote: Some(remote.url.clone()),
                    candidates: several.iter().map(|(id, _, _)| id.clone()).collect(),
                }));
            }
        }
    }
    Ok(LinkOutcome::Ask(LinkPrompt {
        path: folder.root.clone(),
        remote: folder.remotes.first().map(|r| r.url.clone()),
        candidates: Vec::new(),
    }))
}

/// Carries out the user's answer to a prompt: link to `repository_id`, or keep the folder as a
/// local project.
pub fn settle(
    db: &Path,
    prompt: &LinkPrompt,
    repository_id: Option<String>,
    device_id: &str,
) -> Result<LinkOutcome, String> {
    let conn = store::open(db).map_err(|e| e.to_string())?;
    save(
        &conn,
        &prompt.path,
        prompt.remote.as_deref(),
        repository_id.as_deref(),
        device_id,
    )?;
    match repository_id {
        Some(id) => {
            let name: String = conn
                .query_row("SELECT name FROM repositories WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })
                .map_err(|e| e.to_string())?;
            Ok(LinkOutcome::Linked { repository: name })
        }
        None => Ok(LinkOutcome::KeptLocal {
            path: prompt.path.display().to_string(),
        }),
    }
}

/// Forgets a folder.
pub fn unlink(db: &Path, folder_id: &str) -> Result<LinkOutcome, String> {
    let conn = store::open(db).map_err(|e| e.to_string())?;
    conn.execute("DELETE FROM local_repos WHERE id = ?1", [folder_id])
        .map_err(|e| e.to_string())?;
    Ok(LinkOutcome::Unlinked)
}

fn save(
    conn: &rusqlite::Connection,
    root: &Path,
    remote: Option<&str>,
    repository_id: Option<&str>,
    device_id: &str,
) -> Result<(), String> {
    conn.execute(
        "INSERT INTO local_repos (id, repository_id, local_path, remote_url, device_id) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (local_path) DO UPDATE SET repository_id = ?2, remote_url = ?4",
        params![
            uuid::Uuid::new_v4().to_string(),
            repository_id,
            root.display().to_string(),
            remote,
            device_id
        ],
    )
    .map_err(|e| format!("cannot save the link: {e}"))?;
    Ok(())
}
