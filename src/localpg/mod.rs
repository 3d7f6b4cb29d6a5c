//! A private PostgreSQL cluster run from the system's own binaries (`initdb`, `postgres`).
//!
//! The demo keeps one under the app's data dir and the test kit makes throwaway ones. Both need
//! the same things: find the binaries (`binaries.rs`: where each platform installs them), create
//! the cluster once with `wal_level=logical`, start the postmaster on a free loopback port, wait
//! until it accepts connections, and stop it again. What differs between Unix and Windows —
//! who the server runs as, private file modes, how a postmaster is told to stop — is in
//! `unix.rs` and `windows.rs`, which offer the same few items.

mod binaries;
mod error;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

use std::fs::{self, File};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::distr::{Alphanumeric, SampleString};

pub use binaries::{PgBinaries, Platform};
pub use error::LocalPgError;
use error::io_err;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
use windows as platform;

use platform::{RunAs, Shutdown};

/// How much a cluster's data matters. Throwaway clusters trade crash safety for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Test clusters: no fsync, no full-page writes. Lost on a power cut, and nobody minds.
    Throwaway,
    /// The demo's cluster, kept across runs.
    Durable,
}

/// A cluster's files under one root folder: `data/`, `socket/`, `password`, `postgres.log`.
#[derive(Debug)]
pub struct LocalCluster {
    root: PathBuf,
    bins: PgBinaries,
    run_as: Option<RunAs>,
    durability: Durability,
    password: String,
    port: u16,
    server: Mutex<Option<Child>>,
}

const SUPERUSER: &str = "postgres";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

impl LocalCluster {
    /// Opens the cluster under `root`, creating it with `initdb` if it does not exist yet.
    /// The server is not started.
    pub fn open_or_init(root: &Path, durability: Durability) -> Result<Self, LocalPgError> {
        let bins = PgBinaries::locate()?;
        let run_as = RunAs::detect()?;
        fs::create_dir_all(root).map_err(io_err(format!("creating {}", root.display())))?;
        let root =
            fs::canonicalize(root).map_err(io_err(format!("resolving {}", root.display())))?;
        if let Some(run_as) = run_as {
            if !run_as.can_reach(&root) {
                return Err(LocalPgError::Unreachable(root));
            }
            run_as.own(&root)?;
        }
        let mut cluster = Self {
            root,
            bins,
            run_as,
            durability,
            password: String::new(),
            port: 0,
            server: Mutex::new(None),
        };
        if cluster.data_dir().join("PG_VERSION").is_file() {
            cluster.password = fs::read_to_string(cluster.password_file())
                .map_err(io_err("reading the cluster's password file"))?
                .trim()
                .to_owned();
        } else {
            cluster.init()?;
        }
        Ok(cluster)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.root.join("socket")
    }

    fn password_file(&self) -> PathBuf {
        self.root.join("password")
    }

