//! The task tree: status groups, tasks with their workspaces beneath, "(no task)" for
//! exploratory work. Only the rows in view are laid out, so 100,000 tasks scroll like 100.
//! Arrow keys move the selection; presence labels age through a repaint timer.

use std::time::Duration;

use eframe::egui::{self, Align, Layout, RichText};
use time::OffsetDateTime;

use super::widgets::{avatar, badge, dot};
use crate::app::actions::Action;
use crate::app::avatars::Avatars;
use crate::app::state::UiState;
use crate::app::theme;
use crate::app::view_model::{Row, ViewModel, Workspace, presence_text};

pub fn tasks_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    state: &mut UiState,
    now: OffsetDateTime,
    synced_once: bool,
    actions: &mut Vec<Action>,
) {
    filters_ui(ui, vm, state);
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
        for row in &rows[range] {
            ui.allocate_ui_with_layout(
                egui::vec2(ui.available_width(), theme::ROW_HEIGHT),
                Layout::left_to_right(Align::Center),
                |ui| match *row {
                    Row::Group { first_task, count } => {
                        let task = &vm.tasks[first_task];
                        dot(ui, theme::status(task.status_color), &task.status);
                        ui.label(RichText::new(&task.status).strong());
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

/// Once per keyboard move: the row to bring into view.
fn scroll_target(state: &mut UiState, vm: &ViewModel) -> Option<usize> {
    if !std::mem::take(&mut state.scroll_to_selection) {
        return None;
    }
    let selected = state.selected_task.as_ref()?;
    state
        .tree
        .rows
        .iter()
        .position(|row| matches!(row, Row::Task(i) if vm.tasks[*i].id == *selected))
}

fn filters_ui(ui: &mut egui::Ui, vm: &ViewModel, state: &mut UiState) {
    ui.horizontal(|ui| {
        ui.toggle_value(&mut state.filters.mine, "Mine");
        ui.toggle_value(&mut state.filters.assigned_to_me, "Assigned to me");
        ui.toggle_value(&mut state.filters.has_active_workspace, "Active now");
        let statuses = state
            .active_organization
            .as_ref()
            .and_then(|o| vm.statuses.get(o))
            .cloned()
            .unwrap_or_default();
        egui::ComboBox::from_label("Status")
            .selected_text(state.filters.status.as_deref().unwrap_or("Any"))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.filters.status, None, "Any");
                for status in statuses {
                    let label = status.clone();
                    ui.selectable_value(&mut state.filters.status, Some(status), label);
                }
            });
        let count = if vm.partial {
            "loading all tasks…".to_owned()
        } else {
            format!("{} tasks", state.tree.task_count)
        };
        ui.label(RichText::new(count).weak());
    });
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
        "No tasks yet. Connect Linear or GitHub (see the README), or create tasks through the API; they show here at once.".to_owned()
    })
}

fn task_row(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    index: usize,
    selected: Option<&str>,
    actions: &mut Vec<Action>,
) {
    let task = &vm.tasks[index];
    let dark = ui.visuals().dark_mode;
    let is_selected = selected == Some(task.id.as_str());
    let text = format!("{}  {}", task.key, task.title);
    // The whole row is the click target; AccessKit sees a selectable item named by its text.
    let row = ui.max_rect();
    let response = ui.interact(
        row,
        egui::Id::unique(("task-row", &task.id)),
        egui::Sense::click(),
    );
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::accesskit::Role::ListItem, true, is_selected, &text)
    });
    let fill = if is_selected {
        Some(ui.visuals().selection.bg_fill)
    } else if response.hovered() {
        Some(ui.visuals().widgets.hovered.weak_bg_fill)
    } else {
        None
    };
    if let Some(fill) = fill {
        ui.painter().rect_filled(row, 6.0, fill);
    }
    if response.clicked() {
        actions.push(Action::SelectTask(Some(task.id.clone())));
    }
    ui.add_space(12.0);
    dot(ui, theme::status(task.status_color), &task.status);
    ui.label(
        RichText::new(&task.key)
            .monospace()
            .color(theme::muted(ui.visuals())),
    );
    ui.add(
        egui::Label::new(RichText::new(&task.title))
            .truncate()
            .selectable(false),
    );
    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
        match (&task.assignee_id, &task.assignee_name) {
            (Some(id), Some(name)) => {
                ui.label(RichText::new(name).weak());
                avatar(ui, vm, avatars, id, name);
            }
            _ => {
                ui.label(RichText::new("unassigned").weak());
            }
        }
        if task.priority != "none" {
            ui.label(RichText::new(&task.priority).color(theme::priority(&task.priority, dark)));
        }
        if task.pending {
            badge(ui, "saving…", theme::warning(dark));
        }
    });
}

fn workspace_row(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    workspace: &Workspace,
    now: OffsetDateTime,
) {
    let dark = ui.visuals().dark_mode;
    let muted = theme::muted(ui.visuals());
    ui.add_space(40.0);
    avatar(ui, vm, avatars, &workspace.owner_id, &workspace.owner_name);
    ui.label(&workspace.owner_name);
    let place = if workspace.cloud { "cloud" } else { "local" };
    ui.label(RichText::new(format!("{} · {place}", workspace.device_name)).color(muted));
    let presence = presence_text(workspace, now);
    let color = if presence == "active now" {
        theme::success(dark)
    } else {
        muted
    };
    ui.label(RichText::new(presence).color(color));
    if let Some(branch) = &workspace.branch {
        ui.label(RichText::new(branch).monospace().color(muted));
    }
    if let Some(git) = &workspace.git {
        ui.label(RichText::new(git.summary()).color(muted));
    }
    if let Some(pr) = &workspace.pull_request {
        let mut text = format!("#{} {}", pr.number, pr.status);
        if let Some(review) = &pr.review {
            text.push_str(" · ");
            text.push_str(&review.replace('_', " "));
        }
        badge(ui, &text, theme::pull_request(&pr.status, dark));
    }
    if workspace.pending {
        badge(ui, "saving…", theme::warning(dark));
    }
}

/// Arrow keys move between tasks; Escape clears the selection.
fn keyboard(ui: &egui::Ui, vm: &ViewModel, state: &mut UiState, actions: &mut Vec<Action>) {
    if ui.ctx().memory(|m| m.focused().is_some()) {
        return;
    }
    let (down, up, escape) = ui.input(|i| {
        (
            i.key_pressed(egui::Key::ArrowDown),
            i.key_pressed(egui::Key::ArrowUp),
            i.key_pressed(egui::Key::Escape),
        )
    });
    if escape {
        actions.push(Action::SelectTask(None));
        return;
    }
    if !down && !up {
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
        .and_then(|id| tasks.iter().position(|&i| vm.tasks[i].id == *id));
    let next = match (current, down) {
        (None, _) => 0,
        (Some(at), true) => (at + 1).min(tasks.len().saturating_sub(1)),
        (Some(at), false) => at.saturating_sub(1),
    };
    if let Some(&i) = tasks.get(next) {
        state.selected_task = Some(vm.tasks[i].id.clone());
        state.start_folder = None;
        state.scroll_to_selection = true;
    }
}
