//! Scenario 6: the desktop sync engine, through the API, into a real SQLite file.
//!
//! - initial sync: a fresh profile signs in and syncs a team with 100,000 tasks until every
//!   table is live (once for a shape the server makes fresh, once for one it already has);
//! - commit → SQLite: single-row updates, timed from the commit's return to the engine's
//!   `TablesChanged` event (the batch is committed to SQLite before the event is sent);
//! - idle: SQLite commits made by a live engine while nothing changes, over 45 s (two
//!   long-poll timeouts per table), counted with `PRAGMA data_version` from another connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::app::{App, PASSWORD};
use super::context::Bench;
use super::report::{Figure, Target, Unit, millis, percentile, thousands};
use crate::profile;
use crate::server::{db, seed};
use crate::store;
use crate::sync::engine::Engine;
use crate::sync::events::{Events, SyncEvent, SyncStatus};
use crate::sync::session::Session;

pub(super) const TASKS: usize = 100_000;
const UPDATES: usize = 200;
const IDLE: Duration = Duration::from_secs(45);

/// Signs a new profile (a folder in the lab, deleted with it) in and starts its engine.
pub(super) async fn profile(
    dir: &std::path::Path,
    app: &App,
    email: &str,
) -> anyhow::Result<(Engine, Events)> {
    std::fs::create_dir_all(dir).context("a profile folder")?;
    profile::login(dir, &app.base, email, PASSWORD).await?;
    let http = profile::http_client();
    let session = Arc::new(Session::open(dir, http.clone()));
    let (engine, events) = Engine::start(profile::database_path(dir), session, http, || {});
    Ok((engine, events))
}

/// The API server on a team with [`TASKS`] tasks.
pub(super) async fn with_tasks(
    bench: &Bench<'_>,
    database: &super::env::Database,
) -> anyhow::Result<App> {
    App::start(
        bench,
        database,
        seed::SeedConfig {
            tasks: TASKS,
            ..seed::SeedConfig::default()
        },
    )
    .await
}

pub(super) async fn until_live(events: &mut Events, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while events.status() != SyncStatus::Live {
        anyhow::ensure!(
            Instant::now() < deadline,
            "not live within {limit:?}: {:?}",
            events.status()
        );
        tokio::time::timeout(Duration::from_millis(50), events.next())
            .await
            .ok();
    }
    Ok(())
}

/// Commit → SQLite + `TablesChanged`, for `UPDATES` single-row commits, sorted.
async fn commit_latencies(
    database: &super::env::Database,
    events: &mut Events,
) -> anyhow::Result<Vec<Duration>> {
    let writer = db::connect(&database.url).await?;
    let ids: Vec<uuid::Uuid> = writer
        .query(
            "SELECT id FROM tasks ORDER BY random() LIMIT $1",
            &[&(UPDATES as i64)],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    events.drain();
    let mut samples = Vec::with_capacity(UPDATES);
    for (n, id) in ids.iter().enumerate() {
        writer
            .execute(
                "UPDATE tasks SET title = 'Bench ' || $2::int4 WHERE id = $1",
                &[id, &(n as i32)],
            )
            .await?;
        let committed = Instant::now();
        let deadline = committed + Duration::from_secs(10);
        loop {
            let event = tokio::time::timeout_at(deadline.into(), events.next())
                .await
                .context("no TablesChanged within 10 s")?;
            if matches!(&event, Some(SyncEvent::TablesChanged(tables)) if tables.contains("tasks"))
            {
                break;
            }
        }
        samples.push(committed.elapsed());
        events.drain();
    }
    samples.sort();
    Ok(samples)
}

/// The initial sync's floor: the tasks the profile in `dir` synced, inserted from memory into
/// an empty database of the same schema in one transaction.
async fn sqlite_floor(
    dir: &std::path::Path,
    scratch: std::path::PathBuf,
) -> anyhow::Result<Duration> {
    let synced = profile::database_path(dir);
    tokio::task::spawn_blocking(move || {
        use rusqlite::types::Value;
        let source = store::open(&synced)?;
        let columns: i64 =
            source.query_row("SELECT count(*) FROM pragma_table_info('tasks')", [], |r| {
                r.get(0)
            })?;
        let rows: Vec<Vec<Value>> = source
            .prepare("SELECT * FROM tasks")?
            .query_map([], |r| (0..columns as usize).map(|i| r.get(i)).collect())?
            .collect::<Result<_, _>>()?;
        std::fs::create_dir_all(&scratch)?;
        let mut target = store::open(&scratch.join("floor.db"))?;
        let placeholders = vec!["?"; columns as usize].join(", ");
        let started = Instant::now();
        let tx = target.transaction()?;
        {
            let mut insert = tx.prepare(&format!("INSERT INTO tasks VALUES ({placeholders})"))?;
            for row in &rows {
                insert.execute(rusqlite::params_from_iter(row))?;
            }
        }
        tx.commit()?;
        let elapsed = started.elapsed();
        println!(
            "  floor: the same {} tasks inserted from memory into an empty SQLite table in one \
             transaction: {:.2} s",
            thousands(rows.len() as u64),
            elapsed.as_secs_f64()
        );
        anyhow::Ok(elapsed)
    })
    .await?
}

/// SQLite commits another connection sees while the profile in `dir` sits idle for `IDLE`.
async fn idle_commits(dir: &std::path::Path) -> anyhow::Result<u32> {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let watcher = store::open(&profile::database_path(dir))?;
    let version = |conn: &rusqlite::Connection| -> anyhow::Result<i64> {
        Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    };
    let mut last = version(&watcher)?;
    let mut commits = 0;
    let idle_until = Instant::now() + IDLE;
    while Instant::now() < idle_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = version(&watcher)?;
        if now != last {
            commits += 1;
            last = now;
        }
    }
    Ok(commits)
}

