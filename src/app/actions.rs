//! What a person asked for in a frame. Panels push these; `logic` carries them out after the
//! frame is drawn, on background threads when they touch the disk, git or the network.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::theme::ThemeChoice;
use crate::outbox::Resolution;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SignIn {
        server: String,
        email: String,
        password: String,
    },
    /// Asks to sign out (the window confirms first, saying what would be lost).
    SignOut,
    /// The server ended the session: show the sign-in screen, keeping the synced data.
    SignInAgain,
    ConfirmSignOut,
    CancelSignOut,
    SelectOrganization(String),
    SetTheme(ThemeChoice),
    /// Selects a task and opens it in the detail panel (`None`: clear and close).
    SelectTask(Option<String>),
    /// Create (or check out) the task's branch in a linked folder and create the workspace.
    StartWork {
        task_id: String,
        folder_id: String,
    },
    Folder(FolderAction),
    Task(TaskAction),
    /// Turns desktop notifications on or off.
    SetNotifications(bool),
    /// Shows the keyboard shortcuts.
    ShowHelp,
    DismissNotice(usize),
    /// Accept (or decline) an invitation to an organization.
    AnswerInvitation {
        id: uuid::Uuid,
        accept: bool,
    },
}

/// Linking this device's folders to the organization's repositories.
#[derive(Debug, Clone, PartialEq)]
pub enum FolderAction {
    /// Open the folder picker.
    Browse,
    /// Link the folder at this path (typed, or from the picker).
    Link(PathBuf),
    /// Settle a link that matched several repositories, or none (`None`: keep as a local
    /// project).
    ChooseRepository {
        repository_id: Option<String>,
    },
    CancelPrompt,
    Unlink {
        folder_id: String,
    },
}

/// Creating, changing and deleting tasks (each change one outbox write, shown at once).
#[derive(Debug, Clone, PartialEq)]
pub enum TaskAction {
    /// Open the new-task form in the detail panel.
    OpenNewForm,
    CloseNewForm,
    /// Create a task in `organization_id` with these fields (title at least).
    Create {
        organization_id: String,
        fields: Map<String, Value>,
    },
    /// Change `fields` of task `id`, based on the `expected` values the person saw.
    Update {
        id: String,
        fields: Map<String, Value>,
        expected: Map<String, Value>,
    },
    Delete {
        id: String,
    },
    UndoDelete {
        id: String,
    },
    /// Settle a write a teammate's change overtook.
    Resolve {
        entry_id: i64,
        resolution: Resolution,
    },
}
