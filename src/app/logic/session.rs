//! Signing in and out, and the session's background parts: the sync engine, the device
//! watcher and the invitation watch start with a session and stop with it.

use std::sync::Arc;

use super::{Controller, Finished};
use crate::app::device::DeviceWatcher;
use crate::app::invitation_watch::InvitationWatch;
use crate::app::state::{Screen, UiState};
use crate::profile::{self, ProfileError};
use crate::sync::engine::Engine;
use crate::sync::requests::Api;
use crate::sync::session::{Session, SessionError};

impl Controller {
    pub(super) fn start_session(&mut self, session: Arc<Session>) {
        let _guard = self.options.runtime.enter();
        let ctx = self.ctx.clone();
        let (engine, events) = Engine::start(
            self.database(),
            session.clone(),
            self.http.clone(),
            move || ctx.request_repaint(),
        );
        self.device = Some(DeviceWatcher::start(
            &self.options.runtime,
            self.database(),
            self.me.clone(),
            Api::new(session.clone(), self.http.clone()),
            engine.outbox_signal(),
        ));
        let sender = self.finished_sender.clone();
        let ctx = self.ctx.clone();
        self.invitations = Some(InvitationWatch::start(
            &self.options.runtime,
            Api::new(session.clone(), self.http.clone()),
            move |waiting| {
                let _ = sender.send(Finished::Invitations(waiting));
                ctx.request_repaint();
            },
        ));
        self.status = events.status();
        self.engine = Some(engine);
        self.events = Some(events);
        self.session = Some(session);
        self.screen = Screen::Main;
    }

    /// Stops the engine and the device watcher, forgetting the session in this window.
    pub(super) fn end_session(&mut self) -> Option<Engine> {
        self.device = None;
        self.invitations = None;
        self.ui.invitations.clear();
        self.events = None;
        self.session = None;
        self.deferred_session = None;
        self.engine.take()
    }

    pub(super) fn on_signed_in(&mut self, result: Result<(Arc<Session>, String), ProfileError>) {
        self.sign_in.busy = false;
        match result {
            Ok((session, me)) => {
                self.me = Some(me);
                self.sign_in.password.clear();
                self.sign_in.error = None;
                self.ui = UiState {
                    theme: self.ui.theme,
                    ..UiState::default()
                };
                self.start_session(session);
                self.reload();
            }
            Err(e) => self.sign_in.error = Some(sign_in_message(&e)),
        }
    }

    pub(super) fn sign_in_with(&mut self, server: String, email: String, password: String) {
        let server = server.trim().to_owned();
        let email = email.trim().to_owned();
        if server.is_empty() || email.is_empty() || password.is_empty() {
            self.sign_in.error =
                Some("enter the server address, your e-mail and your password".into());
            return;
        }
        self.sign_in.busy = true;
        self.sign_in.error = None;
        let data_dir = self.options.data_dir.clone();
        let http = self.http.clone();
        let sender = self.finished_sender.clone();
        let ctx = self.ctx.clone();
        self.options.runtime.spawn(async move {
            let result = profile::login(&data_dir, &server, &email, &password)
                .await
                .map(|stored| {
                    let me = stored.user_id.to_string();
                    (Arc::new(Session::from_stored(&data_dir, http, stored)), me)
                });
            let _ = sender.send(Finished::SignedIn(result));
            ctx.request_repaint();
        });
    }

    pub(super) fn sign_out(&mut self) {
        self.ui.confirm_sign_out = false;
        self.ui.busy = Some("Signing out…".into());
        let engine = self.end_session();
        let data_dir = self.options.data_dir.clone();
        let sender = self.finished_sender.clone();
        let ctx = self.ctx.clone();
        self.options.runtime.spawn(async move {
            if let Some(engine) = engine {
                engine.stop().await;
            }
            let result = profile::logout(&data_dir).await;
            let _ = sender.send(Finished::SignedOut(result));
            ctx.request_repaint();
        });
    }
}

/// What the sign-in screen says when signing in failed, by what went wrong.
fn sign_in_message(error: &ProfileError) -> String {
    match error {
        ProfileError::Session(unreachable @ SessionError::Unreachable { .. }) => {
            format!("{unreachable}. Check the address and that the server is running.")
        }
        ProfileError::Session(SessionError::Refused { status: 401, .. }) => {
            "That e-mail and password do not match. Check them and try again.".to_owned()
        }
        other => other.to_string(),
    }
}
