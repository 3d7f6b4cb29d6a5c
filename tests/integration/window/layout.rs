//! Nothing clipped: at 760, 1280 and 1920 px, with the detail panel open, no widget of a
//! visible row of the task tree reaches past the tree's clip rect, and each task row keeps its
//! assignee's avatar in view; the new-task form lies wholly between the tree and the window's
//! edge. And the menus stay open while they are used (a click inside used to close them).

use std::sync::Arc;

use eframe::egui;
use eframe::egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable, by};
use superset::app::ui::tree_clip_id;

use super::support::{Recorder, Window, click, open_with, type_into, wait_for, wait_live};
use crate::desktop::support::Setup;

/// The roles a row's content is drawn with.
const ROW_ROLES: [Role; 4] = [Role::Label, Role::Image, Role::ListItem, Role::Button];

#[test]
fn no_row_is_cut_at_760_1280_or_1920_px() {
    at_widths(&[760.0, 1280.0, 1920.0], |window, width| {
        // The detail panel open: the tree at its narrowest.
        let first = {
            let c = &window.state().controller;
            c.ui.tree.rows.iter().find_map(|r| match r {
                superset::app::view_model::Row::Task(i) => Some(format!(
                    "{}  {}",
                    c.vm.tasks[*i].key(),
                    c.vm.tasks[*i].title()
                )),
                _ => None,
            })
        };
        click(window, &first.unwrap());
        window.run_steps(3);
        let clip: egui::Rect = window
            .ctx
            .data(|d| d.get_temp(tree_clip_id()))
            .expect("the tree recorded its clip rect");
        let mut checked = 0;
        let mut avatars = 0;
        for node in window.query_all(by().predicate(|n| ROW_ROLES.contains(&n.role()))) {
            let rect = node.rect();
            let in_tree = rect.center().y > clip.top()
                && rect.center().y < clip.bottom()
                && rect.left() >= clip.left() - 1.0
                && rect.left() < clip.right();
            if !in_tree {
                continue;
            }
            checked += 1;
            avatars += usize::from(node.accesskit_node().role() == Role::Image);
            assert!(
                rect.right() <= clip.right() + 0.5,
                "at {width} px, {:?} ({:?}) ends at {} past the tree's edge {}",
                node.accesskit_node().label(),
                node.accesskit_node().role(),
                rect.right(),
                clip.right()
            );
        }
        assert!(
            checked > 20,
            "at {width} px only {checked} widgets were in the tree"
        );
        assert!(
            avatars > 5,
            "at {width} px only {avatars} avatars are in view"
        );
        assert_inside_the_window(window, width, clip);
    });
}

#[test]
fn the_new_task_form_fits_beside_the_tree_at_760_1280_or_1920_px() {
    at_widths(&[760.0, 1280.0, 1920.0], |window, width| {
        click(window, "New task");
        window.run_steps(3);
        let tree: egui::Rect = window
            .ctx
            .data(|d| d.get_temp(tree_clip_id()))
            .expect("the tree recorded its clip rect");
        let fields = [
            "Title",
            "Status",
            "Priority",
            "Assignee",
            "Assign to me",
            "Repository",
            "Labels",
            "Due date",
            "Description",
            "Create task",
            "Cancel",
        ];
        for field in fields {
            let nodes: Vec<_> = window.query_all_by_label(field).collect();
            assert!(!nodes.is_empty(), "at {width} px the form has no {field:?}");
            for node in nodes {
                let rect = node.rect();
                assert!(
                    rect.left() >= tree.right() - 0.5 && rect.right() <= width + 0.5,
                    "at {width} px, {field:?} spans {}..{}: the form is {}..{width}",
                    rect.left(),
                    rect.right(),
                    tree.right()
                );
            }
        }
        assert_inside_the_window(window, width, tree);
    });
}

#[test]
fn menus_stay_open_while_they_are_used() {
    at_widths(&[760.0], |window, _| {
        // The filters, in a menu at this width: two toggles and a status in one visit.
        click(window, "Filters");
        click(window, "Mine");
        click(window, "Active now");
        let status = {
            let c = &window.state().controller;
            let organization = c.ui.active_organization.clone().unwrap();
            c.vm.statuses[&organization][0].name.clone()
        };
        click(window, "Status: any");
        window.run_steps(2);
        window.get_by_role_and_label(Role::Button, &status).click();
        window.run_steps(3);
        let filters = &window.state().controller.ui.filters;
        assert!(filters.mine && filters.has_active_workspace, "{filters:?}");
        assert_eq!(filters.status.as_deref(), Some(status.as_str()));
        // The user menu (its click closes the filters): the Workspaces settings typed into and
        // saved in one visit.
        let me = window.state().controller.vm.me.clone().unwrap().name;
        window.get_by_role_and_label(Role::Button, &me).click();
        window.run_steps(2);
        click(window, "Workspaces");
        type_into(window, "Worktrees folder", "/srv/worktrees");
        click(window, "Save");
        assert_eq!(
            window.state().controller.settings.work.worktrees_folder,
            "/srv/worktrees"
        );
    });
}

/// Every widget right of the tree (the detail panel, the top bar's end) ends inside the window.
fn assert_inside_the_window(window: &Window, width: f32, tree: egui::Rect) {
    for node in window.query_all(by().predicate(|n| n.bounding_box().is_some())) {
        let rect = node.rect();
        if rect.left() >= tree.right() - 0.5 {
            assert!(
                rect.right() <= width + 0.5,
                "at {width} px, {:?} ({:?}) ends at {}, past the window's edge",
                node.accesskit_node().label(),
                node.accesskit_node().role(),
                rect.right()
            );
        }
    }
}

/// Runs `check` on a window `width` wide, synced and showing task rows, for each width.
fn at_widths(widths: &[f32], check: impl Fn(&mut Window, f32)) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(60));
    let user = setup.multi_org_user().clone();
    for &width in widths {
        let profile = tempfile::tempdir().unwrap();
        runtime.block_on(setup.login(profile.path(), &user.email));
        let size = egui::vec2(width, 800.0);
        let mut window = open_with(
            profile.path(),
            &runtime,
            Arc::new(Recorder::default()),
            size,
        );
        wait_live(&mut window);
        wait_for(&mut window, "a task row in the tree", |w| {
            w.state()
                .controller
                .ui
                .tree
                .rows
                .iter()
                .any(|r| matches!(r, superset::app::view_model::Row::Task(_)))
        });
        check(&mut window, width);
        drop(window);
    }
    runtime.block_on(setup.stop());
}
