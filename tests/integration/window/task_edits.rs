//! Tasks created and edited in the window, as a person would: `N`, a title and Enter shows the
//! task at once and sync confirms it; status, priority and assignee change in the detail panel;
//! delete and undo; a create the server refuses rolls back with its reason; a Linear task's
//! owned fields are read-only.

use eframe::egui::Key;
use eframe::egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use serde_json::json;
use superset::app::view_model::Task;
use superset::testkit::{AppServer, TEST_JWT_SECRET};
use uuid::Uuid;

use super::support::{
    Window, access_token, choose, click, open, sql, type_into, wait_for, wait_live,
};
use crate::desktop::support::Setup;

/// The task titled `title` as the window shows it.
pub fn shown(window: &Window, title: &str) -> Option<Task> {
    let c = &window.state().controller;
    c.vm.tasks.iter().find(|t| t.title() == title).cloned()
}

/// Finds `task` with the search box and opens it in the detail panel.
pub fn open_task(window: &mut Window, task: &Task) {
    window.state_mut().controller.ui.filters.search.clear();
    type_into(window, "Search", task.title());
    click(window, &format!("{}  {}", task.key(), task.title()));
}

/// Whether the tree has a row labelled `key  title`.
fn row_shown(window: &Window, task: &Task) -> bool {
    window
        .query_by_role_and_label(Role::ListItem, &format!("{}  {}", task.key(), task.title()))
        .is_some()
}

