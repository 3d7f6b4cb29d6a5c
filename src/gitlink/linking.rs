//! Which organization repository a linked folder is: its normalised `origin` URL compared with
//! the synced repositories' URLs. Runs whenever the repositories change, so links survive
//! signing out and in again (even as another user) and follow repositories that are imported
//! later.

use rusqlite::{Connection, params};

use super::urls;
use crate::store::StoreError;

/// Re-links every folder with a remote: one matching repository links it, none unlinks it, and
/// several (the same repository in two organizations) keep the current link if it is one of
/// them, else leave the choice to the user. Returns how many links changed.
pub fn rematch(conn: &Connection) -> Result<usize, StoreError> {
    let repositories: Vec<(String, Option<String>)> = conn
        .prepare("SELECT id, url FROM repositories")?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .map(|row| row.map(|(id, url)| (id, urls::normalize(&url))))
        .collect::<Result<_, _>>()?;
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
            .filter(|(_, url)| key.is_some() && *url == key)
            .map(|(id, _)| id)
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
