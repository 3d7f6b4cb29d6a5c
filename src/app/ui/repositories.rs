//! The left panel: the organization's repositories and whether each is linked to a folder on
//! this device, "Link folder…" (the system picker, or a typed path), "Explore…" (exploratory
//! work on a branch of one's own in a linked folder), and local projects.

use std::path::PathBuf;

use eframe::egui::{self, RichText};

use super::widgets::{dot, take_key};
use crate::app::actions::{Action, FolderAction, WorkAction};
use crate::app::state::UiState;
use crate::app::theme;
use crate::app::view_model::{LocalFolder, ViewModel};

pub fn repositories_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    state: &mut UiState,
    actions: &mut Vec<Action>,
) {
    let dark = ui.visuals().dark_mode;
    ui.label(RichText::new("Repositories").strong());
    let busy = state.busy.is_some();
    ui.horizontal_wrapped(|ui| {
        if ui
            .add_enabled(!busy, egui::Button::new("Link folder…"))
            .on_hover_text("Choose a folder you cloned; it is matched by its git remote")
            .clicked()
        {
            actions.push(Action::Folder(FolderAction::Browse));
        }
        if ui
            .add_enabled(!busy, egui::Button::new("Type a path"))
            .clicked()
        {
            state.show_link_form = !state.show_link_form;
        }
    });
    if state.show_link_form {
        let label = ui.label("Folder path");
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut state.typed_path)
                    .hint_text("/home/you/code/project")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (ui.button("Link").clicked() || entered) && !state.typed_path.trim().is_empty() {
            actions.push(Action::Folder(FolderAction::Link(PathBuf::from(
                expand_home(state.typed_path.trim()),
            ))));
        }
    }
    ui.separator();
    egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| {
        let repositories: Vec<_> = vm
            .repositories
            .iter()
            .filter(|r| Some(&r.organization_id) == state.active_organization.as_ref())
            .collect();
        if repositories.is_empty() {
            ui.label(
                RichText::new("This organization has no repositories yet. An admin can import them from GitHub.")
                    .weak(),
            );
        }
        for repository in repositories {
            ui.horizontal(|ui| {
                let (color, state) = if repository.folders.is_empty() {
                    (theme::muted(ui.visuals()), "not linked")
                } else {
                    (theme::success(dark), "linked")
                };
                dot(ui, color, state);
                ui.label(RichText::new(&repository.name).strong())
                    .on_hover_text(&repository.url);
            });
            if repository.folders.is_empty() {
                ui.label(RichText::new("    not on this device").weak());
            }
            for folder in &repository.folders {
                folder_row(ui, folder, actions);
                explore_ui(ui, folder, state, actions);
            }
        }
        if !vm.local_projects.is_empty() {
            ui.separator();
            ui.label(RichText::new("Local projects").strong());
            for folder in &vm.local_projects {
                folder_row(ui, folder, actions);
            }
        }
    });
}

fn folder_row(ui: &mut egui::Ui, folder: &LocalFolder, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        ui.add_space(12.0);
        let path = egui::Label::new(RichText::new(&folder.path).monospace().size(11.5)).truncate();
        ui.add(path)
            .on_hover_text(folder.remote_url.as_deref().unwrap_or("no remote"));
        if folder.repository_id.is_some()
            && ui
                .small_button("Explore…")
                .on_hover_text("Start exploratory work (no task) on a branch of your own")
                .clicked()
        {
            actions.push(Action::Work(WorkAction::AskExplore {
                folder_id: folder.id.clone(),
            }));
        }
        if ui
            .small_button("Unlink")
            .on_hover_text("Forget this folder (nothing on disk changes)")
            .clicked()
        {
            actions.push(Action::Folder(FolderAction::Unlink {
                folder_id: folder.id.clone(),
            }));
        }
    });
}

/// The exploratory-work form under the folder it is for: a branch name, Start and Cancel.
fn explore_ui(
    ui: &mut egui::Ui,
    folder: &LocalFolder,
    state: &mut UiState,
    actions: &mut Vec<Action>,
) {
    let Some(form) = state
        .exploring
        .as_mut()
        .filter(|f| f.folder_id == folder.id)
    else {
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.add_space(12.0);
        let label = ui.label("Branch");
        let field = ui
            .add(egui::TextEdit::singleline(&mut form.branch).desired_width(150.0))
            .labelled_by(label.id);
        let entered = field.lost_focus() && take_key(ui, egui::Key::Enter);
        if (ui.small_button("Start").clicked() || entered) && !form.branch.trim().is_empty() {
            actions.push(Action::Work(WorkAction::Explore {
                folder_id: folder.id.clone(),
                branch: form.branch.trim().to_owned(),
            }));
        }
        if ui.small_button("Cancel").clicked() {
            actions.push(Action::Work(WorkAction::CancelExplore));
        }
    });
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_owned(),
    }
}
