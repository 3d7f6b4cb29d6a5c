//! The Unix side of running a cluster: PostgreSQL refuses to run as root, so as root the server
//! runs as the `postgres` OS user (the account Debian's `postgresql` package creates) and owns
//! its folders; private files get mode 0600/0700; the postmaster is stopped with signals.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Gid, Pid, Uid, User};

use super::binaries::PgBinaries;
use super::error::{LocalPgError, io_err};

/// How to stop a postmaster: PostgreSQL's fast shutdown (a clean checkpoint) or its immediate
/// one (no checkpoint; for clusters about to be deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    Fast,
    Immediate,
}

/// Who the server processes run as when we are root: `postgres`.
#[derive(Debug, Clone, Copy)]
pub struct RunAs {
    uid: Uid,
    gid: Gid,
}

impl RunAs {
    /// `None` unless we are root.
    pub fn detect() -> Result<Option<Self>, LocalPgError> {
        if !Uid::effective().is_root() {
            return Ok(None);
        }
        let user = User::from_name("postgres")
            .ok()
            .flatten()
            .ok_or(LocalPgError::NoPostgresUser)?;
        Ok(Some(Self {
            uid: user.uid,
            gid: user.gid,
        }))
    }

    pub fn own(&self, path: &Path) -> Result<(), LocalPgError> {
        std::os::unix::fs::chown(path, Some(self.uid.as_raw()), Some(self.gid.as_raw()))
            .map_err(io_err(format!("giving {} to postgres", path.display())))
    }

    /// True when every ancestor of `path` lets the postgres user pass through.
    pub fn can_reach(&self, path: &Path) -> bool {
        path.ancestors().skip(1).all(|dir| match fs::metadata(dir) {
            Ok(meta) => {
                let mode = meta.mode();
                meta.uid() == self.uid.as_raw()
                    || mode & 0o001 != 0
                    || (meta.gid() == self.gid.as_raw() && mode & 0o010 != 0)
            }
            Err(_) => true,
        })
    }

    /// Makes `command` run as this user.
    pub fn apply(&self, command: &mut Command) {
        command.uid(self.uid.as_raw()).gid(self.gid.as_raw());
    }
}

/// Makes `path` readable only by its owner (`mode`: 0600 for files, 0700 for folders).
pub fn make_private(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Asks postmaster `pid` to shut down.
pub fn request_shutdown(_bins: &PgBinaries, pid: u32, how: Shutdown) {
    let signal = match how {
        Shutdown::Fast => Signal::SIGINT,
        Shutdown::Immediate => Signal::SIGQUIT,
    };
    let _ = kill(pid_of(pid), signal);
}

fn pid_of(pid: u32) -> Pid {
    Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX))
}

/// Stops postmaster `pid`, left running on `data_dir` by a process that was killed, if it is
/// still running there; waits up to `timeout` for it to go.
pub fn stop_leftover(_bins: &PgBinaries, data_dir: &Path, pid: u32, timeout: Duration) {
    // Only a postgres of this very folder: a stale file's pid may belong to anything now.
    let ours = command_line(pid).is_some_and(|line| line.contains(&data_dir.display().to_string()));
    let pid = pid_of(pid);
    if !ours || kill(pid, None).is_err() {
        return;
    }
    tracing::warn!(%pid, "stopping a PostgreSQL server left running on this cluster");
    let _ = kill(pid, Signal::SIGINT);
    let pid_file = data_dir.join("postmaster.pid");
    let deadline = Instant::now() + timeout;
    while kill(pid, None).is_ok() && pid_file.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The command line process `pid` runs: from `/proc` where there is one, else from `ps`
/// (macOS and the BSDs).
fn command_line(pid: u32) -> Option<String> {
    match fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(_) if !Path::new("/proc/self").exists() => {
            let output = Command::new("ps")
                .args(["-o", "command=", "-p", &pid.to_string()])
                .output()
                .ok()?;
            output
                .status
                .success()
                .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
        }
        Err(_) => None,
    }
}
