//! The window's controller: owns the session, the sync engine and the view model, drains the
//! engine's events, and carries out the panels' [`Action`]s.
//!
//! Nothing here blocks the UI thread: reading SQLite, git, the keyring and the network all run
//! on the tokio runtime (blocking work on its blocking pool) and come back as `Finished` work
//! over a channel, each followed by a repaint request. View-model reloads are coalesced: while
//! one is running, further table changes only mark it stale, and one more load follows.
//!
//! Its work is split by subject: `session` (signing in and out), `folders` (linking folders,
//! invitations), `workspaces` (starting, finishing and opening work) and `tasks` (task writes,
//! conflicts, notifications).

mod folders;
mod session;
mod tasks;
mod workspaces;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use eframe::egui;
use rusqlite::Connection;

use super::actions::{Action, FolderAction};
use super::avatars::Avatars;
use super::device::DeviceWatcher;
use super::invitation_watch::InvitationWatch;
use super::notifications::triggers::Watch;
use super::notifications::{DesktopNotifier, Notification, Notifier};
use super::state::{
    MAX_NOTICES, NOTICE_LIFETIME, Notice, Screen, Settings, SignInForm, UiState, load,
};
use super::theme::ThemeChoice;
use super::view_model::ViewModel;
use crate::gitlink::linking::{LinkError, LinkOutcome};
use crate::gitlink::worktrees::Loss;
use crate::invitations::Invitation;
use crate::profile::{self, ProfileError, SignedOut};
use crate::store::{self, StoreError};
use crate::sync::engine::Engine;
use crate::sync::events::{Events, SyncEvent, SyncStatus};
use crate::sync::requests::RequestError;
use crate::sync::session::Session;
use crate::workspaces::WorkError;
use crate::workspaces::finish::Folder as FinishedFolder;
use crate::workspaces::open::Opener;
use crate::workspaces::start::Started;

/// Background work that has finished.
enum Finished {
    /// A fresh view model; `synced`: the load began after the first sync had finished.
    Loaded {
        vm: Box<ViewModel>,
        settings: Settings,
        synced: bool,
    },
    LoadFailed(StoreError),
    /// The new session and the signed-in user's id.
    SignedIn(Result<(Arc<Session>, String), ProfileError>),
    SignedOut(Result<SignedOut, ProfileError>),
    Linked(Result<LinkOutcome, LinkError>),
    WorkStarted(Result<Started, WorkError>),
    /// What finishing a workspace would lose, for the question.
    FinishAsked(String, Result<Loss, WorkError>),
    WorkDone(Result<FinishedFolder, WorkError>),
    Opened(Result<(), WorkError>),
    FolderPicked(Option<PathBuf>),
    Saved,
    SaveFailed(StoreError),
    Invitations(Vec<Invitation>),
    InvitationAnswered(Result<bool, RequestError>),
    TaskWritten(Result<Written, StoreError>),
    /// The notification service could not show this; the notice area does.
    NotShown(Notification),
}

/// A task write that is stored (and shown); the sender takes it from here.
#[derive(Debug)]
enum Written {
    Created { id: String },
    Changed,
    Deleted { id: String, key: String },
    Restored,
    Settled,
}

/// Where the window's data lives and which runtime does its background work.
#[derive(Clone)]
pub struct Options {
    pub data_dir: PathBuf,
    pub runtime: tokio::runtime::Handle,
    /// Where notifications go outside the window.
    pub notifier: Arc<dyn Notifier>,
    /// What opens a workspace in the editor, a terminal or the file manager (`None`: the
    /// desktop's own programs, as the profile names them).
    pub opener: Option<Arc<dyn Opener>>,
}