    pub fn log_file(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    /// The loopback port the server listens on (0 before the first start).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A connection URL for `database` as the cluster's superuser.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// Where one of this installation's programs is (`pg_recvlogical`, say); it may be missing
    /// where only the server was installed.
    pub fn program(&self, name: &str) -> PathBuf {
        self.bins.bin(name)
    }

    /// The postmaster's process id while it runs.
    pub fn server_pid(&self) -> Option<u32> {
        self.lock_server().as_ref().map(Child::id)
    }

    fn lock_server(&self) -> std::sync::MutexGuard<'_, Option<Child>> {
        // A panic while holding this lock leaves nothing half-done worth refusing to stop.
        self.server.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn command(&self, binary: &str) -> Command {
        let mut cmd = Command::new(self.bins.bin(binary));
        cmd.current_dir(&self.root)
            .env("LC_ALL", "C")
            .env_remove("PGDATA");
        if let Some(run_as) = self.run_as {
            run_as.apply(&mut cmd);
        }
        cmd
    }

    fn init(&mut self) -> Result<(), LocalPgError> {
        self.password = Alphanumeric.sample_string(&mut rand::rng(), 24);
        let pwfile = self.password_file();
        let mut file =
            File::create(&pwfile).map_err(io_err("writing the cluster's password file"))?;
        platform::make_private(&pwfile, 0o600)
            .map_err(io_err("protecting the cluster's password file"))?;
        writeln!(file, "{}", self.password)
            .map_err(io_err("writing the cluster's password file"))?;
        drop(file);
        if let Some(run_as) = self.run_as {
            run_as.own(&pwfile)?;
        }
        let output = self
            .command("initdb")
            .arg("--pgdata")
            .arg(self.data_dir())
            .args([
                "--username",
                SUPERUSER,
                "--encoding",
                "UTF8",
                "--locale",
                "C",
            ])
            .args([
                "--auth-local",
                "trust",
                "--auth-host",
                "scram-sha-256",
                "--no-sync",
            ])
            .arg("--pwfile")
            .arg(&pwfile)
            .output()
            .map_err(io_err("running initdb"))?;
        if !output.status.success() {
            return Err(LocalPgError::Command {
                what: "initdb",
                detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(())
    }

    /// Starts the postmaster on a free loopback port and waits until it accepts connections.
    pub fn start(&mut self) -> Result<(), LocalPgError> {
        if self.server_pid().is_some() {
            return Ok(());
        }
        self.stop_leftover();
        // Another process may take the port between our probe and the server's bind; a second
        // probe and start usually wins.
        let mut last_error = None;
        for _ in 0..3 {
            self.port = free_port()?;
            match self.start_on_port() {
                Ok(()) => return Ok(()),
                Err(e @ LocalPgError::StartFailed { .. }) => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.expect("three failed attempts leave an error"))
    }

    fn start_on_port(&mut self) -> Result<(), LocalPgError> {
        let socket_dir = self.socket_dir();
        fs::create_dir_all(&socket_dir).map_err(io_err("creating the socket folder"))?;
        platform::make_private(&socket_dir, 0o700)
            .map_err(io_err("protecting the socket folder"))?;
        if let Some(run_as) = self.run_as {
            run_as.own(&socket_dir)?;
        }
        // Unix socket paths are limited to ~107 bytes; TCP is what we use anyway (and all there
        // is on Windows).
        let socket_setting = if cfg!(unix) && socket_dir.as_os_str().len() < 90 {
            socket_dir.display().to_string()
        } else {
            String::new()
        };
        let log_path = self.log_file();
        let log = File::options()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io_err("opening the PostgreSQL log"))?;
        let log_err = log
            .try_clone()
            .map_err(io_err("opening the PostgreSQL log"))?;
        let mut cmd = self.command("postgres");
        cmd.arg("-D").arg(self.data_dir());
        let mut settings = vec![
            ("listen_addresses", "127.0.0.1".to_owned()),
            ("port", self.port.to_string()),
            ("unix_socket_directories", socket_setting),
            ("wal_level", "logical".to_owned()),
            ("max_wal_senders", "64".to_owned()),
            ("max_replication_slots", "64".to_owned()),
            ("max_connections", "300".to_owned()),
            ("logging_collector", "off".to_owned()),
            // A forgotten slot must not fill the disk with WAL.
            ("max_slot_wal_keep_size", "2GB".to_owned()),
        ];
        // Not synchronous_commit=off: the walsender only sends flushed WAL, so it would delay
        // every replicated change by up to wal_writer_delay (200 ms).
        if self.durability == Durability::Throwaway {
            settings.extend([
                ("fsync", "off".to_owned()),
                ("full_page_writes", "off".to_owned()),
            ]);
        }
        for (name, value) in settings {
            cmd.arg("-c").arg(format!("{name}={value}"));
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(io_err("starting postgres"))?;
        let started = Instant::now();
        loop {
            if child
                .try_wait()
                .map_err(io_err("watching postgres"))?
                .is_some()
            {
                return Err(LocalPgError::StartFailed {
                    log: log_path.clone(),
                    tail: log_tail(&log_path),
                });
            }
            if self.accepts_connections(child.id()) {
                *self.lock_server() = Some(child);
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(LocalPgError::StartTimeout {
                    secs: START_TIMEOUT.as_secs(),
                    log: log_path.clone(),
                    tail: log_tail(&log_path),
                });
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The postmaster writes its pid into line 1 of `postmaster.pid`, and "ready" into line 8
    /// once it accepts connections (PostgreSQL 10+), which is cheaper and surer than polling
    /// with a client. Only the file of postmaster `pid` counts: a leftover server's is not ours.
    fn accepts_connections(&self, pid: u32) -> bool {
        fs::read_to_string(self.data_dir().join("postmaster.pid"))
            .map(|pid_file| {
                let mut lines = pid_file.lines().map(str::trim);
                lines.next() == Some(pid.to_string().as_str()) && lines.nth(6) == Some("ready")
            })
            .unwrap_or(false)
    }

    /// A postmaster still running on this data folder from a process that was killed (so never
    /// stopped it) is stopped first: it would keep the folder locked on a port nobody knows.
    fn stop_leftover(&self) {
        let Some(pid) = fs::read_to_string(self.data_dir().join("postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok())
        else {
            return;
        };
        platform::stop_leftover(&self.bins, &self.data_dir(), pid, STOP_TIMEOUT);
    }

    /// Stops the server: a fast shutdown for durable clusters, an immediate one for throwaway
    /// ones (their data is about to be deleted). Waits for the postmaster to exit.
    pub fn stop(&self) {
        let Some(mut child) = self.lock_server().take() else {
            return;
        };
        let how = match self.durability {
            Durability::Durable => Shutdown::Fast,
            Durability::Throwaway => Shutdown::Immediate,
        };
        platform::request_shutdown(&self.bins, child.id(), how);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        tracing::warn!("postgres did not stop within {STOP_TIMEOUT:?}; killing it");
        platform::request_shutdown(&self.bins, child.id(), Shutdown::Immediate);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16, LocalPgError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io_err("finding a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io_err("finding a free port"))?
        .port();
    Ok(port)
}

fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn missing_binaries_name_the_package_to_install() {
        let empty = tempfile_free_dir();
        let err = PgBinaries::locate_in(Platform::CURRENT, [empty]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("apt-get install postgresql"), "{text}");
        assert_eq!(text.lines().count(), 1, "one clear line: {text}");
    }

    #[cfg(target_os = "linux")]
    fn tempfile_free_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("superset-nobins-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }
}
