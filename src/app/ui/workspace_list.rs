//! Who works on the selected task, where: each workspace's owner, device, presence, branch,
//! git state and pull request. The signed-in person's own workspaces on this device also show
//! where they live, with Editor, Terminal, Files and Done — or, when the folder is gone, Recreate
//! the worktree — and the question Done asks before removing a worktree.

use eframe::egui::{self, RichText};
use time::OffsetDateTime;

use super::widgets::{avatar, badge};
use crate::app::actions::{Action, WorkAction};
use crate::app::avatars::Avatars;
use crate::app::state::FinishPrompt;
use crate::app::theme;
use crate::app::view_model::{Task, ViewModel, Workspace, presence_text};
use crate::protocol::is_web_link;
use crate::workspaces::open::How;

/// How far a workspace's details sit right of its owner's avatar: under the owner's name.
const OWNER_INDENT: f32 = 28.0;

/// Who works on the task: each workspace's owner, device, presence, branch, git state and PR.
pub fn workspaces_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    task: &Task,
    now: OffsetDateTime,
    actions: &mut Vec<Action>,
) {
    let dark = ui.visuals().dark_mode;
    let mut any = false;
    for workspace in vm.workspaces_of(task.id()) {
        any = true;
        ui.horizontal_wrapped(|ui| {
            avatar(ui, vm, avatars, &workspace.owner_id, &workspace.owner_name);
            ui.label(&workspace.owner_name);
            ui.label(RichText::new(&workspace.device_name).weak());
            whole(ui, |ui| {
                ui.label(RichText::new(presence_text(workspace, now)).weak())
            });
            if workspace.archived() {
                badge(ui, "done", theme::muted(ui.visuals()));
            }
        });
        // Indented under the owner's avatar; a branch is one long word, so it is elided (in
        // full on hover) rather than wrapped or pushed past the panel's edge.
        ui.horizontal_top(|ui| {
            ui.add_space(OWNER_INDENT);
            ui.vertical(|ui| {
                if let Some(branch) = &workspace.branch {
                    let shown = egui::Label::new(RichText::new(branch).monospace()).truncate();
                    ui.add(shown).on_hover_text(branch);
                }
                ui.horizontal_wrapped(|ui| state_ui(ui, workspace, dark));
                if let Some(path) = here(vm, workspace) {
                    controls_ui(ui, &path, workspace, actions);
                }
            });
        });
    }
    if !any {
        ui.label(RichText::new("Nobody is working on this yet.").weak());
    }
}

/// A workspace's git state and pull request.
fn state_ui(ui: &mut egui::Ui, workspace: &Workspace, dark: bool) {
    if let Some(git) = &workspace.git {
        ui.label(RichText::new(git.summary()).weak());
    }
    if let Some(pr) = &workspace.pull_request {
        let text = format!("#{} {}", pr.number, pr.status);
        whole(ui, |ui| {
            match pr.url.as_deref().filter(|u| is_web_link(u)) {
                Some(url) => ui.hyperlink_to(text, url),
                None => badge(ui, &text, theme::pull_request(&pr.status, dark)),
            }
        });
    }
}

/// Adds a short text that moves to the next line as a whole rather than breaking inside
/// ("#41 / open" read as two things).
fn whole(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui) -> egui::Response) {
    let wrap_mode = ui.style().wrap_mode;
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
    add(ui);
    ui.style_mut().wrap_mode = wrap_mode;
}

/// Whether `workspace` is the signed-in person's, started on this device (so it lives here).
fn here(vm: &ViewModel, workspace: &Workspace) -> Option<String> {
    let mine = vm.me.as_ref().is_some_and(|me| me.id == workspace.owner_id);
    workspace
        .local_path
        .clone()
        .filter(|_| mine && !workspace.archived())
}

/// Where one of my workspaces lives, and what can be done with it.
fn controls_ui(ui: &mut egui::Ui, path: &str, workspace: &Workspace, actions: &mut Vec<Action>) {
    let id = workspace.id.clone();
    let exists = std::path::Path::new(path).exists();
    let shown = egui::Label::new(RichText::new(path).monospace().weak()).truncate();
    ui.add(shown).on_hover_text(path);
    ui.horizontal_wrapped(|ui| {
        if !exists {
            let danger = theme::danger(ui.visuals().dark_mode);
            ui.label(RichText::new("folder is gone").color(danger));
            if ui.small_button("Recreate worktree").clicked() {
                actions.push(Action::Work(WorkAction::Recreate {
                    workspace_id: id.clone(),
                }));
            }
        }
        let openers = [
            ("Editor", How::Editor),
            ("Terminal", How::Terminal),
            ("Files", How::Files),
        ];
        for (label, how) in openers.into_iter().filter(|_| exists) {
            if ui.small_button(label).clicked() {
                actions.push(Action::Work(WorkAction::Open {
                    workspace_id: id.clone(),
                    how,
                }));
            }
        }
        if ui.small_button("Done").clicked() {
            actions.push(Action::Work(WorkAction::AskFinish { workspace_id: id }));
        }
    });
}

/// Done's question: remove the worktree too (when nothing would be lost), or keep it.
pub fn finish_modal_ui(ctx: &egui::Context, prompt: &FinishPrompt, actions: &mut Vec<Action>) {
    let id = prompt.workspace_id.clone();
    egui::Modal::new(egui::Id::unique("finish-workspace")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading("Mark this workspace done?");
        ui.label("It leaves the tree (turn on Archived to see it); its branch stays.");
        let finish = |remove| {
            Action::Work(WorkAction::Finish {
                workspace_id: id.clone(),
                remove,
            })
        };
        match &prompt.path {
            Some(path) if prompt.loss.is_nothing() => {
                ui.label(format!(
                    "Its worktree at {path} holds nothing uncommitted or unpushed."
                ));
                ui.horizontal(|ui| {
                    if ui.button("Done, remove the worktree").clicked() {
                        actions.push(finish(true));
                    }
                    if ui.button("Done, keep the folder").clicked() {
                        actions.push(finish(false));
                    }
                });
            }
            Some(path) => {
                let danger = theme::danger(ui.visuals().dark_mode);
                ui.label(
                    RichText::new(format!(
                        "Its worktree at {path} is kept: {} would be lost.",
                        prompt.loss
                    ))
                    .color(danger),
                );
                if ui.button("Done, keep the folder").clicked() {
                    actions.push(finish(false));
                }
            }
            None => {
                if ui.button("Done").clicked() {
                    actions.push(finish(false));
                }
            }
        }
        if ui.button("Cancel").clicked() {
            actions.push(Action::Work(WorkAction::CancelFinish));
        }
    });
}
