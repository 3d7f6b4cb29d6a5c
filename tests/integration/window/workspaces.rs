//! Workspaces in the window: Start work makes a worktree (the linked checkout stays as it
//! was), Explore… starts exploratory work under "(no task)", Open reaches the opener, and Done
//! asks first, then archives and removes the clean worktree.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use eframe::egui;
use eframe::egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use superset::workspaces::WorkError;
use superset::workspaces::open::{How, Opener};

use super::support::{
    Recorder, Window, click, git_repository, sql, type_into, wait_for, wait_live,
};
use super::task_edits::open_task;
use crate::desktop::support::Setup;

/// Stands in for the editor, the terminal and the file manager: keeps what it was asked.
#[derive(Default)]
struct Opened(Mutex<Vec<(How, PathBuf)>>);

impl Opener for Opened {
    fn open(&self, how: How, path: &Path) -> Result<(), WorkError> {
        self.0.lock().unwrap().push((how, path.to_owned()));
        Ok(())
    }
}

/// The window with `opener`.
fn window_with(profile: &Path, runtime: &tokio::runtime::Runtime, opener: Arc<Opened>) -> Window {
    use superset::app::{Options, SupersetApp};
    let mut options = Options::new(profile.to_path_buf(), runtime.handle().clone());
    options.notifier = Arc::new(Recorder::default());
    options.opener = Some(opener);
    egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| SupersetApp::new(&cc.egui_ctx, options))
}

#[test]
fn start_explore_open_and_finish_from_the_window() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(20));
    let user = setup.multi_org_user().clone();
    let profile = tempfile::tempdir().unwrap();
    runtime.block_on(setup.login(profile.path(), &user.email));
    let opener = Arc::new(Opened::default());
    let mut window = window_with(profile.path(), &runtime, opener.clone());
    wait_live(&mut window);
    let organization = window
        .state()
        .controller
        .ui
        .active_organization
        .clone()
        .unwrap();
    let org_index = setup
        .team
        .organizations
        .iter()
        .position(|o| o.id.to_string() == organization)
        .unwrap();
    let repository = setup
        .team
        .repositories
        .iter()
        .find(|r| r.organization == org_index)
        .unwrap()
        .clone();
    let folders = tempfile::tempdir().unwrap();
    let clone = folders.path().join(&repository.name);
    git_repository(&clone, Some(&repository.url));
    std::fs::write(clone.join("README.md"), "mine, uncommitted\n").unwrap();
    click(&mut window, "Type a path");
    type_into(&mut window, "Folder path", clone.to_str().unwrap());
    click(&mut window, "Link");
    wait_for(&mut window, "the link", |w| {
        w.state()
            .controller
            .vm
            .repositories
            .iter()
            .any(|r| !r.folders.is_empty())
    });

    // Start work on a task of the organization: a worktree of its own.
    let task = {
        let c = &window.state().controller;
        c.vm.tasks
            .iter()
            .find(|t| t.organization_id == organization)
            .unwrap()
            .clone()
    };
    open_task(&mut window, &task);
    window
        .get_by_role_and_label(Role::Button, "Start work")
        .scroll_to_me();
    window.run_steps(30);
    window
        .get_by_role_and_label(Role::Button, "Start work")
        .click();
    wait_for(&mut window, "work to start", |w| {
        w.state()
            .controller
            .vm
            .workspaces
            .iter()
            .any(|ws| ws.local_path.is_some())
    });
    let workspace = window
        .state()
        .controller
        .vm
        .workspaces
        .iter()
        .find(|ws| ws.local_path.is_some())
        .unwrap()
        .clone();
    let worktree = PathBuf::from(workspace.local_path.clone().unwrap());
    assert!(worktree.exists() && worktree != clone);
    assert_eq!(
        git2::Repository::open(&clone)
            .unwrap()
            .head()
            .unwrap()
            .shorthand(),
        Ok("main")
    );
    assert_eq!(
        std::fs::read_to_string(clone.join("README.md")).unwrap(),
        "mine, uncommitted\n"
    );

    // Open reaches the opener with the worktree.
    window
        .get_by_role_and_label(Role::Button, "Editor")
        .scroll_to_me();
    window.run_steps(30);
    click(&mut window, "Editor");
    wait_for(&mut window, "the editor to be asked", |_| {
        !opener.0.lock().unwrap().is_empty()
    });
    assert_eq!(opener.0.lock().unwrap()[0], (How::Editor, worktree.clone()));

    // Done asks first; the clean worktree goes, and the workspace leaves the tree.
    window.get_by_role_and_label(Role::Button, "Done").click();
    window.run_steps(2);
    wait_for(&mut window, "the question", |w| {
        w.state().controller.ui.finishing.is_some()
    });
    click(&mut window, "Done, remove the worktree");
    wait_for(&mut window, "the worktree to go", |_| !worktree.exists());
    wait_for(&mut window, "the workspace to be archived", |w| {
        w.state()
            .controller
            .vm
            .workspaces
            .iter()
            .any(|ws| ws.id == workspace.id && ws.archived() && !ws.pending)
    });

    // Explore…: a branch of my own, shown under (no task).
    window.state_mut().controller.ui.filters.search.clear();
    click(&mut window, "Explore…");
    let branch = window
        .state()
        .controller
        .ui
        .exploring
        .clone()
        .unwrap()
        .branch;
    assert!(branch.contains("/explore-"), "{branch}");
    click(&mut window, "Start");
    wait_for(&mut window, "the exploratory workspace in the tree", |w| {
        let c = &w.state().controller;
        let rows = &c.ui.tree.rows;
        rows.iter()
            .position(|r| matches!(r, superset::app::view_model::Row::NoTask { .. }))
            .is_some_and(|at| {
                rows[at + 1..].iter().any(|r| {
                    matches!(r, superset::app::view_model::Row::Workspace(i)
                if c.vm.workspaces[*i].branch.as_deref() == Some(branch.as_str()))
                })
            })
    });
    wait_for(&mut window, "both to reach the server", |_| {
        sql::<i64>(
            profile.path(),
            "SELECT count(*) FROM outbox WHERE state = 'pending'",
        ) == Some(0)
    });
    let pg = runtime.block_on(setup.sql());
    let explored: i64 = runtime
        .block_on(pg.query_one(
            "SELECT count(*) FROM workspaces WHERE owner_id = $1 AND task_id IS NULL AND git_branch = $2",
            &[&user.id, &branch],
        ))
        .unwrap()
        .get(0);
    assert_eq!(explored, 1);
    drop(window);
    runtime.block_on(setup.stop());
}
