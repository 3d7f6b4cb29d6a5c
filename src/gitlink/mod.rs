//! Git on the desktop's side: remote URL normalisation (`urls`), which the server's
//! integrations share, and matching linked folders to the organization's repositories
//! (`linking`).

pub mod linking;
pub mod urls;
