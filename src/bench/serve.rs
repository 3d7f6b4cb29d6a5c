//! Serving initial syncs: one client and a 1M-row shape (`serve`), and 2,000 clients fetching
//! one 500-row shape at the same moment (`fanout`).

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::{mpsc, watch};

use super::client::{self, Decoded, Position};
use super::context::{Bench, pinned_tasks, seed_team};
use super::cpu::{self, CpuMeter};
use super::env::{Database, sync_config};
use super::report::{Figure, Target, Unit, millis, percentile, thousands};
use crate::server::{db, seed};

const SERVE_ANCHOR: &str = "~7.1 s (4 vCPU)";
const FANOUT_ANCHOR: &str = "~26 s";

/// Scenario 1: the whole `tasks` table as one shape, fetched by one client.
pub(crate) async fn large_shape(bench: &Bench<'_>) -> anyhow::Result<Vec<Figure>> {
    let rows = bench.options.rows;
    anyhow::ensure!(rows > 0, "--rows must be positive");
    println!(
        "[serve] one client fetches a {}-row shape (all of `tasks`) from offset -1 until \
         up-to-date, decoding every body",
        thousands(rows as u64)
    );
    let database = bench.database("bench_serve").await?;
    let result = async {
        load_tasks(&database, rows).await?;
        let postmaster = bench.lab.postmaster_pid();
        let copy = copy_floor(&database, postmaster).await?;
        let server = bench
            .start_server(sync_config(bench.lab, &database))
            .await?;
        let floors = Floors {
            copy,
            postmaster,
            scratch: bench.lab.root(),
        };
        let result = measure_large(&server.base_url, rows, &floors).await;
        server.stop().await;
        result
    }
    .await;
    bench.lab.drop_database(&database).await?;
    result
}

