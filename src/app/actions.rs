//! What a person asked for in a frame. Panels push these; `logic` carries them out after the
//! frame is drawn, on background threads when they touch the disk, git or the network.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::state::WorkSettings;
use super::theme::ThemeChoice;
use crate::outbox::Resolution;
use crate::workspaces::open::How;
use crate::workspaces::start::Mode;

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
    Folder(FolderAction),
    Work(WorkAction),
    Task(TaskAction),
    /// Turns desktop notifications on or off.
    SetNotifications(bool),
    /// Shows the keyboard shortcuts.
    ShowHelp,
    /// Saves where worktrees go and what opens a workspace.
    SaveWorkSettings(WorkSettings),
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

/// Starting, finishing and opening this device's workspaces.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkAction {
    /// Start work on the task in a linked folder: a worktree of its own, or the clone switched.
    Start {
        task_id: String,
        folder_id: String,
        mode: Mode,
    },
    /// Open the exploratory-work form for a linked folder.
    AskExplore {
        folder_id: String,
    },
    /// Start exploratory work (no task) on `branch` in a linked folder.
    Explore {
        folder_id: String,
        branch: String,
    },
    CancelExplore,
    /// Ask how to finish a workspace (what removing its worktree would lose).
    AskFinish {
        workspace_id: String,
    },
    /// Archive it; remove its worktree too when `remove` and nothing would be lost.
    Finish {
        workspace_id: String,
        remove: bool,
    },
    CancelFinish,
    /// Open it in the editor, a terminal or the file manager.
    Open {
        workspace_id: String,
        how: How,
    },
    /// Make its worktree again where it was (its folder is gone).
    Recreate {
        workspace_id: String,
    },
}
