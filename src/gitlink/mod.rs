//! Git on the desktop's side. `urls` normalises git remote URLs; it is plain text handling with
//! no git and no I/O, so it sits at the bottom of the layers and the server's integrations use
//! it too. `local` reads and changes local clones (remotes, status, starting a task's branch)
//! with libgit2; `linking` keeps which folder on this device is which organization repository
//! (`local_repos`); `worktrees` gives each workspace a worktree of its own beside the clone.

pub mod linking;
pub mod local;
pub mod urls;
pub mod worktrees;
