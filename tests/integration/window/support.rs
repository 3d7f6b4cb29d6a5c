//! Opening the window in a kittest harness on a profile, waiting for what the background work
//! brings, and making real git repositories.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use superset::app::notifications::{Notification, Notifier, NotifyError};
use superset::app::{Options, SupersetApp};
use superset::profile;
use superset::store;

pub type Window = Harness<'static, SupersetApp>;

/// Stands in for the desktop's notification service: keeps what the window would have shown.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Notification>>);

impl Recorder {
    pub fn titles(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|n| n.title.clone())
            .collect()
    }
}

impl Notifier for Recorder {
    fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        self.0.lock().unwrap().push(notification.clone());
        Ok(())
    }
}

/// The window on `profile`, its background work on `runtime`, 1280 × 800.
pub fn open(profile: &Path, runtime: &tokio::runtime::Runtime) -> Window {
    open_with(
        profile,
        runtime,
        Arc::new(Recorder::default()),
        egui::vec2(1280.0, 800.0),
    )
}

/// The window with `notifier` standing in for the notification service, `size` large.
pub fn open_with(
    profile: &Path,
    runtime: &tokio::runtime::Runtime,
    notifier: Arc<dyn Notifier>,
    size: egui::Vec2,
) -> Window {
    let mut options = Options::new(profile.to_path_buf(), runtime.handle().clone());
    options.notifier = notifier;
    Harness::builder()
        .with_size(size)
        .build_eframe(move |cc| SupersetApp::new(&cc.egui_ctx, options))
}

/// Opens the dropdown labelled `dropdown` and picks `choice` in it.
pub fn choose(window: &mut Window, dropdown: &str, choice: &str) {
    use egui::accesskit::Role;
    window
        .get_by_role_and_label(Role::ComboBox, dropdown)
        .click();
    window.run_steps(3);
    window.get_by_role_and_label(Role::Button, choice).click();
    window.step();
    window.step();
}

/// An access token for `email`, signed in with the seed's password.
pub async fn access_token(base_url: &str, email: &str) -> String {
    let reply = crate::support::reply(
        crate::support::http_client()
            .post(format!("{base_url}/api/auth/login"))
            .json(
                &serde_json::json!({"email": email, "password": crate::desktop::support::PASSWORD}),
            ),
    )
    .await;
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

/// Runs frames until `done` holds (background work arrives between frames).
pub fn wait_for(window: &mut Window, what: &str, done: impl Fn(&Window) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        window.step();
        if done(window) {
            window.step();
            return;
        }
        if Instant::now() > deadline {
            let c = &window.state().controller;
            panic!(
                "timed out waiting for {what}: status {:?}, {} rows, notices {:?}, busy {:?}",
                c.status,
                c.ui.tree.rows.len(),
                c.ui.notices,
                c.ui.busy
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Synced, live and showing the active organization's tasks.
pub fn wait_live(window: &mut Window) {
    wait_for(window, "the window to show synced tasks", |w| {
        let c = &w.state().controller;
        c.status == superset::sync::events::SyncStatus::Live
            && c.shows_synced_data()
            && !c.ui.tree.rows.is_empty()
    });
}

/// Focuses the text field labelled `label` (plain or password) and types `text` into it.
pub fn type_into(window: &mut Window, label: &str, text: &str) {
    use egui::accesskit::Role;
    let role = if window
        .query_by_role_and_label(Role::PasswordInput, label)
        .is_some()
    {
        Role::PasswordInput
    } else {
        Role::TextInput
    };
    window.get_by_role_and_label(role, label).focus();
    window.step();
    window.get_by_role_and_label(role, label).type_text(text);
    window.step();
    window.step();
    if role == Role::TextInput {
        let value = window.get_by_role_and_label(role, label).value();
        assert!(
            value.as_deref().is_some_and(|v| v.ends_with(text)),
            "typed {text:?} into {label}, which now holds {value:?}"
        );
    }
}

/// Clicks the widget labelled `label`; the action applies after that frame, and the next one
/// shows its effect.
pub fn click(window: &mut Window, label: &str) {
    window.get_by_label(label).click();
    window.step();
    window.step();
}

/// A query on the profile's SQLite file.
pub fn sql<T: rusqlite::types::FromSql>(profile: &Path, query: &str) -> Option<T> {
    let conn = store::open(&profile::database_path(profile)).unwrap();
    conn.query_row(query, [], |r| r.get(0)).ok()
}

/// A git repository with one commit on `main` and `origin` set to `remote`.
pub fn git_repository(path: &Path, remote: Option<&str>) {
    let repo = git2::Repository::init(path).unwrap();
    std::fs::write(path.join("README.md"), "hello\n").unwrap();
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("README.md")).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let who = git2::Signature::now("Test", "test@example.com").unwrap();
    let commit = repo.commit(None, &who, &who, "first", &tree, &[]).unwrap();
    let commit = repo.find_commit(commit).unwrap();
    repo.branch("main", &commit, true).unwrap();
    repo.set_head("refs/heads/main").unwrap();
    if let Some(remote) = remote {
        repo.remote("origin", remote).unwrap();
    }
}
