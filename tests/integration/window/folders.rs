//! Linking folders from the window — a real repository whose remote is written in each URL
//! form, one match, several, none, not a repository — then Start work in one of them.

use eframe::egui::accesskit::Role;
use egui_kittest::kittest::Queryable;

use super::support::{Window, click, git_repository, open, sql, type_into, wait_for, wait_live};
use crate::desktop::support::Setup;

fn link_typed_path(window: &mut Window, path: &std::path::Path) {
    // The previous link's outcome must have arrived (it closes the form).
    wait_for(window, "the previous link to finish", |w| {
        w.state().controller.ui.busy.is_none()
    });
    if !window.state().controller.ui.show_link_form {
        click(window, "Type a path");
    }
    window.state_mut().controller.ui.typed_path.clear();
    type_into(window, "Folder path", &path.display().to_string());
    window.get_by_role_and_label(Role::Button, "Link").click();
    window.step();
}

fn link_of(profile: &std::path::Path, folder: &std::path::Path) -> Option<Option<String>> {
    let conn = superset::store::open(&superset::profile::database_path(profile)).unwrap();
    conn.query_row(
        "SELECT repository_id FROM local_repos WHERE local_path = ?1",
        [folder.display().to_string()],
        |r| r.get(0),
    )
    .ok()
}

