use std::fs;
use std::path::Path;

use git2::{Commit, Oid, Repository, RepositoryInitOptions, Signature};
use tempfile::TempDir;

use super::*;

/// A fresh repository whose first branch is `main`, with no commits.
fn init() -> (TempDir, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = RepositoryInitOptions::new();
    options.initial_head("main");
    let repo = Repository::init_opts(dir.path(), &options).unwrap();
    (dir, repo)
}

/// Writes `file` to the work tree and commits it on the current branch.
fn commit(repo: &Repository, file: &str, contents: &str) -> Oid {
    fs::write(repo.workdir().unwrap().join(file), contents).unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(file)).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().ok().map(|head| head.peel_to_commit().unwrap());
    let parents: Vec<&Commit<'_>> = parent.iter().collect();
    let signature = Signature::now("Ada", "ada@example.com").unwrap();
    repo.commit(Some("HEAD"), &signature, &signature, file, &tree, &parents)
        .unwrap()
}

/// Commits `file` on another branch without touching the work tree or the index.
fn commit_on(repo: &Repository, branch: &str, file: &str, contents: &str) {
    let reference = format!("refs/heads/{branch}");
    let parent = repo
        .find_reference(&reference)
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut builder = repo.treebuilder(Some(&parent.tree().unwrap())).unwrap();
    builder
        .insert(file, repo.blob(contents.as_bytes()).unwrap(), 0o100_644)
        .unwrap();
    let tree = repo.find_tree(builder.write().unwrap()).unwrap();
    let signature = Signature::now("Ada", "ada@example.com").unwrap();
    repo.commit(
        Some(&reference),
        &signature,
        &signature,
        file,
        &tree,
        &[&parent],
    )
    .unwrap();
}

/// A repository with one commit on `main`.
fn repo_with_commit() -> (TempDir, Repository) {
    let (dir, repo) = init();
    commit(&repo, "readme.md", "hello\n");
    (dir, repo)
}

fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap()
}

fn head_name(repo: &Repository) -> String {
    repo.head().unwrap().shorthand().unwrap().to_owned()
}

#[test]
fn a_missing_path_a_file_and_a_plain_folder_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = inspect_folder(&missing).unwrap_err();
    assert!(matches!(err, LocalRepoError::Missing { .. }), "{err:?}");
    assert!(err.to_string().contains("does not exist"), "{err}");

    let file = dir.path().join("notes.txt");
    fs::write(&file, "x").unwrap();
    let err = inspect_folder(&file).unwrap_err();
    assert!(matches!(err, LocalRepoError::NotAFolder { .. }), "{err:?}");

    let err = inspect_folder(dir.path()).unwrap_err();
    assert!(
        matches!(err, LocalRepoError::NotARepository { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{} is not a git repository: choose the folder you cloned, or run `git init` there",
            dir.path().display()
        )
    );
    assert!(matches!(
        status(dir.path()),
        Err(LocalRepoError::NotARepository { .. })
    ));
}

#[test]
fn a_bare_repository_has_no_work_tree() {
    let dir = tempfile::tempdir().unwrap();
    Repository::init_bare(dir.path()).unwrap();
    let err = inspect_folder(dir.path()).unwrap_err();
    assert!(matches!(err, LocalRepoError::Bare { .. }), "{err:?}");
    assert!(err.to_string().contains("bare git repository"), "{err}");
}

#[test]
fn a_nested_folder_reports_the_work_tree_root() {
    let (dir, _repo) = repo_with_commit();
    let nested = dir.path().join("src").join("deep");
    fs::create_dir_all(&nested).unwrap();
    let info = inspect_folder(&nested).unwrap();
    assert_eq!(canonical(&info.root), canonical(dir.path()));
    assert_eq!(info.current_branch.as_deref(), Some("main"));
    assert!(info.remotes.is_empty());
    // The root itself gives the same answer, without a trailing separator.
    let at_root = inspect_folder(dir.path()).unwrap();
    assert_eq!(at_root.root, info.root);
    assert!(!at_root.root.to_string_lossy().ends_with('/'));
}