/// Seeds a realistic team with up to 100,000 tasks, then copies them (new ids) up to `rows`;
/// copies of local tasks get keys of their own from the database.
async fn load_tasks(database: &Database, rows: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let base = rows.min(100_000);
    let mut client = db::connect(&database.url).await?;
    let team = seed::generate(&seed::SeedConfig {
        tasks: base,
        ..seed::SeedConfig::default()
    });
    seed::insert(&mut client, &team).await?;
    let missing = rows - base;
    if missing > 0 {
        let copies = missing.div_ceil(base) as i32;
        client
            .execute(
                "INSERT INTO tasks (organization_id, repository_id, title, description, status, \
                     status_color, priority, assignee_id, external_provider, external_id, \
                     external_key, external_url, branch, labels, due_date, created_at, \
                     updated_at, deleted_at) \
                 SELECT organization_id, repository_id, title, description, status, status_color, \
                     priority, assignee_id, external_provider, external_id || '-' || g, \
                     CASE WHEN external_provider IS NOT NULL THEN external_key END, \
                     external_url, branch, labels, due_date, created_at, updated_at, deleted_at \
                 FROM tasks CROSS JOIN generate_series(1, $1::int4) AS g LIMIT $2::int8",
                &[&copies, &(missing as i64)],
            )
            .await
            .context("copying tasks")?;
    }
    client.batch_execute("VACUUM ANALYZE").await?;
    let row = client
        .query_one(
            "SELECT count(*), pg_size_pretty(pg_table_size('tasks')) FROM tasks",
            &[],
        )
        .await?;
    let (count, size): (i64, String) = (row.get(0), row.get(1));
    anyhow::ensure!(
        count as usize == rows,
        "loaded {count} tasks, wanted {rows}"
    );
    println!(
        "  setup: {} tasks ({size} on disk) loaded in {:.1} s",
        thousands(count as u64),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The fresh shape's floor: Postgres's own `COPY` of the rows the snapshot reads (every column
/// as text), drained by a plain client — no service, no encoding.
async fn copy_floor(database: &Database, postmaster: Option<u32>) -> anyhow::Result<Duration> {
    let client = db::connect(&database.url).await?;
    let columns: String = client
        .query_one(
            "SELECT string_agg(quote_ident(attname) || '::text', ', ' ORDER BY attnum) \
             FROM pg_attribute WHERE attrelid = 'tasks'::regclass AND attnum > 0 \
             AND NOT attisdropped",
            &[],
        )
        .await?
        .get(0);
    let cpu = CpuMeter::start(postmaster);
    let started = Instant::now();
    let copy = client
        .copy_out(&format!("COPY (SELECT {columns} FROM tasks) TO STDOUT"))
        .await?;
    futures_util::pin_mut!(copy);
    let mut bytes = 0_usize;
    while let Some(chunk) = futures_util::TryStreamExt::try_next(&mut copy).await? {
        bytes += chunk.len();
    }
    let elapsed = started.elapsed();
    println!(
        "  floor (fresh): Postgres's COPY of the same rows and columns as text, drained: {:.2} s \
         for {:.0} MB",
        elapsed.as_secs_f64(),
        bytes as f64 / 1e6
    );
    cpu::print(cpu.split(elapsed));
    Ok(elapsed)
}

/// What the large shape's figures are compared with, and where to read and write.
struct Floors<'a> {
    /// Postgres's `COPY` of the rows, drained.
    copy: Duration,
    /// The cluster's server process, for the CPU split.
    postmaster: Option<u32>,
    scratch: &'a std::path::Path,
}

async fn measure_large(
    base: &str,
    rows: usize,
    floors: &Floors<'_>,
) -> anyhow::Result<Vec<Figure>> {
    let http = client::http(4)?;
    let cpu = CpuMeter::start(floors.postmaster);
    let fresh = follow(&http, base, "table=tasks", true).await?;
    fresh.print("fresh shape (snapshot, then serve)");
    cpu::print(cpu.split(fresh.total));
    let existing = follow(&http, base, "table=tasks", true).await?;
    existing.print("existing shape, second client");
    let again = follow(&http, base, "table=tasks", true).await?;
    again.print("existing shape, third client");
    let raw = follow(&http, base, "table=tasks", false).await?;
    raw.print("existing shape, HTTP only (bodies not decoded)");
    let file = file_floor(&http, base, floors.scratch).await?;
    for run in [&fresh, &existing, &again] {
        anyhow::ensure!(
            run.decoded.changes == rows,
            "a client received {} rows, expected {rows}",
            run.decoded.changes
        );
    }
    println!();
    let label = if rows == 1_000_000 {
        "1M".to_owned()
    } else {
        thousands(rows as u64)
    };
    let best_existing = existing.total.min(again.total);
    let label_raw = format!("{label}-row shape, existing, not decoded (info)");
    Ok(vec![
        Figure::against(
            format!("{label}-row shape, fresh: snapshot + serve"),
            fresh.total.as_secs_f64(),
            floors.copy.as_secs_f64(),
            Unit::Seconds,
            Target::AtMost(1.3),
        )
        .anchor(SERVE_ANCHOR),
        Figure::against(
            format!("{label}-row shape, existing: 2nd/3rd client (best)"),
            best_existing.as_secs_f64(),
            file.as_secs_f64(),
            Unit::Seconds,
            Target::AtMost(1.2),
        )
        .anchor(SERVE_ANCHOR),
        Figure::new(
            label_raw,
            raw.total.as_secs_f64(),
            Unit::Seconds,
            Target::None,
        ),
    ])
}

/// The existing shape's floor: the same response bodies read from a local file and decoded,
/// on one thread.
async fn file_floor(
    http: &reqwest::Client,
    base: &str,
    scratch: &std::path::Path,
) -> anyhow::Result<Duration> {
    let mut position = Position::default();
    let mut lengths = Vec::new();
    let mut bodies = Vec::new();
    while !position.up_to_date {
        let query = position.query("table=tasks", false);
        let page = client::get(http, base, &query, Duration::from_secs(120)).await?;
        anyhow::ensure!(position.advance(&page)?, "the shape was replaced (409)");
        lengths.push(page.body.len());
        bodies.extend_from_slice(&page.body);
    }
    let path = scratch.join("existing-shape-bodies");
    std::fs::write(&path, &bodies)?;
    drop(bodies);
    let (elapsed, size) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let bytes = std::fs::read(&path)?;
        let mut at = 0;
        for length in lengths {
            client::decode(&bytes[at..at + length])?;
            at += length;
        }
        let elapsed = started.elapsed();
        std::fs::remove_file(&path)?;
        anyhow::Ok((elapsed, at))
    })
    .await??;
    println!(
        "  floor (existing): the same {:.0} MB of bodies read from a file and decoded on one \
         core: {:.2} s",
        size as f64 / 1e6,
        elapsed.as_secs_f64()
    );
    Ok(elapsed)
}

