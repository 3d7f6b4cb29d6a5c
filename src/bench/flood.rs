//! `superset-bench flood`: what a flood of failed sign-ins does to everyone else. One client
//! sends 200 sign-ins with wrong passwords for 200 different addresses at once while another
//! asks `/api/me` in a loop; the figure is `/api/me`'s p99 during the flood, beside its p99 with
//! nothing else running (the floor). Password checks queue for the cores and hold no database
//! connection, and the client's address runs out of attempts, so the flood should barely show.

use std::time::{Duration, Instant};

use super::app::App;
use super::context::Bench;
use super::report::{Figure, Target, Unit, millis, percentile};
use crate::server::seed;

const FLOOD: usize = 200;

pub(crate) async fn login_flood(bench: &Bench<'_>) -> anyhow::Result<Vec<Figure>> {
    println!("[flood] {FLOOD} failed sign-ins at once while /api/me is asked in a loop");
    let database = bench.database("bench_flood").await?;
    let result = async {
        let app = App::start(bench, &database, seed::SeedConfig::default()).await?;
        let http = super::client::http(FLOOD + 8)?;
        let token = app.sign_in(&http, &app.team.users[0].email).await?;
        let quiet = me_until(&http, &app.base, &token, Instant::now() + Duration::from_secs(2)).await?;
        let flood = async {
            let started = Instant::now();
            let sent = futures_util::future::join_all((0..FLOOD).map(|n| {
                http.post(format!("{}/api/auth/login", app.base))
                    .json(&serde_json::json!({"email": format!("guess{n}@example.com"), "password": "wrong"}))
                    .send()
            }))
            .await;
            let refused = sent.iter().filter(|r| r.as_ref().is_ok_and(|r| r.status() == 429)).count();
            (started.elapsed(), refused)
        };
        let deadline = Instant::now() + Duration::from_secs(3);
        let (loud, (took, refused)) = tokio::join!(me_until(&http, &app.base, &token, deadline), flood);
        let loud = loud?;
        app.stop().await;
        println!(
            "  the flood took {:.0} ms ({refused} answered 429 by the per-address limit); \
             /api/me p50 {:.1} ms / p99 {:.1} ms quiet, p50 {:.1} ms / p99 {:.1} ms during it\n",
            millis(took),
            millis(percentile(&quiet, 50.0)),
            millis(percentile(&quiet, 99.0)),
            millis(percentile(&loud, 50.0)),
            millis(percentile(&loud, 99.0)),
        );
        anyhow::Ok(vec![
            Figure::new(
                "flood: /api/me p99 with nothing else running (the floor)",
                millis(percentile(&quiet, 99.0)),
                Unit::Millis,
                Target::None,
            ),
            Figure::new(
                "flood: /api/me p99 during 200 failed sign-ins at once",
                millis(percentile(&loud, 99.0)),
                Unit::Millis,
                Target::AtMost(50.0),
            ),
        ])
    }
    .await;
    bench.lab.drop_database(&database).await?;
    result
}

/// `/api/me` one after another until `deadline`; the durations, sorted.
async fn me_until(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    deadline: Instant,
) -> anyhow::Result<Vec<Duration>> {
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        let started = Instant::now();
        let response = http
            .get(format!("{base}/api/me"))
            .bearer_auth(token)
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == 200,
            "/api/me answered {}",
            response.status()
        );
        response.bytes().await?;
        samples.push(started.elapsed());
    }
    samples.sort();
    Ok(samples)
}
