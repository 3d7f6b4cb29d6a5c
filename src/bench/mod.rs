//! `superset-bench`: the sync service measured against the targets of DESIGN.md §5.
//!
//! Each scenario makes its own database in one throwaway cluster ([`env::Lab`]), seeds it, starts
//! the sync service on its own runtime and a loopback port ([`env::Server`]), and drives it with
//! a small shape client ([`client`]) that follows handles and offsets and decodes every body
//! the way `@electric-sql/client` does. Scenarios: `serve` (one client, a 1M-row shape),
//! `live` (commit → client latency across 1,000 live shapes), `throughput` (row changes per
//! second through replication to clients) and `fanout` (2,000 clients fetch one 500-row shape
//! at once), `proxy` (what the API's proxy adds per request) and `desktop` (the desktop engine's
//! initial sync, commit → SQLite latency and idle writes) and `window` (cold start, frame CPU and
//! organization switch with 100k tasks). Everything runs on this machine: client, service and Postgres share its cores.

mod app;
pub mod client;
mod desktop;
pub mod env;
mod live;
mod proxy;
mod serve;
mod throughput;
mod window;

use std::time::{Duration, Instant};

use anyhow::Context;

use crate::server::{db, seed};
use env::{Database, Lab, Server};

/// Which measurement to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Every scenario, one after the other.
    All,
    /// Serve a 1M-row shape to one client (fresh shape, then an existing one).
    Serve,
    /// Commit → client sees it, with 1,000 live shapes each held by a long-poll.
    Live,
    /// Row changes per second through replication to the clients of the shapes they touch.
    Throughput,
    /// 2,000 clients fetch one 500-row shape at once.
    Fanout,
    /// What the API's Electric proxy adds to a request (p50/p99 through it and without it).
    Proxy,
    /// The desktop engine: initial sync of 100k tasks, commit → SQLite, idle writes.
    Desktop,
    /// The desktop window with 100k tasks: cold start, frame CPU, organization switch, memory.
    Window,
}

/// Sizes of the scenarios (defaults are the ones DESIGN.md §5 states).
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Rows in the `serve` scenario's shape.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Live shapes (one long-polling client each) in the `live` scenario.
    #[arg(long, default_value_t = 1_000)]
    pub live_shapes: usize,
    /// Single-row commits timed in the `live` scenario.
    #[arg(long, default_value_t = 1_000)]
    pub updates: usize,
    /// Row changes committed in the `throughput` scenario (per phase).
    #[arg(long, default_value_t = 200_000)]
    pub changes: usize,
    /// Row changes per transaction in the `throughput` scenario.
    #[arg(long, default_value_t = 1_000)]
    pub batch: usize,
    /// Shapes the `throughput` scenario's changes spread over (one client each).
    #[arg(long, default_value_t = 10)]
    pub throughput_shapes: usize,
    /// Concurrent clients in the `fanout` scenario.
    #[arg(long, default_value_t = 2_000)]
    pub clients: usize,
    /// Rows in the `fanout` scenario's shape.
    #[arg(long, default_value_t = 500)]
    pub shape_rows: usize,
    /// Worker threads of the sync service's runtime (default: one per CPU, like
    /// `superset-server`).
    #[arg(long)]
    pub server_threads: Option<usize>,
}

/// How a figure compares with its target.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
    /// Shown for context only.
    None,
}

#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Seconds,
    Millis,
    PerSecond,
    PerMinute,
    Megabytes,
}

impl Unit {
    fn format(self, value: f64) -> String {
        match self {
            Unit::Seconds => format!("{value:.2} s"),
            Unit::Millis => format!("{value:.1} ms"),
            Unit::PerSecond => format!("{}/s", thousands(value.round() as u64)),
            Unit::PerMinute => format!("{value:.1}/min"),
            Unit::Megabytes => format!("{value:.0} MB"),
        }
    }
}

/// One line of the result table.
#[derive(Debug, Clone)]
pub struct Figure {
    pub name: String,
    /// `None` when the scenario failed before measuring it.
    pub value: Option<f64>,
    pub unit: Unit,
    pub target: Target,
    pub anchor: &'static str,
}

impl Figure {
    pub fn new(name: impl Into<String>, value: f64, unit: Unit, target: Target) -> Self {
        Self {
            name: name.into(),
            value: Some(value),
            unit,
            target,
            anchor: "",
        }
    }

    pub fn anchor(mut self, anchor: &'static str) -> Self {
        self.anchor = anchor;
        self
    }

    fn verdict(&self) -> &'static str {
        match (self.value, self.target) {
            (None, _) => "FAILED",
            (Some(_), Target::None) => "",
            (Some(v), Target::AtMost(t)) if v <= t => "PASS",
            (Some(v), Target::AtLeast(t)) if v >= t => "PASS",
            _ => "MISS",
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::AtMost(t) => format!("≤ {}", self.unit.format(t)),
            Target::AtLeast(t) => format!("≥ {}", self.unit.format(t)),
            Target::None => String::new(),
        }
    }
}

