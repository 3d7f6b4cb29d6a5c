//! Desktop notifications: a teammate assigned you a task, your workspace's pull request was
//! merged or got changes requested, someone started work on a task assigned to you.
//!
//! [`triggers`] decides what to say by comparing each loaded view model with the one before;
//! a [`Notifier`] says it. The window's notifier is the system's notification service
//! ([`DesktopNotifier`]: the freedesktop one over D-Bus on Linux); when it fails, the window
//! shows the notification in its own notice area instead. Tests give the window a stand-in.

pub mod triggers;

/// What to tell the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub title: String,
    pub body: String,
}

/// The notification service could not show a notification.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the desktop's notification service is not available: {0}")]
pub struct NotifyError(pub String);

/// Shows notifications outside the window. Called on a blocking thread: it may wait on I/O.
pub trait Notifier: Send + Sync {
    fn notify(&self, notification: &Notification) -> Result<(), NotifyError>;
}

/// The operating system's notification service.
pub struct DesktopNotifier;

impl Notifier for DesktopNotifier {
    fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        notify_rust::Notification::new()
            .appname("Superset")
            .summary(&notification.title)
            .body(&notification.body)
            .icon("dev.superset.Superset")
            .show()
            .map(|_| ())
            .map_err(|e| NotifyError(e.to_string()))
    }
}
