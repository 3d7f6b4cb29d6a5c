//! The production topology on this machine, as `dist/deploy/local-cluster.sh` brings it up
//! (Postgres, one sync service, the nginx shape cache, two API replicas, the nginx balancer),
//! taken down again when dropped; and each tier's CPU time and resident memory, read from
//! `/proc` for the processes the script started (nginx: master and workers; Postgres: the
//! postmaster and its backends).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use super::super::cpu::{children_of, process_seconds};

/// A running local cluster.
pub(super) struct Cluster {
    dir: PathBuf,
    script: PathBuf,
    settings: BTreeMap<String, String>,
}

impl Cluster {
    /// Brings the topology up under `dir`, with the server binary next to this one.
    pub(super) fn up(dir: &Path) -> anyhow::Result<Self> {
        let script = PathBuf::from("dist/deploy/local-cluster.sh");
        anyhow::ensure!(
            script.exists(),
            "dist/deploy/local-cluster.sh not found: run superset-bench from the repository's root"
        );
        let server = std::env::current_exe()?.with_file_name("superset-server");
        anyhow::ensure!(
            server.exists(),
            "{} is missing: `cargo build --release --bin superset-server` first",
            server.display()
        );
        let port = free_port_range(6)?;
        let status = Command::new(&script)
            .args(["up", "--dir"])
            .arg(dir)
            .args(["--port", &port.to_string()])
            .env("SUPERSET_SERVER", &server)
            .status()
            .context("running dist/deploy/local-cluster.sh")?;
        // Taken down when dropped, also when it came up only partly.
        let mut cluster = Self {
            dir: dir.to_owned(),
            script,
            settings: BTreeMap::new(),
        };
        anyhow::ensure!(
            status.success(),
            "the cluster did not come up (see {}/*.log)",
            dir.display()
        );
        cluster.settings = std::fs::read_to_string(dir.join("cluster.env"))
            .context("reading the cluster's cluster.env")?
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Ok(cluster)
    }

    /// A setting from `cluster.env` (`SUPERSET_URL`, `DATABASE_URL`, `SUPERSET_JWT_SECRET`).
    pub(super) fn setting(&self, name: &str) -> anyhow::Result<&str> {
        self.settings
            .get(name)
            .map(String::as_str)
            .with_context(|| format!("cluster.env has no {name}"))
    }

    /// The last lines of each tier's log (for a failed run: the folder goes with the cluster).
    pub(super) fn log_tails(&self) -> String {
        let mut tails = String::new();
        for name in [
            "balancer.log",
            "cache.log",
            "api-1.log",
            "api-2.log",
            "sync.log",
        ] {
            let text = std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let last = &lines[lines.len().saturating_sub(5)..];
            if !last.is_empty() {
                tails.push_str(&format!("\n--- {name}\n{}", last.join("\n")));
            }
        }
        tails
    }

    /// Each tier's processes now.
    pub(super) fn tiers(&self) -> Vec<(&'static str, Vec<u32>)> {
        let pid = |name: &str| -> Vec<u32> {
            std::fs::read_to_string(self.dir.join(name))
                .ok()
                .and_then(|s| s.lines().next()?.trim().parse().ok())
                .into_iter()
                .collect()
        };
        // A master (nginx, the postmaster) and its workers or backends.
        let family = |name: &str| -> Vec<u32> {
            pid(name)
                .into_iter()
                .flat_map(|p| std::iter::once(p).chain(children_of(p)))
                .collect()
        };
        vec![
            ("load balancer (nginx)", family("balancer.pid")),
            (
                "API replicas (2)",
                [pid("api-1.pid"), pid("api-2.pid")].concat(),
            ),
            ("shape cache (nginx)", family("cache.pid")),
            ("sync service", pid("sync.pid")),
            ("PostgreSQL", family("pg/postmaster.pid")),
        ]
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(&self.script)
            .args(["down", "--dir"])
            .arg(&self.dir)
            .status();
    }
}

/// A port with `count` free ports from it on (the cluster takes consecutive ones).
fn free_port_range(count: u16) -> anyhow::Result<u16> {
    for base in (21_000..40_000).step_by(97) {
        let free = (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok());
        if free {
            return Ok(base);
        }
    }
    anyhow::bail!("no {count} consecutive free ports between 21000 and 40000")
}

/// CPU seconds (user + system, with reaped children's) and resident megabytes of `pids`.
pub(super) fn usage(pids: &[u32]) -> (f64, f64) {
    let mut cpu = 0.0;
    let mut rss = 0.0;
    for pid in pids {
        cpu += process_seconds(*pid);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let Some(kb) = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        {
            rss += kb / 1024.0;
        }
    }
    (cpu, rss)
}
