//! The task forms' buffers and what they turn into: the new-task form, and the drafts of the
//! detail panel's text fields (title, description, labels, due date) while they are edited.
//! Checking happens here, in the person's words, before anything is written; nothing here
//! draws or does I/O.

use serde_json::{Map, Value, json};
use time::Date;
use time::macros::format_description;

use super::view_model::Status;

/// Why a form cannot be saved yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("give the task a title")]
    NoTitle,
    #[error("write the due date as year-month-day, like 2026-12-31")]
    BadDate,
    #[error("the title is too long (at most 500 characters)")]
    TitleTooLong,
}

/// Longest title the server takes.
const TITLE_LIMIT: usize = 500;

/// The new-task form in the detail panel.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTaskForm {
    pub organization_id: String,
    pub title: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub assignee_id: Option<String>,
    pub repository_id: Option<String>,
    /// Comma-separated.
    pub labels: String,
    /// `YYYY-MM-DD`, or empty.
    pub due_date: String,
    pub error: Option<FormError>,
    /// Put the caret in the title on the next frame.
    pub focus_title: bool,
}

impl NewTaskForm {
    pub fn new(organization_id: String) -> Self {
        Self {
            organization_id,
            title: String::new(),
            description: String::new(),
            status: "Todo".to_owned(),
            priority: "none".to_owned(),
            assignee_id: None,
            repository_id: None,
            labels: String::new(),
            due_date: String::new(),
            error: None,
            focus_title: true,
        }
    }

    /// The fields of the create, with the chosen status's colour from `statuses`.
    pub fn fields(&self, statuses: &[Status]) -> Result<Map<String, Value>, FormError> {
        let title = checked_title(&self.title)?;
        let due_date = parse_due_date(&self.due_date)?;
        let mut fields = Map::new();
        fields.insert("title".into(), json!(title));
        fields.insert("status".into(), json!(self.status));
        if let Some(color) = color_of(statuses, &self.status) {
            fields.insert("status_color".into(), json!(color));
        }
        fields.insert("priority".into(), json!(self.priority));
        let description = self.description.trim();
        if !description.is_empty() {
            fields.insert("description".into(), json!(description));
        }
        if let Some(id) = &self.assignee_id {
            fields.insert("assignee_id".into(), json!(id));
        }
        if let Some(id) = &self.repository_id {
            fields.insert("repository_id".into(), json!(id));
        }
        let labels = parse_labels(&self.labels);
        if !labels.is_empty() {
            fields.insert("labels".into(), json!(labels));
        }
        if let Some(date) = due_date {
            fields.insert("due_date".into(), json!(date));
        }
        Ok(fields)
    }
}

/// A text field of the detail panel being edited, with the value it started from (what the
/// update is based on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub text: String,
    pub based_on: String,
    /// Put the caret here on the next frame.
    pub focus: bool,
}

impl Draft {
    pub fn of(value: &str) -> Self {
        Self {
            text: value.to_owned(),
            based_on: value.to_owned(),
            focus: true,
        }
    }
}

/// The detail panel's drafts for the selected task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskEditor {
    /// Whose drafts these are; another task's selection drops them.
    pub task_id: Option<String>,
    pub title: Option<Draft>,
    pub description: Option<Draft>,
    pub due_date: Option<Draft>,
    /// The label being typed.
    pub new_label: String,
    pub error: Option<FormError>,
}

impl TaskEditor {
    /// Drops drafts of another task than `task_id`.
    pub fn follow(&mut self, task_id: &str) {
        if self.task_id.as_deref() != Some(task_id) {
            *self = TaskEditor {
                task_id: Some(task_id.to_owned()),
                ..TaskEditor::default()
            };
        }
    }
}

/// One field's change and the value it was based on.
pub fn change(
    field: &str,
    value: Value,
    based_on: Value,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut fields = Map::new();
    fields.insert(field.to_owned(), value);
    let mut expected = Map::new();
    expected.insert(field.to_owned(), based_on);
    (fields, expected)
}

/// The title without surrounding blanks, or why it cannot be one.
pub fn checked_title(title: &str) -> Result<&str, FormError> {
    let title = title.trim();
    if title.is_empty() {
        Err(FormError::NoTitle)
    } else if title.chars().count() > TITLE_LIMIT {
        Err(FormError::TitleTooLong)
    } else {
        Ok(title)
    }
}

/// `None` for an empty field, else the date written `YYYY-MM-DD`.
pub fn parse_due_date(text: &str) -> Result<Option<String>, FormError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date = Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| FormError::BadDate)?;
    Ok(Some(date.to_string()))
}

/// Labels written with commas: trimmed, without empties or repeats.
pub fn parse_labels(text: &str) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for label in text.split(',').map(str::trim).filter(|l| !l.is_empty()) {
        if !labels.iter().any(|l| l == label) {
            labels.push(label.to_owned());
        }
    }
    labels
}

/// `#rrggbb` of the status named `name`, when it has a colour.
pub fn color_of(statuses: &[Status], name: &str) -> Option<String> {
    let [r, g, b] = statuses.iter().find(|s| s.name == name)?.color?;
    Some(format!("#{r:02x}{g:02x}{b:02x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_alone_makes_a_task() {
        let mut form = NewTaskForm::new("org".into());
        assert_eq!(form.fields(&[]), Err(FormError::NoTitle));
        form.title = "  Fix the login  ".into();
        let fields = form.fields(&[]).unwrap();
        assert_eq!(fields["title"], "Fix the login");
        assert_eq!(fields["status"], "Todo");
        assert!(!fields.contains_key("labels"));
        assert!(!fields.contains_key("due_date"));
    }

    #[test]
    fn optional_fields_are_checked_and_carried() {
        let mut form = NewTaskForm::new("org".into());
        form.title = "T".into();
        form.labels = "bug, ui,, bug ".into();
        form.due_date = "2026-12-31".into();
        let statuses = [Status {
            name: "Todo".into(),
            color: Some([0xe2, 0xe2, 0xe2]),
        }];
        let fields = form.fields(&statuses).unwrap();
        assert_eq!(fields["labels"], json!(["bug", "ui"]));
        assert_eq!(fields["due_date"], "2026-12-31");
        assert_eq!(fields["status_color"], "#e2e2e2");
        form.due_date = "31/12/2026".into();
        assert_eq!(form.fields(&statuses), Err(FormError::BadDate));
        assert_eq!(
            FormError::BadDate.to_string(),
            "write the due date as year-month-day, like 2026-12-31"
        );
    }

    #[test]
    fn a_draft_belongs_to_one_task() {
        let mut editor = TaskEditor::default();
        editor.follow("a");
        editor.title = Some(Draft::of("Old"));
        editor.follow("a");
        assert!(editor.title.is_some());
        editor.follow("b");
        assert!(editor.title.is_none());
    }
}
