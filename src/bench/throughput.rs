//! Scenario 3: row changes per second through the sync service.
//!
//! `tasks` of N organizations, one shape per organization (`organization_id = $1`), each
//! followed live by a client. Two phases, the same number of changes each:
//!
//! - **live**: a writer commits UPDATEs in batches while the service runs; measured from the
//!   first commit's start until the clients have received every change. This is Postgres
//!   (executing the writes, WAL, logical decoding in the walsender) plus the sync service
//!   (pgoutput decoding, routing, JSON encoding, log writes) plus HTTP to the clients, all on
//!   the same cores.
//! - **catch-up**: the service is stopped, the writer commits the same amount again (timed on
//!   its own: Postgres alone), then the service starts and is timed from its start until the
//!   clients hold every change: replication and our processing without a writer competing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::{self, Position};
use super::context::{Bench, pinned_tasks, seed_team};
use super::cpu::{self, CpuMeter};
use super::env::sync_config;
use super::report::{Figure, Target, Unit, thousands};
use crate::server::shapes::ShapeServiceConfig;
use crate::server::{db, seed};

const ANCHOR: &str = "4–6k changes/s";
const TARGET: f64 = 50_000.0;

pub(crate) async fn changes(bench: &Bench<'_>) -> anyhow::Result<Vec<Figure>> {
    let options = bench.options;
    let (changes, batch, shapes) = (options.changes, options.batch, options.throughput_shapes);
    anyhow::ensure!(
        changes > 0 && batch > 0 && shapes > 0,
        "--changes, --batch and --throughput-shapes must be positive"
    );
    let rows = changes.min(100_000);
    println!(
        "[throughput] {} row changes (UPDATEs, {} rows per transaction) over {} tasks in {shapes} \
         organizations; one shape per organization, each followed live by a client",
        thousands(changes as u64),
        thousands(batch as u64),
        thousands(rows as u64),
    );
    println!(
        "  measured: first commit → every change received by the clients = Postgres (writes, \
         WAL, logical decoding) + sync service (decode, route, encode, log) + HTTP"
    );
    let database = bench.database("bench_throughput").await?;
    let result = async {
        let team = seed_team(
            &database,
            seed::SeedConfig {
                organizations: shapes,
                users: shapes * 4,
                repositories: shapes * 2,
                tasks: rows,
                workspaces: 100,
                ..seed::SeedConfig::default()
            },
        )
        .await?;
        let writer = db::connect(&database.url).await?;
        let ids: Vec<Uuid> = writer
            .query("SELECT id FROM tasks ORDER BY id", &[])
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let definitions: Vec<String> = team
            .organizations
            .iter()
            .map(|o| pinned_tasks("organization_id", &o.id.to_string()))
            .collect();
        let plan = Plan::new(&ids, changes, batch);

        let run = Run {
            bench,
            config: sync_config(bench.lab, &database),
            http: client::http(definitions.len() * 2 + 8)?,
            writer,
            definitions,
            plan,
            changes,
        };
        let (live_rate, positions) = run.live().await?;
        let catch_up = run.catch_up(&positions).await?;
        let mut figures = vec![
            Figure::new(
                "changes/s, live writer → clients (PG + sync + HTTP)",
                live_rate,
                Unit::PerSecond,
                Target::AtLeast(TARGET),
            )
            .anchor(ANCHOR),
            Figure::against(
                "changes/s, backlog catch-up → clients (no writer)",
                catch_up.rate,
                catch_up.floor,
                Unit::PerSecond,
                Target::AtLeast(0.7),
            )
            .anchor(ANCHOR),
        ];
        figures.extend(catch_up.streamed.map(|streamed| {
            Figure::against(
                "changes/s, backlog → pg_recvlogical (info)",
                streamed,
                catch_up.floor,
                Unit::PerSecond,
                Target::None,
            )
        }));
        anyhow::Ok(figures)
    }
    .await;
    bench.lab.drop_database(&database).await?;
    result
}

/// One scenario's parts: the service's configuration, the client, the writer, the shapes and
/// the batches to commit.
struct Run<'a> {
    bench: &'a Bench<'a>,
    config: ShapeServiceConfig,
    http: reqwest::Client,
    writer: tokio_postgres::Client,
    definitions: Vec<String>,
    plan: Plan,
    changes: usize,
}

