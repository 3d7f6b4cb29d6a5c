//! Start work makes a worktree and never touches the linked checkout; each task gets its own;
//! work already started is reused; done removes a clean worktree and keeps a dirty one, saying
//! why; git state comes from the worktree, only when it changed; a pushed branch is looked up
//! once; exploratory work shows under "(no task)" for a teammate.

use std::fs;
use std::time::Duration;

use superset::app::view_model::{Row, ViewModel};
use superset::outbox::{self, Command};
use superset::workspaces::finish::{self, Folder};
use superset::workspaces::report::report;
use superset::workspaces::start::{self, Mode};

use super::support::{Linked, head};
use crate::desktop::support::Desktop;

#[tokio::test]
async fn each_task_gets_a_worktree_of_its_own_and_the_checkout_is_untouched() {
    let linked = Linked::start().await;
    let me = linked.user.id.to_string();
    fs::write(linked.clone.join("README.md"), "my work in progress\n").unwrap();
    let keys = linked.task_keys(2);
    let mut conn = linked.conn();

    let first = start::start_work(&mut conn, &keys[0], None, Mode::Worktree, &me).unwrap();
    let second = start::start_work(&mut conn, &keys[1], None, Mode::Worktree, &me).unwrap();
    assert_ne!(first.path, second.path);
    assert_eq!(first.path.parent(), second.path.parent());
    assert!(
        first
            .path
            .parent()
            .unwrap()
            .ends_with(format!("{}.worktrees", linked.repository.name))
    );
    assert_eq!(head(&first.path), first.branch);
    assert_eq!(head(&second.path), second.branch);
    assert_eq!(
        head(&linked.clone),
        "main",
        "the linked checkout stays on its branch"
    );
    assert_eq!(
        fs::read_to_string(linked.clone.join("README.md")).unwrap(),
        "my work in progress\n",
        "and its uncommitted work is untouched"
    );
    // Asked again, the same workspace and worktree.
    let again = start::start_work(&mut conn, &keys[0], None, Mode::Worktree, &me);
    linked.sent().await;
    let again = match again {
        Ok(again) => again,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(again.path, first.path);
    // The workspaces reached the server.
    let pg = linked.setup.sql().await;
    let count: i64 = pg
        .query_one(
            "SELECT count(*) FROM workspaces WHERE owner_id = $1 AND git_branch = ANY($2)",
            &[
                &linked.user.id,
                &vec![first.branch.clone(), second.branch.clone()],
            ],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 2);

    // Done: the clean worktree goes; the dirty one stays, saying what it holds.
    fs::write(second.path.join("draft.txt"), "half done").unwrap();
    let removed = finish::finish(&mut conn, &first.workspace_id, true).unwrap();
    assert_eq!(removed, Folder::Removed(first.path.clone()));
    assert!(!first.path.exists());
    let kept = finish::finish(&mut conn, &second.workspace_id, true).unwrap();
    assert!(matches!(kept, Folder::KeptBecause(_, loss) if loss.uncommitted == 1));
    assert!(
        kept.describe().contains("1 uncommitted file would be lost"),
        "{}",
        kept.describe()
    );
    assert!(second.path.join("draft.txt").exists());
    linked.sent().await;
    let archived: i64 = pg
        .query_one(
            "SELECT count(*) FROM workspaces WHERE owner_id = $1 AND status = 'archived' \
                    AND git_branch = ANY($2)",
            &[
                &linked.user.id,
                &vec![first.branch.clone(), second.branch.clone()],
            ],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(archived, 2);
    linked.stop().await;
}

#[tokio::test]
async fn a_busy_branch_is_refused_saying_where_and_switching_is_still_possible() {
    let linked = Linked::start().await;
    let me = linked.user.id.to_string();
    let keys = linked.task_keys(2);
    let mut conn = linked.conn();
    let started = start::start_work(&mut conn, &keys[0], None, Mode::Worktree, &me).unwrap();
    fs::remove_dir_all(&started.path).unwrap();
    // A fresh workspace row is not there yet locally; ask through a second task with the
    // same branch name: the branch is held by a worktree whose folder is gone.
    let error = start::recreate(&mut conn, "not-a-workspace").unwrap_err();
    assert!(error.to_string().contains("no workspace"), "{error}");
    let again = start::recreate(&mut conn, &started.workspace_id).unwrap();
    assert_eq!(again.path, started.path);
    assert_eq!(head(&again.path), started.branch);

    // Switching the clone's checkout, when asked, is refused over uncommitted work.
    fs::write(linked.clone.join("README.md"), "dirty\n").unwrap();
    let refused =
        start::start_work(&mut conn, &keys[1], None, Mode::SwitchCheckout, &me).unwrap_err();
    assert!(
        refused.to_string().contains("uncommitted changes"),
        "{refused}"
    );
    assert_eq!(head(&linked.clone), "main");
    fs::write(linked.clone.join("README.md"), "hello\n").unwrap();
    let switched = start::start_work(&mut conn, &keys[1], None, Mode::SwitchCheckout, &me).unwrap();
    assert_eq!(switched.path, linked.clone);
    assert_eq!(head(&linked.clone), switched.branch);
    linked.stop().await;
}

#[tokio::test]
async fn git_state_comes_from_the_worktree_only_when_it_changed() {
    let linked = Linked::start().await;
    let me = linked.user.id.to_string();
    let keys = linked.task_keys(1);
    let mut conn = linked.conn();
    let started = start::start_work(&mut conn, &keys[0], None, Mode::Worktree, &me).unwrap();
    linked.sent().await;
    // Wait for the workspace to come back through sync.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while conn
        .query_row(
            "SELECT count(*) FROM workspaces WHERE id = ?1",
            [&started.workspace_id],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        == 0
    {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    report(&mut conn, &me, false, false).unwrap();
    linked.sent().await;
    // A change in the clone is not the workspace's; one in its worktree is.
    fs::write(linked.clone.join("clone-only.txt"), "x").unwrap();
    let quiet = report(&mut conn, &me, false, false).unwrap();
    assert_eq!(quiet.queued, 0, "nothing changed in the worktree");
    fs::write(started.path.join("a.txt"), "a").unwrap();
    fs::write(started.path.join("b.txt"), "b").unwrap();
    assert_eq!(report(&mut conn, &me, false, false).unwrap().queued, 1);
    let entries = outbox::overlay(&conn).unwrap();
    let Some(Command::UpdateWorkspace { fields, .. }) = entries.last().map(|e| &e.command) else {
        panic!("{entries:?}")
    };
    assert_eq!(fields["git_status"]["uncommitted"], 2);
    linked.stop().await;
}

#[tokio::test]
async fn a_pushed_branch_is_looked_up_once_per_push() {
    let linked = Linked::start().await;
    let me = linked.user.id.to_string();
    let keys = linked.task_keys(1);
    let mut conn = linked.conn();
    let started = start::start_work(&mut conn, &keys[0], None, Mode::Worktree, &me).unwrap();
    linked.sent().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while conn
        .query_row(
            "SELECT count(*) FROM workspaces WHERE id = ?1",
            [&started.workspace_id],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        == 0
    {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        report(&mut conn, &me, false, false)
            .unwrap()
            .lookups
            .is_empty(),
        "not pushed yet"
    );
    // Push to a bare remote: the branch gets an upstream with nothing ahead.
    let remote = linked.folders.path().join("remote.git");
    git2::Repository::init_bare(&remote).unwrap();
    let repo = git2::Repository::open(&started.path).unwrap();
    let mut origin = repo.remote("pushed", remote.to_str().unwrap()).unwrap();
    let refspec = format!("refs/heads/{0}:refs/heads/{0}", started.branch);
    origin.push(&[refspec.as_str()], None).unwrap();
    repo.reference(
        &format!("refs/remotes/pushed/{}", started.branch),
        repo.head().unwrap().target().unwrap(),
        true,
        "pushed",
    )
    .unwrap();
    let mut branch = repo
        .find_branch(&started.branch, git2::BranchType::Local)
        .unwrap();
    branch
        .set_upstream(Some(&format!("pushed/{}", started.branch)))
        .unwrap();
    let pushed = report(&mut conn, &me, false, false).unwrap();
    assert_eq!(pushed.lookups.len(), 1);
    assert_eq!(pushed.lookups[0].to_string(), started.workspace_id);
    assert!(
        report(&mut conn, &me, false, false)
            .unwrap()
            .lookups
            .is_empty(),
        "once per push"
    );
    linked.stop().await;
}

#[tokio::test]
async fn exploratory_work_shows_under_no_task_for_a_teammate() {
    let linked = Linked::start().await;
    let mut conn = linked.conn();
    let folder = superset::workspaces::records::folders(&conn)
        .unwrap()
        .remove(0);
    let me = linked.user.id.to_string();
    let started = start::explore(&mut conn, &folder.id, "ada/explore-1", &me).unwrap();
    assert_eq!(head(&started.path), "ada/explore-1");
    linked.sent().await;

    // A teammate in the same organization, on their own profile.
    let org = linked.repository.organization;
    let teammate = linked
        .setup
        .team
        .members
        .iter()
        .filter(|m| m.organization == org)
        .map(|m| linked.setup.team.users[m.user].clone())
        .find(|u| u.id != linked.user.id)
        .unwrap();
    let theirs = tempfile::tempdir().unwrap();
    linked.setup.login(theirs.path(), &teammate.email).await;
    let mut desktop = Desktop::start(theirs.path());
    desktop.wait_live(Duration::from_secs(30)).await;
    let their_conn =
        superset::store::open(&superset::profile::database_path(theirs.path())).unwrap();
    let vm = ViewModel::load(&their_conn, Some(&teammate.id.to_string())).unwrap();
    let org_id = linked.setup.team.organizations[org].id.to_string();
    let rows = superset::app::view_model::rows::build(&vm, Some(&org_id), &Default::default());
    let no_task = rows
        .iter()
        .position(|r| matches!(r, Row::NoTask { .. }))
        .expect("a (no task) group");
    let shown = rows[no_task + 1..].iter().any(|r| matches!(r, Row::Workspace(i)
        if vm.workspaces[*i].id == started.workspace_id && vm.workspaces[*i].branch.as_deref() == Some("ada/explore-1")));
    assert!(shown, "the exploratory workspace is under (no task)");
    desktop.stop().await;
    linked.stop().await;
}
