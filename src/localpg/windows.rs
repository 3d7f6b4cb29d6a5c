//! The Windows side of running a cluster. There is no root to step down from (PostgreSQL itself
//! refuses an elevated Administrator, so run as a normal user), files under the user's profile
//! are private to the user through the folder's inherited ACL, and there are no signals:
//! `pg_ctl kill` delivers PostgreSQL's own emulated ones, over a named pipe only a postmaster
//! listens on, so a stale pid never reaches another program.

use std::io;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::binaries::PgBinaries;
use super::error::LocalPgError;

/// How to stop a postmaster: PostgreSQL's fast shutdown (a clean checkpoint) or its immediate
/// one (no checkpoint; for clusters about to be deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    Fast,
    Immediate,
}

/// No one to run as but ourselves: this type has no values.
#[derive(Debug, Clone, Copy)]
pub enum RunAs {}

impl RunAs {
    pub fn detect() -> Result<Option<Self>, LocalPgError> {
        Ok(None)
    }

    pub fn own(&self, _path: &Path) -> Result<(), LocalPgError> {
        match *self {}
    }

    pub fn can_reach(&self, _path: &Path) -> bool {
        match *self {}
    }

    pub fn apply(&self, _command: &mut Command) {
        match *self {}
    }
}

/// Nothing to do: the folder's inherited ACL already keeps other users out of the profile.
pub fn make_private(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

fn pg_ctl(bins: &PgBinaries) -> Command {
    let mut command = Command::new(bins.bin("pg_ctl"));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Asks postmaster `pid` to shut down, through `pg_ctl kill` (INT: fast, QUIT: immediate).
pub fn request_shutdown(bins: &PgBinaries, pid: u32, how: Shutdown) {
    let signal = match how {
        Shutdown::Fast => "INT",
        Shutdown::Immediate => "QUIT",
    };
    let _ = pg_ctl(bins)
        .args(["kill", signal, &pid.to_string()])
        .status();
}

/// Stops a postmaster left running on `data_dir` with `pg_ctl stop`, which reads the folder's
/// `postmaster.pid` itself and does nothing when that server is gone.
pub fn stop_leftover(bins: &PgBinaries, data_dir: &Path, _pid: u32, timeout: Duration) {
    tracing::info!("stopping any PostgreSQL server left running on this cluster");
    let _ = pg_ctl(bins)
        .arg("stop")
        .arg("-D")
        .arg(data_dir)
        .args(["-m", "fast", "-w", "-t", &timeout.as_secs().to_string()])
        .status();
}
