//! The top bar: organization dropdown, search (Ctrl+K), filters, sync status and the user menu.

use eframe::egui::{self, RichText};
use time::OffsetDateTime;

use super::widgets::lasting_menu;
use crate::app::actions::Action;
use crate::app::state::{Settings, UiState, WorkSettings};
use crate::app::theme::{self, ThemeChoice};
use crate::app::view_model::{Row, ViewModel};
use crate::sync::events::SyncStatus;

/// The id of the search box, so Ctrl+K can focus it.
pub fn search_id() -> egui::Id {
    egui::Id::unique("task-search")
}

pub fn top_bar_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    state: &mut UiState,
    status: &SyncStatus,
    settings: &Settings,
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        let active_name = state
            .active_organization
            .as_ref()
            .and_then(|id| vm.organizations.iter().find(|o| &o.id == id))
            .map_or("No organization", |o| o.name.as_str());
        egui::ComboBox::from_label("Organization")
            .selected_text(active_name)
            .width(180.0)
            .show_ui(ui, |ui| {
                for org in &vm.organizations {
                    let selected = state.active_organization.as_ref() == Some(&org.id);
                    if ui.selectable_label(selected, &org.name).clicked() && !selected {
                        actions.push(Action::SelectOrganization(org.id.clone()));
                    }
                }
            });
        ui.separator();
        let label = ui.label("Search");
        let search = ui
            .add(
                egui::TextEdit::singleline(&mut state.filters.search)
                    .id(search_id())
                    .hint_text("key, title, person, branch")
                    .desired_width(240.0),
            )
            .labelled_by(label.id)
            .on_hover_text("Ctrl+K to search, Enter to select the first match");
        if ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::K)) {
            search.request_focus();
        }
        // Enter in the search box selects the first match.
        if search.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            let first = state.tree.rows.iter().find_map(|row| match row {
                Row::Task(i) => Some(vm.tasks[*i].id().to_owned()),
                _ => None,
            });
            if let Some(id) = first {
                actions.push(Action::SelectTask(Some(id)));
                state.scroll_to_selection = true;
            }
        }
        if search.has_focus() && ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            state.filters.search.clear();
            search.surrender_focus();
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            user_menu(ui, vm, state, settings, actions);
            ui.separator();
            sync_status(ui, vm, status, actions);
        });
    });
}

fn user_menu(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    state: &mut UiState,
    settings: &Settings,
    actions: &mut Vec<Action>,
) {
    let name = vm.me.as_ref().map_or("Account", |m| m.name.as_str());
    // Stays open for clicks inside (the Workspaces settings are typed into); the buttons that
    // lead elsewhere close it.
    lasting_menu(ui, name, |ui| {
        if let Some(me) = &vm.me {
            ui.label(RichText::new(&me.email).weak());
            ui.separator();
        }
        ui.label("Theme");
        for choice in [ThemeChoice::System, ThemeChoice::Dark, ThemeChoice::Light] {
            if ui.radio(state.theme == choice, choice.label()).clicked() {
                actions.push(Action::SetTheme(choice));
            }
        }
        ui.separator();
        let mut on = settings.notifications;
        if ui
            .checkbox(&mut on, "Desktop notifications")
            .on_hover_text("When a teammate assigns you a task, starts work on one of yours, or your pull request is merged or needs changes")
            .changed()
        {
            actions.push(Action::SetNotifications(on));
        }
        work_settings_ui(ui, state, &settings.work, actions);
        if ui.button("Keyboard shortcuts  ?").clicked() {
            actions.push(Action::ShowHelp);
            ui.close();
        }
        ui.separator();
        if ui.button("Sign out…").clicked() {
            actions.push(Action::SignOut);
            ui.close();
        }
        ui.separator();
        ui.label(RichText::new(format!("Superset Desktop {}", env!("CARGO_PKG_VERSION"))).weak());
    });
}

/// Where worktrees go and what opens a workspace, saved together.
fn work_settings_ui(
    ui: &mut egui::Ui,
    state: &mut UiState,
    saved: &WorkSettings,
    actions: &mut Vec<Action>,
) {
    ui.collapsing("Workspaces", |ui| {
        // Wide enough for a path or a command line; the menu grows to it.
        const FIELD_WIDTH: f32 = 240.0;
        ui.set_min_width(FIELD_WIDTH);
        let form = state.work_settings.get_or_insert_with(|| saved.clone());
        for (label, value, hint) in [
            (
                "Worktrees folder",
                &mut form.worktrees_folder,
                "beside each clone",
            ),
            (
                "Editor command",
                &mut form.editor_command,
                "$VISUAL or $EDITOR",
            ),
            ("Terminal command", &mut form.terminal_command, "$TERMINAL"),
        ] {
            let name = ui.label(label);
            ui.add(
                egui::TextEdit::singleline(value)
                    .hint_text(hint)
                    .desired_width(FIELD_WIDTH),
            )
            .labelled_by(name.id);
        }
        if ui.button("Save").clicked() {
            actions.push(Action::SaveWorkSettings(form.clone()));
        }
    });
}

/// "Live", "Syncing 40%", "Offline since 10:32 · 2 pending", "Sign in again".
pub fn status_text(status: &SyncStatus, pending: usize) -> String {
    let pending = match pending {
        0 => String::new(),
        1 => " · 1 change waiting".to_owned(),
        n => format!(" · {n} changes waiting"),
    };
    match status {
        SyncStatus::Connecting => format!("Connecting…{pending}"),
        SyncStatus::Syncing { live, total } => {
            format!("Syncing {}%{pending}", live * 100 / (*total).max(1))
        }
        SyncStatus::Live => format!("Live{pending}"),
        SyncStatus::Offline { since, .. } => {
            format!("Offline since {}{pending}", clock(*since))
        }
        SyncStatus::NeedsSignIn(_) => "Signed out by the server".to_owned(),
        SyncStatus::Error(_) => format!("Sync stopped{pending}"),
    }
}

/// `HH:MM` in the local time zone when it is known, else UTC.
fn clock(at: OffsetDateTime) -> String {
    let local = at.to_offset(crate::app::clock::local_offset());
    let suffix = if local.offset().is_utc() { " UTC" } else { "" };
    format!("{:02}:{:02}{suffix}", local.hour(), local.minute())
}

fn sync_status(ui: &mut egui::Ui, vm: &ViewModel, status: &SyncStatus, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    let text = status_text(status, vm.pending_writes);
    let color = match status {
        SyncStatus::Live => theme::success(dark),
        SyncStatus::Offline { .. } => theme::warning(dark),
        SyncStatus::NeedsSignIn(_) | SyncStatus::Error(_) => theme::danger(dark),
        _ => theme::muted(ui.visuals()),
    };
    if let SyncStatus::NeedsSignIn(reason) = status
        && ui
            .button("Sign in again")
            .on_hover_text(reason.as_str())
            .clicked()
    {
        actions.push(Action::SignInAgain);
    }
    let response = ui.label(RichText::new(text).color(color));
    if let SyncStatus::Error(reason) | SyncStatus::Offline { reason, .. } = status {
        response.on_hover_text(reason.as_str());
    }
    if matches!(status, SyncStatus::Syncing { .. } | SyncStatus::Connecting) {
        ui.spinner();
    }
}
