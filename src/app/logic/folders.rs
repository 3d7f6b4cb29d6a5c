//! Linking this device's folders to the organization's repositories, and answering
//! invitations.

use super::{Controller, Finished};
use crate::app::actions::FolderAction;
use crate::app::folders;
use crate::gitlink::linking::{self, LinkError, LinkOutcome};
use crate::invitations;
use crate::sync::requests::Api;

impl Controller {
    pub(super) fn on_linked(&mut self, result: Result<LinkOutcome, LinkError>) {
        self.ui.busy = None;
        match result {
            Ok(LinkOutcome::Linked { repository }) => {
                self.ui.show_link_form = false;
                self.ui.typed_path.clear();
                self.notice(format!("linked to {repository}"), false);
                self.reload();
            }
            Ok(LinkOutcome::KeptLocal { path }) => {
                self.ui.show_link_form = false;
                self.notice(format!("{path} is kept as a local project"), false);
                self.reload();
            }
            Ok(LinkOutcome::Unlinked) => self.reload(),
            Ok(LinkOutcome::Ask(prompt)) => self.ui.link_prompt = Some(prompt),
            Err(e) => self.notice(e.to_string(), true),
        }
    }

    /// Linking, settling and forgetting folders.
    pub(super) fn apply_folder_action(&mut self, action: FolderAction) {
        let db = self.database();
        let device = self.settings.device_id.clone();
        match action {
            FolderAction::Browse => {
                self.ui.busy = Some("Waiting for the folder picker…".into());
                let sender = self.finished_sender.clone();
                let ctx = self.ctx.clone();
                // The picker blocks until the user chooses; it runs on its own thread.
                std::thread::spawn(move || {
                    let picked = folders::pick_folder();
                    let _ = sender.send(Finished::FolderPicked(picked));
                    ctx.request_repaint();
                });
            }
            FolderAction::Link(path) => {
                self.ui.busy = Some(format!("Reading {}…", path.display()));
                self.background(move || Finished::Linked(linking::link(&db, &path, &device)));
            }
            FolderAction::ChooseRepository { repository_id } => {
                if let Some(prompt) = self.ui.link_prompt.take() {
                    self.background(move || {
                        Finished::Linked(linking::settle(&db, &prompt, repository_id, &device))
                    });
                }
            }
            FolderAction::CancelPrompt => self.ui.link_prompt = None,
            FolderAction::Unlink { folder_id } => {
                self.background(move || Finished::Linked(linking::unlink(&db, &folder_id)));
            }
        }
    }

    pub(super) fn answer_invitation(&mut self, id: uuid::Uuid, accept: bool) {
        let Some(session) = self.session.clone() else {
            return;
        };
        self.ui.invitations.retain(|i| i.id != id);
        let api = Api::new(session, self.http.clone());
        let sender = self.finished_sender.clone();
        let ctx = self.ctx.clone();
        self.options.runtime.spawn(async move {
            let answered = if accept {
                invitations::accept(&api, id).await
            } else {
                invitations::decline(&api, id).await
            };
            let _ = sender.send(Finished::InvitationAnswered(answered.map(|()| accept)));
            ctx.request_repaint();
        });
    }
}