/// A task created through the API by `token` in `org` (a local one: no tracker).
pub async fn create_task(base_url: &str, token: &str, org: Uuid, title: &str) -> Uuid {
    let id = Uuid::new_v4();
    let reply = crate::support::reply(
        crate::support::http_client()
            .post(format!("{base_url}/api/tasks"))
            .bearer_auth(token)
            .json(&json!({"id": id, "organization_id": org, "title": title, "status": "Todo"})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    id
}

#[test]
fn a_task_created_from_the_keyboard_shows_at_once_and_is_confirmed_by_sync() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut setup = runtime.block_on(Setup::start(20));
    let user = setup.multi_org_user().clone();
    let profile = tempfile::tempdir().unwrap();
    runtime.block_on(setup.login(profile.path(), &user.email));
    let mut window = open(profile.path(), &runtime);
    wait_live(&mut window);
    let organization = window
        .state()
        .controller
        .ui
        .active_organization
        .clone()
        .unwrap();

    // The server is away: what shows can only come from the outbox.
    let address = setup.server.base_url.clone();
    runtime.block_on(setup.server.stop());
    window.key_press(Key::N);
    window.run_steps(3);
    assert!(window.state().controller.ui.new_task.is_some());
    let title = window.get_by_role_and_label(Role::TextInput, "Title");
    assert!(title.is_focused(), "the title field has the caret");
    title.type_text("Write the release notes");
    window.run_steps(2);
    window.key_press(Key::Enter);
    wait_for(&mut window, "the new task in the tree", |w| {
        shown(w, "Write the release notes").is_some_and(|t| row_shown(w, &t))
    });
    let pending = shown(&window, "Write the release notes").unwrap();
    assert!(pending.pending, "shown before the server answered");
    assert_eq!(pending.key(), "new");
    assert_eq!(pending.organization_id, organization);
    assert_eq!(
        window.state().controller.ui.selected_task,
        Some(pending.id().to_owned())
    );
    assert!(window.query_all_by_label("saving…").count() >= 1);

    let server_dir = tempfile::tempdir().unwrap();
    setup.server = runtime.block_on(AppServer::start_on(
        &setup.database_url,
        server_dir.path(),
        TEST_JWT_SECRET,
        &address,
    ));
    wait_for(&mut window, "sync to confirm the task", |w| {
        shown(w, "Write the release notes").is_some_and(|t| !t.pending)
    });
    let confirmed = shown(&window, "Write the release notes").unwrap();
    assert_eq!(confirmed.id(), pending.id());
    let (prefix, number) = confirmed
        .key()
        .rsplit_once('-')
        .expect("a key like ACME-17");
    assert!(
        prefix
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && number.parse::<u32>().is_ok(),
        "{}",
        confirmed.key()
    );
    assert_eq!(
        sql::<i64>(profile.path(), "SELECT count(*) FROM outbox"),
        Some(0)
    );
    drop(window);
    runtime.block_on(setup.stop());
}

#[test]
fn status_priority_and_assignee_change_in_place_and_a_delete_can_be_undone() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(20));
    let user = setup.multi_org_user().clone();
    let profile = tempfile::tempdir().unwrap();
    runtime.block_on(setup.login(profile.path(), &user.email));
    let mut window = open(profile.path(), &runtime);
    wait_live(&mut window);
    let organization: Uuid = window
        .state()
        .controller
        .ui
        .active_organization
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    let token = runtime.block_on(access_token(&setup.server.base_url, &user.email));
    let id = runtime.block_on(create_task(
        &setup.server.base_url,
        &token,
        organization,
        "Edited in place",
    ));
    wait_for(&mut window, "the task", |w| {
        shown(w, "Edited in place").is_some()
    });
    let task = shown(&window, "Edited in place").unwrap();
    open_task(&mut window, &task);

    choose(&mut window, "Status", "In Review");
    wait_for(&mut window, "the status shown", |w| {
        shown(w, "Edited in place").is_some_and(|t| t.status == "In Review")
    });
    choose(&mut window, "Priority", "urgent");
    click(&mut window, "Assign to me");
    wait_for(&mut window, "priority and assignee shown", |w| {
        shown(w, "Edited in place").is_some_and(|t| {
            t.priority == "urgent" && t.assignee_id.as_deref() == Some(user.id.to_string().as_str())
        })
    });

    let pg = runtime.block_on(setup.sql());
    let row = || {
        runtime.block_on(pg.query_one(
            "SELECT status, priority, assignee_id, deleted_at IS NOT NULL FROM tasks WHERE id = $1",
            &[&id],
        ))
        .unwrap()
    };
    wait_for(&mut window, "the three changes in Postgres", |_| {
        let r = row();
        eprintln!(
            "DEBUG row {:?} {:?} outbox {:?}",
            r.get::<_, String>(0),
            r.get::<_, String>(1),
            sql::<String>(
                profile.path(),
                "SELECT group_concat(state || ':' || coalesce(last_error,'') || ':' || payload, ' | ') FROM outbox"
            )
        );
        r.get::<_, String>(0) == "In Review"
            && r.get::<_, String>(1) == "urgent"
            && r.get::<_, Option<Uuid>>(2) == Some(user.id)
    });
    wait_for(&mut window, "sync to confirm them", |w| {
        shown(w, "Edited in place").is_some_and(|t| !t.pending)
    });

    // E edits the title in place; Enter saves it.
    window.key_press(Key::E);
    window.run_steps(3);
    let title = window.get_by_role_and_label(Role::TextInput, "Title");
    assert!(title.is_focused(), "E puts the caret in the title");
    title.type_text(", renamed");
    window.run_steps(2);
    window.key_press(Key::Enter);
    wait_for(&mut window, "the new title", |w| {
        shown(w, "Edited in place, renamed").is_some_and(|t| !t.pending)
    });
    let title_in_postgres: String = runtime
        .block_on(pg.query_one("SELECT title FROM tasks WHERE id = $1", &[&id]))
        .unwrap()
        .get(0);
    assert_eq!(title_in_postgres, "Edited in place, renamed");
    // Esc closes the panel; Enter opens it again on the selected task.
    window.key_press(Key::Escape);
    window.run_steps(2);
    assert!(!window.state().controller.ui.detail_open);
    assert!(window.query_by_label("Delete task").is_none());
    window.key_press(Key::Enter);
    window.run_steps(2);
    assert!(window.state().controller.ui.detail_open);
    let task = shown(&window, "Edited in place, renamed").unwrap();

    // Delete, then Undo before it is even sent, or after: the task comes back either way.
    click(&mut window, "Delete task");
    wait_for(&mut window, "the task to go", |w| {
        shown(w, "Edited in place, renamed").is_none()
    });
    window.get_by_label_contains(&format!("Deleted {}", task.key()));
    wait_for(&mut window, "the delete to reach Postgres", |_| {
        row().get::<_, bool>(3)
    });
    click(&mut window, "Undo");
    wait_for(&mut window, "the task to come back", |w| {
        shown(w, "Edited in place, renamed").is_some()
    });
    wait_for(&mut window, "the restore to reach Postgres", |_| {
        !row().get::<_, bool>(3)
    });
    wait_for(&mut window, "the outbox to drain", |_| {
        sql::<i64>(profile.path(), "SELECT count(*) FROM outbox") == Some(0)
    });
    drop(window);
    runtime.block_on(setup.stop());
}

