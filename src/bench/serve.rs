//! Serving initial syncs: one client and a 1M-row shape (`serve`), and 2,000 clients fetching
//! one 500-row shape at the same moment (`fanout`).

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::{mpsc, watch};

use super::client::{self, Decoded, Position};
use super::context::{Bench, pinned_tasks, seed_team};
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
        time_snapshot_query(&database).await?;
        let server = bench
            .start_server(sync_config(bench.lab, &database))
            .await?;
        let result = measure_large(&server.base_url, rows).await;
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

/// Runs the query a snapshot runs (every column as text, streamed) without the service, to
/// show how much of a fresh shape's time is Postgres and the wire.
async fn time_snapshot_query(database: &Database) -> anyhow::Result<()> {
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
    let started = Instant::now();
    let rows = client
        .query_raw(
            &format!("SELECT {columns} FROM tasks WHERE true"),
            std::iter::empty::<i32>(),
        )
        .await?;
    futures_util::pin_mut!(rows);
    let (mut count, mut bytes) = (0_usize, 0_usize);
    while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
        count += 1;
        for i in 0..row.len() {
            bytes += row.get::<_, Option<&str>>(i).map_or(0, str::len);
        }
    }
    println!(
        "  the snapshot's query alone (Postgres + wire + row decoding, no service): {:.2} s for \
         {} rows, {:.0} MB of text",
        started.elapsed().as_secs_f64(),
        thousands(count as u64),
        bytes as f64 / 1e6
    );
    Ok(())
}

async fn measure_large(base: &str, rows: usize) -> anyhow::Result<Vec<Figure>> {
    let http = client::http(4)?;
    let fresh = follow(&http, base, "table=tasks", true).await?;
    fresh.print("fresh shape (snapshot, then serve)");
    let existing = follow(&http, base, "table=tasks", true).await?;
    existing.print("existing shape, second client");
    let again = follow(&http, base, "table=tasks", true).await?;
    again.print("existing shape, third client");
    let raw = follow(&http, base, "table=tasks", false).await?;
    raw.print("existing shape, HTTP only (bodies not decoded)");
    decode_speed(&http, base).await?;
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
        Figure::new(
            format!("{label}-row shape, fresh: snapshot + serve"),
            fresh.total.as_secs_f64(),
            Unit::Seconds,
            Target::AtMost(2.4),
        )
        .anchor(SERVE_ANCHOR),
        Figure::new(
            format!("{label}-row shape, existing: 2nd/3rd client (best)"),
            best_existing.as_secs_f64(),
            Unit::Seconds,
            Target::AtMost(2.4),
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

/// How fast this machine decodes a response body when nothing else runs: the client-side floor.
async fn decode_speed(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let page = client::get(http, base, "table=tasks&offset=-1", Duration::from_secs(60)).await?;
    let body = page.body;
    let (elapsed, size) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        for _ in 0..3 {
            client::decode(&body)?;
        }
        anyhow::Ok((started.elapsed() / 3, body.len()))
    })
    .await??;
    let speed = size as f64 / 1e6 / elapsed.as_secs_f64();
    println!(
        "  client decoding alone: {speed:.0} MB/s on one core (one {:.0} MB body in {:.0} ms)",
        size as f64 / 1e6,
        millis(elapsed)
    );
    Ok(())
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
