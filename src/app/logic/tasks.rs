//! Task writes from the window — create, change, delete and undo, settle a conflict — each one
//! outbox write stored off the UI thread and shown at once through the overlay; and the
//! notifications each fresh view model calls for.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

use super::{Controller, Finished, Written};
use crate::app::actions::TaskAction;
use crate::app::forms::NewTaskForm;
use crate::app::state::Notice;
use crate::outbox::{self, Command};
use crate::store::{self, StoreError};

/// How long a task this window changed is kept from notifications about it.
const OWN_WRITE_MEMORY: Duration = Duration::from_secs(300);

impl Controller {
    pub(super) fn apply_task_action(&mut self, action: TaskAction) {
        match action {
            TaskAction::OpenNewForm => {
                if let Some(organization) = self.ui.active_organization.clone() {
                    self.ui.new_task = Some(NewTaskForm::new(organization));
                    self.ui.detail_open = true;
                }
            }
            TaskAction::CloseNewForm => self.ui.new_task = None,
            write => {
                if let Some(id) = written_task(&write) {
                    self.own_writes.insert(id, Instant::now());
                }
                let key = self.key_of(&write);
                let db = self.database();
                self.background(move || Finished::TaskWritten(store_write(&db, write, key)));
            }
        }
    }

    /// The key shown for the task a write touches (for "Deleted ACME-3").
    fn key_of(&self, write: &TaskAction) -> String {
        match write {
            TaskAction::Delete { id } => self
                .vm
                .task(id)
                .map_or_else(|| "the task".to_owned(), |t| t.key().to_owned()),
            _ => String::new(),
        }
    }

    pub(super) fn on_task_written(&mut self, result: Result<Written, StoreError>) {
        if let Some(engine) = &self.engine {
            engine.outbox_added();
        }
        self.reload();
        match result {
            Ok(Written::Created { id }) => {
                self.ui.new_task = None;
                self.ui.selected_task = Some(id);
                self.ui.detail_open = true;
                self.ui.scroll_to_selection = true;
            }
            Ok(Written::Deleted { id, key }) => {
                if self.ui.selected_task.as_ref() == Some(&id) {
                    self.ui.selected_task = None;
                    self.ui.detail_open = false;
                }
                self.push_notice(Notice {
                    text: format!("Deleted {key}"),
                    error: false,
                    shown_at: Instant::now(),
                    undo: Some(id),
                });
            }
            Ok(Written::Changed | Written::Restored | Written::Settled) => {}
            Err(e) => self.notice(format!("cannot save the change: {e}"), true),
        }
    }

    /// Sends the notifications the newest view model calls for (when they are on).
    pub(super) fn announce(&mut self, synced: bool) {
        self.own_writes
            .retain(|_, at| at.elapsed() < OWN_WRITE_MEMORY);
        let own: HashSet<String> = self.own_writes.keys().cloned().collect();
        let due = self
            .watch
            .observe(&self.vm, self.me.as_deref(), synced, &own);
        if due.is_empty() || !self.settings.notifications {
            return;
        }
        let notifier = self.options.notifier.clone();
        let sender = self.finished_sender.clone();
        let ctx = self.ctx.clone();
        self.options.runtime.spawn_blocking(move || {
            for notification in due {
                if notifier.notify(&notification).is_err() {
                    let _ = sender.send(Finished::NotShown(notification));
                    ctx.request_repaint();
                }
            }
        });
    }
}

/// The task a write changes, if it names one.
fn written_task(write: &TaskAction) -> Option<String> {
    match write {
        TaskAction::Update { id, .. }
        | TaskAction::Delete { id }
        | TaskAction::UndoDelete { id } => Some(id.clone()),
        _ => None,
    }
}

/// Stores `write` in the outbox (on a blocking thread).
fn store_write(db: &Path, write: TaskAction, key: String) -> Result<Written, StoreError> {
    let mut conn = store::open(db)?;
    let parse =
        |id: &str| Uuid::parse_str(id).map_err(|_| StoreError::BadChange(format!("no task {id}")));
    match write {
        TaskAction::Create {
            organization_id,
            mut fields,
        } => {
            let id = Uuid::new_v4();
            fields.insert("organization_id".into(), Value::String(organization_id));
            outbox::enqueue(&mut conn, Command::CreateTask { id, fields })?;
            Ok(Written::Created { id: id.to_string() })
        }
        TaskAction::Update {
            id,
            fields,
            expected,
        } => {
            let id = parse(&id)?;
            outbox::enqueue(
                &mut conn,
                Command::UpdateTask {
                    id,
                    fields,
                    expected,
                },
            )?;
            Ok(Written::Changed)
        }
        TaskAction::Delete { id } => {
            outbox::enqueue(&mut conn, Command::DeleteTask { id: parse(&id)? })?;
            Ok(Written::Deleted { id, key })
        }
        TaskAction::UndoDelete { id } => {
            outbox::undo_delete(&mut conn, parse(&id)?)?;
            Ok(Written::Restored)
        }
        TaskAction::Resolve {
            entry_id,
            resolution,
        } => {
            outbox::resolve(&mut conn, entry_id, resolution)?;
            Ok(Written::Settled)
        }
        TaskAction::OpenNewForm | TaskAction::CloseNewForm => Ok(Written::Changed),
    }
}
