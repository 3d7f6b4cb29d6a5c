//! What a person asked for in a frame. Panels push these; `logic` carries them out after the
//! frame is drawn, on background threads when they touch the disk, git or the network.

use std::path::PathBuf;

use super::theme::ThemeChoice;

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
    SelectTask(Option<String>),
    /// Create (or check out) the task's branch in a linked folder and create the workspace.
    StartWork {
        task_id: String,
        folder_id: String,
    },
    Folder(FolderAction),
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
