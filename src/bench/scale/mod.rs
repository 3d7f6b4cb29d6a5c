//! Scenario `scale`: the production topology on this machine (`dist/deploy/local-cluster.sh`:
//! Postgres, one sync service, the nginx shape cache, two API replicas behind the nginx load
//! balancer) and 10,000 simulated desktops in 20 organizations, each a signed-in user with a
//! long-poll of its own on its organization's tasks shape.
//!
//! Phases: the floor (one desktop alone in an organization of its own: commit → it has the
//! row), the start storm (every desktop starts at once: time until all are live, requests that
//! reached the sync service), then commits in one organization after another (commit → every
//! desktop of that organization has it, p50/p99, and the sync service's requests per commit).
//! Each tier's CPU seconds and peak memory are read from `/proc` throughout. Electric's
//! published CDN benchmark is printed beside: one instance behind a CDN, 100k–1M clients,
//! 166–252 ms mean latency at 16 writes/s.

mod cluster;
mod desktops;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use uuid::Uuid;

use super::context::Bench;
use super::report::{Figure, Target, Unit, millis, percentile, thousands};
use crate::server::db;
use crate::server::http::auth::TokenKeys;
use cluster::Cluster;
use desktops::{Fleet, MARK, Member};

const TASKS_PER_ORGANIZATION: i64 = 100;
const FLOOR_COMMITS: usize = 15;
const ELECTRIC: &str = "Electric + CDN: 166–252 ms mean, 100k–1M clients";

pub(crate) async fn topology(bench: &Bench<'_>) -> anyhow::Result<Vec<Figure>> {
    let o = bench.options;
    println!(
        "[scale] dist/deploy/local-cluster.sh (Postgres, sync service, nginx cache, 2 API \
         replicas, nginx balancer); {} desktops in {} organizations, each with its own \
         long-poll on its organization's tasks; {} commits",
        thousands(o.desktops as u64),
        o.organizations,
        o.scale_commits
    );
    anyhow::ensure!(o.organizations > 0 && o.desktops >= o.organizations);
    let dir = bench.lab.root().join("cluster");
    let cluster = tokio::task::spawn_blocking(move || Cluster::up(&dir)).await??;
    let result = measure(&cluster, o.desktops, o.organizations, o.scale_commits)
        .await
        .map_err(|e| e.context(format!("the cluster's logs end:{}", cluster.log_tails())));
    tokio::task::spawn_blocking(move || drop(cluster)).await?;
    result
}

