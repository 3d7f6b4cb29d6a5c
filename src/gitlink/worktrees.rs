//! A git worktree per workspace, so that starting work never switches the person's own checkout
//! or touches its uncommitted work.
//!
//! [`place`] finds where a branch is worked on: where it is already checked out (the clone
//! itself, or one of its worktrees) it is reused; otherwise the branch is made (from the base
//! branch) when missing and a new worktree is added for it, by default beside the clone in
//! `<clone>/../<name>.worktrees/<branch>`. A branch held by a worktree whose folder is gone or
//! that is locked is refused, saying where. [`what_would_be_lost`] and [`remove`] finish a
//! worktree: it goes only when nothing uncommitted or unpushed would go with it (the branch
//! itself is always kept).

use std::fs;
use std::path::{Path, PathBuf};

use git2::{Branch, BranchType, Repository, WorktreeAddOptions, WorktreePruneOptions};

use super::local::{self, LocalRepoError, branch_name, changed_files, git, saturate};

/// Why a worktree could not be placed or removed. Messages are meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error(transparent)]
    Repository(#[from] LocalRepoError),
    #[error(
        "`{branch}` is checked out in a worktree at {} that no longer exists: run \
         `git worktree prune` in {}, then try again",
        .path.display(), .clone.display()
    )]
    BranchInMissingWorktree {
        branch: String,
        path: PathBuf,
        clone: PathBuf,
    },
    #[error(
        "`{branch}` is checked out in a locked worktree at {}: unlock it with \
         `git worktree unlock`, or work there",
        .path.display()
    )]
    BranchInLockedWorktree { branch: String, path: PathBuf },
    #[error(
        "{} already exists and is not this branch's worktree: move it away, or choose another \
         worktree folder",
        .path.display()
    )]
    FolderTaken { path: PathBuf },
    #[error("{} is the clone itself, not a worktree: it is never removed", .path.display())]
    NotAWorktree { path: PathBuf },
    #[error("kept {}: {loss} would be lost", .path.display())]
    WouldLose { path: PathBuf, loss: Loss },
}

/// Where a branch is worked on, and how it got there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub path: PathBuf,
    pub how: Placement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A new branch in a new worktree.
    NewBranch,
    /// An existing branch in a new worktree.
    NewWorktree,
    /// The branch's existing worktree.
    ExistingWorktree,
    /// The branch is the clone's own checkout: work goes on there.
    Clone,
}

/// What removing a worktree would lose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loss {
    /// Changed, staged and untracked files.
    pub uncommitted: u32,
    /// Commits on no remote-tracking branch and not on the base branch.
    pub unpushed: u32,
}

impl Loss {
    pub fn is_nothing(&self) -> bool {
        self.uncommitted == 0 && self.unpushed == 0
    }
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural =
            |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = Vec::new();
        if self.uncommitted > 0 {
            parts.push(plural(
                self.uncommitted,
                "uncommitted file",
                "uncommitted files",
            ));
        }
        if self.unpushed > 0 {
            parts.push(plural(self.unpushed, "unpushed commit", "unpushed commits"));
        }
        if parts.is_empty() {
            return f.write_str("nothing");
        }
        f.write_str(&parts.join(" and "))
    }
}

/// The folder a new worktree of `branch` gets: `<folder>/<branch>` when the person chose a
/// worktree folder, else `<clone>/../<clone name>.worktrees/<branch>` (slashes in the branch
/// become dashes, so each worktree is one folder).
pub fn default_path(clone: &Path, branch: &str, folder: Option<&Path>) -> PathBuf {
    let leaf = branch.replace('/', "-");
    match folder {
        Some(folder) => folder.join(leaf),
        None => {
            let name = clone
                .file_name()
                .map_or_else(|| "repository".into(), |n| n.to_string_lossy().into_owned());
            let parent = clone.parent().unwrap_or(clone);
            parent.join(format!("{name}.worktrees")).join(leaf)
        }
    }
}

