//! `superset-bench`: the sync service measured against the targets of DESIGN.md §5.
//!
//! Each scenario makes its own database in one throwaway cluster ([`env::Lab`]), seeds it, starts
//! the sync service on its own runtime and a loopback port ([`env::Server`]), and drives it with
//! a small shape client ([`client`]) that follows handles and offsets and decodes every body
//! the way `@electric-sql/client` does. Scenarios: `serve` (one client, a 1M-row shape),
//! `live` (commit → client latency across 1,000 live shapes), `throughput` (row changes per
//! second through replication to clients) and `fanout` (2,000 clients fetch one 500-row shape
//! at once), `proxy` (what the API's proxy adds per request), `moves` (a subquery shape's move-in and
//! move-out latency against a plain update on the same shape) and `desktop` (the desktop engine's
//! initial sync, commit → SQLite latency and idle writes) and `window` (cold start, frame CPU and
//! organization switch with 100k tasks); apart from `all`, `scale` (the production topology of
//! `dist/deploy/` with 10,000 simulated desktops). Everything runs on this machine: client, service and Postgres share its cores.

mod app;
pub mod client;
mod context;
mod cpu;
mod desktop;
pub mod env;
mod flood;
mod live;
mod moves;
mod options;
mod proxy;
mod report;
mod scale;
mod serve;
mod throughput;
mod window;

use std::time::Instant;

use anyhow::Context;

use crate::server::db;
use context::Bench;
use env::Lab;
pub use options::{Options, Scenario};
use report::{Figure, Target, Unit, print_table};

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
                Scenario::Flood,
                Scenario::Moves,
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
                Scenario::Flood => flood::login_flood(&bench).await,
                Scenario::Moves => moves::latency(&bench).await,
                Scenario::Desktop => desktop::engine(&bench).await,
                Scenario::Window => window::frames(&bench).await,
                Scenario::Scale => scale::topology(&bench).await,
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
                        floor: None,
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
