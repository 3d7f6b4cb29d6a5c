//! The task tree: status groups, tasks with their workspaces beneath, "(no task)" for
//! exploratory work. Only the rows in view are laid out, so 100,000 tasks scroll like 100.
//! Arrow keys move the selection; presence labels age through a repaint timer.

use std::time::Duration;

use eframe::egui::{self, Align, Layout, RichText};
use time::OffsetDateTime;

use super::task_rows::{task_row, workspace_row};
use super::widgets::{dot, lasting_menu};
use crate::app::actions::{Action, TaskAction};
use crate::app::avatars::Avatars;
use crate::app::state::UiState;
use crate::app::theme;
use crate::app::view_model::rows::Filters;
use crate::app::view_model::{Row, ViewModel};

/// Where the tree's visible rows are clipped, kept in the context's memory each frame (for the
/// layout check that no row's content is cut).
pub fn tree_clip_id() -> egui::Id {
    egui::Id::unique("task-tree-clip")
}

pub fn tasks_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    state: &mut UiState,
    now: OffsetDateTime,
    synced_once: bool,
    actions: &mut Vec<Action>,
) {
    filters_ui(ui, vm, state, actions);
    ui.separator();
    if let Some(message) = empty_message(vm, state, synced_once) {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| ui.label(RichText::new(message).weak().size(15.0)));
        return;
    }
    keyboard(ui, vm, state, actions);
    // "active now" turns into "idle 2m ago" on its own.
    ui.ctx().request_repaint_after(Duration::from_secs(30));
    let spacing = ui.spacing().item_spacing.y;
    let mut area = egui::ScrollArea::vertical().auto_shrink(false);
    if let Some(index) = scroll_target(state, vm) {
        let row_top = index as f32 * (theme::ROW_HEIGHT + spacing);
        area = area.vertical_scroll_offset((row_top - ui.available_height() / 2.0).max(0.0));
    }
    let rows = &state.tree.rows;
    let selected = state.selected_task.clone();
    area.show_rows(ui, theme::ROW_HEIGHT, rows.len(), |ui, range| {
        let clip = ui.clip_rect();
        ui.ctx().data_mut(|d| d.insert_temp(tree_clip_id(), clip));
        for row in &rows[range] {
            ui.allocate_ui_with_layout(
                egui::vec2(ui.available_width(), theme::ROW_HEIGHT),
                Layout::left_to_right(Align::Center),
                |ui| match *row {
                    Row::Group { first_task, count } => {
                        let task = &vm.tasks[first_task];
                        dot(ui, theme::status(task.status_color), &task.status);
                        ui.label(RichText::new(task.status.as_str()).strong());
                        ui.label(RichText::new(count.to_string()).weak());
                    }
                    Row::NoTask { count } => {
                        ui.label(RichText::new("(no task)").strong());
                        ui.label(RichText::new(count.to_string()).weak());
                    }
                    Row::Task(i) => task_row(ui, vm, avatars, i, selected.as_deref(), actions),
                    Row::Workspace(i) => workspace_row(ui, vm, avatars, &vm.workspaces[i], now),
                },
            );
        }
    });
}

/// Once per keyboard move (or new task): the row to bring into view, as soon as it is there.
fn scroll_target(state: &mut UiState, vm: &ViewModel) -> Option<usize> {
    if !state.scroll_to_selection {
        return None;
    }
    let Some(selected) = state.selected_task.as_ref() else {
        state.scroll_to_selection = false;
        return None;
    };
    let index = state
        .tree
        .rows
        .iter()
        .position(|row| matches!(row, Row::Task(i) if vm.tasks[*i].id() == *selected))?;
    state.scroll_to_selection = false;
    Some(index)
}

/// "New task", the filters (in a menu when the tree is narrow) and the task count.
fn filters_ui(ui: &mut egui::Ui, vm: &ViewModel, state: &mut UiState, actions: &mut Vec<Action>) {
    let narrow = ui.available_width() < theme::INLINE_FILTERS;
    ui.horizontal(|ui| {
        let can_create = state.active_organization.is_some();
        if ui
            .add_enabled(can_create, egui::Button::new("New task"))
            .on_hover_text("N")
            .clicked()
        {
            actions.push(Action::Task(TaskAction::OpenNewForm));
        }
        ui.separator();
        if narrow {
            let active = state.filters != Filters::default();
            let label = if active { "Filters •" } else { "Filters" };
            lasting_menu(ui, label, |ui| filter_choices(ui, vm, state, true));
        } else {
            filter_choices(ui, vm, state, false);
        }
        let count = if vm.partial {
            "loading all tasks…".to_owned()
        } else {
            format!("{} tasks", state.tree.task_count)
        };
        ui.add(egui::Label::new(RichText::new(count).weak()).truncate());
    });
}