pub(crate) async fn engine(bench: &Bench<'_>) -> anyhow::Result<Vec<Figure>> {
    println!(
        "[desktop] a signed-in profile syncs {TASKS} tasks (+ the team) through the API into SQLite; \
         then {UPDATES} single-row commits timed to the engine's event; then {} s idle",
        IDLE.as_secs()
    );
    let database = bench.database("bench_desktop").await?;
    let result = async {
        let app = with_tasks(bench, &database).await?;
        let email = app.team.users[0].email.clone();
        // Initial sync: the server makes every shape fresh, then a second profile finds them made.
        let started = Instant::now();
        let first_dir = bench.lab.data_dir("desktop_profile_1");
        let (first, mut first_events) = profile(&first_dir, &app, &email).await?;
        until_live(&mut first_events, Duration::from_secs(120)).await?;
        let fresh = started.elapsed();
        first.stop().await;
        let started = Instant::now();
        let dir = bench.lab.data_dir("desktop_profile_2");
        let (engine, mut events) = profile(&dir, &app, &email).await?;
        until_live(&mut events, Duration::from_secs(120)).await?;
        let existing = started.elapsed();
        let synced: i64 = store::open(&profile::database_path(&dir))?.query_row(
            "SELECT count(*) FROM tasks",
            [],
            |r| r.get(0),
        )?;
        anyhow::ensure!(synced as usize >= TASKS / 2, "only {synced} tasks synced");
        let floor = sqlite_floor(&dir, bench.lab.data_dir("desktop_floor")).await?;

        let samples = commit_latencies(&database, &mut events).await?;
        let commits = idle_commits(&dir).await?;
        engine.stop().await;
        app.stop().await;
        let per_minute = commits as f64 * 60.0 / IDLE.as_secs_f64();
        Ok(vec![
            Figure::new(
                "desktop: initial sync of 100k tasks into SQLite, fresh shapes",
                fresh.as_secs_f64(),
                Unit::Seconds,
                Target::AtMost(1.5),
            ),
            Figure::against(
                "desktop: initial sync of 100k tasks into SQLite, existing shapes",
                existing.as_secs_f64(),
                floor.as_secs_f64(),
                Unit::Seconds,
                Target::AtMost(2.0),
            ),
            Figure::new(
                "desktop: initial sync of 100k tasks into SQLite, existing shapes (absolute)",
                existing.as_secs_f64(),
                Unit::Seconds,
                Target::AtMost(1.0),
            ),
            Figure::new(
                "desktop: commit → SQLite + TablesChanged, p50",
                millis(percentile(&samples, 50.0)),
                Unit::Millis,
                Target::AtMost(10.0),
            ),
            Figure::new(
                "desktop: commit → SQLite + TablesChanged, p99",
                millis(percentile(&samples, 99.0)),
                Unit::Millis,
                Target::None,
            ),
            Figure::new(
                "desktop: SQLite commits per idle minute",
                per_minute,
                Unit::PerMinute,
                Target::AtMost(0.0),
            ),
        ])
    }
    .await;
    bench.lab.drop_database(&database).await?;
    result
}
