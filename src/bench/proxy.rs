//! Scenario 5: what the API's Electric proxy adds to a request.
//!
//! The whole server runs (API + in-process sync service). A signed-in user's `tasks` shape is
//! brought up to date, then the same caught-up request is made many times, one at a time,
//! through `/api/electric/tasks` (JWT check, memberships read from Postgres, shape defined
//! server-side) and straight to `/v1/shape` with the definition the proxy would set. The
//! difference of the two latency distributions is the proxy's overhead.

use std::time::{Duration, Instant};

use anyhow::Context;

use super::app::{App, SYNC_SECRET};
use super::context::Bench;
use super::report::{Figure, Target, Unit, millis, percentile};
use crate::server::api::proxy;
use crate::server::{db, seed};

const REQUESTS: usize = 2_000;

pub(crate) async fn overhead(bench: &Bench<'_>) -> anyhow::Result<Vec<Figure>> {
    println!(
        "[proxy] {REQUESTS} caught-up `tasks` requests one at a time, through /api/electric \
         and straight to /v1/shape"
    );
    let database = bench.database("bench_proxy").await?;
    let result = async {
        let app = App::start(bench, &database, seed::SeedConfig::default()).await?;
        let client = db::connect(&database.url).await?;
        let user = &app.team.users[0];
        let base = app.base.clone();
        let http = super::client::http(4)?;
        let token = app.sign_in(&http, &user.email).await?;
        // Catch up through the proxy, then time the caught-up request both ways.
        let query = catch_up(&http, &base, &token).await?;
        let scope = proxy::scope(&client, "tasks", user.id).await?;
        let mut direct = vec![
            ("table".to_owned(), "tasks".to_owned()),
            ("where".to_owned(), scope.where_clause),
        ];
        for (i, value) in scope.params.into_iter().enumerate() {
            direct.push((format!("params[{}]", i + 1), value));
        }
        direct.push(("secret".to_owned(), SYNC_SECRET.to_owned()));
        let direct_url = format!(
            "{base}/v1/shape?{}&{query}",
            serde_urlencoded::to_string(&direct)?
        );
        let proxied_url = format!("{base}/api/electric/tasks?{query}");
        // Warm both paths, then measure.
        time(&http, &direct_url, None).await?;
        let straight = time(&http, &direct_url, None).await?;
        let proxied = time(&http, &proxied_url, Some(&token)).await?;
        app.stop().await;
        Ok(figures(&straight, &proxied))
    }
    .await;
    bench.lab.drop_database(&database).await?;
    result
}

/// Follows `tasks` through the proxy until up to date; returns the caught-up position's query.
async fn catch_up(http: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<String> {
    let mut query = "offset=-1".to_owned();
    loop {
        let response = http
            .get(format!("{base}/api/electric/tasks?{query}"))
            .bearer_auth(token)
            .send()
            .await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let done = header("electric-up-to-date").is_some();
        query = format!(
            "offset={}&handle={}",
            header("electric-offset").context("an offset")?,
            header("electric-handle").context("a handle")?
        );
        response.bytes().await?;
        if done {
            return Ok(query);
        }
    }
}

/// `REQUESTS` requests to `url`, one at a time; their durations, sorted.
async fn time(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
) -> anyhow::Result<Vec<Duration>> {
    let mut samples = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let mut request = http.get(url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        anyhow::ensure!(response.status() == 200, "status {}", response.status());
        response.bytes().await?;
        samples.push(started.elapsed());
    }
    samples.sort();
    Ok(samples)
}

fn figures(straight: &[Duration], proxied: &[Duration]) -> Vec<Figure> {
    let p = |samples: &[Duration], q: f64| millis(percentile(samples, q));
    vec![
        Figure::new(
            "proxy: request p50, straight to /v1/shape",
            p(straight, 50.0),
            Unit::Millis,
            Target::None,
        ),
        Figure::new(
            "proxy: request p50, through /api/electric",
            p(proxied, 50.0),
            Unit::Millis,
            Target::None,
        ),
        Figure::new(
            "proxy: overhead p50",
            p(proxied, 50.0) - p(straight, 50.0),
            Unit::Millis,
            Target::None,
        ),
        Figure::new(
            "proxy: request p99, straight to /v1/shape",
            p(straight, 99.0),
            Unit::Millis,
            Target::None,
        ),
        Figure::new(
            "proxy: request p99, through /api/electric",
            p(proxied, 99.0),
            Unit::Millis,
            Target::None,
        ),
    ]
}
