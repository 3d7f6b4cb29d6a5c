//! Folders on this device and the organization repositories they are (`local_repos`): linking a
//! folder by its remotes, settling a link the user had to choose, forgetting one, and
//! re-matching every folder when the repositories change.
//!
//! A folder's remotes (`origin` first) are normalised and compared with the synced
//! repositories' URLs. One match links at once; several (the same repository in two
//! organizations) or none come back as a [`LinkPrompt`] for the user to settle — choose one, or
//! keep the folder as a local project. [`rematch`] runs whenever the repositories change, so
//! links survive signing out and in again (even as another user) and follow repositories that
//! are imported later. Everything here blocks; the window and the command line call it off
//! their UI.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use super::local::{self, LocalRepoError};
use super::urls;
use crate::store::{self, StoreError};

/// Why a folder could not be linked.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The folder is not a usable clone (the message says why and what to do).
    #[error(transparent)]
    Folder(#[from] LocalRepoError),
    #[error("cannot read or save folder links: {0}")]
    Store(#[from] StoreError),
    #[error("no repository {0} is known here: wait for sync, or link again")]
    UnknownRepository(String),
}

impl From<rusqlite::Error> for LinkError {
    fn from(error: rusqlite::Error) -> Self {
        LinkError::Store(error.into())
    }
}

/// A folder whose link needs the user's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkPrompt {
    pub path: PathBuf,
    pub remote: Option<String>,
    /// Matching repositories (several), or empty (none matched).
    pub candidates: Vec<String>,
}

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

/// A synced repository as linking sees it.
struct Candidate {
    id: String,
    name: String,
    key: Option<String>,
}

fn candidates(conn: &Connection) -> Result<Vec<Candidate>, StoreError> {
    Ok(conn
        .prepare("SELECT id, name, url FROM repositories ORDER BY name, id")?
        .query_map([], |r| {
            let url: String = r.get(2)?;
            Ok(Candidate {
                id: r.get(0)?,
                name: r.get(1)?,
                key: urls::normalize(&url),
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// Reads the folder's remotes and links it when exactly one repository matches.
pub fn link(db: &Path, path: &Path, device_id: &str) -> Result<LinkOutcome, LinkError> {
    let folder = local::inspect_folder(path)?;
    let conn = store::open(db)?;
    let repositories = candidates(&conn)?;
    // The first remote (origin first) that matches anything decides.
    for remote in &folder.remotes {
        let Some(key) = urls::normalize(&remote.url) else {
            continue;
        };
        let matches: Vec<&Candidate> = repositories
            .iter()
            .filter(|r| r.key.as_deref() == Some(key.as_str()))
            .collect();
        match matches.as_slice() {
            [] => continue,
            [one] => {
                save(
                    &conn,
                    &folder.root,
                    Some(&remote.url),
                    Some(&one.id),
                    device_id,
                )?;
                return Ok(LinkOutcome::Linked {
                    repository: one.name.clone(),
                });
            }
            several => {
                return Ok(LinkOutcome::Ask(LinkPrompt {
                    path: folder.root.clone(),
                    remote: Some(remote.url.clone()),
                    candidates: several.iter().map(|r| r.id.clone()).collect(),
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
) -> Result<LinkOutcome, LinkError> {
    let conn = store::open(db)?;
    let name = match &repository_id {
        Some(id) => Some(
            candidates(&conn)?
                .into_iter()
                .find(|r| &r.id == id)
                .map(|r| r.name)
                .ok_or_else(|| LinkError::UnknownRepository(id.clone()))?,
        ),
        None => None,
    };
    save(
        &conn,
        &prompt.path,
        prompt.remote.as_deref(),
        repository_id.as_deref(),
        device_id,
    )?;
    Ok(match name {
        Some(repository) => LinkOutcome::Linked { repository },
        None => LinkOutcome::KeptLocal {
            path: prompt.path.display().to_string(),
        },
    })
}

/// Forgets a folder.
pub fn unlink(db: &Path, folder_id: &str) -> Result<LinkOutcome, LinkError> {
    let conn = store::open(db)?;
    conn.execute("DELETE FROM local_repos WHERE id = ?1", [folder_id])?;
    Ok(LinkOutcome::Unlinked)
}

fn save(
    conn: &Connection,
    root: &Path,
    remote: Option<&str>,
    repository_id: Option<&str>,
    device_id: &str,
) -> Result<(), StoreError> {
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
    )?;
    Ok(())
}

/// Re-links every folder with a remote: one matching repository links it, none unlinks it, and
/// several (the same repository in two organizations) keep the current link if it is one of
/// them, else leave the choice to the user. Returns how many links changed.
pub fn rematch(conn: &Connection) -> Result<usize, StoreError> {
    let repositories = candidates(conn)?;
    let folders: Vec<(String, String, Option<String>)> = conn
        .prepare(
            "SELECT id, remote_url, repository_id FROM local_repos WHERE remote_url IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut changed = 0;
    for (folder, remote, current) in folders {
        let key = urls::normalize(&remote);
        let matches: Vec<&String> = repositories
            .iter()
            .filter(|r| key.is_some() && r.key == key)
            .map(|r| &r.id)
            .collect();
        let link = match matches.as_slice() {
            [one] => Some((*one).clone()),
            [] => None,
            several => current.clone().filter(|c| several.contains(&c)),
        };
        if link != current {
            conn.execute(
                "UPDATE local_repos SET repository_id = ?2 WHERE id = ?1",
                params![folder, link],
            )?;
            changed += 1;
        }
    }
    Ok(changed)
}
