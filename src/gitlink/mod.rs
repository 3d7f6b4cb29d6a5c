//! Git on the desktop's side: remote URL normalisation (`urls`), which the server's
//! integrations share, and matching linked folders to the organization's repositories
//! (`linking`). The desktop reads and changes its local clones (remotes, status, starting a
//! task's branch) with libgit2 in `local`.

pub mod linking;
pub mod local;
pub mod urls;
