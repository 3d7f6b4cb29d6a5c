//! Scenario `moves`: how long a subquery shape's rows take to move. One client follows
//! `tasks WHERE organization_id IN (SELECT organization_id FROM organization_members WHERE
//! user_id = $1)` with a long-poll; a membership committed for that user must bring the
//! organization's tasks in (inserts), a membership removed must bring a `move-out` event. Each
//! is timed from the commit's return to the client's up-to-date response that carries it, and
//! stated against a floor measured in the same run on the same shape and client, through the
//! plain path (no value set changes, no move-in read): for a move-in, one transaction updating
//! every task of an organization already in the shape (the same number of rows); for a
//! move-out, a single-row update.

use std::time::{Duration, Instant};

use anyhow::Context;
use uuid::Uuid;

use super::client::{self, Position};
use super::context::{Bench, seed_team};
use super::env::sync_config;
use super::report::{Figure, Target, Unit, millis, percentile, thousands};
use crate::server::{db, seed};

/// A bound statement parameter.
type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

const ROUNDS: usize = 60;
const TASKS: usize = 12_000;
const ORGANIZATIONS: usize = 12;

/// What a commit must bring to the client before it counts as seen.
#[derive(Clone, Copy)]
enum Expect {
    Update,
    Insert,
    MoveOut,
}

impl Expect {
    fn seen_in(self, body: &[u8]) -> bool {
        let needle: &[u8] = match self {
            Expect::Update => b"\"operation\":\"update\"",
            Expect::Insert => b"\"operation\":\"insert\"",
            Expect::MoveOut => b"\"event\":\"move-out\"",
        };
        body.windows(needle.len()).any(|w| w == needle)
    }
}