impl Run<'_> {
    fn rate(&self, elapsed: Duration) -> f64 {
        self.changes as f64 / elapsed.as_secs_f64()
    }

    /// The writer and the service run together; returns the end-to-end rate and the clients'
    /// positions before the writes (the catch-up resumes from them).
    async fn live(&self) -> anyhow::Result<(f64, Vec<Arc<Mutex<Position>>>)> {
        let server = self.bench.start_server(self.config.clone()).await?;
        let mut positions = Vec::new();
        for definition in &self.definitions {
            let (position, _) = client::fetch(
                &self.http,
                &server.base_url,
                definition,
                Duration::from_secs(120),
            )
            .await?;
            positions.push(Arc::new(Mutex::new(position)));
        }
        let live = async {
            let mut followers =
                Followers::start(&self.http, &server.base_url, &self.definitions, &positions);
            let started = Instant::now();
            let (written, received) = tokio::join!(
                self.plan.commit(&self.writer, 0),
                followers.receive(self.changes)
            );
            followers.stop().await;
            let (written, received) = (written?, received?);
            anyhow::Ok((started, written, received))
        }
        .await;
        // Let the service acknowledge what it wrote before it stops.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        server.stop().await;
        let (started, written, received) = live?;
        let live_rate = self.rate(received - started);
        println!(
            "  live: {} changes in {:.2} s = {}/s end to end; the writer alone committed them in \
             {:.2} s ({}/s), the last reached a client {:.0} ms after the last commit",
            thousands(self.changes as u64),
            (received - started).as_secs_f64(),
            thousands(live_rate as u64),
            (written - started).as_secs_f64(),
            thousands(self.rate(written - started) as u64),
            received.saturating_duration_since(written).as_secs_f64() * 1000.0,
        );
        Ok((live_rate, positions))
    }

    /// A backlog in the slot, replayed while nothing else runs: the catch-up rate, its floor
    /// (Postgres decoding the same backlog alone) and, for context, the rate at which
    /// Postgres's own streaming client drains it.
    async fn catch_up(&self, positions: &[Arc<Mutex<Position>>]) -> anyhow::Result<CatchUp> {
        let started = Instant::now();
        let written = self.plan.commit(&self.writer, 1).await?;
        println!(
            "  backlog: Postgres alone committed {} changes in {:.2} s ({}/s) with the service \
             stopped",
            thousands(self.changes as u64),
            (written - started).as_secs_f64(),
            thousands(self.rate(written - started) as u64),
        );
        let floor = self.decoding_floor().await?;
        let streamed = self.streaming_reference().await?;
        let started = Instant::now();
        let cpu = CpuMeter::start(self.bench.lab.postmaster_pid());
        let server = self.bench.start_server(self.config.clone()).await?;
        let mut followers =
            Followers::start(&self.http, &server.base_url, &self.definitions, positions);
        let received = followers.receive(self.changes).await;
        let split = cpu.split(started.elapsed());
        followers.stop().await;
        server.stop().await;
        let received = received?;
        let rate = self.rate(received - started);
        println!(
            "  catch-up: service start → clients hold the backlog in {:.2} s = {}/s (replication \
             + our processing, no writer competing)",
            (received - started).as_secs_f64(),
            thousands(rate as u64),
        );
        cpu::print(split);
        println!();
        Ok(CatchUp {
            rate,
            floor: self.rate(floor),
            streamed: streamed.map(|d| self.rate(d)),
        })
    }

    /// Postgres decoding the backlog alone, without a network: `pg_logical_slot_peek_binary_changes`.
    async fn decoding_floor(&self) -> anyhow::Result<Duration> {
        let cpu = CpuMeter::start(self.bench.lab.postmaster_pid());
        let decoding = Instant::now();
        self.writer
            .query_one(
                "SELECT count(*) FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, \
                 'proto_version', '1', 'publication_names', $2)",
                &[&self.config.slot, &self.config.publication],
            )
            .await
            .context("decoding the backlog in Postgres")?;
        let decoding = decoding.elapsed();
        println!(
            "  backlog: Postgres alone decodes it (pgoutput, pg_logical_slot_peek_binary_changes, \
             no network) in {:.2} s ({}/s): the floor for the catch-up below",
            decoding.as_secs_f64(),
            thousands(self.rate(decoding) as u64),
        );
        cpu::print(cpu.split(decoding));
        Ok(decoding)
    }

    /// Postgres's own streaming client, `pg_recvlogical`, draining the same backlog over the
    /// same kind of connection as the service (from a copy of the slot, so the service still
    /// finds the backlog): what the walsender costs before any client does anything with a
    /// change. `None` when this installation has no `pg_recvlogical`.
    async fn streaming_reference(&self) -> anyhow::Result<Option<Duration>> {
        let program = self.bench.lab.program("pg_recvlogical");
        if !program.is_file() {
            println!(
                "  (pg_recvlogical is not installed here: the streaming reference is left out)"
            );
            return Ok(None);
        }
        let copy = format!("{}_streamed", self.config.slot);
        let end: String = self
            .writer
            .query_one("SELECT pg_current_wal_lsn()::text", &[])
            .await?
            .get(0);
        self.writer
            .execute(
                "SELECT pg_copy_logical_replication_slot($1, $2)",
                &[&self.config.slot, &copy],
            )
            .await
            .context("copying the replication slot")?;
        let cpu = CpuMeter::start(self.bench.lab.postmaster_pid());
        let started = Instant::now();
        let status = tokio::process::Command::new(&program)
            .arg("--dbname")
            .arg(&self.config.database_url)
            .args(["--slot", &copy, "--start", "--no-loop", "--file", "-"])
            .args(["--option", "proto_version=1", "--option"])
            .arg(format!("publication_names={}", self.config.publication))
            .args(["--endpos", &end])
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .context("running pg_recvlogical")?;
        let streamed = started.elapsed();
        anyhow::ensure!(status.success(), "pg_recvlogical failed: {status}");
        self.drop_slot_once_released(&copy).await?;
        let split = cpu.split(streamed);
        println!(
            "  backlog: Postgres's own client (pg_recvlogical, the same TCP connection, output \
             discarded) drains it in {:.2} s ({}/s): what streaming costs Postgres itself (the \
             client's own CPU is not counted below)",
            streamed.as_secs_f64(),
            thousands(self.rate(streamed) as u64),
        );
        cpu::print(split);
        Ok(Some(streamed))
    }

    /// Drops `slot` once its walsender has let go of it (and so has exited: its CPU time then
    /// counts in the postmaster's).
    async fn drop_slot_once_released(&self, slot: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self
            .writer
            .query_one(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
                &[&slot],
            )
            .await?
            .get::<_, bool>(0)
        {
            anyhow::ensure!(Instant::now() < deadline, "slot {slot} stayed in use");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.writer
            .execute("SELECT pg_drop_replication_slot($1)", &[&slot])
            .await
            .context("dropping the slot's copy")?;
        Ok(())
    }
}

