//! Why a command failed, in words (printed on stderr; the process exits non-zero).

use crate::gitlink::linking::LinkError;
use crate::profile::ProfileError;
use crate::store::StoreError;
use crate::sync::requests::RequestError;
use crate::sync::session::SessionError;
use crate::workspaces::WorkError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sync stopped: {0}")]
    Sync(String),
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Work(#[from] WorkError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("the server refused the change: {0}")]
    Refused(String),
    #[error("{0}")]
    Ask(String),
    #[error("you are in no organization yet: accept an invitation (`superset invitations`)")]
    NoOrganization,
}
