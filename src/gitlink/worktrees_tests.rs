use std::fs;
use std::path::Path;

use git2::{Commit, Repository, RepositoryInitOptions, Signature, StatusOptions};
use tempfile::TempDir;

use super::*;

/// A clone at `<tmp>/app` on `main` with one commit, and a dirty tracked file.
fn clone_with_work_in_progress() -> (TempDir, PathBuf, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("app");
    let mut options = RepositoryInitOptions::new();
    options.initial_head("main");
    let repo = Repository::init_opts(&root, &options).unwrap();
    commit(&repo, "README.md", "hello\n");
    fs::write(root.join("README.md"), "work in progress\n").unwrap();
    (dir, root, repo)
}

fn commit(repo: &Repository, file: &str, contents: &str) {
    let workdir = repo.workdir().unwrap().to_owned();
    fs::write(workdir.join(file), contents).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(file)).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().ok().map(|head| head.peel_to_commit().unwrap());
    let parents: Vec<&Commit<'_>> = parent.iter().collect();
    let signature = Signature::now("Ada", "ada@example.com").unwrap();
    repo.commit(Some("HEAD"), &signature, &signature, file, &tree, &parents)
        .unwrap();
}

/// HEAD's name, the index's entries and the dirty file: what must never change.
fn untouched(repo: &Repository, root: &Path) -> (String, usize, String, usize) {
    let head = repo.head().unwrap().shorthand().unwrap().to_owned();
    let index = repo.index().unwrap().len();
    let file = fs::read_to_string(root.join("README.md")).unwrap();
    let mut options = StatusOptions::new();
    options.include_untracked(true);
    let changed = repo.statuses(Some(&mut options)).unwrap().len();
    (head, index, file, changed)
}

#[test]
fn a_worktree_per_branch_beside_the_clone_leaves_the_checkout_alone() {
    let (dir, root, repo) = clone_with_work_in_progress();
    let before = untouched(&repo, &root);
    let first = place(&root, "acme-12-login", Some("main"), None).unwrap();
    assert_eq!(first.how, Placement::NewBranch);
    assert_eq!(
        first.path,
        dir.path().join("app.worktrees").join("acme-12-login")
    );
    assert!(first.path.join("README.md").exists());
    let second = place(&root, "sarah/acme-13", Some("main"), None).unwrap();
    assert_eq!(
        second.path,
        dir.path().join("app.worktrees").join("sarah-acme-13")
    );
    assert_ne!(first.path, second.path);
    assert_eq!(
        untouched(&repo, &root),
        before,
        "HEAD, index and the dirty file are as they were"
    );
    assert_eq!(
        local::status(&first.path).unwrap().branch.as_deref(),
        Some("acme-12-login")
    );
    // Asked again, the same worktree is reused; from inside a worktree too.
    let again = place(&second.path, "acme-12-login", Some("main"), None).unwrap();
    assert_eq!(
        again,
        Placed {
            path: first.path.clone(),
            how: Placement::ExistingWorktree
        }
    );
}

#[test]
fn a_branch_checked_out_in_the_clone_is_worked_on_there() {
    let (_dir, root, _repo) = clone_with_work_in_progress();
    let placed = place(&root, "main", None, None).unwrap();
    assert_eq!(
        placed,
        Placed {
            path: root.clone(),
            how: Placement::Clone
        }
    );
}

#[test]
fn a_branch_held_by_a_vanished_worktree_is_refused_saying_where() {
    let (_dir, root, _repo) = clone_with_work_in_progress();
    let placed = place(&root, "feature", Some("main"), None).unwrap();
    fs::remove_dir_all(&placed.path).unwrap();
    let error = place(&root, "feature", Some("main"), None).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, WorktreeError::BranchInMissingWorktree { .. }),
        "{message}"
    );
    assert!(
        message.contains(&placed.path.display().to_string()),
        "{message}"
    );
    assert!(message.contains("git worktree prune"), "{message}");
}

#[test]
fn a_folder_in_the_way_is_refused_and_a_chosen_folder_is_used() {
    let (dir, root, _repo) = clone_with_work_in_progress();
    let taken = default_path(&root, "busy", None);
    fs::create_dir_all(&taken).unwrap();
    fs::write(taken.join("notes.txt"), "mine").unwrap();
    assert!(matches!(
        place(&root, "busy", None, None),
        Err(WorktreeError::FolderTaken { .. })
    ));
    assert_eq!(fs::read_to_string(taken.join("notes.txt")).unwrap(), "mine");
    let chosen = dir.path().join("trees");
    let placed = place(&root, "busy", None, Some(&chosen)).unwrap();
    assert_eq!(placed.path, chosen.join("busy"));
}

#[test]
fn only_a_worktree_with_nothing_to_lose_is_removed_and_its_branch_stays() {
    let (_dir, root, repo) = clone_with_work_in_progress();
    let clean = place(&root, "clean", Some("main"), None).unwrap().path;
    remove(&clean, Some("main")).unwrap();
    assert!(!clean.exists());
    assert!(
        repo.find_branch("clean", BranchType::Local).is_ok(),
        "the branch is kept"
    );

    let dirty = place(&root, "dirty", Some("main"), None).unwrap().path;
    fs::write(dirty.join("draft.txt"), "half done").unwrap();
    let error = remove(&dirty, Some("main")).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("kept {}: 1 uncommitted file would be lost", dirty.display())
    );
    assert!(dirty.join("draft.txt").exists());

    let committed = place(&root, "committed", Some("main"), None).unwrap().path;
    let worktree = Repository::open(&committed).unwrap();
    commit(&worktree, "a.txt", "a");
    commit(&worktree, "b.txt", "b");
    let loss = what_would_be_lost(&committed, Some("main")).unwrap();
    assert_eq!(
        loss,
        Loss {
            uncommitted: 0,
            unpushed: 2
        }
    );
    assert!(matches!(
        remove(&committed, Some("main")),
        Err(WorktreeError::WouldLose { .. })
    ));
    assert!(committed.exists());

    assert!(matches!(
        remove(&root, Some("main")),
        Err(WorktreeError::NotAWorktree { .. })
    ));
}

#[test]
fn a_vanished_worktree_is_made_again_where_it_was() {
    let (_dir, root, _repo) = clone_with_work_in_progress();
    let placed = place(&root, "feature", Some("main"), None).unwrap();
    fs::remove_dir_all(&placed.path).unwrap();
    let again = recreate(&root, "feature", Some("main"), &placed.path).unwrap();
    assert_eq!(again.path, placed.path);
    assert_eq!(again.how, Placement::NewWorktree);
    assert_eq!(
        local::status(&placed.path).unwrap().branch.as_deref(),
        Some("feature")
    );
}
