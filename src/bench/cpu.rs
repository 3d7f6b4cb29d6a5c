//! Where a phase's core-seconds went, read from `/proc` (Linux; elsewhere nothing is read and
//! nothing is printed): PostgreSQL (the postmaster, its live backends and, through the
//! postmaster's reaped-children counters, the ones already gone), the in-process sync service's
//! threads (`sync-worker`) and the clients' threads (`bench-client`).
//!
//! On this 2-core machine a ratio to a floor is often decided by how the phase's work adds up
//! across the cores rather than by any one party's speed; the split says which.

use std::fmt;
use std::time::Duration;

/// Clock ticks per second of `/proc`'s CPU counters (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// The fields of `/proc/<pid>/stat` after the command name (state, ppid, …); `None` when the
/// process is gone or this is not Linux.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    stat_fields_at(&format!("/proc/{pid}/stat"))
}

fn stat_fields_at(path: &str) -> Option<Vec<String>> {
    fields_after_name(&std::fs::read_to_string(path).ok()?)
}

/// A stat line's fields after the command name, which may itself hold spaces and parentheses.
fn fields_after_name(stat: &str) -> Option<Vec<String>> {
    let after_name = stat.get(stat.rfind(')')? + 2..)?;
    Some(after_name.split_whitespace().map(str::to_owned).collect())
}

/// CPU seconds in `stat` fields: utime and stime, and with `reaped` also cutime and cstime
/// (fields 14–17 of stat: 11–14 after the name).
fn seconds(fields: &[String], reaped: bool) -> f64 {
    let last = if reaped { 15 } else { 13 };
    let ticks: f64 = fields
        .get(11..last)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| f.parse::<f64>().ok())
        .sum();
    ticks / TICKS_PER_SECOND
}

/// CPU seconds of `pid` itself and of its children it has reaped.
pub(super) fn process_seconds(pid: u32) -> f64 {
    stat_fields(pid).map_or(0.0, |f| seconds(&f, true))
}

/// The processes whose parent is `parent`.
pub(super) fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parent = parent.to_string();
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| stat_fields(*pid).is_some_and(|f| f.get(1) == Some(&parent)))
        .collect()
}

/// CPU seconds of a server process and its children, those still running and those gone.
fn family_seconds(root: u32) -> f64 {
    process_seconds(root)
        + children_of(root)
            .into_iter()
            .map(process_seconds)
            .sum::<f64>()
}

/// CPU seconds of this process's threads whose name starts with `prefix`.
fn thread_seconds(prefix: &str) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = std::fs::read_to_string(path.join("comm")).ok()?;
            if !name.starts_with(prefix) {
                return None;
            }
            let fields = stat_fields_at(path.join("stat").to_str()?)?;
            Some(seconds(&fields, false))
        })
        .sum()
}

/// Core-seconds used so far by each party.
#[derive(Debug, Clone, Copy, Default)]
struct Used {
    postgres: f64,
    service: f64,
    clients: f64,
}

impl Used {
    fn now(postmaster: u32) -> Self {
        Self {
            postgres: family_seconds(postmaster),
            service: thread_seconds("sync-worker"),
            clients: thread_seconds("bench-client"),
        }
    }
}

/// Reads each party's CPU at the start of a phase; [`CpuMeter::split`] gives what they used
/// since. Read it before the service stops: a stopped service's threads take their time with
/// them.
pub(super) struct CpuMeter {
    postmaster: Option<u32>,
    at_start: Used,
}

impl CpuMeter {
    /// Starts measuring; `postmaster` is the cluster's server process (`None`: not running).
    pub(super) fn start(postmaster: Option<u32>) -> Self {
        Self {
            postmaster,
            at_start: postmaster.map(Used::now).unwrap_or_default(),
        }
    }

    /// What each party used since the start, over a phase that took `wall`; `None` where
    /// `/proc` cannot tell. A backend that has exited counts once the postmaster has reaped it
    /// (within milliseconds).
    pub(super) fn split(&self, wall: Duration) -> Option<CpuSplit> {
        let postmaster = self.postmaster.filter(|_| cfg!(target_os = "linux"))?;
        let now = Used::now(postmaster);
        Some(CpuSplit {
            wall,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            postgres: now.postgres - self.at_start.postgres,
            service: now.service - self.at_start.service,
            clients: now.clients - self.at_start.clients,
        })
    }
}

/// Prints a phase's split under the phase's own line (nothing where `/proc` could not tell).
pub(super) fn print(split: Option<CpuSplit>) {
    if let Some(split) = split {
        println!("    {split}");
    }
}

/// The core-seconds each party used in one phase, and what the machine had to give.
#[derive(Debug, Clone, Copy)]
pub(super) struct CpuSplit {
    wall: Duration,
    cores: usize,
    pub(super) postgres: f64,
    pub(super) service: f64,
    pub(super) clients: f64,
}

impl CpuSplit {
    /// Core-seconds the machine had over the phase.
    fn available(&self) -> f64 {
        self.wall.as_secs_f64() * self.cores as f64
    }
}

impl fmt::Display for CpuSplit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CPU over {:.2} s ({:.2} core-s on {} cores): PostgreSQL {:.2} s, sync service \
             {:.2} s, clients {:.2} s",
            self.wall.as_secs_f64(),
            self.available(),
            self.cores,
            self.postgres,
            self.service,
            self.clients,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_add_the_counters_after_the_command_name() {
        // A command name with spaces and a parenthesis, as `comm` may hold.
        let stat = "42 (sync worker) x) S 1 42 42 0 -1 4194560 10 0 0 0 250 50 7 3 20 0 1 0";
        let fields = fields_after_name(stat).unwrap();
        assert_eq!(fields[1], "1", "the parent's pid");
        assert!((seconds(&fields, false) - 3.0).abs() < 1e-9);
        assert!((seconds(&fields, true) - 3.1).abs() < 1e-9);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_used_some_cpu() {
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {
            std::hint::black_box(0);
        }
        assert!(process_seconds(std::process::id()) > 0.0);
    }
}