#[test]
fn a_create_the_server_refuses_rolls_back_with_its_reason() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(20));
    let user = setup.multi_org_user().clone();
    let profile = tempfile::tempdir().unwrap();
    runtime.block_on(setup.login(profile.path(), &user.email));
    let mut window = open(profile.path(), &runtime);
    wait_live(&mut window);
    click(&mut window, "New task");
    type_into(&mut window, "Title", "Too many labels");
    // The form takes any labels; the server allows at most 50.
    let labels: Vec<String> = (0..60).map(|i| format!("l{i}")).collect();
    type_into(&mut window, "Labels", &labels.join(","));
    click(&mut window, "Create task");
    wait_for(&mut window, "the refusal", |w| {
        w.state().controller.ui.notices.iter().any(|n| n.error)
    });
    let notice = window
        .state()
        .controller
        .ui
        .notices
        .iter()
        .find(|n| n.error)
        .unwrap()
        .text
        .clone();
    assert!(notice.contains("label"), "{notice}");
    assert!(
        !notice.contains("_check") && !notice.contains("constraint"),
        "{notice}"
    );
    wait_for(&mut window, "the task to be rolled back", |w| {
        shown(w, "Too many labels").is_none()
    });
    let pg = runtime.block_on(setup.sql());
    let count: i64 = runtime
        .block_on(pg.query_one(
            "SELECT count(*) FROM tasks WHERE title = 'Too many labels'",
            &[],
        ))
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
    drop(window);
    runtime.block_on(setup.stop());
}

#[test]
fn a_linear_tasks_owned_fields_are_read_only() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(20));
    let user = setup.multi_org_user().clone();
    let profile = tempfile::tempdir().unwrap();
    runtime.block_on(setup.login(profile.path(), &user.email));
    let mut window = open(profile.path(), &runtime);
    wait_live(&mut window);
    let task = {
        let c = &window.state().controller;
        let org = c.ui.active_organization.clone().unwrap();
        c.vm.tasks
            .iter()
            .find(|t| t.organization_id == org && t.provider.as_deref() == Some("linear"))
            .cloned()
            .expect("the seed has Linear tasks")
    };
    open_task(&mut window, &task);
    window.get_by_label_contains("This task comes from Linear");
    window.get_by_label("Open in Linear");
    assert!(
        window
            .query_by_role_and_label(Role::ComboBox, "Status")
            .is_none()
    );
    assert!(
        window
            .query_by_role_and_label(Role::ComboBox, "Priority")
            .is_none()
    );
    assert!(
        window
            .query_by_role_and_label(Role::ComboBox, "Assignee")
            .is_none()
    );
    assert!(window.query_by_label("Delete task").is_none());
    assert!(window.query_by_label("Edit description").is_none());
    // E edits a local task's title; on a Linear task it does nothing.
    window.key_press(Key::E);
    window.run_steps(3);
    assert!(window.state().controller.ui.editor.title.is_none());
    // The suggested repository is the window's to choose.
    window.get_by_role_and_label(Role::ComboBox, "Repository");
    drop(window);
    runtime.block_on(setup.stop());
}