impl Options {
    /// The window's usual options: the system's notification service.
    pub fn new(data_dir: PathBuf, runtime: tokio::runtime::Handle) -> Self {
        Self {
            data_dir,
            runtime,
            notifier: Arc::new(DesktopNotifier),
            opener: None,
        }
    }
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
    /// The model shown was read while the sync was live (not a first screen).
    shown_synced: bool,
    /// The signed-in user's id (read once from the stored session).
    me: Option<String>,
    /// What the last view model showed, for notifications.
    watch: Watch,
    /// Tasks this window changed lately (never announced back to their author).
    own_writes: HashMap<String, Instant>,
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
            shown_synced: false,
            me: None,
            watch: Watch::default(),
            own_writes: HashMap::new(),
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
        let synced = self.status == SyncStatus::Live;
        let sender = self.finished_sender.clone();
        let ctx = self.ctx.clone();
        self.options.runtime.spawn_blocking(move || {
            let deliver = |finished| {
                let _ = sender.send(finished);
                ctx.request_repaint();
            };
            let read = |first_screen| match load(&reader, &path, me.as_deref(), first_screen) {
                Ok((vm, settings)) => Finished::Loaded {
                    vm: Box::new(vm),
                    settings,
                    synced,
                },
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
                SyncEvent::Status(status) => {
                    // Live again: read the model now, as the baseline notifications compare with.
                    let now_live = status == SyncStatus::Live && self.status != SyncStatus::Live;
                    self.status = status;
                    if now_live {
                        self.reload();
                    }
                }
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
        self.push_notice(Notice {
            text,
            error,
            shown_at: Instant::now(),
            undo: None,
        });
    }

    /// Shows `notice`, keeping the newest few.
    fn push_notice(&mut self, notice: Notice) {
        self.ui.notices.push(notice);
        let excess = self.ui.notices.len().saturating_sub(MAX_NOTICES);
        self.ui.notices.drain(..excess);
        self.ctx.request_repaint_after(NOTICE_LIFETIME);
    }

    fn on_finished(&mut self, finished: Finished) {
        match finished {
            Finished::Loaded {
                vm,
                settings,
                synced,
            } => {
                self.shown_synced = synced && !vm.partial;
                self.on_loaded(*vm, settings);
                self.announce(synced);
            }
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
            Finished::WorkStarted(result) => self.on_work_started(result),
            Finished::FinishAsked(id, loss) => self.on_finish_asked(id, loss),
            Finished::WorkDone(result) => self.on_work_finished(result),
            Finished::Opened(result) => {
                if let Err(e) = result {
                    self.notice(e.to_string(), true);
                }
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
            Finished::TaskWritten(result) => self.on_task_written(result),
            Finished::NotShown(notification) => self.notice(
                format!("{}: {}", notification.title, notification.body),
                false,
            ),
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
        if !self.loading {
            // The model it replaced (and everything read to build this one) is freed now.
            super::memory::return_freed(&self.options.runtime);
        }
        self.settings = settings;
        if let Some(session) = self.deferred_session.take() {
            self.start_session(session);
        }
        if !self.loading && std::mem::take(&mut self.stale) {
            self.reload();
        }
    }

    /// True when the model shown was read after the sync went live and no change waits to be
    /// read: the window shows everything synced.
    pub fn shows_synced_data(&self) -> bool {
        self.shown_synced && !self.loading && !self.stale
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
                self.ui.detail_open = id.is_some();
                self.ui.selected_task = id;
                self.ui.new_task = None;
                self.ui.start_folder = None;
            }
            Action::Work(action) => self.apply_work_action(action),
            Action::DismissNotice(i) => {
                if i < self.ui.notices.len() {
                    self.ui.notices.remove(i);
                }
            }
            Action::Folder(action) => self.apply_folder_action(action),
            Action::Task(action) => self.apply_task_action(action),
            Action::ShowHelp => self.ui.show_help = true,
            Action::SaveWorkSettings(work) => {
                let blank = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
                self.save_setting("worktrees_folder", blank(&work.worktrees_folder));
                self.save_setting("editor_command", blank(&work.editor_command));
                self.save_setting("terminal_command", blank(&work.terminal_command));
                self.settings.work = work;
                self.ui.work_settings = None;
                self.notice("saved".into(), false);
            }
            Action::SetNotifications(on) => {
                self.settings.notifications = on;
                self.save_setting("notifications", Some(if on { "1" } else { "0" }.to_owned()));
            }
            Action::AnswerInvitation { id, accept } => self.answer_invitation(id, accept),
        }
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

    /// Stops the engine (on window close).
    pub fn shutdown(&mut self) {
        if let Some(engine) = self.end_session() {
            self.options.runtime.block_on(engine.stop());
        }
    }
}