pub(crate) async fn latency(bench: &Bench<'_>) -> anyhow::Result<Vec<Figure>> {
    println!(
        "[moves] a subquery shape (tasks of the organizations a user belongs to), {} tasks in {} \
         organizations, one long-polling client; {ROUNDS} memberships added (move-in) and \
         removed (move-out), each against its floor on the same shape: an update of as many rows, \
         and a one-row update",
        thousands(TASKS as u64),
        ORGANIZATIONS
    );
    let database = bench.database("bench_moves").await?;
    let result = async {
        let team = seed_team(
            &database,
            seed::SeedConfig {
                tasks: TASKS,
                organizations: ORGANIZATIONS,
                ..seed::SeedConfig::default()
            },
        )
        .await?;
        let writer = db::connect(&database.url).await?;
        let server = bench
            .start_server(sync_config(bench.lab, &database))
            .await?;
        let orgs: Vec<Uuid> = team.organizations.iter().map(|o| o.id).collect();
        let result = measure(&server.base_url, &writer, &orgs).await;
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
    orgs: &[Uuid],
) -> anyhow::Result<Vec<Figure>> {
    let user: Uuid = writer
        .query_one(
            "INSERT INTO users (email, name) VALUES ('mover@example.com', 'Mover') RETURNING id",
            &[],
        )
        .await?
        .get(0);
    // Always a member of the first organization: its tasks are the floor's rows.
    writer
        .execute(
            "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2)",
            &[&orgs[0], &user],
        )
        .await?;
    let definition = format!(
        "table=tasks&where={}&params%5B1%5D={user}",
        "organization_id%20IN%20(SELECT%20organization_id%20FROM%20organization_members%20WHERE%20user_id%20%3D%20%241)"
    );
    let http = client::http(4)?;
    let (position, _) = client::fetch(&http, base, &definition, Duration::from_secs(120))
        .await
        .context("fetching the subquery shape")?;
    let floor_task: Uuid = writer
        .query_one(
            "SELECT id FROM tasks WHERE organization_id = $1 LIMIT 1",
            &[&orgs[0]],
        )
        .await?
        .get(0);
    let mut follower = Follower {
        http,
        base: base.to_owned(),
        definition,
        position,
    };
    let mut timings = Timings::default();
    for round in 0..ROUNDS {
        let org = orgs[1 + round % (orgs.len() - 1)];
        let task_param: [Param<'_>; 1] = [&floor_task];
        let org_param: [Param<'_>; 1] = [&orgs[0]];
        let membership: [Param<'_>; 2] = [&org, &user];
        let update = writer.execute(
            "UPDATE tasks SET updated_at = now() WHERE id = $1",
            &task_param,
        );
        timings
            .one_row
            .push(follower.time(update, Expect::Update).await?);
        let update = writer.execute(
            "UPDATE tasks SET updated_at = now() WHERE organization_id = $1",
            &org_param,
        );
        timings
            .org_rows
            .push(follower.time(update, Expect::Update).await?);
        let join = writer.execute(
            "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2)",
            &membership,
        );
        timings
            .move_in
            .push(follower.time(join, Expect::Insert).await?);
        let leave = writer.execute(
            "DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2",
            &membership,
        );
        timings
            .move_out
            .push(follower.time(leave, Expect::MoveOut).await?);
    }
    anyhow::ensure!(
        follower.position.refetches == 0,
        "the subquery shape answered 409 {} times",
        follower.position.refetches
    );
    Ok(timings.figures())
}

/// The one client following the shape live.
struct Follower {
    http: reqwest::Client,
    base: String,
    definition: String,
    position: Position,
}

impl Follower {
    /// Holds a live request, commits, and times from the commit's return to the response that
    /// brings what `expect` names.
    async fn time(
        &mut self,
        commit: impl std::future::Future<Output = Result<u64, tokio_postgres::Error>>,
        expect: Expect,
    ) -> anyhow::Result<Duration> {
        let mut pending = self.request();
        // Let the long-poll reach the service before the commit.
        tokio::time::sleep(Duration::from_millis(20)).await;
        commit.await.context("committing")?;
        let committed = Instant::now();
        let mut seen = false;
        loop {
            let page = pending.await.context("a request panicked")??;
            let arrived = Instant::now();
            self.position.advance(&page)?;
            seen |= expect.seen_in(&page.body);
            if seen && page.up_to_date {
                return Ok(arrived - committed);
            }
            anyhow::ensure!(
                arrived - committed < Duration::from_secs(30),
                "the change did not reach the client in 30 s"
            );
            pending = self.request();
        }
    }

    fn request(&self) -> tokio::task::JoinHandle<anyhow::Result<client::Page>> {
        let http = self.http.clone();
        let base = self.base.clone();
        let query = self.position.query(&self.definition, true);
        tokio::spawn(
            async move { client::get(&http, &base, &query, Duration::from_secs(60)).await },
        )
    }
}

/// Each round's times, by what was committed.
#[derive(Default)]
struct Timings {
    one_row: Vec<Duration>,
    org_rows: Vec<Duration>,
    move_in: Vec<Duration>,
    move_out: Vec<Duration>,
}

impl Timings {
    fn figures(mut self) -> Vec<Figure> {
        for samples in [
            &mut self.one_row,
            &mut self.org_rows,
            &mut self.move_in,
            &mut self.move_out,
        ] {
            samples.sort_unstable();
        }
        let p50 = |samples: &[Duration]| millis(percentile(samples, 50.0));
        let p99 = |samples: &[Duration]| millis(percentile(samples, 99.0));
        let rows = TASKS / ORGANIZATIONS;
        println!(
            "  p50 / p99 ms: one-row update {:.2} / {:.2}; ~{rows}-row update {:.2} / {:.2}; \
             move-in of ~{rows} rows {:.2} / {:.2}; move-out {:.2} / {:.2}",
            p50(&self.one_row),
            p99(&self.one_row),
            p50(&self.org_rows),
            p99(&self.org_rows),
            p50(&self.move_in),
            p99(&self.move_in),
            p50(&self.move_out),
            p99(&self.move_out),
        );
        println!();
        let ratio = |samples: &[Duration], floor: &[Duration]| p50(samples) / p50(floor).max(0.001);
        vec![
            Figure::new(
                format!(
                    "moves: membership added → ~{rows} rows in, p50 (floor: {rows}-row update)"
                ),
                p50(&self.move_in),
                Unit::Millis,
                Target::None,
            ),
            Figure::new(
                "moves: move-in ÷ its floor",
                ratio(&self.move_in, &self.org_rows),
                Unit::Ratio,
                Target::AtMost(1.5),
            ),
            Figure::new(
                "moves: membership removed → move-out, p50 (floor: one-row update)",
                p50(&self.move_out),
                Unit::Millis,
                Target::None,
            ),
            Figure::new(
                "moves: move-out ÷ its floor",
                ratio(&self.move_out, &self.one_row),
                Unit::Ratio,
                Target::AtMost(1.5),
            ),
        ]
    }
}
