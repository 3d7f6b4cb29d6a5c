//! The desktop's operations on local git repositories, through libgit2 (`git2`) and never over
//! the network: what a chosen folder is (`inspect_folder`: its work-tree root, its remotes with
//! their comparable keys, its branch), how far its work tree is from clean (`status`), and
//! switching to a task's branch (`start_branch`), which refuses rather than risk uncommitted
//! work. Every function takes a path and blocks, so the UI calls them off its thread; every
//! failure is a [`LocalRepoError`] whose message says what went wrong and what to do about it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use git2::build::CheckoutBuilder;
use git2::{Branch, BranchType, ErrorCode, Reference, Repository, StatusOptions};
use serde::{Deserialize, Serialize};

use super::urls;

/// Why a local repository could not be read or changed. Messages are meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum LocalRepoError {
    #[error(
        "{} does not exist: choose another folder, or check that the drive it is on is connected",
        .path.display()
    )]
    Missing { path: PathBuf },
    #[error(
        "{} is a file, not a folder: choose the folder that holds the project",
        .path.display()
    )]
    NotAFolder { path: PathBuf },
    #[error("could not open {}: {source}; check that you are allowed to read it", .path.display())]
    Unreadable { path: PathBuf, source: io::Error },
    #[error(
        "{} is not a git repository: choose the folder you cloned, or run `git init` there",
        .path.display()
    )]
    NotARepository { path: PathBuf },
    #[error(
        "{} belongs to another user, so git does not trust it: if you do, run \
         `git config --global --add safe.directory {}`",
        .path.display(), .path.display()
    )]
    NotOwned { path: PathBuf },
    #[error(
        "{} is a bare git repository, with no working files: choose a folder where the project \
         is checked out (a clone) instead",
        .path.display()
    )]
    Bare { path: PathBuf },
    #[error(
        "{} has no commits on its current branch yet: make a first commit, then try again",
        .root.display()
    )]
    NoCommits { root: PathBuf },
    #[error(
        "`{name}` is not a valid branch name: use letters, digits, `-`, `_`, `.` and `/`, \
         without spaces, `..`, or a `-` at the start"
    )]
    InvalidBranchName { name: String },
    #[error(
        "{} has uncommitted changes to {count} tracked {}: commit or stash them, then switch to \
         `{branch}` again",
        .root.display(), files(.count)
    )]
    UncommittedChanges {
        root: PathBuf,
        branch: String,
        count: u32,
    },
    #[error(
        "switching to `{branch}` would overwrite untracked files in {}: move, commit or delete \
         them, then try again",
        .root.display()
    )]
    UntrackedInTheWay { root: PathBuf, branch: String },
    #[error(
        "could not {action} in {}: {}; run `git status` there to see what git reports",
        .path.display(), .source.message()
    )]
    Git {
        action: String,
        path: PathBuf,
        source: git2::Error,
    },
}

fn files(count: &u32) -> &'static str {
    if *count == 1 { "file" } else { "files" }
}

/// A remote of a repository, as `git remote get-url` shows it (with `insteadOf` applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remote {
    pub name: String,
    pub url: String,
    /// The URL's comparable key (`github.com/org/repo`, see [`urls::normalize`]); `None` for
    /// local paths and URLs that do not name a hosted repository.
    pub key: Option<String>,
}

/// What a folder the user chose is, as git sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderInfo {
    /// The work tree's root: the chosen folder or the folder above it that holds `.git`.
    pub root: PathBuf,
    /// `origin` first, then the others by name.
    pub remotes: Vec<Remote>,
    /// `None` when HEAD is detached or the branch has no commits yet.
    pub current_branch: Option<String>,
}

/// How far a work tree is from clean and from its upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitState {
    /// `None` when HEAD is detached or the branch has no commits yet.
    pub branch: Option<String>,
    /// Changed, staged and untracked files (ignored files are not counted).
    pub uncommitted: u32,
    /// Whether the branch has an upstream it can be compared with.
    #[serde(default)]
    pub upstream: bool,
    /// Commits on the branch that its upstream lacks; 0 without an upstream.
    pub ahead: u32,
    /// Commits on the upstream that the branch lacks; 0 without an upstream.
    pub behind: u32,
}