/// One client's initial sync of a big shape.
struct Follow {
    total: Duration,
    first_response: Duration,
    requests: usize,
    bytes: usize,
    decoded: Decoded,
    /// Time the decoding thread spent parsing bodies (it overlaps the next requests).
    decode_busy: Duration,
    /// Time from the last body's arrival to the end of its decoding.
    decode_tail: Duration,
}

impl Follow {
    fn print(&self, what: &str) {
        let secs = self.total.as_secs_f64();
        println!(
            "  {what}: {secs:.2} s — first response after {:.2} s, {} requests, {:.0} MB \
             ({:.0} MB/s), {} rows; decoding busy {:.2} s, tail {:.0} ms",
            self.first_response.as_secs_f64(),
            self.requests,
            self.bytes as f64 / 1e6,
            self.bytes as f64 / 1e6 / secs,
            thousands(self.decoded.changes as u64),
            self.decode_busy.as_secs_f64(),
            millis(self.decode_tail),
        );
    }
}

/// Follows `definition` from `offset=-1` until up to date. Bodies are decoded on one thread of
/// their own while the next request is in flight, as a client with a network task and a
/// storage task would do.
async fn follow(
    http: &reqwest::Client,
    base: &str,
    definition: &str,
    decode: bool,
) -> anyhow::Result<Follow> {
    const LIMIT: Duration = Duration::from_secs(300);
    let (bodies, mut queue) = mpsc::unbounded_channel::<bytes::Bytes>();
    let decoder = tokio::task::spawn_blocking(move || {
        let mut decoded = Decoded::default();
        let mut busy = Duration::ZERO;
        while let Some(body) = queue.blocking_recv() {
            let started = Instant::now();
            decoded += client::decode(&body)?;
            busy += started.elapsed();
        }
        anyhow::Ok((decoded, busy))
    });
    let started = Instant::now();
    let deadline = started + LIMIT;
    let mut position = Position::default();
    let (mut first_response, mut requests, mut bytes) = (None, 0, 0);
    while !position.up_to_date {
        let left = deadline.saturating_duration_since(Instant::now());
        anyhow::ensure!(!left.is_zero(), "not up to date within {LIMIT:?}");
        let page = client::get(http, base, &position.query(definition, false), left).await?;
        requests += 1;
        first_response.get_or_insert(started.elapsed());
        anyhow::ensure!(
            position.advance(&page)?,
            "the shape was replaced (409) during the fetch"
        );
        bytes += page.body.len();
        if decode {
            let _ = bodies.send(page.body);
        }
    }
    let arrived = started.elapsed();
    drop(bodies);
    let (decoded, decode_busy) = decoder.await??;
    let total = started.elapsed();
    Ok(Follow {
        total,
        first_response: first_response.unwrap_or_default(),
        requests,
        bytes,
        decoded,
        decode_busy,
        decode_tail: total - arrived,
    })
}