#[test]
fn link_folders_in_every_url_form_then_start_work() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(40));
    let user = setup.multi_org_user().clone();
    let profile = tempfile::tempdir().unwrap();
    runtime.block_on(setup.login(profile.path(), &user.email));
    let mut window = open(profile.path(), &runtime);
    wait_live(&mut window);
    // The organization the window shows first, and another one.
    let active = window
        .state()
        .controller
        .ui
        .active_organization
        .clone()
        .unwrap();
    let shown = setup
        .team
        .organizations
        .iter()
        .position(|o| o.id.to_string() == active)
        .unwrap();
    let other = 1 - shown;
    let repository = setup
        .team
        .repositories
        .iter()
        .find(|r| r.organization == shown)
        .unwrap()
        .clone();
    let owner_and_name = repository.url.trim_start_matches("https://github.com/");
    let code = tempfile::tempdir().unwrap();

    // One match, whichever way the remote is written.
    let forms = [
        format!("git@github.com:{owner_and_name}.git"),
        format!("ssh://git@github.com:22/{owner_and_name}.git"),
        format!("git://github.com/{owner_and_name}"),
        format!("git+ssh://git@github.com/{owner_and_name}.git"),
        format!(
            "https://ada:secret-token@www.GitHub.com/{}.git/",
            owner_and_name.to_uppercase()
        ),
    ];
    for (n, remote) in forms.iter().enumerate() {
        let folder = code.path().join(format!("clone-{n}"));
        git_repository(&folder, Some(remote));
        link_typed_path(&mut window, &folder);
        wait_for(&mut window, &format!("{remote} to link"), |_| {
            link_of(profile.path(), &folder).is_some()
        });
        assert_eq!(
            link_of(profile.path(), &folder),
            Some(Some(repository.id.to_string())),
            "{remote}"
        );
    }
    wait_for(&mut window, "the linked folders to show", |w| {
        let vm = &w.state().controller.vm;
        vm.repository(&repository.id.to_string())
            .is_some_and(|r| r.folders.len() == forms.len())
    });

    // Several: the same repository also in the second organization.
    let twin = uuid::Uuid::new_v4();
    let org1 = setup.team.organizations[other].id;
    runtime.block_on(async {
        setup
            .sql()
            .await
            .execute(
                "INSERT INTO repositories (id, organization_id, name, slug, url, default_branch) \
                 VALUES ($1, $2, $3, 'twin', $4, 'main')",
                &[&twin, &org1, &repository.name, &repository.url],
            )
            .await
            .unwrap();
    });
    wait_for(&mut window, "the twin repository to sync", |w| {
        w.state()
            .controller
            .vm
            .repository(&twin.to_string())
            .is_some()
    });
    let several = code.path().join("several");
    git_repository(&several, Some(&repository.url));
    link_typed_path(&mut window, &several);
    wait_for(&mut window, "the question", |w| {
        w.state().controller.ui.link_prompt.is_some()
    });
    window.get_by_label_contains("matches several repositories");
    let second_org = setup.team.organizations[other].name.clone();
    click(&mut window, &format!("{} in {second_org}", repository.name));
    wait_for(&mut window, "the chosen link", |_| {
        link_of(profile.path(), &several) == Some(Some(twin.to_string()))
    });

    // None: kept as a local project when the user says so.
    let elsewhere = code.path().join("elsewhere");
    git_repository(&elsewhere, Some("https://gitlab.com/someone/else.git"));
    link_typed_path(&mut window, &elsewhere);
    wait_for(&mut window, "the question", |w| {
        w.state().controller.ui.link_prompt.is_some()
    });
    window.get_by_label_contains("None of your organizations");
    click(&mut window, "Keep as local project");
    wait_for(&mut window, "the local project", |w| {
        link_of(profile.path(), &elsewhere) == Some(None)
            && w.state().controller.vm.local_projects.len() == 1
    });

    // Not a repository: said plainly, nothing stored.
    let plain = code.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    link_typed_path(&mut window, &plain);
    wait_for(&mut window, "the error", |w| {
        w.state()
            .controller
            .ui
            .notices
            .iter()
            .any(|n| n.error && n.text.contains("not a git repository"))
    });
    assert_eq!(link_of(profile.path(), &plain), None);

    // Start work on one of the repository's tasks, in the first linked folder.
    let task = setup
        .team
        .tasks
        .iter()
        .find(|t| t.organization == shown)
        .unwrap();
    let key = window
        .state()
        .controller
        .vm
        .task(&task.id.to_string())
        .unwrap()
        .key()
        .to_owned();
    type_into(&mut window, "Search", &key);
    let row = format!("{key}  {}", task.title);
    click(&mut window, &row);
    window
        .get_by_role_and_label(Role::Button, "Start work")
        .scroll_to_me();
    // The panel scrolls smoothly: let it arrive before clicking.
    window.run_steps(30);
    window
        .get_by_role_and_label(Role::Button, "Start work")
        .click();
    window.step();
    wait_for(&mut window, "work to start", |w| {
        w.state()
            .controller
            .ui
            .notices
            .iter()
            .any(|n| n.text.starts_with("working on"))
    });
    let folder = window.state().controller.ui.start_folder.clone().unwrap();
    let path: String = sql(
        profile.path(),
        &format!("SELECT local_path FROM local_repos WHERE id = '{folder}'"),
    )
    .unwrap();
    let repo = git2::Repository::open(&path).unwrap();
    let task_shown = window
        .state()
        .controller
        .vm
        .task(&task.id.to_string())
        .unwrap()
        .clone();
    let branch = superset::workspaces::start::branch_for(
        task_shown.key(),
        task_shown.title(),
        task_shown.branch(),
    );
    // The clone's own checkout is not switched: the branch has a worktree of its own beside it.
    assert_ne!(repo.head().unwrap().shorthand().ok(), Some(branch.as_str()));
    let worktree: String = sql(profile.path(), "SELECT local_path FROM workspace_paths").unwrap();
    let worktree_head = git2::Repository::open(&worktree).unwrap();
    assert_eq!(
        worktree_head.head().unwrap().shorthand().ok(),
        Some(branch.as_str())
    );
    // Shown at once, then confirmed by sync: the workspace row arrives and the outbox empties.
    wait_for(&mut window, "the workspace to sync", |_| {
        sql::<i64>(
            profile.path(),
            &format!(
                "SELECT count(*) FROM workspaces WHERE task_id = '{}' AND owner_id = '{}' AND git_branch = '{branch}'",
                task.id, user.id
            ),
        ) == Some(1)
            && sql::<i64>(profile.path(), "SELECT count(*) FROM outbox") == Some(0)
    });
    drop(window);
    runtime.block_on(setup.stop());
}