impl GitState {
    /// "clean", or the non-zero counts: "3 uncommitted, 1 ahead", "2 behind".
    pub fn summary(&self) -> String {
        let parts: Vec<String> = [
            (self.uncommitted, "uncommitted"),
            (self.ahead, "ahead"),
            (self.behind, "behind"),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        if parts.is_empty() {
            "clean".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// What [`start_branch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchOutcome {
    /// The branch did not exist: it was created and checked out.
    Created,
    /// The branch existed and was checked out.
    CheckedOut,
    /// The branch was already checked out; nothing changed.
    AlreadyOn,
}

/// The repository at `path` or at the work tree containing it: root, remotes and branch.
pub fn inspect_folder(path: &Path) -> Result<FolderInfo, LocalRepoError> {
    let (repo, root) = open(path)?;
    let remotes = remotes(&repo, &root)?;
    let current_branch = head_branch(&repo, &root)?.as_ref().map(branch_name);
    Ok(FolderInfo {
        root,
        remotes,
        current_branch,
    })
}

/// The branch, uncommitted files and distance from the upstream of the work tree at `root`.
pub fn status(root: &Path) -> Result<GitState, LocalRepoError> {
    let (repo, root) = open(root)?;
    let head = head_branch(&repo, &root)?;
    let uncommitted = changed_files(&repo, &root, true)?;
    let compared = match &head {
        Some(head) => ahead_behind(&repo, &root, head)?,
        None => None,
    };
    let (ahead, behind) = compared.unwrap_or((0, 0));
    Ok(GitState {
        branch: head.as_ref().map(branch_name),
        uncommitted,
        upstream: compared.is_some(),
        ahead,
        behind,
    })
}

/// Checks out the local branch `branch`, first creating it (from the local branch `base` when
/// there is one, else from HEAD) when it does not exist. Refuses, changing nothing, when the
/// switch would meet uncommitted changes to tracked files or overwrite untracked ones.
pub fn start_branch(
    root: &Path,
    branch: &str,
    base: Option<&str>,
) -> Result<BranchOutcome, LocalRepoError> {
    // A name with a NUL byte cannot even be asked about: it is invalid too.
    if !Branch::name_is_valid(branch).unwrap_or(false) {
        return Err(LocalRepoError::InvalidBranchName {
            name: branch.to_owned(),
        });
    }
    let (repo, root) = open(root)?;
    let head = match repo.head() {
        Ok(head) => head,
        Err(e) if e.code() == ErrorCode::UnbornBranch => {
            return Err(LocalRepoError::NoCommits { root });
        }
        Err(e) => return Err(git("read the current branch", &root, e)),
    };
    if head.is_branch() && head.shorthand_bytes() == branch.as_bytes() {
        return Ok(BranchOutcome::AlreadyOn);
    }
    let count = changed_files(&repo, &root, false)?;
    if count > 0 {
        return Err(LocalRepoError::UncommittedChanges {
            root,
            branch: branch.to_owned(),
            count,
        });
    }

    let existing = match repo.find_branch(branch, BranchType::Local) {
        Ok(existing) => Some(existing),
        Err(e) if e.code() == ErrorCode::NotFound => None,
        Err(e) => return Err(git(&format!("look up the branch `{branch}`"), &root, e)),
    };
    let (mut target, outcome) = match existing {
        Some(existing) => (existing, BranchOutcome::CheckedOut),
        None => {
            let start = match base.and_then(|base| repo.find_branch(base, BranchType::Local).ok()) {
                Some(base) => base.into_reference(),
                None => head,
            };
            let commit = start
                .peel_to_commit()
                .map_err(|e| git("read the commit to branch from", &root, e))?;
            let created = repo
                .branch(branch, &commit, false)
                .map_err(|e| git(&format!("create the branch `{branch}`"), &root, e))?;
            (created, BranchOutcome::Created)
        }
    };

    let checkout = target.get().peel_to_commit().and_then(|commit| {
        repo.checkout_tree(commit.as_object(), Some(CheckoutBuilder::new().safe()))
    });
    if let Err(e) = checkout {
        if outcome == BranchOutcome::Created {
            // Undo the branch we just made so that a refusal changes nothing; if even that
            // fails, the error the user needs to see is still the checkout's.
            let _ = target.delete();
        }
        return Err(if e.code() == ErrorCode::Conflict {
            LocalRepoError::UntrackedInTheWay {
                root,
                branch: branch.to_owned(),
            }
        } else {
            git(&format!("check out `{branch}`"), &root, e)
        });
    }
    repo.set_head(&format!("refs/heads/{branch}"))
        .map_err(|e| git(&format!("switch to `{branch}`"), &root, e))?;
    Ok(outcome)
}

pub(super) fn git(action: &str, path: &Path, source: git2::Error) -> LocalRepoError {
    LocalRepoError::Git {
        action: action.to_owned(),
        path: path.to_owned(),
        source,
    }
}

/// The repository at `path` or the work tree containing it, and the work tree's root.
pub(super) fn open(path: &Path) -> Result<(Repository, PathBuf), LocalRepoError> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(LocalRepoError::NotAFolder {
                path: path.to_owned(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(LocalRepoError::Missing {
                path: path.to_owned(),
            });
        }
        Err(source) => {
            return Err(LocalRepoError::Unreadable {
                path: path.to_owned(),
                source,
            });
        }
    }
    let repo = Repository::discover(path).map_err(|e| match e.code() {
        ErrorCode::NotFound => LocalRepoError::NotARepository {
            path: path.to_owned(),
        },
        ErrorCode::Owner => LocalRepoError::NotOwned {
            path: path.to_owned(),
        },
        _ => git("open the repository", path, e),
    })?;
    // `workdir` ends with a separator; collecting the components drops it.
    let root = match repo.workdir() {
        Some(workdir) if !repo.is_bare() => workdir.components().collect(),
        _ => {
            return Err(LocalRepoError::Bare {
                path: repo.path().components().collect(),
            });
        }
    };
    Ok((repo, root))
}

/// `origin` first, then the others by name. Remotes without a URL are left out.
fn remotes(repo: &Repository, root: &Path) -> Result<Vec<Remote>, LocalRepoError> {
    let names = repo
        .remotes()
        .map_err(|e| git("list the remotes", root, e))?;
    let mut remotes: Vec<Remote> = names
        .iter()
        // Names that are not UTF-8 cannot be looked up by name: leave them out.
        .filter_map(|name| name.ok().flatten())
        .filter_map(|name| {
            let remote = repo.find_remote(name).ok()?;
            let url = String::from_utf8_lossy(remote.url_bytes()).into_owned();
            (!url.is_empty()).then(|| Remote {
                name: name.to_owned(),
                key: urls::normalize(&url),
                url,
            })
        })
        .collect();
    remotes.sort_by(|a, b| (a.name != "origin", &a.name).cmp(&(b.name != "origin", &b.name)));
    Ok(remotes)
}

/// HEAD when it is a branch with commits; `None` when detached or unborn.
pub(super) fn head_branch<'r>(
    repo: &'r Repository,
    root: &Path,
) -> Result<Option<Reference<'r>>, LocalRepoError> {
    match repo.head() {
        Ok(head) => Ok(head.is_branch().then_some(head)),
        Err(e) if e.code() == ErrorCode::UnbornBranch => Ok(None),
        Err(e) => Err(git("read the current branch", root, e)),
    }
}

pub(super) fn branch_name(reference: &Reference<'_>) -> String {
    String::from_utf8_lossy(reference.shorthand_bytes()).into_owned()
}

/// Files that differ from HEAD in the index or the work tree, ignored files excluded; untracked
/// files only when `untracked`.
pub(super) fn changed_files(
    repo: &Repository,
    root: &Path,
    untracked: bool,
) -> Result<u32, LocalRepoError> {
    let mut options = StatusOptions::new();
    options
        .include_untracked(untracked)
        .recurse_untracked_dirs(untracked)
        .include_ignored(false);
    let statuses = repo
        .statuses(Some(&mut options))
        .map_err(|e| git("read which files changed", root, e))?;
    let count = statuses
        .iter()
        .filter(|entry| !entry.status().is_empty() && !entry.status().is_ignored())
        .count();
    Ok(saturate(count))
}

/// Commits ahead of and behind the branch's upstream; `None` without one, or when the upstream
/// cannot be resolved (its remote-tracking branch was never fetched, or was deleted).
fn ahead_behind(
    repo: &Repository,
    root: &Path,
    head: &Reference<'_>,
) -> Result<Option<(u32, u32)>, LocalRepoError> {
    let Ok(upstream) = Branch::wrap(head.clone()).upstream() else {
        return Ok(None);
    };
    let (Some(local), Some(upstream)) = (head.target(), upstream.get().target()) else {
        return Ok(None);
    };
    let (ahead, behind) = repo
        .graph_ahead_behind(local, upstream)
        .map_err(|e| git("compare the branch with its upstream", root, e))?;
    Ok(Some((saturate(ahead), saturate(behind))))
}

pub(super) fn saturate(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
