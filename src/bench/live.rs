//! Scenario 2: commit → client latency with 1,000 live shapes, each held by a long-poll.
//!
//! Every shape is `tasks WHERE id = $1` on its own row, so a commit concerns exactly one shape
//! and wakes exactly one client. The writer commits single-row updates one at a time to random
//! shapes whose client is waiting, and times each from the moment the commit returned to the
//! moment that client's response body had arrived.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::client::{self, Position};
use super::context::{Bench, pinned_tasks, seed_team};
use super::env::sync_config;
use super::report::{Figure, Target, Unit, millis, percentile, thousands};
use crate::server::{db, seed};

const ANCHOR: &str = "~6 ms flat";
/// Long enough that no held request times out during the measurement: 1,000 long-polls made
/// within a second would otherwise all come back at the same moment and poll again.
const LONG_POLL: Duration = Duration::from_secs(120);

pub(crate) async fn latency(bench: &Bench<'_>) -> anyhow::Result<Vec<Figure>> {
    let (shapes, updates) = (bench.options.live_shapes, bench.options.updates);
    anyhow::ensure!(
        shapes > 0 && updates > 0,
        "--live-shapes and --updates must be positive"
    );
    println!(
        "[live] {} shapes (`tasks` where id = $1, one row each), each with a long-polling client \
         (one shared HTTP client); {} single-row UPDATEs committed one at a time to random \
         shapes' rows, timed from the commit's return to the client's response",
        thousands(shapes as u64),
        thousands(updates as u64)
    );
    let database = bench.database("bench_live").await?;
    let result = async {
        seed_team(
            &database,
            seed::SeedConfig {
                tasks: shapes,
                ..seed::SeedConfig::default()
            },
        )
        .await?;
        let writer = db::connect(&database.url).await?;
        let ids: Vec<Uuid> = writer
            .query(
                "SELECT id FROM tasks ORDER BY id LIMIT $1",
                &[&(shapes as i64)],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let mut config = sync_config(bench.lab, &database);
        config.long_poll = LONG_POLL;
        let server = bench.start_server(config).await?;
        let result = measure(&server.base_url, &writer, &ids, updates).await;
        server.stop().await;
        result
    }
    .await;
    bench.lab.drop_database(&database).await?;
    result
}

async fn measure(
    base: &str,
    writer: &tokio_postgres::Client,
    ids: &[Uuid],
    updates: usize,
) -> anyhow::Result<Vec<Figure>> {
    let http = client::http(ids.len() + 64)?;
    let definitions: Vec<String> = ids
        .iter()
        .map(|id| pinned_tasks("id", &id.to_string()))
        .collect();

    let positions = sync_all(&http, base, &definitions).await?;

    // One long-polling client per shape.
    let armed: Arc<Vec<AtomicBool>> =
        Arc::new(ids.iter().map(|_| AtomicBool::new(false)).collect());
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<(usize, Instant)>();
    let mut clients = JoinSet::new();
    for (index, position) in positions.into_iter().enumerate() {
        let position = position.context("a shape was not fetched")?;
        clients.spawn(follow_live(
            index,
            http.clone(),
            base.to_owned(),
            definitions[index].clone(),
            position,
            armed.clone(),
            seen_tx.clone(),
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while armed.iter().any(|a| !a.load(Ordering::SeqCst)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Requests are sent; give the service a moment to hold them all.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let result = commit_and_time(writer, ids, updates, &armed, &mut seen).await;
    clients.abort_all();
    let mut failures = Vec::new();
    while let Some(joined) = clients.join_next().await {
        if let Ok(Err(error)) = joined {
            failures.push(error);
        }
    }
    if let Some(error) = failures.first() {
        println!(
            "  WARNING: {} live clients failed, e.g.: {error:#}",
            failures.len()
        );
    }
    let timing = result?;
    timing.print();
    println!();
    anyhow::ensure!(
        !timing.from_commit.is_empty(),
        "no update reached its client"
    );
    Ok(figures(&timing, ids.len()))
}

fn figures(timing: &Timing, shapes: usize) -> Vec<Figure> {
    vec![
        Figure::new(
            format!(
                "commit → client, {} live shapes, p50",
                thousands(shapes as u64)
            ),
            millis(percentile(&timing.from_commit, 50.0)),
            Unit::Millis,
            Target::AtMost(5.0),
        )
        .anchor(ANCHOR),
        Figure::new(
            format!(
                "commit → client, {} live shapes, p99",
                thousands(shapes as u64)
            ),
            millis(percentile(&timing.from_commit, 99.0)),
            Unit::Millis,
            Target::AtMost(20.0),
        )
        .anchor(ANCHOR),
    ]
}

/// Creates every shape and brings its client up to date, a few dozen at a time.
async fn sync_all(
    http: &reqwest::Client,
    base: &str,
    definitions: &[String],
) -> anyhow::Result<Vec<Option<Position>>> {
    let setup = Instant::now();
    let permits = Arc::new(Semaphore::new(32));
    let mut fetches = JoinSet::new();
    for (index, definition) in definitions.iter().enumerate() {
        let (http, base, definition, permits) = (
            http.clone(),
            base.to_owned(),
            definition.clone(),
            permits.clone(),
        );
        fetches.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            let (position, _) =
                client::fetch(&http, &base, &definition, Duration::from_secs(60)).await?;
            anyhow::Ok((index, position))
        });
    }
    let mut positions: Vec<Option<Position>> = vec![None; definitions.len()];
    while let Some(joined) = fetches.join_next().await {
        let (index, position) = joined.context("a fetch panicked")??;
        positions[index] = Some(position);
    }
    println!(
        "  setup: {} shapes created and synced in {:.1} s",
        thousands(definitions.len() as u64),
        setup.elapsed().as_secs_f64()
    );
    Ok(positions)
}

/// Follows one shape live, reporting when a response with changes arrives.
async fn follow_live(
    index: usize,
    http: reqwest::Client,
    base: String,
    definition: String,
    mut position: Position,
    armed: Arc<Vec<AtomicBool>>,
    seen: mpsc::UnboundedSender<(usize, Instant)>,
) -> anyhow::Result<()> {
    loop {
        let query = position.query(&definition, true);
        armed[index].store(position.up_to_date, Ordering::SeqCst);
        let page = client::get(&http, &base, &query, LONG_POLL * 2).await;
        let arrived = Instant::now();
        armed[index].store(false, Ordering::SeqCst);
        let page = page?;
        if position.advance(&page)? && client::decode(&page.body)?.changes > 0 {
            let _ = seen.send((index, arrived));
        }
    }
}

struct Timing {
    /// From the commit's return on the writer to the response's arrival at the client.
    from_commit: Vec<Duration>,
    /// From sending the UPDATE (so including the commit's round trip).
    from_send: Vec<Duration>,
    /// Responses that arrived before the writer saw its commit return.
    early: usize,
    /// Updates whose client saw nothing within 5 s.
    lost: usize,
}

impl Timing {
    fn print(&self) {
        let row = |name: &str, d: &[Duration]| {
            println!(
                "  {name}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                millis(percentile(d, 50.0)),
                millis(percentile(d, 90.0)),
                millis(percentile(d, 99.0)),
                millis(percentile(d, 100.0)),
            );
        };
        println!(
            "  {} updates timed ({} arrived before the commit returned, counted as 0; {} lost)",
            self.from_commit.len(),
            self.early,
            self.lost
        );
        row("commit returned → response", &self.from_commit);
        row("UPDATE sent → response     ", &self.from_send);
    }
}

async fn commit_and_time(
    writer: &tokio_postgres::Client,
    ids: &[Uuid],
    updates: usize,
    armed: &[AtomicBool],
    seen: &mut mpsc::UnboundedReceiver<(usize, Instant)>,
) -> anyhow::Result<Timing> {
    let statement = writer
        .prepare("UPDATE tasks SET title = $2 WHERE id = $1")
        .await?;
    let mut rng = StdRng::seed_from_u64(7);
    let mut timing = Timing {
        from_commit: Vec::with_capacity(updates),
        from_send: Vec::with_capacity(updates),
        early: 0,
        lost: 0,
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    for n in 0..updates {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the live scenario ran out of time"
        );
        // A shape whose client is waiting.
        let mut target = None;
        while target.is_none() && Instant::now() < deadline {
            for _ in 0..1000 {
                let i = rng.random_range(0..ids.len());
                if armed[i].load(Ordering::SeqCst) {
                    target = Some(i);
                    break;
                }
            }
            if target.is_none() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let target = target.context("no client is waiting")?;
        while seen.try_recv().is_ok() {}
        let sent = Instant::now();
        writer
            .execute(&statement, &[&ids[target], &format!("live update {n}")])
            .await?;
        let committed = Instant::now();
        let give_up = committed + Duration::from_secs(5);
        let arrived = loop {
            match tokio::time::timeout_at(give_up.into(), seen.recv()).await {
                Ok(Some((index, at))) if index == target => break Some(at),
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => break None,
            }
        };
        match arrived {
            Some(at) => {
                timing.early += usize::from(at < committed);
                timing
                    .from_commit
                    .push(at.saturating_duration_since(committed));
                timing.from_send.push(at.saturating_duration_since(sent));
            }
            None => timing.lost += 1,
        }
    }
    timing.from_commit.sort();
    timing.from_send.sort();
    Ok(timing)
}
