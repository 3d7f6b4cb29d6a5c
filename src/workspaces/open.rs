//! Opening one of this device's workspaces: in the person's editor (`$VISUAL`, `$EDITOR`, or a
//! command they chose), a terminal there (`$TERMINAL`, or a chosen command), or the file
//! manager (the platform's own opener, through the `open` crate). The window and the command
//! line go through an [`Opener`], so tests can stand in for the desktop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rusqlite::Connection;

use super::error::WorkError;
use crate::store::StoreError;

/// What to open a workspace with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Editor,
    Terminal,
    Files,
}

/// Opens folders outside the app.
pub trait Opener: Send + Sync {
    fn open(&self, how: How, path: &Path) -> Result<(), WorkError>;
}

/// The desktop's own programs, as the profile and the environment name them.
#[derive(Debug, Clone, Default)]
pub struct SystemOpener {
    /// The editor command chosen in the profile (else `$VISUAL`, `$EDITOR`).
    pub editor: Option<String>,
    /// The terminal command chosen in the profile (else `$TERMINAL`).
    pub terminal: Option<String>,
}

impl SystemOpener {
    /// The commands chosen in the profile's settings.
    pub fn from_settings(conn: &Connection) -> Result<Self, StoreError> {
        Ok(conn.query_row(
            "SELECT nullif(editor_command, ''), nullif(terminal_command, '') FROM settings \
             WHERE id = 1",
            [],
            |r| {
                Ok(Self {
                    editor: r.get(0)?,
                    terminal: r.get(1)?,
                })
            },
        )?)
    }

    fn command(
        chosen: Option<&String>,
        variables: &[&'static str],
        what: &'static str,
    ) -> Result<Vec<String>, WorkError> {
        let line = chosen.cloned().or_else(|| {
            variables
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|c| !c.trim().is_empty()))
        });
        let words = line
            .and_then(|line| shell_words::split(&line).ok())
            .filter(|words| !words.is_empty());
        words.ok_or(WorkError::NoCommand {
            what,
            variable: variables[variables.len() - 1],
        })
    }
}

impl Opener for SystemOpener {
    fn open(&self, how: How, path: &Path) -> Result<(), WorkError> {
        if !path.exists() {
            return Err(WorkError::FolderGone(path.to_owned()));
        }
        let failed = |source| WorkError::Open {
            path: path.to_owned(),
            source,
        };
        match how {
            How::Files => open::that_detached(path).map_err(failed),
            How::Editor => {
                let words = Self::command(self.editor.as_ref(), &["VISUAL", "EDITOR"], "editor")?;
                spawn(&words, Some(path), path).map_err(failed)
            }
            How::Terminal => {
                let words = Self::command(self.terminal.as_ref(), &["TERMINAL"], "terminal")?;
                spawn(&words, None, path).map_err(failed)
            }
        }
    }
}

/// Starts `words` (with `argument` after them) in `folder`, not waiting for it.
fn spawn(words: &[String], argument: Option<&Path>, folder: &Path) -> std::io::Result<()> {
    let mut command = Command::new(&words[0]);
    command
        .args(&words[1..])
        .current_dir(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(argument) = argument {
        command.arg(argument);
    }
    command.spawn().map(|_| ())
}

/// Where workspace `id` lives on this device, for opening it.
pub fn folder_of(conn: &Connection, id: &str) -> Result<PathBuf, WorkError> {
    super::records::path_of(conn, id)?
        .map(|p| p.path)
        .ok_or_else(|| WorkError::NoSuchWorkspace(id.to_owned()))
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    use super::*;

    /// The stand-in editor is a POSIX shell command.
    #[cfg(unix)]
    #[test]
    fn a_chosen_editor_gets_the_folder_and_a_gone_folder_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("opened.txt");
        let opener = SystemOpener {
            editor: Some(format!("sh -c 'echo \"$0\" > {}'", out.display())),
            terminal: None,
        };
        opener.open(How::Editor, dir.path()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !out.exists() || std::fs::read_to_string(&out).unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "the editor never ran");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(
            std::fs::read_to_string(&out).unwrap().trim(),
            dir.path().display().to_string()
        );
        let gone = dir.path().join("gone");
        assert!(matches!(
            opener.open(How::Files, &gone),
            Err(WorkError::FolderGone(path)) if path == gone
        ));
    }
}