/// The catch-up's figures, in changes per second.
struct CatchUp {
    rate: f64,
    /// Postgres decoding the backlog alone (the target's floor).
    floor: f64,
    /// Postgres's own streaming client over the same connection (context).
    streamed: Option<f64>,
}

/// The UPDATE batches: `changes` row changes over `ids` in transactions of `batch` rows.
struct Plan {
    batches: Vec<(Vec<Uuid>, i32)>,
}

impl Plan {
    fn new(ids: &[Uuid], changes: usize, batch: usize) -> Self {
        let mut batches = Vec::new();
        let mut left = changes;
        let mut pass = 0;
        while left > 0 && !ids.is_empty() {
            for chunk in ids.chunks(batch) {
                let take = chunk.len().min(left);
                batches.push((chunk[..take].to_vec(), pass));
                left -= take;
                if left == 0 {
                    break;
                }
            }
            pass += 1;
        }
        Self { batches }
    }

    /// Commits every batch (each row gets a new `branch`, so each is a real change); returns
    /// when the last commit returned.
    async fn commit(&self, writer: &tokio_postgres::Client, phase: i32) -> anyhow::Result<Instant> {
        let statement = writer
            .prepare("UPDATE tasks SET branch = 'bench/' || $2::text WHERE id = ANY($1)")
            .await?;
        for (ids, pass) in &self.batches {
            let label = format!("{phase}-{pass}");
            writer
                .execute(&statement, &[ids, &label])
                .await
                .context("committing a batch of updates")?;
        }
        Ok(Instant::now())
    }
}

/// One live client per shape, reporting how many changes each response brought.
struct Followers {
    tasks: JoinSet<anyhow::Result<()>>,
    received: mpsc::UnboundedReceiver<usize>,
}

impl Followers {
    fn start(
        http: &reqwest::Client,
        base: &str,
        definitions: &[String],
        positions: &[Arc<Mutex<Position>>],
    ) -> Self {
        let (report, received) = mpsc::unbounded_channel();
        let mut tasks = JoinSet::new();
        for (definition, position) in definitions.iter().zip(positions) {
            let (http, base, definition, position, report) = (
                http.clone(),
                base.to_owned(),
                definition.clone(),
                position.clone(),
                report.clone(),
            );
            tasks.spawn(async move {
                loop {
                    let query = lock(&position).query(&definition, true);
                    let page = client::get(&http, &base, &query, Duration::from_secs(120)).await?;
                    // No await between advancing and reporting: an abort keeps them in step.
                    if lock(&position).advance(&page)? {
                        let _ = report.send(client::decode(&page.body)?.changes);
                    }
                }
            });
        }
        Self { tasks, received }
    }

    /// Waits until the clients have received `changes` changes in all; returns when.
    async fn receive(&mut self, changes: usize) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut total = 0;
        while total < changes {
            match tokio::time::timeout_at(deadline.into(), self.received.recv()).await {
                Ok(Some(n)) => total += n,
                Ok(None) => anyhow::bail!("every client stopped after {total} changes"),
                Err(_) => anyhow::bail!("only {total} of {changes} changes arrived in time"),
            }
        }
        Ok(Instant::now())
    }

    async fn stop(mut self) {
        self.tasks.abort_all();
        while let Some(joined) = self.tasks.join_next().await {
            if let Ok(Err(error)) = joined {
                println!("  WARNING: a client failed: {error:#}");
            }
        }
    }
}

fn lock(position: &Mutex<Position>) -> std::sync::MutexGuard<'_, Position> {
    position.lock().unwrap_or_else(|e| e.into_inner())
}