/// Where `branch` of the clone at `clone` is worked on (see the module's description);
/// `base` is the branch a new branch starts from, `folder` the chosen worktree folder.
pub fn place(
    clone: &Path,
    branch: &str,
    base: Option<&str>,
    folder: Option<&Path>,
) -> Result<Placed, WorktreeError> {
    if !Branch::name_is_valid(branch).unwrap_or(false) {
        return Err(LocalRepoError::InvalidBranchName {
            name: branch.to_owned(),
        }
        .into());
    }
    let (repo, root) = main_repository(clone)?;
    if let Some(placed) = checked_out(&repo, &root, branch)? {
        return Ok(placed);
    }
    let path = default_path(&root, branch, folder);
    add(&repo, &root, branch, base, path)
}

/// Makes the worktree of `branch` again at `path`, where it was before its folder went away
/// (git's record of the vanished worktree is pruned first).
pub fn recreate(
    clone: &Path,
    branch: &str,
    base: Option<&str>,
    path: &Path,
) -> Result<Placed, WorktreeError> {
    let (repo, root) = main_repository(clone)?;
    prune_vanished(&repo, &root)?;
    if let Some(placed) = checked_out(&repo, &root, branch)? {
        return Ok(placed);
    }
    add(&repo, &root, branch, base, path.to_owned())
}

/// Adds a worktree for `branch` (made from `base` when missing) at `path`.
fn add(
    repo: &Repository,
    root: &Path,
    branch: &str,
    base: Option<&str>,
    path: PathBuf,
) -> Result<Placed, WorktreeError> {
    if path.exists() {
        return Err(WorktreeError::FolderTaken { path });
    }
    let (reference, how) = branch_to_use(repo, root, branch, base)?;
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|source| LocalRepoError::Unreadable {
            path: parent.to_owned(),
            source,
        })?;
    }
    let mut options = WorktreeAddOptions::new();
    options.reference(Some(&reference));
    repo.worktree(&worktree_name(repo, branch), &path, Some(&options))
        .map_err(|e| git(&format!("add a worktree for `{branch}`"), root, e))?;
    Ok(Placed { path, how })
}

/// The clone's worktrees that git can still open, with their names.
fn worktrees(
    repo: &Repository,
    root: &Path,
) -> Result<Vec<(String, git2::Worktree)>, WorktreeError> {
    let names = repo
        .worktrees()
        .map_err(|e| git("list the worktrees", root, e))?;
    Ok(names
        .iter()
        .flatten()
        .flatten()
        .filter_map(|name| Some((name.to_owned(), repo.find_worktree(name).ok()?)))
        .collect())
}

/// Forgets the worktrees whose folder is gone (unlocked ones only), as `git worktree prune`.
fn prune_vanished(repo: &Repository, root: &Path) -> Result<(), WorktreeError> {
    for (_, worktree) in worktrees(repo, root)? {
        if worktree.validate().is_err() && worktree.is_prunable(None).unwrap_or(false) {
            worktree
                .prune(None)
                .map_err(|e| git("forget a vanished worktree", root, e))?;
        }
    }
    Ok(())
}

/// The clone's main repository (also when `clone` is one of its worktrees) and its root.
fn main_repository(clone: &Path) -> Result<(Repository, PathBuf), LocalRepoError> {
    let (repo, root) = local::open(clone)?;
    if !repo.is_worktree() {
        return Ok((repo, root));
    }
    let common = repo.commondir().to_owned();
    let main = Repository::open(&common).map_err(|e| git("open the main clone", &common, e))?;
    let main_root = main
        .workdir()
        .map(|w| w.components().collect())
        .unwrap_or(root);
    Ok((main, main_root))
}

/// Where `branch` is already checked out: the clone, or one of its worktrees.
fn checked_out(
    repo: &Repository,
    root: &Path,
    branch: &str,
) -> Result<Option<Placed>, WorktreeError> {
    if local::head_branch(repo, root)?.is_some_and(|head| branch_name(&head) == branch) {
        return Ok(Some(Placed {
            path: root.to_owned(),
            how: Placement::Clone,
        }));
    }
    for (name, worktree) in worktrees(repo, root)? {
        let path: PathBuf = worktree.path().components().collect();
        if worktree_branch(repo, &name).as_deref() != Some(branch) {
            continue;
        }
        if worktree.validate().is_err() {
            return Err(WorktreeError::BranchInMissingWorktree {
                branch: branch.to_owned(),
                path,
                clone: root.to_owned(),
            });
        }
        if !matches!(worktree.is_locked(), Ok(git2::WorktreeLockStatus::Unlocked)) {
            return Err(WorktreeError::BranchInLockedWorktree {
                branch: branch.to_owned(),
                path,
            });
        }
        return Ok(Some(Placed {
            path,
            how: Placement::ExistingWorktree,
        }));
    }
    Ok(None)
}

