//! The selected task, edited in place: title (click it, or `E`), status, priority, assignee,
//! repository, labels, due date and description. Each change is one write, based on the value
//! shown when the edit began. Fields a tracker owns (Linear) are shown read-only with a link
//! to edit them there, so an edit is never silently overwritten by its next webhook.

use eframe::egui::{self, RichText};
use serde_json::{Value, json};

use super::pickers::{
    assignee_picker, field_row, priority_picker, repository_picker, status_picker,
};
use super::widgets::{avatar, badge, dot, take_key};
use crate::app::actions::{Action, TaskAction};
use crate::app::avatars::Avatars;
use crate::app::forms::{self, Draft, TaskEditor, checked_title, parse_due_date};
use crate::app::theme;
use crate::app::view_model::{Shared, Task, ViewModel};
use crate::protocol::is_web_link;

/// The id of the title's text field while it is edited.
pub fn title_edit_id() -> egui::Id {
    egui::Id::unique("task-title-edit")
}

/// Pushes the write of one field of `task`, based on `based_on`.
fn update(actions: &mut Vec<Action>, task: &Task, field: &str, value: Value, based_on: Value) {
    let (fields, expected) = forms::change(field, value, based_on);
    actions.push(Action::Task(TaskAction::Update {
        id: task.id().to_owned(),
        fields,
        expected,
    }));
}

/// What an optional text field held: null when it was empty.
fn optional(text: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        json!(text)
    }
}

pub fn task_editor_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    task: &Task,
    editor: &mut TaskEditor,
    actions: &mut Vec<Action>,
) {
    editor.follow(task.id());
    header_ui(ui, task, actions);
    let owner = task.owner();
    match &owner {
        Some(_) => {
            ui.label(RichText::new(task.title()).size(18.0).strong());
        }
        None => title_ui(ui, task, editor, actions),
    }
    egui::Grid::new("task-fields")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            match &owner {
                Some(_) => owned_fields_ui(ui, vm, avatars, task),
                None => editable_fields_ui(ui, vm, avatars, task, editor, actions),
            }
            let current = task.repository_id.as_deref();
            if let Some(repository) =
                repository_picker(ui, "task", vm, &task.organization_id, current)
            {
                update(
                    actions,
                    task,
                    "repository_id",
                    json!(repository),
                    json!(current),
                );
            }
        });
    if let Some(owner) = owner {
        owned_note_ui(ui, task, &owner);
    }
    if let Some(error) = &editor.error {
        ui.label(RichText::new(error.to_string()).color(theme::danger(ui.visuals().dark_mode)));
    }
    ui.add_space(6.0);
    description_ui(ui, task, editor, actions, task.owner().is_none());
}

/// Key, "saving…", Delete and Close.
fn header_ui(ui: &mut egui::Ui, task: &Task, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    ui.horizontal(|ui| {
        ui.label(RichText::new(task.key()).weak().monospace());
        if task.pending {
            badge(ui, "saving…", theme::warning(dark));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("Close").clicked() {
                actions.push(Action::SelectTask(None));
            }
            if task.owner().is_none() && ui.small_button("Delete task").clicked() {
                actions.push(Action::Task(TaskAction::Delete {
                    id: task.id().to_owned(),
                }));
            }
        });
    });
}