/// Runs `scenario` (or all of them) and prints the table. True when every target was met.
pub fn run(scenario: Scenario, options: &Options) -> anyhow::Result<bool> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("superset-bench: the sync service against DESIGN.md §5");
    println!(
        "machine: {cpus} CPUs ({}), load average {} before the start",
        cpu_model(),
        load_average()
    );
    if cfg!(debug_assertions) {
        println!(
            "WARNING: this is a debug build; numbers mean nothing. Use \
             `cargo run --release --bin superset-bench -- all`."
        );
    } else {
        println!("build: release");
    }
    println!("client, sync service and PostgreSQL all run on this machine and share its CPUs");
    let started = Instant::now();
    let lab = Lab::start()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("bench-client")
        .build()
        .context("building the client runtime")?;
    let server_threads = options.server_threads.unwrap_or(cpus);
    let figures = runtime.block_on(async {
        let admin = db::connect(&lab.admin_url()).await?;
        let version: String = admin.query_one("SHOW server_version", &[]).await?.get(0);
        println!(
            "PostgreSQL {version} (throwaway cluster: fsync=off, under {})",
            lab.root().display()
        );
        println!(
            "sync service: {server_threads} runtime threads; client: {cpus} runtime threads\n"
        );
        let mut figures = Vec::new();
        let chosen = match scenario {
            Scenario::All => vec![
                Scenario::Serve,
                Scenario::Live,
                Scenario::Throughput,
                Scenario::Fanout,
                Scenario::Proxy,
                Scenario::Desktop,
                Scenario::Window,
            ],
            one => vec![one],
        };
        for which in chosen {
            let bench = Bench {
                lab: &lab,
                options,
                server_threads,
            };
            let result = match which {
                Scenario::Serve => serve::large_shape(&bench).await,
                Scenario::Live => live::latency(&bench).await,
                Scenario::Throughput => throughput::changes(&bench).await,
                Scenario::Fanout => serve::fanout(&bench).await,
                Scenario::Proxy => proxy::overhead(&bench).await,
                Scenario::Desktop => desktop::engine(&bench).await,
                Scenario::Window => window::frames(&bench).await,
                Scenario::All => continue,
            };
            match result {
                Ok(mut measured) => figures.append(&mut measured),
                Err(error) => {
                    println!("  {which:?} FAILED: {error:#}\n");
                    figures.push(Figure {
                        name: format!("{which:?} (failed: see above)"),
                        value: None,
                        unit: Unit::Seconds,
                        target: Target::None,
                        anchor: "",
                    });
                }
            }
        }
        anyhow::Ok(figures)
    })?;
    drop(runtime);
    drop(lab);
    print_table(&figures);
    println!(
        "\ntotal time {:.0} s; load average {} at the end",
        started.elapsed().as_secs_f64(),
        load_average()
    );
    Ok(figures.iter().all(|f| matches!(f.verdict(), "PASS" | "")))
}

/// What every scenario gets.
pub(crate) struct Bench<'a> {
    pub lab: &'a Lab,
    pub options: &'a Options,
    pub server_threads: usize,
}

impl Bench<'_> {
    /// A fresh migrated database for a scenario.
    async fn database(&self, name: &str) -> anyhow::Result<Database> {
        self.lab.database(name).await
    }

    async fn start_server(
        &self,
        config: crate::server::shapes::SyncConfig,
    ) -> anyhow::Result<Server> {
        Server::start(config, self.server_threads).await
    }
}

/// Seeds `database` with a generated team.
async fn seed_team(database: &Database, config: seed::SeedConfig) -> anyhow::Result<seed::Team> {
    let mut client = db::connect(&database.url).await?;
    let team = seed::generate(&config);
    seed::insert(&mut client, &team)
        .await
        .context("seeding the scenario's database")?;
    client.batch_execute("VACUUM ANALYZE").await?;
    Ok(team)
}

/// The shape definition `table=tasks&where=<column> = $1&params[1]=<value>`, URL-encoded.
fn pinned_tasks(column: &str, value: &str) -> String {
    format!("table=tasks&where={column}%20%3D%20%241&params%5B1%5D={value}")
}

/// The nearest-rank percentile `p` (0–100) of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// The 1-minute load average: other work on the machine skews every figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn print_table(figures: &[Figure]) {
    let rows: Vec<[String; 5]> = figures
        .iter()
        .map(|f| {
            [
                f.name.clone(),
                f.value.map_or("—".to_owned(), |v| f.unit.format(v)),
                f.target_text(),
                f.anchor.to_owned(),
                f.verdict().to_owned(),
            ]
        })
        .collect();
    let header = [
        "scenario",
        "measured",
        "target",
        "Electric anchor",
        "result",
    ];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&sorted, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&sorted, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn verdicts_compare_with_the_target() {
        let fast = Figure::new("x", 1.0, Unit::Seconds, Target::AtMost(2.4));
        let slow = Figure::new("x", 3.0, Unit::Seconds, Target::AtMost(2.4));
        let rate = Figure::new("x", 60_000.0, Unit::PerSecond, Target::AtLeast(50_000.0));
        assert_eq!(fast.verdict(), "PASS");
        assert_eq!(slow.verdict(), "MISS");
        assert_eq!(rate.verdict(), "PASS");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(rate.target_text(), "≥ 50,000/s");
    }
}