/// The branch worktree `name` has checked out, read from its HEAD file (so a worktree whose
/// folder is gone still says which branch it holds).
fn worktree_branch(repo: &Repository, name: &str) -> Option<String> {
    let head = fs::read_to_string(repo.path().join("worktrees").join(name).join("HEAD")).ok()?;
    head.trim()
        .strip_prefix("ref: refs/heads/")
        .map(str::to_owned)
}

/// The branch's reference, made from `base` (else HEAD) when it does not exist yet.
fn branch_to_use<'r>(
    repo: &'r Repository,
    root: &Path,
    branch: &str,
    base: Option<&str>,
) -> Result<(git2::Reference<'r>, Placement), LocalRepoError> {
    if let Ok(existing) = repo.find_branch(branch, BranchType::Local) {
        return Ok((existing.into_reference(), Placement::NewWorktree));
    }
    let start = match base.and_then(|b| repo.find_branch(b, BranchType::Local).ok()) {
        Some(base) => base.into_reference(),
        None => repo.head().map_err(|e| match e.code() {
            git2::ErrorCode::UnbornBranch => LocalRepoError::NoCommits {
                root: root.to_owned(),
            },
            _ => git("read the current branch", root, e),
        })?,
    };
    let commit = start
        .peel_to_commit()
        .map_err(|e| git("read the commit to branch from", root, e))?;
    let created = repo
        .branch(branch, &commit, false)
        .map_err(|e| git(&format!("create the branch `{branch}`"), root, e))?;
    Ok((created.into_reference(), Placement::NewBranch))
}

/// A worktree name (git's own, under `.git/worktrees/`) for `branch` that is not taken yet.
fn worktree_name(repo: &Repository, branch: &str) -> String {
    let base: String = branch
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let taken = |name: &str| repo.find_worktree(name).is_ok();
    (0..)
        .map(|n| {
            if n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|name| !taken(name))
        .expect("some name is free")
}

/// What removing the worktree at `path` would lose; `base` is the branch it started from.
pub fn what_would_be_lost(path: &Path, base: Option<&str>) -> Result<Loss, WorktreeError> {
    let (repo, root) = local::open(path)?;
    let uncommitted = changed_files(&repo, &root, true)?;
    let Some(head) = local::head_branch(&repo, &root)?.and_then(|h| h.target()) else {
        return Ok(Loss {
            uncommitted,
            unpushed: 0,
        });
    };
    let mut walk = repo
        .revwalk()
        .map_err(|e| git("walk the branch's commits", &root, e))?;
    walk.push(head)
        .map_err(|e| git("walk the branch's commits", &root, e))?;
    walk.hide_glob("refs/remotes/*")
        .map_err(|e| git("compare with the remotes", &root, e))?;
    if let Some(base) = base.filter(|b| repo.find_branch(b, BranchType::Local).is_ok()) {
        walk.hide_ref(&format!("refs/heads/{base}"))
            .map_err(|e| git("compare with the base branch", &root, e))?;
    }
    let unpushed = saturate(walk.count());
    Ok(Loss {
        uncommitted,
        unpushed,
    })
}

/// Removes the worktree at `path` (its folder and git's record of it), keeping its branch —
/// only when [`what_would_be_lost`] is nothing.
pub fn remove(path: &Path, base: Option<&str>) -> Result<(), WorktreeError> {
    let (repo, root) = local::open(path)?;
    if !repo.is_worktree() {
        return Err(WorktreeError::NotAWorktree { path: root });
    }
    let loss = what_would_be_lost(path, base)?;
    if !loss.is_nothing() {
        return Err(WorktreeError::WouldLose { path: root, loss });
    }
    let worktree = git2::Worktree::open_from_repository(&repo)
        .map_err(|e| git("read the worktree", &root, e))?;
    worktree
        .prune(Some(
            WorktreePruneOptions::new()
                .valid(true)
                .working_tree(true)
                .locked(false),
        ))
        .map_err(|e| git("remove the worktree", &root, e))?;
    Ok(())
}

#[cfg(test)]
#[path = "worktrees_tests.rs"]
mod tests;
