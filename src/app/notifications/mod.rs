//! Desktop notifications: a teammate assigned you a task, your workspace's pull request was
//! merged or got changes requested, someone started work on a task assigned to you.
//!
//! [`triggers`] decides what to say by comparing each loaded view model with the one before;
//! a [`Notifier`] says it. The window's notifier is the system's notification service
//! ([`DesktopNotifier`]: the freedesktop one over D-Bus on Linux, toasts on Windows,
//! AppleScript's `display notification` on macOS); when it fails, the window shows the
//! notification in its own notice area instead. Tests give the window a stand-in.

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
    #[cfg(not(target_os = "macos"))]
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

    /// Every macOS has `osascript`, and asking it needs nothing compiled against Apple's SDK.
    #[cfg(target_os = "macos")]
    fn notify(&self, notification: &Notification) -> Result<(), NotifyError> {
        let script = format!(
            "display notification {} with title {}",
            applescript_text(&notification.body),
            applescript_text(&notification.title)
        );
        let output = std::process::Command::new("osascript")
            .arg("-e")
            .arg(script)
            .output()
            .map_err(|e| NotifyError(e.to_string()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(NotifyError(
                String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            ))
        }
    }
}

/// `text` as an AppleScript string literal: quoted, with `\` and `"` escaped.
#[cfg(any(test, target_os = "macos"))]
fn applescript_text(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::applescript_text;

    #[test]
    fn applescript_text_keeps_quotes_and_backslashes_inside_the_string() {
        assert_eq!(applescript_text("plain"), "\"plain\"");
        assert_eq!(
            applescript_text(r#"Mike said "done" \o/"#),
            r#""Mike said \"done\" \\o/""#
        );
    }
}
