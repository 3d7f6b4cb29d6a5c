//! Simulated desktops: each a signed-in user (an access token the API accepts) following its
//! organization's tasks shape (`/api/electric/tasks?organization_id=…`) through the load
//! balancer with a long-poll of its own, the way the desktop's engine does: catch up, then
//! live requests one after the other. They report when each became live, when each saw a
//! marked commit, and how many of their answers the shape cache did not give itself (those
//! reached the sync service).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::bench::client::{self, Position};

/// What marks a timed commit's task: its title is this and the commit's number.
pub(super) const MARK: &str = "scale-commit-";

/// One desktop to simulate.
pub(super) struct Member {
    pub organization: Uuid,
    pub token: String,
}

/// What the desktops share and report.
struct Shared {
    base: String,
    http: reqwest::Client,
    live: AtomicUsize,
    /// Answers the cache did not give from its store (a MISS, EXPIRED, …): the sync service's.
    upstream: AtomicUsize,
    /// Answers without the cache's verdict: no cache in the way (should stay 0).
    unknown: AtomicUsize,
    failures: AtomicUsize,
    /// Answers other than 200 and 409, by status, with the first one's body.
    refused: Mutex<BTreeMap<u16, (usize, String)>>,
    seen: Mutex<Vec<(usize, Instant)>>,
}

/// The running desktops.
pub(super) struct Fleet {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Fleet {
    /// Starts every member at once.
    pub(super) fn start(base: &str, members: Vec<Member>) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            base: base.to_owned(),
            http: client::http(members.len() + 16)?,
            live: AtomicUsize::new(0),
            upstream: AtomicUsize::new(0),
            unknown: AtomicUsize::new(0),
            failures: AtomicUsize::new(0),
            refused: Mutex::new(BTreeMap::new()),
            seen: Mutex::new(Vec::new()),
        });
        let tasks = members
            .into_iter()
            .map(|member| tokio::spawn(follow(shared.clone(), member)))
            .collect();
        Ok(Self { shared, tasks })
    }

    /// Desktops that have caught up and are live.
    pub(super) fn live(&self) -> usize {
        self.shared.live.load(Ordering::Relaxed)
    }

    /// Answers so far that reached the sync service, and answers without a cache verdict.
    pub(super) fn upstream(&self) -> (usize, usize) {
        (
            self.shared.upstream.load(Ordering::Relaxed),
            self.shared.unknown.load(Ordering::Relaxed),
        )
    }

    /// Requests that failed (and were retried after a second).
    pub(super) fn failures(&self) -> usize {
        self.shared.failures.load(Ordering::Relaxed)
    }

    /// Answers other than 200 and 409 so far, by status, with the first one's body.
    pub(super) fn refused(&self) -> BTreeMap<u16, (usize, String)> {
        self.shared
            .refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many desktops have seen commit `number` so far, and when each did.
    pub(super) fn seen(&self, number: usize) -> Vec<Instant> {
        let seen = self.shared.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.iter()
            .filter(|(n, _)| *n == number)
            .map(|(_, at)| *at)
            .collect()
    }

    pub(super) fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// One desktop's loop: catch up, then live requests until aborted.
async fn follow(shared: Arc<Shared>, member: Member) {
    let definition = format!("organization_id={}", member.organization);
    let mut position = Position::default();
    let mut live = false;
    let mut marks = HashSet::new();
    loop {
        let url = format!(
            "{}/api/electric/tasks?{}",
            shared.base,
            position.query(&definition, true)
        );
        let request = shared.http.get(url).bearer_auth(&member.token);
        let answered = client::get_url(request, Duration::from_secs(90))
            .await
            .and_then(|page| {
                count(&shared, &page);
                let data = position.advance(&page)?;
                Ok((page, data))
            });
        match answered {
            Ok((page, true)) => note_marks(&shared, &page.body, &mut marks),
            Ok((_, false)) => {}
            Err(_) => {
                shared.failures.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if position.up_to_date && !live {
            live = true;
            shared.live.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn count(shared: &Shared, page: &client::Page) {
    if !matches!(page.status, 200 | 409) {
        let mut refused = shared.refused.lock().unwrap_or_else(|e| e.into_inner());
        let entry = refused.entry(page.status).or_insert_with(|| {
            let body = String::from_utf8_lossy(&page.body);
            (0, body.chars().take(300).collect())
        });
        entry.0 += 1;
        return;
    }
    match page.cache.as_deref() {
        Some("HIT") => {}
        Some(_) => {
            shared.upstream.fetch_add(1, Ordering::Relaxed);
        }
        None => {
            shared.unknown.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Records the marked commits `body` brings that this desktop (`mine`) had not seen.
fn note_marks(shared: &Shared, body: &[u8], mine: &mut HashSet<usize>) {
    let now = Instant::now();
    let text = String::from_utf8_lossy(body);
    let numbers: Vec<usize> = text
        .match_indices(MARK)
        .filter_map(|(at, _)| {
            let digits: String = text[at + MARK.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .filter(|n| mine.insert(*n))
        .collect();
    if numbers.is_empty() {
        return;
    }
    let mut seen = shared.seen.lock().unwrap_or_else(|e| e.into_inner());
    seen.extend(numbers.into_iter().map(|n| (n, now)));
}
