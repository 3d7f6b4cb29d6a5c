//! Why work could not be started, finished or opened, in the person's words.

use std::path::PathBuf;

use crate::gitlink::local::LocalRepoError;
use crate::gitlink::worktrees::WorktreeError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error("there is no task {0}: check its key (`superset tasks` lists them)")]
    NoSuchTask(String),
    #[error(
        "{0} is not a folder linked to one of your organizations' repositories: link it first \
         (`superset link PATH`, or Link folder… in the window)"
    )]
    FolderNotLinked(String),
    #[error(
        "none of this computer's linked folders is a repository of {task}'s organization: link \
         a clone first (`superset link PATH`, or Link folder… in the window)"
    )]
    NoFolderForTask { task: String },
    #[error(
        "{task} could be worked on in several linked folders ({choices}): choose one with \
         --folder"
    )]
    SeveralFolders { task: String, choices: String },
    #[error("{folder} belongs to another organization than {task}: choose one of its folders")]
    WrongOrganization { task: String, folder: String },
    #[error(
        "there is no workspace {0} of yours on this computer: `superset workspaces` lists them"
    )]
    NoSuchWorkspace(String),
    #[error("{} is gone: recreate its worktree, or mark the workspace done", .0.display())]
    FolderGone(PathBuf),
    #[error(
        "no {what} is set: set ${variable}, or enter a {what} command in the window's menu \
         (your name › Workspaces)"
    )]
    NoCommand {
        what: &'static str,
        variable: &'static str,
    },
    #[error("could not open {}: {source}", .path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("you are signed out: sign in first (`superset login`)")]
    SignedOut,
    #[error(transparent)]
    Worktree(#[from] WorktreeError),
    #[error(transparent)]
    Git(#[from] LocalRepoError),
    #[error("cannot save the workspace: {0}")]
    Store(#[from] StoreError),
}
