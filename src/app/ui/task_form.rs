//! The new-task form in the detail panel: the title (focused; Enter creates, Esc cancels) and
//! the optional status, priority, assignee, repository, labels, due date and description.

use eframe::egui::{self, RichText};

use super::pickers::{
    assignee_picker, field_row, priority_picker, repository_picker, status_picker,
};
use super::widgets::take_key;
use crate::app::actions::{Action, TaskAction};
use crate::app::avatars::Avatars;
use crate::app::forms::NewTaskForm;
use crate::app::theme;
use crate::app::view_model::ViewModel;

/// The id of the title field, so tests and the form itself can focus it.
pub fn title_id() -> egui::Id {
    egui::Id::unique("new-task-title")
}

pub fn new_task_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    form: &mut NewTaskForm,
    actions: &mut Vec<Action>,
) {
    let organization = vm
        .organizations
        .iter()
        .find(|o| o.id == form.organization_id)
        .map_or("", |o| o.name.as_str());
    ui.heading("New task");
    ui.label(RichText::new(format!("in {organization}")).weak());
    ui.add_space(6.0);
    let statuses = vm.status_choices(&form.organization_id);
    let mut submit = false;
    egui::Grid::new("new-task-fields")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            submit |= title_row(ui, form, actions);
            let color = statuses
                .iter()
                .find(|s| s.name == form.status)
                .and_then(|s| s.color);
            if let Some(status) = status_picker(ui, "new-task", &statuses, &form.status, color) {
                form.status = status.name;
            }
            if let Some(priority) = priority_picker(ui, "new-task", &form.priority) {
                form.priority = priority.to_owned();
            }
            let org = form.organization_id.clone();
            if let Some(assignee) = assignee_picker(
                ui,
                "new-task",
                vm,
                avatars,
                &org,
                form.assignee_id.as_deref(),
            ) {
                form.assignee_id = assignee;
            }
            if let Some(repository) =
                repository_picker(ui, "new-task", vm, &org, form.repository_id.as_deref())
            {
                form.repository_id = repository;
            }
            submit |= text_row(ui, "Labels", &mut form.labels, "bug, design");
            submit |= text_row(ui, "Due date", &mut form.due_date, "2026-12-31");
        });
    ui.label(RichText::new("Description").weak());
    ui.add(
        egui::TextEdit::multiline(&mut form.description)
            .desired_rows(4)
            .desired_width(f32::INFINITY)
            .hint_text("Optional"),
    );
    if let Some(error) = &form.error {
        ui.label(RichText::new(error.to_string()).color(theme::danger(ui.visuals().dark_mode)));
    }
    ui.horizontal(|ui| {
        submit |= ui.button("Create task").clicked();
        if ui.button("Cancel").clicked() {
            actions.push(Action::Task(TaskAction::CloseNewForm));
        }
    });
    if submit {
        match form.fields(&statuses) {
            Ok(fields) => actions.push(Action::Task(TaskAction::Create {
                organization_id: form.organization_id.clone(),
                fields,
            })),
            Err(error) => form.error = Some(error),
        }
    }
}

/// The title: focused when the form opens; Enter submits, Esc cancels.
fn title_row(ui: &mut egui::Ui, form: &mut NewTaskForm, actions: &mut Vec<Action>) -> bool {
    field_row(ui, "Title", |ui| {
        let response = ui.add(
            egui::TextEdit::singleline(&mut form.title)
                .id(title_id())
                .hint_text("What needs doing?")
                .desired_width(f32::INFINITY),
        );
        if std::mem::take(&mut form.focus_title) {
            response.request_focus();
        }
        if !response.lost_focus() {
            return (response, false);
        }
        if take_key(ui, egui::Key::Escape) {
            actions.push(Action::Task(TaskAction::CloseNewForm));
        }
        let submit = take_key(ui, egui::Key::Enter);
        (response, submit)
    })
}

/// A one-line text row; Enter in it submits the form.
fn text_row(ui: &mut egui::Ui, label: &str, text: &mut String, hint: &str) -> bool {
    field_row(ui, label, |ui| {
        let response = ui.add(
            egui::TextEdit::singleline(text)
                .hint_text(hint)
                .desired_width(f32::INFINITY),
        );
        let submit = response.lost_focus() && take_key(ui, egui::Key::Enter);
        (response, submit)
    })
}
