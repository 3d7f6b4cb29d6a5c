//! Nothing clipped: at 760, 1280 and 1920 px, with the detail panel open, no widget of a
//! visible row of the task tree reaches past the tree's clip rect, and each task row keeps its
//! assignee's avatar in view.

use std::sync::Arc;

use eframe::egui;
use eframe::egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable, by};
use superset::app::ui::tree_clip_id;

use super::support::{Recorder, click, open_with, wait_for, wait_live};
use crate::desktop::support::Setup;

/// The roles a row's content is drawn with.
const ROW_ROLES: [Role; 4] = [Role::Label, Role::Image, Role::ListItem, Role::Button];

#[test]
fn no_row_is_cut_at_760_1280_or_1920_px() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(Setup::start(60));
    let user = setup.multi_org_user().clone();
    for width in [760.0, 1280.0, 1920.0] {
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
        // The detail panel open: the tree at its narrowest.
        let first = {
            let c = &window.state().controller;
            c.ui.tree.rows.iter().find_map(|r| match r {
                superset::app::view_model::Row::Task(i) => {
                    Some(format!("{}  {}", c.vm.tasks[*i].key, c.vm.tasks[*i].title))
                }
                _ => None,
            })
        };
        click(&mut window, &first.unwrap());
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
        drop(window);
    }
    runtime.block_on(setup.stop());
}
