//! Workspaces as real parallel work, against the real server and real git repositories: a
//! worktree per workspace, exploratory work seen by a teammate, finishing, git state from the
//! worktree, the pull request looked up after a push, and the command line end to end.

mod cli;
mod support;
mod worktrees;