async fn measure(
    cluster: &Cluster,
    desktops: usize,
    organizations: usize,
    commits: usize,
) -> anyhow::Result<Vec<Figure>> {
    let pg = db::connect(cluster.setting("DATABASE_URL")?).await?;
    let people = populate(&pg, desktops, organizations + 1).await?;
    let keys = TokenKeys::new(Some(cluster.setting("SUPERSET_JWT_SECRET")?))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut members = people
        .iter()
        .map(|(user, organization)| {
            Ok(Member {
                organization: *organization,
                token: keys.issue(*user, now)?.0,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let base = cluster.setting("SUPERSET_URL")?;
    let floor_member = members.pop().context("no floor desktop")?;
    let floor_org = floor_member.organization;

    let floor_fleet = Fleet::start(base, vec![floor_member])?;
    wait_live(&floor_fleet, 1, Duration::from_secs(60)).await?;
    let mut floor = Vec::new();
    for number in 0..FLOOR_COMMITS {
        floor.extend(time_commit(&pg, &floor_fleet, floor_org, number, 1).await?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    floor.sort();
    let floor_p50 = percentile(&floor, 50.0);
    println!(
        "  floor: commit → one desktop alone, p50 {:.1} ms",
        millis(floor_p50)
    );

    let tiers = Sampler::start(cluster);
    let storm_started = Instant::now();
    let fleet = Fleet::start(base, members)?;
    let storm = wait_live(&fleet, desktops, Duration::from_secs(600)).await;
    let storm_time = storm_started.elapsed();
    let (storm_upstream, unknown) = fleet.upstream();
    let storm_usage = tiers.phase();
    storm?;
    anyhow::ensure!(
        fleet.refused().is_empty(),
        "answers other than 200 and 409 during the storm, by status: {:?}",
        fleet.refused()
    );
    anyhow::ensure!(
        unknown == 0,
        "{unknown} answers carried no X-Cache-Status: is the cache in front of the sync service?"
    );
    println!(
        "  storm: {} desktops live in {:.1} s; {} requests reached the sync service; {} failed requests retried",
        thousands(desktops as u64),
        storm_time.as_secs_f64(),
        thousands(storm_upstream as u64),
        fleet.failures()
    );

    let orgs: Vec<Uuid> = {
        let mut orgs: Vec<Uuid> = people[..desktops].iter().map(|(_, o)| *o).collect();
        orgs.sort();
        orgs.dedup();
        orgs
    };
    let per_org = desktops / organizations;
    let mut latencies = Vec::new();
    let (before, _) = fleet.upstream();
    for i in 0..commits {
        let org = orgs[i % orgs.len()];
        let expected = people[..desktops].iter().filter(|(_, o)| *o == org).count();
        latencies.extend(time_commit(&pg, &fleet, org, FLOOR_COMMITS + i, expected).await?);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (after, _) = fleet.upstream();
    let commit_usage = tiers.phase();
    let peaks = tiers.stop();
    fleet.stop();
    floor_fleet.stop();
    latencies.sort();
    let per_commit = (after - before) as f64 / commits.max(1) as f64;
    let (p50, p99) = (percentile(&latencies, 50.0), percentile(&latencies, 99.0));
    println!(
        "  commits: {} × one organization's {} desktops: p50 {:.1} ms, p99 {:.1} ms; {:.1} sync-service requests per commit",
        commits,
        per_org,
        millis(p50),
        millis(p99),
        per_commit
    );
    // The floor: the same commit reaching one desktop alone in its organization.
    let floor_ms = millis(floor_p50);
    let mut figures = vec![
        Figure::against(
            format!("scale: commit → all {per_org} desktops of its org, p50"),
            millis(p50),
            floor_ms,
            Unit::Millis,
            Target::None,
        )
        .anchor(ELECTRIC),
        Figure::against(
            format!("scale: commit → all {per_org} desktops of its org, p99"),
            millis(p99),
            floor_ms,
            Unit::Millis,
            Target::None,
        ),
        // One answering the held long-poll, one new long-poll held: about one per shape each way.
        Figure::new(
            "scale: sync-service requests per commit (1 shape changed)",
            per_commit,
            Unit::Count,
            Target::AtMost(3.0),
        ),
        Figure::new(
            format!(
                "scale: start storm, all {} desktops live",
                thousands(desktops as u64)
            ),
            storm_time.as_secs_f64(),
            Unit::Seconds,
            Target::None,
        ),
        Figure::new(
            "scale: start storm, requests reaching the sync service",
            storm_upstream as f64,
            Unit::Count,
            Target::AtMost((organizations * 6) as f64),
        ),
    ];
    for (((name, storm_cpu), (_, commit_cpu)), peak) in
        storm_usage.iter().zip(&commit_usage).zip(&peaks)
    {
        figures.push(Figure::new(
            format!("scale: {name} CPU, storm"),
            *storm_cpu,
            Unit::Seconds,
            Target::None,
        ));
        figures.push(Figure::new(
            format!("scale: {name} CPU, {commits} commits"),
            *commit_cpu,
            Unit::Seconds,
            Target::None,
        ));
        figures.push(Figure::new(
            format!("scale: {name} peak memory"),
            *peak,
            Unit::Megabytes,
            Target::None,
        ));
    }
    println!();
    Ok(figures)
}

/// `desktops` users spread over `organizations - 1` organizations, and one more user alone in
/// the last one (the floor's), each organization with its tasks. Returns (user, organization)
/// pairs, the floor's last.
async fn populate(
    pg: &tokio_postgres::Client,
    desktops: usize,
    organizations: usize,
) -> anyhow::Result<Vec<(Uuid, Uuid)>> {
    let orgs: Vec<Uuid> = pg
        .query(
            "INSERT INTO organizations (name, slug) SELECT 'Scale ' || g, 'scale-' || g \
             FROM generate_series(1, $1::int) g RETURNING id",
            &[&i32::try_from(organizations)?],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let users: Vec<Uuid> = pg
        .query(
            "INSERT INTO users (email, name) SELECT 'desktop-' || g || '@scale.example', 'Desktop ' || g \
             FROM generate_series(1, $1::int) g RETURNING id",
            &[&i32::try_from(desktops + 1)?],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let (floor_org, shared_orgs) = orgs.split_last().context("no organizations")?;
    let pairs: Vec<(Uuid, Uuid)> = users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let org = if i == desktops {
                *floor_org
            } else {
                shared_orgs[i % shared_orgs.len()]
            };
            (*user, org)
        })
        .collect();
    let (user_ids, org_ids): (Vec<Uuid>, Vec<Uuid>) = pairs.iter().copied().unzip();
    pg.execute(
        "INSERT INTO organization_members (user_id, organization_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])",
        &[&user_ids, &org_ids],
    )
    .await?;
    pg.execute(
        "INSERT INTO tasks (organization_id, title) SELECT o, 'Scale task ' || g \
         FROM unnest($1::uuid[]) o, generate_series(1, $2::bigint) g",
        &[&orgs, &TASKS_PER_ORGANIZATION],
    )
    .await?;
    pg.batch_execute("ANALYZE").await?;
    Ok(pairs)
}

/// Waits until `count` desktops of `fleet` are live.
async fn wait_live(fleet: &Fleet, count: usize, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while fleet.live() < count {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {count} desktops live after {limit:?} ({} failed requests; other \
             answers by status: {:?})",
            fleet.live(),
            fleet.failures(),
            fleet.refused()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Commits marked task `number` in `organization` and waits until `expected` desktops have it;
/// returns each one's delay from the commit's return.
async fn time_commit(
    pg: &tokio_postgres::Client,
    fleet: &Fleet,
    organization: Uuid,
    number: usize,
    expected: usize,
) -> anyhow::Result<Vec<Duration>> {
    pg.execute(
        "INSERT INTO tasks (organization_id, title) VALUES ($1, $2)",
        &[&organization, &format!("{MARK}{number}")],
    )
    .await?;
    let committed = Instant::now();
    let deadline = committed + Duration::from_secs(60);
    loop {
        let seen = fleet.seen(number);
        if seen.len() >= expected {
            return Ok(seen
                .iter()
                .map(|at| at.saturating_duration_since(committed))
                .collect());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "commit {number}: {} of {expected} desktops had it after 60 s",
            seen.len()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Each tier's CPU seconds per phase and peak memory, sampled every 250 ms.
struct Sampler {
    tiers: Vec<(&'static str, Vec<u32>)>,
    last: Mutex<Vec<f64>>,
    peaks: Arc<Mutex<Vec<f64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(cluster: &Cluster) -> Self {
        let tiers = cluster.tiers();
        let peaks = Arc::new(Mutex::new(vec![0.0; tiers.len()]));
        let sampled = tiers.clone();
        let into = peaks.clone();
        let task = tokio::spawn(async move {
            loop {
                for (i, (_, pids)) in sampled.iter().enumerate() {
                    let (_, rss) = cluster::usage(pids);
                    let mut peaks = into.lock().unwrap_or_else(|e| e.into_inner());
                    peaks[i] = f64::max(peaks[i], rss);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
        let last = tiers
            .iter()
            .map(|(_, pids)| cluster::usage(pids).0)
            .collect();
        Self {
            tiers,
            last: Mutex::new(last),
            peaks,
            task,
        }
    }

    /// CPU seconds each tier used since the last call.
    fn phase(&self) -> Vec<(&'static str, f64)> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        self.tiers
            .iter()
            .zip(last.iter_mut())
            .map(|((name, pids), previous)| {
                let now = cluster::usage(pids).0;
                let used = now - *previous;
                *previous = now;
                (*name, used)
            })
            .collect()
    }

    /// Stops sampling; each tier's peak resident megabytes.
    fn stop(self) -> Vec<f64> {
        self.task.abort();
        self.peaks.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
