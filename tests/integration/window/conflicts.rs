//! An edit queued while offline, replayed after a teammate changed the same field: the server
//! refuses it (409) instead of overwriting the teammate, the window says who changed what, and
//! "Keep mine" sends it again, now based on the teammate's value.

use egui_kittest::kittest::Queryable;
use serde_json::json;
use superset::testkit::{AppServer, TEST_JWT_SECRET};
use uuid::Uuid;

use super::support::{access_token, choose, click, open, wait_for, wait_live};
use super::task_edits::{create_task, open_task, shown};
use crate::desktop::support::Setup;

#[test]
fn an_offline_edit_replayed_after_a_teammates_change_shows_a_conflict() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut setup = runtime.block_on(Setup::start(20));
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
    let org_index = setup
        .team
        .organizations
        .iter()
        .position(|o| o.id == organization)
        .unwrap();
    let teammate = setup
        .team
        .members
        .iter()
        .filter(|m| m.organization == org_index)
        .map(|m| setup.team.users[m.user].clone())
        .find(|u| u.id != user.id)
        .expect("a teammate");
    let token = runtime.block_on(access_token(&setup.server.base_url, &user.email));
    let id = runtime.block_on(create_task(
        &setup.server.base_url,
        &token,
        organization,
        "Contested",
    ));
    wait_for(&mut window, "the task", |w| {
        shown(w, "Contested").is_some_and(|t| !t.pending)
    });
    let task = shown(&window, "Contested").unwrap();
    open_task(&mut window, &task);

    // Offline: my status change waits in the outbox.
    let address = setup.server.base_url.clone();
    runtime.block_on(setup.server.stop());
    choose(&mut window, "Status", "In Progress");
    wait_for(&mut window, "my change shown", |w| {
        shown(w, "Contested").is_some_and(|t| t.status == "In Progress" && t.pending)
    });

    // Meanwhile the teammate, through another server on the same database, finishes it.
    let elsewhere_dir = tempfile::tempdir().unwrap();
    let elsewhere = runtime.block_on(AppServer::start(&setup.database_url, elsewhere_dir.path()));
    let teammate_token = runtime.block_on(access_token(&elsewhere.base_url, &teammate.email));
    let reply = runtime.block_on(crate::support::reply(
        crate::support::http_client()
            .patch(format!("{}/api/tasks/{id}", elsewhere.base_url))
            .bearer_auth(&teammate_token)
            .json(&json!({"status": "Done", "expected": {"status": "Todo"}})),
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    runtime.block_on(elsewhere.stop());

    // Back online: the replay is refused and shown as a conflict, naming the teammate.
    let server_dir = tempfile::tempdir().unwrap();
    setup.server = runtime.block_on(AppServer::start_on(
        &setup.database_url,
        server_dir.path(),
        TEST_JWT_SECRET,
        &address,
    ));
    wait_for(&mut window, "the conflict", |w| {
        !w.state().controller.vm.conflicts.is_empty()
    });
    let conflict = window.state().controller.vm.conflicts[0].clone();
    assert_eq!(conflict.task_id, id.to_string());
    let first_name = teammate.name.split_whitespace().next().unwrap();
    assert!(
        conflict.conflict.message.contains(first_name),
        "{}",
        conflict.conflict.message
    );
    assert!(
        conflict.conflict.message.contains("status"),
        "{}",
        conflict.conflict.message
    );
    window.get_by_label_contains("while you were editing");
    window.get_by_label_contains("Yours: In Progress");
    let pg = runtime.block_on(setup.sql());
    let status = || -> String {
        runtime
            .block_on(pg.query_one("SELECT status FROM tasks WHERE id = $1", &[&id]))
            .unwrap()
            .get(0)
    };
    assert_eq!(
        status(),
        "Done",
        "the teammate's change was not overwritten"
    );
    wait_for(&mut window, "the window to show theirs meanwhile", |w| {
        shown(w, "Contested").is_some_and(|t| t.status == "Done")
    });

    click(&mut window, "Keep mine");
    wait_for(&mut window, "mine to win, knowingly", |_| {
        status() == "In Progress"
    });
    wait_for(&mut window, "the conflict to be settled", |w| {
        w.state().controller.vm.conflicts.is_empty()
            && shown(w, "Contested").is_some_and(|t| t.status == "In Progress" && !t.pending)
    });
    assert!(window.query_by_label("Keep mine").is_none());
    drop(window);
    runtime.block_on(setup.stop());
}
