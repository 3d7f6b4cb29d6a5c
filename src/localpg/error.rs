//! What can go wrong finding, creating, starting or stopping a local cluster, in words that say
//! what to do about it (the missing-binaries hint is in the platform's own terms).

use std::path::PathBuf;

/// Errors from finding, creating, starting or stopping a local cluster.
#[derive(Debug, thiserror::Error)]
pub enum LocalPgError {
    #[error(
        "no PostgreSQL server binaries found (looked for initdb on PATH and in {looked}): {hint}"
    )]
    BinariesNotFound {
        looked: &'static str,
        hint: &'static str,
    },
    #[error(
        "running as root, PostgreSQL must run as the `postgres` OS user, which does not exist: \
         install the `postgresql` package (it creates the user) or run as a normal user"
    )]
    NoPostgresUser,
    #[error(
        "the `postgres` OS user cannot reach {0}: a parent folder is private to root; choose a \
         data directory outside /root (for example under /var/tmp)"
    )]
    Unreachable(PathBuf),
    #[error("{what} failed: {detail}")]
    Command { what: &'static str, detail: String },
    #[error("PostgreSQL did not become ready within {secs} s; its log ({log}) ends with:\n{tail}")]
    StartTimeout {
        secs: u64,
        log: PathBuf,
        tail: String,
    },
    #[error("PostgreSQL exited while starting; its log ({log}) ends with:\n{tail}")]
    StartFailed { log: PathBuf, tail: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

/// Wraps an I/O error with what was being done.
pub(super) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LocalPgError {
    let context = context.into();
    move |source| LocalPgError::Io { context, source }
}
