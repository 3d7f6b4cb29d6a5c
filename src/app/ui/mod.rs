//! The panels. Each is a function that reads the view model (and the UI state it owns, such as
//! form fields) and pushes [`Action`]s; none does I/O. [`window_ui`] lays them out.

mod detail;
mod dialogs;
mod help;
mod pickers;
mod repositories;
mod sign_in;
pub mod task_editor;
pub mod task_form;
mod task_rows;
mod tasks;
pub mod top_bar;
mod widgets;
mod workspace_list;

use eframe::egui;
use time::OffsetDateTime;

pub use tasks::tree_clip_id;

use super::actions::Action;
use super::logic::Controller;
use super::state::Screen;
use super::theme;
use crate::sync::events::SyncStatus;

/// Draws the whole window for one frame and returns what the user asked for.
pub fn window_ui(ui: &mut egui::Ui, controller: &mut Controller) -> Vec<Action> {
    let mut actions = Vec::new();
    if controller.screen == Screen::SignIn {
        egui::CentralPanel::default_margins().show(ui, |ui| {
            sign_in::sign_in_ui(ui, &mut controller.sign_in, &mut actions);
        });
        return actions;
    }
    controller.refresh_rows();
    let vm = controller.vm.clone();
    let now = OffsetDateTime::now_utc();
    egui::Panel::top("top-bar").show(ui, |ui| {
        ui.add_space(4.0);
        top_bar::top_bar_ui(
            ui,
            &vm,
            &mut controller.ui,
            &controller.status,
            &controller.settings,
            &mut actions,
        );
        ui.add_space(2.0);
    });
    if !controller.ui.notices.is_empty()
        || controller.ui.busy.is_some()
        || !controller.ui.invitations.is_empty()
        || !vm.conflicts.is_empty()
    {
        egui::Panel::bottom("notices").show(ui, |ui| {
            dialogs::notices_ui(ui, &vm, &controller.ui, &mut actions);
        });
    }
    let widths = theme::panel_widths(ui.ctx().content_rect().width());
    egui::Panel::left("repositories")
        .default_size(widths.side.0)
        .size_range(widths.side.1..=widths.side.2)
        .resizable(true)
        .show(ui, |ui| {
            repositories::repositories_ui(ui, &vm, &mut controller.ui, &mut actions);
        });
    help::shortcuts(ui.ctx(), &vm, &mut controller.ui, &mut actions);
    let task_open = controller.ui.detail_open
        && controller
            .ui
            .selected_task
            .as_ref()
            .is_some_and(|id| vm.task(id).is_some());
    if controller.ui.new_task.is_some() || task_open {
        egui::Panel::right("detail")
            .default_size(widths.detail.0)
            .size_range(widths.detail.1..=widths.detail.2)
            .resizable(true)
            .show(ui, |ui| {
                detail::detail_ui(
                    ui,
                    &vm,
                    &controller.avatars,
                    &mut controller.ui,
                    now,
                    &mut actions,
                );
            });
    }
    let synced_once = controller.generation > 0
        && !matches!(
            controller.status,
            SyncStatus::Connecting | SyncStatus::Syncing { .. }
        )
        || !vm.tasks.is_empty();
    egui::CentralPanel::default_margins().show(ui, |ui| {
        tasks::tasks_ui(
            ui,
            &vm,
            &controller.avatars,
            &mut controller.ui,
            now,
            synced_once,
            &mut actions,
        );
    });
    dialogs::modal_ui(ui.ctx(), &vm, &controller.ui, &mut actions);
    help::help_ui(ui.ctx(), &mut controller.ui);
    if let Some(prompt) = &controller.ui.finishing {
        workspace_list::finish_modal_ui(ui.ctx(), prompt, &mut actions);
    }
    actions
}
