//! The task field pickers the new-task form and the detail panel share: status (with its
//! colour), priority, assignee (with avatars) and suggested repository. Each draws a labelled
//! row of a two-column grid and returns the new choice when the person made one; the caller
//! decides whether that edits a form or becomes a write.

use eframe::egui::{self, RichText};

use super::widgets::{avatar, dot};
use crate::app::avatars::Avatars;
use crate::app::theme;
use crate::app::view_model::{Status, ViewModel};

pub const PRIORITIES: [&str; 5] = ["urgent", "high", "medium", "low", "none"];

/// A grid row: `label` on the left, `add` on the right, the widget named by the label.
pub fn field_row<R>(
    ui: &mut egui::Ui,
    label: &str,
    add: impl FnOnce(&mut egui::Ui) -> (egui::Response, R),
) -> R {
    let label = ui.label(RichText::new(label).weak());
    let (response, value) = add(ui);
    response.labelled_by(label.id);
    ui.end_row();
    value
}

pub fn status_picker(
    ui: &mut egui::Ui,
    id: &str,
    statuses: &[Status],
    current: &str,
    current_color: Option<[u8; 3]>,
) -> Option<Status> {
    let mut chosen = None;
    field_row(ui, "Status", |ui| {
        let shown = ui.horizontal(|ui| {
            dot(ui, theme::status(current_color), current);
            egui::ComboBox::from_id_salt((id, "status"))
                .selected_text(current)
                .width(150.0)
                .show_ui(ui, |ui| {
                    for status in statuses {
                        ui.horizontal(|ui| {
                            dot(ui, theme::status(status.color), &status.name);
                            if ui
                                .selectable_label(status.name == current, &status.name)
                                .clicked()
                                && status.name != current
                            {
                                chosen = Some(status.clone());
                            }
                        });
                    }
                })
                .response
        });
        (shown.inner, ())
    });
    chosen
}

pub fn priority_picker(ui: &mut egui::Ui, id: &str, current: &str) -> Option<&'static str> {
    let dark = ui.visuals().dark_mode;
    let mut chosen = None;
    field_row(ui, "Priority", |ui| {
        let response = egui::ComboBox::from_id_salt((id, "priority"))
            .selected_text(RichText::new(current).color(theme::priority(current, dark)))
            .width(150.0)
            .show_ui(ui, |ui| {
                for priority in PRIORITIES {
                    let text = RichText::new(priority).color(theme::priority(priority, dark));
                    if ui.selectable_label(priority == current, text).clicked()
                        && priority != current
                    {
                        chosen = Some(priority);
                    }
                }
            })
            .response;
        (response, ())
    });
    chosen
}

/// The organization's members to choose an assignee from, and "Assign to me" beside the picker
/// — or on a row of its own when the panel is too narrow for both; `Some(None)` unassigns.
pub fn assignee_picker(
    ui: &mut egui::Ui,
    id: &str,
    vm: &ViewModel,
    avatars: &Avatars,
    organization: &str,
    current: Option<&str>,
) -> Option<Option<String>> {
    let name_of = |id| person_name(vm, id);
    let me = (vm.me.as_ref().map(|m| m.id.as_str())).filter(|me| current != Some(*me));
    let mut chosen = None;
    let mut own_row = false;
    field_row(ui, "Assignee", |ui| {
        let shown = ui.horizontal(|ui| {
            if let Some(id) = current {
                avatar(ui, vm, avatars, id, name_of(id));
            }
            let response = egui::ComboBox::from_id_salt((id, "assignee"))
                .selected_text(current.map_or("Unassigned", name_of))
                .width(150.0)
                .show_ui(ui, |ui| {
                    chosen = member_choices(ui, vm, avatars, organization, current);
                })
                .response;
            own_row = me.is_some() && !fits_beside(ui, ASSIGN_TO_ME);
            if let Some(me) = me.filter(|_| !own_row)
                && ui.small_button(ASSIGN_TO_ME).clicked()
            {
                chosen = Some(Some(me.to_owned()));
            }
            response
        });
        (shown.inner, ())
    });
    if let Some(me) = me.filter(|_| own_row) {
        ui.label("");
        if ui.small_button(ASSIGN_TO_ME).clicked() {
            chosen = Some(Some(me.to_owned()));
        }
        ui.end_row();
    }
    chosen
}

const ASSIGN_TO_ME: &str = "Assign to me";

fn person_name<'a>(vm: &'a ViewModel, id: &str) -> &'a str {
    vm.people.get(id).map_or("someone", |p| p.name.as_str())
}

/// The assignee menu's entries: "Unassigned" and each member, with their avatars.
fn member_choices(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    organization: &str,
    current: Option<&str>,
) -> Option<Option<String>> {
    let name_of = |id| person_name(vm, id);
    let mut chosen = None;
    if ui
        .selectable_label(current.is_none(), "Unassigned")
        .clicked()
        && current.is_some()
    {
        chosen = Some(None);
    }
    for member in vm.members.get(organization).into_iter().flatten() {
        ui.horizontal(|ui| {
            avatar(ui, vm, avatars, member, name_of(member));
            let is_current = current == Some(member.as_str());
            if ui.selectable_label(is_current, name_of(member)).clicked() && !is_current {
                chosen = Some(Some(member.clone()));
            }
        });
    }
    chosen
}

/// Whether a small button labelled `text` fits in what is left of the current row.
fn fits_beside(ui: &egui::Ui, text: &str) -> bool {
    let galley = egui::WidgetText::from(text).into_galley(
        ui,
        Some(egui::TextWrapMode::Extend),
        f32::INFINITY,
        egui::TextStyle::Button,
    );
    let spacing = ui.spacing();
    let needed = galley.size().x + 2.0 * spacing.button_padding.x + spacing.item_spacing.x;
    ui.available_width() >= needed
}

/// The organization's repositories to suggest; `Some(None)` suggests none.
pub fn repository_picker(
    ui: &mut egui::Ui,
    id: &str,
    vm: &ViewModel,
    organization: &str,
    current: Option<&str>,
) -> Option<Option<String>> {
    let mut chosen = None;
    let name = current
        .and_then(|id| vm.repository(id))
        .map_or("None", |r| r.name.as_str());
    field_row(ui, "Repository", |ui| {
        let response = egui::ComboBox::from_id_salt((id, "repository"))
            .selected_text(name)
            .width(150.0)
            .show_ui(ui, |ui| {
                if ui.selectable_label(current.is_none(), "None").clicked() && current.is_some() {
                    chosen = Some(None);
                }
                for repository in vm
                    .repositories
                    .iter()
                    .filter(|r| r.organization_id == organization)
                {
                    let is_current = current == Some(repository.id.as_str());
                    if ui.selectable_label(is_current, &repository.name).clicked() && !is_current {
                        chosen = Some(Some(repository.id.clone()));
                    }
                }
            })
            .response;
        (response, ())
    });
    chosen
}