/// Mine, assigned to me, active now, and the status: inline in the filter bar, or as the
/// entries of the Filters menu (where the status is a submenu: a combo box's list would close
/// the menu it sits in).
fn filter_choices(ui: &mut egui::Ui, vm: &ViewModel, state: &mut UiState, in_menu: bool) {
    ui.toggle_value(&mut state.filters.mine, "Mine");
    ui.toggle_value(&mut state.filters.assigned_to_me, "Assigned to me");
    ui.toggle_value(&mut state.filters.has_active_workspace, "Active now");
    ui.toggle_value(&mut state.filters.show_archived, "Archived")
        .on_hover_text("Show workspaces marked done");
    let statuses = state
        .active_organization
        .as_ref()
        .and_then(|o| vm.statuses.get(o))
        .cloned()
        .unwrap_or_default();
    let chosen = &mut state.filters.status;
    let label = format!("Status: {}", chosen.as_deref().unwrap_or("any"));
    let choices = |ui: &mut egui::Ui| {
        ui.selectable_value(chosen, None, "Any");
        for status in statuses {
            let label = status.name.clone();
            ui.selectable_value(chosen, Some(status.name), label);
        }
    };
    if in_menu {
        ui.menu_button(label, choices);
    } else {
        egui::ComboBox::from_id_salt("status-filter")
            .selected_text(label)
            .show_ui(ui, choices);
    }
}

fn empty_message(vm: &ViewModel, state: &UiState, synced_once: bool) -> Option<String> {
    if !state.tree.rows.is_empty() {
        return None;
    }
    Some(if !synced_once {
        "Syncing your team… the first sync takes a few seconds.".to_owned()
    } else if vm.organizations.is_empty() {
        "You are not in an organization yet. Ask an owner to add you; your team's work will show here as soon as they do.".to_owned()
    } else if state.filters != Default::default() {
        "No tasks match. Clear the search or the filters to see them all.".to_owned()
    } else {
        "No tasks yet. Press N (or New task) to create one, or connect Linear (see the README); they show here at once.".to_owned()
    })
}

/// Up and Down move between tasks (the open panel follows); Enter opens the selected task;
/// Escape closes the new-task form, then the panel, then clears the selection.
fn keyboard(ui: &egui::Ui, vm: &ViewModel, state: &mut UiState, actions: &mut Vec<Action>) {
    if ui.ctx().egui_wants_keyboard_input() || state.show_help {
        return;
    }
    let (down, up, enter, escape) = ui.input(|i| {
        (
            i.key_pressed(egui::Key::ArrowDown),
            i.key_pressed(egui::Key::ArrowUp),
            i.key_pressed(egui::Key::Enter),
            i.key_pressed(egui::Key::Escape),
        )
    });
    if escape {
        if state.new_task.is_some() {
            actions.push(Action::Task(TaskAction::CloseNewForm));
        } else if state.detail_open {
            state.detail_open = false;
        } else {
            actions.push(Action::SelectTask(None));
        }
        return;
    }
    if !down && !up && !enter {
        return;
    }
    let tasks: Vec<usize> = state
        .tree
        .rows
        .iter()
        .filter_map(|r| match r {
            Row::Task(i) => Some(*i),
            _ => None,
        })
        .collect();
    let current = state
        .selected_task
        .as_ref()
        .and_then(|id| tasks.iter().position(|&i| vm.tasks[i].id() == *id));
    let next = match (current, down, up) {
        (None, _, _) => 0,
        (Some(at), true, _) => (at + 1).min(tasks.len().saturating_sub(1)),
        (Some(at), _, true) => at.saturating_sub(1),
        (Some(at), _, _) => at,
    };
    if let Some(&i) = tasks.get(next) {
        state.selected_task = Some(vm.tasks[i].id().to_owned());
        state.start_folder = None;
        state.scroll_to_selection = true;
        state.detail_open |= enter;
    }
}
