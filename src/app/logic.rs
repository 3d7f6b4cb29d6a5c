//! The window's controller: owns the session, the sync engine and the view model, drains the
//! engine's events, and carries out the panels' [`Action`]s.
//!
//! Nothing here blocks the UI thread: reading SQLite, git, the keyring and the network all run
//! on the tokio runtime (blocking work on its blocking pool) and come back as `Finished` work
//! over a channel, each followed by a repaint request. View-model reloads are coalesced: while
//! one is running, further table changes only mark it stale, and one more load follows.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use eframe::egui;
use rusqlite::Connection;

use super::actions::{Action, FolderAction};
use super::avatars::Avatars;
use super::device::{self, DeviceWatcher, StartWorkError};
use super::folders;
use super::invitation_watch::InvitationWatch;
use super::state::{
    MAX_NOTICES, NOTICE_LIFETIME, Notice, Screen, Settings, SignInForm, UiState, load,
};
use super::theme::ThemeChoice;
use super::view_model::ViewModel;
use crate::gitlink::linking::{self, LinkError, LinkOutcome};
use crate::invitations::{self, Invitation};
use crate::profile::{self, ProfileError, SignedOut};
use crate::store::{self, StoreError};
use crate::sync::engine::Engine;
use crate::sync::events::{Events, SyncEvent, SyncStatus};
use crate::sync::requests::{Api, RequestError};
use crate::sync::session::{Session, SessionError};

/// Background work that has finished.
enum Finished {
    Loaded(Box<ViewModel>, Settings),
    LoadFailed(StoreError),
    /// The new session and the signed-in user's id.
    SignedIn(Result<(Arc<Session>, String), ProfileError>),
    SignedOut(Result<SignedOut, ProfileError>),
    Linked(Result<LinkOutcome, LinkError>),
    WorkStarted(Result<String, StartWorkError>),
    FolderPicked(Option<PathBuf>),
    Saved,
    SaveFailed(StoreError),
    Invitations(Vec<Invitation>),
    InvitationAnswered(Result<bool, RequestError>),
}

/// Where the window's data lives and which runtime does its background work.
#[derive(Clone)]
pub struct Options {
    pub data_dir: PathBuf,
    pub runtime: tokio::runtime::Handle,
}

pub struct Controller {
    options: Options,
    ctx: egui::Context,
    http: reqwest::Client,
    pub screen: Screen,
    pub sign_in: SignInForm,
    pub vm: Arc<ViewModel>,
    /// Bumped at every load, so rows know when to rebuild.
    pub generation: u64,
    pub status: SyncStatus,
    pub ui: UiState,
    pub settings: Settings,
    pub avatars: Avatars,
    session: Option<Arc<Session>>,
    /// A stored session whose engine starts after the first view model is shown.
    deferred_session: Option<Arc<Session>>,
    engine: Option<Engine>,
    events: Option<Events>,
    device: Option<DeviceWatcher>,
    invitations: Option<InvitationWatch>,
    reader: Arc<Mutex<Option<Connection>>>,
    finished: mpsc::Receiver<Finished>,
    finished_sender: mpsc::Sender<Finished>,
    loading: bool,
    stale: bool,
    /// The signed-in user's id (read once from the stored session).
    me: Option<String>,
}

impl Controller {
    pub fn new(ctx: egui::Context, options: Options) -> Self {
        let (finished_sender, finished) = mpsc::channel();
        let http = profile::http_client();
        let mut controller = Self {
            avatars: Avatars::new(
                &options.data_dir,
                options.runtime.clone(),
                http.clone(),
                ctx.clone(),
            ),
            http,
            ctx,
            screen: Screen::SignIn,
            sign_in: SignInForm::default(),
            vm: Arc::new(ViewModel::default()),
            generation: 0,
            status: SyncStatus::Connecting,
            ui: UiState::default(),
            settings: Settings::default(),
            session: None,
            deferred_session: None,
            engine: None,
            events: None,
            device: None,
            invitations: None,
            reader: Arc::new(Mutex::new(None)),
            finished,
            finished_sender,
            loading: false,
            stale: false,
            me: None,
            options,
        };
        if let Some(stored) = crate::sync::session::load(&controller.options.data_dir) {
            controller.sign_in.server = stored.server_url.clone();
            controller.sign_in.email = stored.email.clone();
            controller.me = Some(stored.user_id.to_string());
            // What is stored shows first; the engine starts once it is on screen, so the two
            // do not compete for the CPU while the window opens.
            controller.deferred_session = Some(Arc::new(Session::from_stored(
                &controller.options.data_dir,
                controller.http.clone(),
                stored,
            )));
            controller.screen = Screen::Main;
        }
        controller.reload();
        controller
    }

    fn database(&self) -> PathBuf {
        profile::database_path(&self.options.data_dir)
    }

