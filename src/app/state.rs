//! The window's state that is not the view model: which screen shows, the sign-in form, the
//! panels' own state (selection, search, filters, task forms, prompts, notices), the device
//! settings read from SQLite, and reading the view model with them.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::Connection;

use super::forms::{NewTaskForm, TaskEditor};
use super::theme::ThemeChoice;
use super::view_model::rows::{Filters, TreeRows};
use super::view_model::{Scope, ViewModel};
use crate::gitlink::linking::LinkPrompt;
use crate::invitations::Invitation;
use crate::store;

/// Which screen the window shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    SignIn,
    Main,
}

/// The sign-in form's fields and its last error.
#[derive(Debug, Clone, Default)]
pub struct SignInForm {
    pub server: String,
    pub email: String,
    pub password: String,
    pub busy: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
    pub shown_at: std::time::Instant,
    /// The task whose delete this notice can undo.
    pub undo: Option<String>,
}

/// Good news fades after this long; errors stay until dismissed.
pub(super) const NOTICE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(8);
/// At most this many notices are kept (the newest).
pub(super) const MAX_NOTICES: usize = 3;

/// Exploratory work on a linked folder: the branch to start.
#[derive(Debug, Clone, PartialEq)]
pub struct ExploreForm {
    pub folder_id: String,
    pub branch: String,
}

/// Finishing a workspace: where it lives and what removing its worktree would lose.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishPrompt {
    pub workspace_id: String,
    pub path: Option<String>,
    pub loss: crate::gitlink::worktrees::Loss,
}

/// Device preferences read from `settings`.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub active_organization: Option<String>,
    pub theme: String,
    pub server_url: Option<String>,
    pub device_id: String,
    pub device_name: String,
    /// Desktop notifications on (the default) or off.
    pub notifications: bool,
    /// Where new worktrees go, and the commands that open a workspace (see `WorkSettings`).
    pub work: WorkSettings,
}

/// The workspace preferences: a folder for new worktrees (empty: beside each clone), and the
/// editor and terminal commands (empty: `$VISUAL`/`$EDITOR`, `$TERMINAL`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkSettings {
    pub worktrees_folder: String,
    pub editor_command: String,
    pub terminal_command: String,
}

/// What the panels may change directly: selection, the search box, filters, form buffers.
#[derive(Debug, Clone)]
pub struct UiState {
    pub active_organization: Option<String>,
    pub filters: Filters,
    pub selected_task: Option<String>,
    /// The detail panel shows the selected task (Enter opens it, Esc closes it).
    pub detail_open: bool,
    /// The new-task form, shown in the detail panel while open.
    pub new_task: Option<NewTaskForm>,
    /// Drafts of the selected task's text fields.
    pub editor: TaskEditor,
    /// The keyboard shortcuts overlay (`?`).
    pub show_help: bool,
    pub theme: ThemeChoice,
    /// The path typed into "Link folder…" (for machines without a folder picker).
    pub typed_path: String,
    pub show_link_form: bool,
    pub confirm_sign_out: bool,
    pub link_prompt: Option<LinkPrompt>,
    pub notices: Vec<Notice>,
    /// Organizations inviting the signed-in person, shown until answered.
    pub invitations: Vec<Invitation>,
    /// The folder chosen for "Start work" in the detail panel.
    pub start_folder: Option<String>,
    /// "Switch this checkout instead" of a worktree of its own.
    pub switch_checkout: bool,
    /// The exploratory-work form, while open.
    pub exploring: Option<ExploreForm>,
    /// The question before finishing a workspace, while asked.
    pub finishing: Option<FinishPrompt>,
    /// The workspace preferences being edited in the user menu (`None`: not open yet).
    pub work_settings: Option<WorkSettings>,
    /// The selection moved by keyboard: scroll it into view once.
    pub scroll_to_selection: bool,
    pub busy: Option<String>,
    /// The task tree's rows for the active organization and filters.
    pub tree: TreeRows,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            active_organization: None,
            filters: Filters::default(),
            selected_task: None,
            detail_open: false,
            new_task: None,
            editor: TaskEditor::default(),
            show_help: false,
            theme: ThemeChoice::System,
            typed_path: String::new(),
            show_link_form: false,
            confirm_sign_out: false,
            link_prompt: None,
            notices: Vec::new(),
            invitations: Vec::new(),
            start_folder: None,
            switch_checkout: false,
            exploring: None,
            finishing: None,
            work_settings: None,
            scroll_to_selection: false,
            busy: None,
            tree: TreeRows::default(),
        }
    }
}

/// How many tasks the first screen reads (more than a tall window shows).
const FIRST_SCREEN_TASKS: usize = 400;

pub(super) fn load(
    reader: &Mutex<Option<Connection>>,
    path: &Path,
    me: Option<&str>,
    first_screen: bool,
) -> Result<(ViewModel, Settings), store::StoreError> {
    let mut guard = reader.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        *guard = Some(store::open_reader(path)?);
    }
    let conn = guard.as_ref().expect("opened above");
    let settings = read_settings(conn)?;
    let scope = if first_screen {
        Scope::FirstScreen {
            organization: settings.active_organization.as_deref(),
            tasks: FIRST_SCREEN_TASKS,
        }
    } else {
        Scope::Everything
    };
    let vm = ViewModel::load_scoped(conn, me, scope)?;
    Ok((vm, settings))
}

fn read_settings(conn: &Connection) -> Result<Settings, store::StoreError> {
    let settings = conn.query_row(
        "SELECT active_organization_id, theme, server_url, device_id, device_name, notifications, \
         coalesce(worktrees_folder, ''), coalesce(editor_command, ''), \
         coalesce(terminal_command, '') FROM settings WHERE id = 1",
        [],
        |r| {
            Ok(Settings {
                active_organization: r.get(0)?,
                theme: r.get(1)?,
                server_url: r.get(2)?,
                device_id: r.get(3)?,
                device_name: r
                    .get::<_, Option<String>>(4)?
                    .unwrap_or_else(crate::workspaces::host_name),
                notifications: r.get(5)?,
                work: WorkSettings {
                    worktrees_folder: r.get(6)?,
                    editor_command: r.get(7)?,
                    terminal_command: r.get(8)?,
                },
            })
        },
    )?;
    Ok(settings)
}
