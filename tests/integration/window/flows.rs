//! Signing in from the window, switching organization from the dropdown, searching, moving
//! with the keyboard, and signing out.

use eframe::egui::accesskit::Role;
use egui_kittest::kittest::Queryable;

use super::support::{click, open, sql, type_into, wait_for, wait_live};
use crate::desktop::support::{PASSWORD, Setup};

#[test]
fn sign_in_switch_organization_search_and_sign_out() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(40));
    let user = setup.multi_org_user().clone();
    let profile = tempfile::tempdir().unwrap();
    let mut window = open(profile.path(), &runtime);
    window.step();

    // A wrong password is said in words, and nothing is stored.
    type_into(&mut window, "Server", &setup.server.base_url);
    type_into(&mut window, "E-mail", &user.email);
    type_into(&mut window, "Password", "not the password");
    click(&mut window, "Sign in");
    wait_for(&mut window, "the refusal", |w| {
        w.state().controller.sign_in.error.is_some()
    });
    let error = window.state().controller.sign_in.error.clone().unwrap();
    assert!(error.contains("do not match"), "{error}");
    window.get_by_label_contains("do not match");

    window.state_mut().controller.sign_in.password.clear();
    type_into(&mut window, "Password", PASSWORD);
    click(&mut window, "Sign in");
    wait_live(&mut window);

    // Both organizations are in the dropdown; the first is shown.
    let (first, second) = {
        let vm = &window.state().controller.vm;
        assert_eq!(vm.organizations.len(), 2, "{:?}", vm.organizations);
        (vm.organizations[0].clone(), vm.organizations[1].clone())
    };
    let shown = |w: &super::support::Window| w.state().controller.ui.active_organization.clone();
    assert_eq!(shown(&window), Some(first.id.clone()));
    let combo = window.get_by_role_and_label(Role::ComboBox, "Organization");
    assert_eq!(combo.value().as_deref(), Some(first.name.as_str()));
    combo.click();
    window.run_steps(3);
    click(&mut window, &second.name);
    window.step();
    // Instant: the very next frame shows the other organization's tasks.
    assert_eq!(shown(&window), Some(second.id.clone()));
    let first_row = {
        let c = &window.state().controller;
        let task =
            c.ui.tree
                .rows
                .iter()
                .find_map(|r| match r {
                    superset::app::view_model::Row::Task(i) => Some(&c.vm.tasks[*i]),
                    _ => None,
                })
                .expect("the second organization has tasks");
        assert_eq!(task.organization_id, second.id);
        format!("{}  {}", task.key(), task.title())
    };
    window.get_by_label(&first_row);
    wait_for(&mut window, "the choice to be remembered", |_| {
        sql::<String>(
            profile.path(),
            "SELECT active_organization_id FROM settings",
        ) == Some(second.id.clone())
    });

    // Search by title: only matching tasks stay.
    let title = first_row.split("  ").nth(1).unwrap().to_owned();
    type_into(&mut window, "Search", &title);
    let c = &window.state().controller;
    let matching: Vec<&str> =
        c.ui.tree
            .rows
            .iter()
            .filter_map(|r| match r {
                superset::app::view_model::Row::Task(i) => Some(c.vm.tasks[*i].title()),
                _ => None,
            })
            .collect();
    assert!(!matching.is_empty());
    assert!(
        matching
            .iter()
            .all(|t| t.to_lowercase().contains(&title.to_lowercase())),
        "{matching:?}"
    );

    // Enter in the search box selects the first match.
    window.key_press(eframe::egui::Key::Enter);
    window.step();
    window.step();
    let first_match = {
        let c = &window.state().controller;
        c.ui.tree.rows.iter().find_map(|r| match r {
            superset::app::view_model::Row::Task(i) => Some(c.vm.tasks[*i].id().to_owned()),
            _ => None,
        })
    };
    assert_eq!(window.state().controller.ui.selected_task, first_match);

    // Select with a click; the detail panel shows the task.
    click(&mut window, &first_row);
    assert!(window.state().controller.ui.selected_task.is_some());
    window.get_by_label("Workspaces");

    // Sign out asks first, then returns to the sign-in screen with the data gone.
    window
        .get_by_role_and_label(Role::Button, &user.name)
        .click();
    window.run_steps(3);
    click(&mut window, "Sign out…");
    window.run_steps(5);
    window.get_by_label_contains("Synced data is removed");
    window
        .get_by_role_and_label(Role::Button, "Sign out")
        .click();
    wait_for(&mut window, "the sign-in screen", |w| {
        w.state().controller.screen == superset::app::state::Screen::SignIn
            && w.state().controller.ui.busy.is_none()
    });
    assert_eq!(
        sql::<i64>(profile.path(), "SELECT count(*) FROM tasks"),
        Some(0)
    );
    drop(window);
    runtime.block_on(setup.stop());
}