    fn start_session(&mut self, session: Arc<Session>) {
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
    fn end_session(&mut self) -> Option<Engine> {
        self.device = None;
        self.invitations = None;
        self.ui.invitations.clear();
        self.events = None;
        self.session = None;
        self.deferred_session = None;
        self.engine.take()
    }

    /// Runs `job` on the blocking pool and delivers what it finished.
    fn background(&self, job: impl FnOnce() -> Finished + Send + 'static) {
        let sender = self.finished_sender.clone();
        let ctx = self.ctx.clone();
        self.options.runtime.spawn_blocking(move || {
            let _ = sender.send(job());
            ctx.request_repaint();
        });
    }

    /// Asks for a fresh view model (coalesced with one already loading). The first load shows
    /// the first screen of the active organization before reading everything.
    pub fn reload(&mut self) {
        if self.loading {
            self.stale = true;
            return;
        }
        self.loading = true;
        let first_screen = self.generation == 0;
        let reader = self.reader.clone();
        let path = self.database();
        let me = self.me.clone();
        let sender = self.finished_sender.clone();
        let ctx = self.ctx.clone();
        self.options.runtime.spawn_blocking(move || {
            let deliver = |finished| {
                let _ = sender.send(finished);
                ctx.request_repaint();
            };
            let read = |first_screen| match load(&reader, &path, me.as_deref(), first_screen) {
                Ok((vm, settings)) => Finished::Loaded(Box::new(vm), settings),
                Err(e) => Finished::LoadFailed(e),
            };
            if first_screen {
                let first = read(true);
                let failed = matches!(first, Finished::LoadFailed(_));
                deliver(first);
                if failed {
                    return;
                }
            }
            deliver(read(false));
        });
    }

    /// Drains engine events and finished background work; called before every frame.
    pub fn logic(&mut self) {
        let events = self.events.as_mut().map(Events::drain).unwrap_or_default();
        for event in events {
            match event {
                SyncEvent::TablesChanged(_) => self.reload(),
                SyncEvent::Status(status) => self.status = status,
                SyncEvent::WriteRejected { reason } => {
                    self.notice(format!("a change was undone: {reason}"), true);
                    self.reload();
                }
            }
        }
        while let Ok(finished) = self.finished.try_recv() {
            self.on_finished(finished);
        }
        self.ui
            .notices
            .retain(|n| n.error || n.shown_at.elapsed() < NOTICE_LIFETIME);
        if let Some(device) = &self.device {
            let input = self
                .ctx
                .input(|i| !i.events.is_empty() || i.pointer.is_moving());
            if input {
                device.user_was_active();
            }
        }
    }

    fn notice(&mut self, text: String, error: bool) {
        self.ui.notices.push(Notice {
            text,
            error,
            shown_at: std::time::Instant::now(),
        });
        let excess = self.ui.notices.len().saturating_sub(MAX_NOTICES);
        self.ui.notices.drain(..excess);
        self.ctx.request_repaint_after(NOTICE_LIFETIME);
    }

    fn on_finished(&mut self, finished: Finished) {
        match finished {
            Finished::Loaded(vm, settings) => self.on_loaded(*vm, settings),
            Finished::LoadFailed(e) => {
                self.loading = false;
                if let Some(session) = self.deferred_session.take() {
                    self.start_session(session);
                }
                self.notice(format!("cannot read the local database: {e}"), true);
            }
            Finished::SignedIn(result) => self.on_signed_in(result),
            Finished::SignedOut(result) => {
                self.ui.busy = None;
                self.me = None;
                self.screen = Screen::SignIn;
                match result {
                    Ok(signed_out) => self.sign_in.error = Some(signed_out.to_string()),
                    Err(e) => self.notice(e.to_string(), true),
                }
                self.reload();
            }
            Finished::Linked(result) => self.on_linked(result),
            Finished::WorkStarted(result) => {
                self.ui.busy = None;
                match result {
                    Ok(message) => {
                        if let Some(engine) = &self.engine {
                            engine.outbox_added();
                        }
                        self.notice(message, false);
                    }
                    Err(e) => self.notice(e.to_string(), true),
                }
                self.reload();
            }
            Finished::FolderPicked(Some(path)) => {
                self.apply_folder_action(FolderAction::Link(path))
            }
            Finished::FolderPicked(None) => {
                self.ui.busy = None;
                self.ui.show_link_form = true;
            }
            Finished::Saved => {}
            Finished::Invitations(waiting) => self.ui.invitations = waiting,
            Finished::InvitationAnswered(result) => {
                match result {
                    Ok(true) => self.notice("joined; its tasks are on their way".into(), false),
                    Ok(false) => self.notice("invitation declined".into(), false),
                    Err(e) => self.notice(format!("cannot answer the invitation: {e}"), true),
                }
                if let Some(watch) = &self.invitations {
                    watch.check_now();
                }
            }
            Finished::SaveFailed(e) => self.notice(format!("cannot save the setting: {e}"), true),
        }
    }

    fn on_loaded(&mut self, vm: ViewModel, settings: Settings) {
        // A first screen is followed by the whole model from the same job.
        self.loading = vm.partial;
        self.generation += 1;
        let valid = |id: &Option<String>| {
            id.as_ref()
                .filter(|id| vm.organizations.iter().any(|o| &o.id == *id))
                .cloned()
        };
        self.ui.active_organization = valid(&self.ui.active_organization)
            .or_else(|| valid(&settings.active_organization))
            .or_else(|| vm.organizations.first().map(|o| o.id.clone()));
        if self.generation == 1 {
            self.ui.theme = ThemeChoice::from_setting(&settings.theme);
            self.ctx.set_theme(self.ui.theme.preference());
            if self.sign_in.server.is_empty() {
                self.sign_in.server = settings.server_url.clone().unwrap_or_default();
            }
        }
        self.vm = Arc::new(vm);
        self.settings = settings;
        if let Some(session) = self.deferred_session.take() {
            self.start_session(session);
        }
        if !self.loading && std::mem::take(&mut self.stale) {
            self.reload();
        }
    }

    fn on_signed_in(&mut self, result: Result<(Arc<Session>, String), ProfileError>) {
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

    fn on_linked(&mut self, result: Result<LinkOutcome, LinkError>) {
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

    /// The task tree's rows for the current organization and filters (rebuilt only on change).
    pub fn refresh_rows(&mut self) {
        self.ui.tree.refresh(
            &self.vm,
            self.generation,
            self.ui.active_organization.as_deref(),
            &self.ui.filters,
        );
    }

    pub fn apply(&mut self, action: Action) {
        match action {
            Action::SignIn {
                server,
                email,
                password,
            } => self.sign_in_with(server, email, password),
            Action::SignOut => self.ui.confirm_sign_out = true,
            Action::SignInAgain => {
                // Keep the synced data: signing in as the same user carries on where it was.
                if let Some(engine) = self.end_session() {
                    self.options.runtime.spawn(engine.stop());
                }
                self.screen = Screen::SignIn;
            }
            Action::CancelSignOut => self.ui.confirm_sign_out = false,
            Action::ConfirmSignOut => self.sign_out(),
            Action::SelectOrganization(id) => {
                self.ui.active_organization = Some(id.clone());
                self.ui.selected_task = None;
                self.save_setting("active_organization_id", Some(id));
            }
            Action::SetTheme(choice) => {
                self.ui.theme = choice;
                self.ctx.set_theme(choice.preference());
                self.save_setting("theme", Some(choice.setting().to_owned()));
            }
            Action::SelectTask(id) => {
                self.ui.selected_task = id;
                self.ui.start_folder = None;
            }
            Action::StartWork { task_id, folder_id } => self.start_work(task_id, folder_id),
            Action::DismissNotice(i) => {
                if i < self.ui.notices.len() {
                    self.ui.notices.remove(i);
                }
            }
            Action::Folder(action) => self.apply_folder_action(action),
            Action::AnswerInvitation { id, accept } => self.answer_invitation(id, accept),
        }
    }

    /// Linking, settling and forgetting folders.
    fn apply_folder_action(&mut self, action: FolderAction) {
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

    fn answer_invitation(&mut self, id: uuid::Uuid, accept: bool) {
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

    fn sign_in_with(&mut self, server: String, email: String, password: String) {
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

    fn sign_out(&mut self) {
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

    fn save_setting(&self, column: &'static str, value: Option<String>) {
        let db = self.database();
        self.background(move || {
            let saved = store::open(&db).and_then(|conn| {
                conn.execute(&format!("UPDATE settings SET {column} = ?1"), [value])?;
                Ok(())
            });
            match saved {
                Ok(()) => Finished::Saved,
                Err(e) => Finished::SaveFailed(e),
            }
        });
    }

    fn start_work(&mut self, task_id: String, folder_id: String) {
        let Some(task) = self.vm.task(&task_id).cloned() else {
            return;
        };
        let Some((repository, folder)) = self.vm.repositories.iter().find_map(|r| {
            r.folders
                .iter()
                .find(|f| f.id == folder_id)
                .map(|f| (r.clone(), f.clone()))
        }) else {
            self.notice("choose a linked folder to work in".into(), true);
            return;
        };
        self.ui.busy = Some(format!("Starting work on {}…", task.key));
        let db = self.database();
        let device_name = self.settings.device_name.clone();
        self.background(move || {
            Finished::WorkStarted(device::start_work(
                &db,
                &task,
                &repository,
                Path::new(&folder.path),
                &device_name,
            ))
        });
    }

    /// Stops the engine (on window close).
    pub fn shutdown(&mut self) {
        if let Some(engine) = self.end_session() {
            self.options.runtime.block_on(engine.stop());
        }
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