/// The title as a heading; clicking it (or `E`) edits it in place.
fn title_ui(ui: &mut egui::Ui, task: &Task, editor: &mut TaskEditor, actions: &mut Vec<Action>) {
    let Some(draft) = &mut editor.title else {
        let heading = ui
            .add(
                egui::Label::new(RichText::new(task.title()).size(18.0).strong())
                    .sense(egui::Sense::click()),
            )
            .on_hover_text("Click, or press E, to edit the title");
        if heading.clicked() {
            editor.title = Some(Draft::of(task.title()));
        }
        return;
    };
    let label = ui.label(RichText::new("Title").weak());
    let response = ui
        .add(
            egui::TextEdit::singleline(&mut draft.text)
                .id(title_edit_id())
                .font(egui::TextStyle::Heading)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
    if std::mem::take(&mut draft.focus) {
        response.request_focus();
    }
    if !response.lost_focus() {
        return;
    }
    if take_key(ui, egui::Key::Escape) {
        editor.title = None;
        return;
    }
    take_key(ui, egui::Key::Enter);
    match checked_title(&draft.text) {
        Ok(title) => {
            if title != draft.based_on {
                update(actions, task, "title", json!(title), json!(draft.based_on));
            }
            editor.title = None;
            editor.error = None;
        }
        Err(error) => editor.error = Some(error),
    }
}

fn editable_fields_ui(
    ui: &mut egui::Ui,
    vm: &ViewModel,
    avatars: &Avatars,
    task: &Task,
    editor: &mut TaskEditor,
    actions: &mut Vec<Action>,
) {
    let statuses = vm.status_choices(&task.organization_id);
    if let Some(status) = status_picker(ui, "task", &statuses, &task.status, task.status_color) {
        let (mut fields, expected) =
            forms::change("status", json!(status.name), json!(task.status));
        if let Some(color) = forms::color_of(&statuses, &status.name) {
            fields.insert("status_color".into(), json!(color));
        }
        actions.push(Action::Task(TaskAction::Update {
            id: task.id().to_owned(),
            fields,
            expected,
        }));
    }
    if let Some(priority) = priority_picker(ui, "task", &task.priority) {
        update(
            actions,
            task,
            "priority",
            json!(priority),
            json!(task.priority),
        );
    }
    let org = &task.organization_id;
    if let Some(assignee) =
        assignee_picker(ui, "task", vm, avatars, org, task.assignee_id.as_deref())
    {
        update(
            actions,
            task,
            "assignee_id",
            json!(assignee),
            json!(task.assignee_id),
        );
    }
    labels_row(ui, task, editor, actions);
    due_date_row(ui, task, editor, actions);
}

/// Labels as badges with a remove button each, and a field to add one.
fn labels_row(ui: &mut egui::Ui, task: &Task, editor: &mut TaskEditor, actions: &mut Vec<Action>) {
    let dark = ui.visuals().dark_mode;
    field_row(ui, "Labels", |ui| {
        let shown = ui.horizontal_wrapped(|ui| {
            for label in &task.labels {
                badge(ui, label, theme::accent(dark));
                if ui
                    .small_button("×")
                    .on_hover_text(format!("Remove {label}"))
                    .clicked()
                {
                    let kept: Vec<&Shared> = task.labels.iter().filter(|l| *l != label).collect();
                    update(actions, task, "labels", json!(kept), json!(task.labels));
                }
            }
            let response = ui.add(
                egui::TextEdit::singleline(&mut editor.new_label)
                    .hint_text("Add label")
                    .desired_width(100.0),
            );
            if response.lost_focus() && take_key(ui, egui::Key::Enter) {
                let added = forms::parse_labels(&editor.new_label);
                let mut labels = task.labels.to_vec();
                labels.extend(
                    added
                        .into_iter()
                        .filter(|l| !task.labels.iter().any(|known| known == l))
                        .map(Shared::from),
                );
                if labels[..] != task.labels[..] {
                    update(actions, task, "labels", json!(labels), json!(task.labels));
                }
                editor.new_label.clear();
            }
            response
        });
        (shown.inner, ())
    });
}

/// The due date: shown, set in a text field (Enter saves), or cleared.
fn due_date_row(
    ui: &mut egui::Ui,
    task: &Task,
    editor: &mut TaskEditor,
    actions: &mut Vec<Action>,
) {
    field_row(ui, "Due date", |ui| {
        let shown = ui.horizontal(|ui| {
            let Some(draft) = &mut editor.due_date else {
                let text = task.due_date.as_deref().unwrap_or("none");
                let response = ui.label(text);
                if ui.small_button("Change").clicked() {
                    editor.due_date = Some(Draft::of(task.due_date.as_deref().unwrap_or("")));
                }
                if task.due_date.is_some() && ui.small_button("Clear").clicked() {
                    update(actions, task, "due_date", Value::Null, json!(task.due_date));
                }
                return response;
            };
            let response = ui.add(
                egui::TextEdit::singleline(&mut draft.text)
                    .hint_text("2026-12-31")
                    .desired_width(110.0),
            );
            if std::mem::take(&mut draft.focus) {
                response.request_focus();
            }
            if response.lost_focus() {
                let escape = take_key(ui, egui::Key::Escape);
                take_key(ui, egui::Key::Enter);
                match parse_due_date(&draft.text) {
                    _ if escape => editor.due_date = None,
                    Ok(date) => {
                        if date.as_deref() != task.due_date.as_deref() {
                            update(
                                actions,
                                task,
                                "due_date",
                                json!(date),
                                optional(&draft.based_on),
                            );
                        }
                        editor.due_date = None;
                        editor.error = None;
                    }
                    Err(error) => editor.error = Some(error),
                }
            }
            response
        });
        (shown.inner, ())
    });
}

/// A tracker's task: its fields as they are, not editable here.
fn owned_fields_ui(ui: &mut egui::Ui, vm: &ViewModel, avatars: &Avatars, task: &Task) {
    let dark = ui.visuals().dark_mode;
    field_row(ui, "Status", |ui| {
        let shown = ui.horizontal(|ui| {
            dot(ui, theme::status(task.status_color), &task.status);
            ui.label(task.status.as_str())
        });
        (shown.inner, ())
    });
    field_row(ui, "Priority", |ui| {
        let text =
            RichText::new(task.priority.as_str()).color(theme::priority(&task.priority, dark));
        (ui.label(text), ())
    });
    field_row(ui, "Assignee", |ui| {
        let shown = ui.horizontal(|ui| match (&task.assignee_id, &task.assignee_name) {
            (Some(id), Some(name)) => {
                avatar(ui, vm, avatars, id, name);
                ui.label(name.as_str())
            }
            _ => ui.label(RichText::new("unassigned").weak()),
        });
        (shown.inner, ())
    });
    field_row(ui, "Labels", |ui| {
        let shown = ui.horizontal_wrapped(|ui| {
            for label in &task.labels {
                badge(ui, label, theme::accent(dark));
            }
            ui.label(if task.labels.is_empty() { "none" } else { "" })
        });
        (shown.inner, ())
    });
    field_row(ui, "Due date", |ui| {
        (ui.label(task.due_date.as_deref().unwrap_or("none")), ())
    });
}

/// Says who owns the fields, with a link to edit them there.
fn owned_note_ui(ui: &mut egui::Ui, task: &Task, owner: &str) {
    ui.add_space(4.0);
    ui.label(
        RichText::new(format!(
            "This task comes from {owner}: its title, status, priority, assignee, labels, due \
             date and description are edited there, and show here as soon as they change."
        ))
        .weak(),
    );
    if let Some(url) = task.external_url().filter(|u| is_web_link(u)) {
        ui.hyperlink_to(format!("Open in {owner}"), url);
    }
}

/// The description; "Edit description" opens a multi-line editor (Save, or Ctrl+Enter).
fn description_ui(
    ui: &mut egui::Ui,
    task: &Task,
    editor: &mut TaskEditor,
    actions: &mut Vec<Action>,
    editable: bool,
) {
    let current = task.description().unwrap_or("");
    let Some(draft) = &mut editor.description else {
        match current {
            "" => ui.label(RichText::new("No description.").weak()),
            text => ui.label(text),
        };
        if editable && ui.small_button("Edit description").clicked() {
            editor.description = Some(Draft::of(current));
        }
        return;
    };
    let label = ui.label(RichText::new("Description").weak());
    let response = ui
        .add(
            egui::TextEdit::multiline(&mut draft.text)
                .desired_rows(6)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
    if std::mem::take(&mut draft.focus) {
        response.request_focus();
    }
    let shortcut = response.has_focus()
        && ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Enter));
    let (save, cancel) = ui
        .horizontal(|ui| (ui.button("Save").clicked(), ui.button("Cancel").clicked()))
        .inner;
    if save || shortcut {
        let text = draft.text.trim();
        let value = if text.is_empty() {
            Value::Null
        } else {
            json!(text)
        };
        if value != json!(task.description()) {
            update(
                actions,
                task,
                "description",
                value,
                optional(&draft.based_on),
            );
        }
    }
    if save || shortcut || cancel {
        editor.description = None;
    }
}
