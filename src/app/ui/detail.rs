//! The detail panel: the new-task form while it is open, else the selected task in full —
//! its fields, edited in place, who works on it where — and "Start work" in one of this
//! device's linked folders (a worktree of its own, or the clone's checkout switched).

use eframe::egui::{self, RichText};
use time::OffsetDateTime;

use super::task_editor::task_editor_ui;
use super::task_form::new_task_ui;
use super::workspace_list::workspaces_ui;
use crate::app::actions::{Action, WorkAction};
use crate::app::avatars::Avatars;
use crate::app::state::UiState;
use crate::app::view_model::{LocalFolder, Task, ViewModel};
use crate::workspaces::start::{Mode, branch_for};

pub fn detail_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    state: &mut UiState,
    now: OffsetDateTime,
    actions: &mut Vec<Action>,
) {
    if let Some(form) = &mut state.new_task {
        egui::ScrollArea::vertical()
            .auto_shrink(false)
            .show(ui, |ui| new_task_ui(ui, vm, avatars, form, actions));
        return;
    }
    let Some(task) = state.selected_task.as_ref().and_then(|id| vm.task(id)) else {
        return;
    };
    egui::ScrollArea::vertical()
        .auto_shrink(false)
        .show(ui, |ui| {
            task_editor_ui(ui, vm, avatars, task, &mut state.editor, actions);
            ui.separator();
            ui.label(RichText::new("Workspaces").strong());
            workspaces_ui(ui, vm, avatars, task, now, actions);
            ui.separator();
            start_work_ui(ui, vm, task, state, actions);
        });
}

/// Linked folders to start work in: the task's own repository first.
fn candidate_folders<'a>(vm: &'a ViewModel, task: &Task) -> Vec<(&'a str, &'a LocalFolder)> {
    let mut folders: Vec<(bool, &str, &LocalFolder)> = vm
        .repositories
        .iter()
        .filter(|r| r.organization_id == task.organization_id)
        .flat_map(|r| {
            let suggested = task.repository_id.as_deref() == Some(r.id.as_str());
            r.folders
                .iter()
                .map(move |f| (suggested, r.name.as_str(), f))
        })
        .collect();
    folders.sort_by_key(|(suggested, name, _)| (!*suggested, *name));
    folders.into_iter().map(|(_, name, f)| (name, f)).collect()
}

fn start_work_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    task: &Task,
    state: &mut UiState,
    actions: &mut Vec<Action>,
) {
    ui.label(RichText::new("Start work").strong());
    let folders = candidate_folders(vm, task);
    if folders.is_empty() {
        let repository = task
            .repository_id
            .as_ref()
            .and_then(|id| vm.repository(id))
            .map_or("this organization's repositories", |r| r.name.as_str());
        ui.label(
            RichText::new(format!(
                "Link a folder of {repository} on the left to start work here."
            ))
            .weak(),
        );
        return;
    }
    if state
        .start_folder
        .as_ref()
        .is_none_or(|id| !folders.iter().any(|(_, f)| &f.id == id))
    {
        state.start_folder = folders.first().map(|(_, f)| f.id.clone());
    }
    let chosen = folders
        .iter()
        .find(|(_, f)| Some(&f.id) == state.start_folder.as_ref())
        .map(|(name, f)| format!("{name} — {}", f.path))
        .unwrap_or_default();
    // The label above the picker, and the picker as wide as the panel allows: a folder's path
    // is long, so it is cut short with an ellipsis rather than pushing past the panel's edge.
    let label = ui.label(RichText::new("Folder").weak());
    egui::ComboBox::from_id_salt("start-folder")
        .selected_text(chosen)
        .width(ui.available_width().min(360.0))
        .truncate()
        .show_ui(ui, |ui| {
            for (name, folder) in &folders {
                ui.selectable_value(
                    &mut state.start_folder,
                    Some(folder.id.clone()),
                    format!("{name} — {}", folder.path),
                );
            }
        })
        .response
        .labelled_by(label.id);
    let branch = branch_for(task.key(), task.title(), task.branch());
    let shown = egui::Label::new(RichText::new(format!("branch {branch}")).monospace().weak());
    ui.add(shown.truncate()).on_hover_text(branch);
    ui.checkbox(&mut state.switch_checkout, "Switch this checkout instead")
        .on_hover_text(
            "Off: the branch gets a worktree of its own beside the clone, and your checkout and \
             its uncommitted work stay as they are.",
        );
    let busy = state.busy.is_some();
    if ui
        .add_enabled(!busy, egui::Button::new("Start work"))
        .clicked()
        && let Some(folder_id) = state.start_folder.clone()
    {
        let mode = if state.switch_checkout {
            Mode::SwitchCheckout
        } else {
            Mode::Worktree
        };
        actions.push(Action::Work(WorkAction::Start {
            task_id: task.id().to_owned(),
            folder_id,
            mode,
        }));
    }
}
