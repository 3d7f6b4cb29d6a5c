//! Questions and messages: the sign-out confirmation (saying which writes would be lost), the
//! link prompt when a folder matches several repositories or none, invitations to answer,
//! conflicts to settle (keep mine / take theirs), and dismissable notices (a delete's with
//! Undo).

use eframe::egui::{self, RichText};
use serde_json::Value;

use crate::app::actions::{Action, FolderAction, TaskAction};
use crate::app::state::UiState;
use crate::app::theme;
use crate::app::view_model::{TaskConflict, ViewModel};
use crate::outbox::Resolution;

pub fn notices_ui(ui: &mut egui::Ui, vm: &ViewModel, state: &UiState, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    for conflict in &vm.conflicts {
        conflict_ui(ui, vm, conflict, actions);
    }
    if let Some(busy) = &state.busy {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(busy);
        });
    }
    for invitation in &state.invitations {
        ui.horizontal(|ui| {
            ui.label(RichText::new(invitation.describe()).strong());
            if ui.button("Accept").clicked() {
                actions.push(Action::AnswerInvitation {
                    id: invitation.id,
                    accept: true,
                });
            }
            if ui.button("Decline").clicked() {
                actions.push(Action::AnswerInvitation {
                    id: invitation.id,
                    accept: false,
                });
            }
        });
    }
    for (i, notice) in state.notices.iter().enumerate() {
        ui.horizontal(|ui| {
            let color = if notice.error {
                theme::danger(dark)
            } else {
                theme::success(dark)
            };
            ui.label(RichText::new(&notice.text).color(color));
            if let Some(id) = &notice.undo
                && ui.button("Undo").clicked()
            {
                actions.push(Action::Task(TaskAction::UndoDelete { id: id.clone() }));
                actions.push(Action::DismissNotice(i));
            }
            if ui.small_button("Dismiss").clicked() {
                actions.push(Action::DismissNotice(i));
            }
        });
    }
}

/// "SUP-3: Mike changed the status to Done while you were editing. Yours: In Progress." with
/// Keep mine / Take theirs.
fn conflict_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    conflict: &TaskConflict,
    actions: &mut Vec<Action>,
) {
    let dark = ui.visuals().dark_mode;
    let yours: Vec<String> = conflict
        .conflict
        .fields
        .iter()
        .filter(|f| f.field != "status_color")
        .map(|f| shown_value(vm, &f.field, &f.mine))
        .collect();
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!(
                "{}: {}.",
                conflict.task_key, conflict.conflict.message
            ))
            .color(theme::warning(dark)),
        );
        if !yours.is_empty() {
            ui.label(format!("Yours: {}.", yours.join(", ")));
        }
        for (label, resolution) in [
            ("Keep mine", Resolution::KeepMine),
            ("Take theirs", Resolution::TakeTheirs),
        ] {
            if ui.button(label).clicked() {
                actions.push(Action::Task(TaskAction::Resolve {
                    entry_id: conflict.entry_id,
                    resolution,
                }));
            }
        }
    });
}

/// A field's value in words: a person's name for an assignee, "none" for nothing.
fn shown_value(vm: &ViewModel, field: &str, value: &Value) -> String {
    match value {
        Value::Null => "none".to_owned(),
        Value::String(id) if field == "assignee_id" => vm
            .people
            .get(id)
            .map_or_else(|| "someone".to_owned(), |p| p.name.clone()),
        Value::String(id) if field == "repository_id" => vm
            .repository(id)
            .map_or_else(|| "a repository".to_owned(), |r| r.name.clone()),
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

pub fn modal_ui(ctx: &egui::Context, vm: &ViewModel, state: &UiState, actions: &mut Vec<Action>) {
    if state.confirm_sign_out {
        egui::Modal::new(egui::Id::unique("confirm-sign-out")).show(ctx, |ui| {
            ui.set_max_width(380.0);
            ui.heading("Sign out?");
            ui.label(
                "Synced data is removed from this computer. Linked folders and your preferences stay.",
            );
            match vm.pending_writes {
                0 => {}
                1 => {
                    ui.label(
                        RichText::new("1 change has not reached the server yet and will be lost.")
                            .color(theme::danger(ui.visuals().dark_mode)),
                    );
                }
                n => {
                    ui.label(
                        RichText::new(format!(
                            "{n} changes have not reached the server yet and will be lost."
                        ))
                        .color(theme::danger(ui.visuals().dark_mode)),
                    );
                }
            }
            ui.horizontal(|ui| {
                if ui.button("Sign out").clicked() {
                    actions.push(Action::ConfirmSignOut);
                }
                if ui.button("Cancel").clicked() {
                    actions.push(Action::CancelSignOut);
                }
            });
        });
    }
    if let Some(prompt) = &state.link_prompt {
        egui::Modal::new(egui::Id::unique("link-prompt")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.heading("Link folder");
            ui.label(RichText::new(prompt.path.display().to_string()).monospace());
            if prompt.candidates.is_empty() {
                let remote = prompt.remote.as_deref().unwrap_or("no remote");
                ui.label(format!(
                    "None of your organizations' repositories has this folder's remote ({remote})."
                ));
                if ui.button("Keep as local project").clicked() {
                    actions.push(Action::Folder(FolderAction::ChooseRepository {
                        repository_id: None,
                    }));
                }
            } else {
                ui.label("This folder's remote matches several repositories. Which one is it?");
                for id in &prompt.candidates {
                    let Some(repository) = vm.repository(id) else {
                        continue;
                    };
                    let organization = vm
                        .organizations
                        .iter()
                        .find(|o| o.id == repository.organization_id)
                        .map_or("another organization", |o| o.name.as_str());
                    if ui
                        .button(format!("{} in {organization}", repository.name))
                        .clicked()
                    {
                        actions.push(Action::Folder(FolderAction::ChooseRepository {
                            repository_id: Some(id.clone()),
                        }));
                    }
                }
            }
            if ui.button("Cancel").clicked() {
                actions.push(Action::Folder(FolderAction::CancelPrompt));
            }
        });
    }
}