/// Scenario 4: `clients` clients fetch the same `shape_rows`-row shape at the same moment.
pub(crate) async fn fanout(bench: &Bench<'_>) -> anyhow::Result<Vec<Figure>> {
    let (clients, shape_rows) = (bench.options.clients, bench.options.shape_rows);
    anyhow::ensure!(
        clients > 0 && shape_rows > 0,
        "--clients and --shape-rows must be positive"
    );
    println!(
        "[fanout] {} clients request one {}-row shape at the same moment (offset -1, then until \
         up-to-date; bodies decoded)",
        thousands(clients as u64),
        thousands(shape_rows as u64)
    );
    let database = bench.database("bench_fanout").await?;
    let result = async {
        // Tasks go to organizations in turn: with four, the first holds exactly `shape_rows`.
        let team = seed_team(
            &database,
            seed::SeedConfig {
                organizations: 4,
                users: 16,
                repositories: 8,
                tasks: shape_rows * 4,
                workspaces: 40,
                ..seed::SeedConfig::default()
            },
        )
        .await?;
        let org = team.organizations[0].id.to_string();
        let definition = pinned_tasks("organization_id", &org);
        let server = bench
            .start_server(sync_config(bench.lab, &database))
            .await?;
        let result = async {
            let cold = burst(&server.base_url, &definition, clients, shape_rows, true).await?;
            cold.print("new shape (the first request creates it)");
            let warm = burst(&server.base_url, &definition, clients, shape_rows, true).await?;
            warm.print("existing shape");
            let raw = burst(&server.base_url, &definition, clients, shape_rows, false).await?;
            raw.print("existing shape, HTTP only (bodies not decoded)");
            println!();
            let name = |which: &str| {
                format!(
                    "{} clients × {}-row shape, {which}",
                    thousands(clients as u64),
                    shape_rows
                )
            };
            anyhow::Ok(vec![
                Figure::new(
                    name("new shape"),
                    cold.wall.as_secs_f64(),
                    Unit::Seconds,
                    Target::AtMost(2.6),
                )
                .anchor(FANOUT_ANCHOR),
                Figure::new(
                    name("existing shape"),
                    warm.wall.as_secs_f64(),
                    Unit::Seconds,
                    Target::AtMost(2.6),
                )
                .anchor(FANOUT_ANCHOR),
                Figure::new(
                    name("existing, not decoded (info)"),
                    raw.wall.as_secs_f64(),
                    Unit::Seconds,
                    Target::None,
                ),
            ])
        }
        .await;
        server.stop().await;
        result
    }
    .await;
    bench.lab.drop_database(&database).await?;
    result
}

struct Burst {
    wall: Duration,
    per_client: Vec<Duration>,
    requests: usize,
    bytes: usize,
}

impl Burst {
    fn print(&self, what: &str) {
        println!(
            "  {what}: all {} done in {:.2} s ({} requests, {:.0} MB); per client p50 {:.0} ms, \
             p99 {:.0} ms, max {:.0} ms",
            self.per_client.len(),
            self.wall.as_secs_f64(),
            self.requests,
            self.bytes as f64 / 1e6,
            millis(percentile(&self.per_client, 50.0)),
            millis(percentile(&self.per_client, 99.0)),
            millis(percentile(&self.per_client, 100.0)),
        );
    }
}

/// Starts `clients` fetches at one instant, each with its own connection from a fresh pool.
async fn burst(
    base: &str,
    definition: &str,
    clients: usize,
    rows: usize,
    decode: bool,
) -> anyhow::Result<Burst> {
    let http = client::http(clients)?;
    let (go, ready) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, base, definition, mut ready) = (
            http.clone(),
            base.to_owned(),
            definition.to_owned(),
            ready.clone(),
        );
        tasks.spawn(async move {
            ready.wait_for(|go| *go).await?;
            let started = Instant::now();
            let (position, decoded) =
                client::fetch_with(&http, &base, &definition, Duration::from_secs(120), decode)
                    .await?;
            anyhow::ensure!(
                !decode || decoded.changes == rows,
                "a client received {} rows, expected {rows}",
                decoded.changes
            );
            anyhow::Ok((started.elapsed(), position, decoded.bytes))
        });
    }
    // Let every task reach the starting line.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    go.send_replace(true);
    let mut per_client = Vec::with_capacity(clients);
    let (mut requests, mut bytes) = (0, 0);
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined.context("a client task panicked")? {
            Ok((elapsed, position, received)) => {
                per_client.push(elapsed);
                requests += position.requests;
                bytes += received;
            }
            Err(error) => failures.push(error),
        }
    }
    let wall = started.elapsed();
    if let Some(error) = failures.first() {
        anyhow::bail!(
            "{} of {clients} clients failed, e.g.: {error:#}",
            failures.len()
        );
    }
    per_client.sort();
    Ok(Burst {
        wall,
        per_client,
        requests,
        bytes,
    })
}