#[test]
fn remotes_list_origin_first_then_by_name_with_keys() {
    let (dir, repo) = repo_with_commit();
    repo.remote("upstream", "https://github.com/Org/Repo.git")
        .unwrap();
    repo.remote("origin", "git@github.com:Me/Repo.git").unwrap();
    repo.remote("backup", "/srv/git/repo.git").unwrap();
    let info = inspect_folder(dir.path()).unwrap();
    let listed: Vec<(&str, &str, Option<&str>)> = info
        .remotes
        .iter()
        .map(|r| (r.name.as_str(), r.url.as_str(), r.key.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "origin",
                "git@github.com:Me/Repo.git",
                Some("github.com/me/repo")
            ),
            ("backup", "/srv/git/repo.git", None),
            (
                "upstream",
                "https://github.com/Org/Repo.git",
                Some("github.com/org/repo")
            ),
        ]
    );
}

#[test]
fn a_detached_head_has_no_branch() {
    let (dir, repo) = repo_with_commit();
    let second = commit(&repo, "b.txt", "b");
    repo.set_head_detached(second).unwrap();
    assert_eq!(inspect_folder(dir.path()).unwrap().current_branch, None);
    let state = status(dir.path()).unwrap();
    assert_eq!(state.branch, None);
    assert_eq!((state.ahead, state.behind), (0, 0));
}

#[test]
fn an_unborn_repository_has_no_branch_and_counts_untracked_files() {
    let (dir, _repo) = init();
    fs::write(dir.path().join("a.txt"), "a").unwrap();
    assert_eq!(inspect_folder(dir.path()).unwrap().current_branch, None);
    let state = status(dir.path()).unwrap();
    assert_eq!(
        state,
        GitState {
            branch: None,
            uncommitted: 1,
            upstream: false,
            ahead: 0,
            behind: 0
        }
    );
}

#[test]
fn status_counts_changed_and_untracked_files_but_not_ignored_ones() {
    let (dir, repo) = init();
    commit(&repo, ".gitignore", "*.log\n");
    commit(&repo, "tracked.txt", "one\n");
    let clean = status(dir.path()).unwrap();
    assert_eq!(clean.branch.as_deref(), Some("main"));
    assert_eq!(clean.summary(), "clean");

    fs::write(dir.path().join("tracked.txt"), "two\n").unwrap();
    fs::create_dir(dir.path().join("new")).unwrap();
    fs::write(dir.path().join("new").join("a.txt"), "a").unwrap();
    fs::write(dir.path().join("new").join("b.txt"), "b").unwrap();
    fs::write(dir.path().join("debug.log"), "noise").unwrap();
    let state = status(dir.path()).unwrap();
    assert_eq!(state.uncommitted, 3, "{state:?}");
    assert_eq!((state.ahead, state.behind), (0, 0));
    assert_eq!(state.summary(), "3 uncommitted");
}

#[test]
fn status_counts_commits_ahead_of_and_behind_the_upstream() {
    let (dir, repo) = repo_with_commit();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.branch("base", &head, false).unwrap();
    commit(&repo, "mine1.txt", "1");
    commit(&repo, "mine2.txt", "2");
    commit_on(&repo, "base", "theirs.txt", "3");

    assert_eq!(status(dir.path()).unwrap().summary(), "clean");
    let mut main = repo.find_branch("main", BranchType::Local).unwrap();
    main.set_upstream(Some("base")).unwrap();
    let state = status(dir.path()).unwrap();
    assert_eq!((state.ahead, state.behind), (2, 1));
    assert_eq!(state.summary(), "2 ahead, 1 behind");
}

#[test]
fn summary_shows_only_non_zero_counts() {
    let state = |uncommitted, ahead, behind| GitState {
        branch: Some("main".to_owned()),
        uncommitted,
        upstream: true,
        ahead,
        behind,
    };
    assert_eq!(state(0, 0, 0).summary(), "clean");
    assert_eq!(state(3, 0, 0).summary(), "3 uncommitted");
    assert_eq!(state(3, 1, 0).summary(), "3 uncommitted, 1 ahead");
    assert_eq!(state(0, 0, 2).summary(), "2 behind");
    assert_eq!(state(1, 2, 3).summary(), "1 uncommitted, 2 ahead, 3 behind");
}

#[test]
fn start_branch_creates_from_the_base_and_checks_out() {
    let (dir, repo) = repo_with_commit();
    let on_main = repo.head().unwrap().target().unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.branch("other", &head, false).unwrap();
    repo.set_head("refs/heads/other").unwrap();
    commit(&repo, "other.txt", "o");

    let outcome = start_branch(dir.path(), "task/42-fix", Some("main")).unwrap();
    assert_eq!(outcome, BranchOutcome::Created);
    assert_eq!(head_name(&repo), "task/42-fix");
    assert_eq!(repo.head().unwrap().target(), Some(on_main));
    // The work tree follows: `other.txt` is not on `main`.
    assert!(!dir.path().join("other.txt").exists());
    assert_eq!(status(dir.path()).unwrap().summary(), "clean");

    // A base that is not a local branch falls back to HEAD.
    let here = repo.head().unwrap().target();
    let outcome = start_branch(dir.path(), "task/43", Some("origin/nowhere")).unwrap();
    assert_eq!(outcome, BranchOutcome::Created);
    assert_eq!(repo.head().unwrap().target(), here);
}

#[test]
fn start_branch_checks_out_an_existing_branch_or_stays() {
    let (dir, repo) = repo_with_commit();
    assert_eq!(
        start_branch(dir.path(), "main", None).unwrap(),
        BranchOutcome::AlreadyOn
    );
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.branch("feature", &head, false).unwrap();
    commit_on(&repo, "feature", "feature.txt", "f");
    assert!(!dir.path().join("feature.txt").exists());

    let outcome = start_branch(dir.path(), "feature", Some("main")).unwrap();
    assert_eq!(outcome, BranchOutcome::CheckedOut);
    assert_eq!(head_name(&repo), "feature");
    assert_eq!(
        fs::read_to_string(dir.path().join("feature.txt")).unwrap(),
        "f"
    );
    assert_eq!(status(dir.path()).unwrap().summary(), "clean");
    // Already on it, even with uncommitted changes.
    fs::write(dir.path().join("readme.md"), "changed\n").unwrap();
    assert_eq!(
        start_branch(dir.path(), "feature", None).unwrap(),
        BranchOutcome::AlreadyOn
    );
}

#[test]
fn start_branch_refuses_with_uncommitted_changes_and_changes_nothing() {
    let (dir, repo) = repo_with_commit();
    fs::write(dir.path().join("readme.md"), "edited\n").unwrap();
    let err = start_branch(dir.path(), "task/1", None).unwrap_err();
    assert!(
        matches!(err, LocalRepoError::UncommittedChanges { count: 1, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("uncommitted changes to 1 tracked file: commit or stash them"),
        "{err}"
    );
    assert_eq!(head_name(&repo), "main");
    assert!(repo.find_branch("task/1", BranchType::Local).is_err());
    assert_eq!(
        fs::read_to_string(dir.path().join("readme.md")).unwrap(),
        "edited\n"
    );
}

#[test]
fn start_branch_refuses_to_overwrite_untracked_files() {
    let (dir, repo) = repo_with_commit();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.branch("feature", &head, false).unwrap();
    commit_on(&repo, "feature", "clash.txt", "theirs");
    fs::write(dir.path().join("clash.txt"), "mine").unwrap();

    let err = start_branch(dir.path(), "feature", None).unwrap_err();
    assert!(
        matches!(err, LocalRepoError::UntrackedInTheWay { .. }),
        "{err:?}"
    );
    assert_eq!(head_name(&repo), "main");
    assert_eq!(
        fs::read_to_string(dir.path().join("clash.txt")).unwrap(),
        "mine"
    );

    // A branch created for the switch is removed again when the switch is refused.
    let err = start_branch(dir.path(), "task/2", Some("feature")).unwrap_err();
    assert!(
        matches!(err, LocalRepoError::UntrackedInTheWay { .. }),
        "{err:?}"
    );
    assert!(repo.find_branch("task/2", BranchType::Local).is_err());
}

#[test]
fn start_branch_rejects_invalid_names_and_unborn_repositories() {
    let (dir, repo) = repo_with_commit();
    for name in ["bad name", "a..b", "-x", "trailing/", "HEAD", "", "nul\0"] {
        let err = start_branch(dir.path(), name, None).unwrap_err();
        assert!(
            matches!(err, LocalRepoError::InvalidBranchName { .. }),
            "{name:?}: {err:?}"
        );
    }
    assert_eq!(head_name(&repo), "main");

    let (unborn, _repo) = init();
    let err = start_branch(unborn.path(), "task/1", None).unwrap_err();
    assert!(matches!(err, LocalRepoError::NoCommits { .. }), "{err:?}");
    assert!(err.to_string().contains("make a first commit"), "{err}");
}
