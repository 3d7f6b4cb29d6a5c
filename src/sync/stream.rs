//! One stream — a synced table, of one organization or of all the user's (see `slices`): its
//! [`ShapeClient`] run over HTTP through the API's proxy, each batch committed to SQLite with
//! its position, and its state reported to the hub.
//!
//! A [`TableStream`] makes one request per [`step`](TableStream::step) and carries out what
//! the shape client says: apply a batch (fetching the next catch-up page while this one is
//! written), begin a refetch, wait and retry, refresh the token, or stop for a while and start
//! again from what is stored. A live request that times out with nothing new writes nothing
//! and reports nothing. When the directory's rows change, the supervisor hears of it.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::apply;
use super::context::{Context, Database, pause};
use super::events::TableState;
use super::session::SessionError;
use super::shape_client::{
    Batch, Position, ShapeClient, ShapeError, ShapeRequest, ShapeResponse, Step,
};
use super::slices::{self, DIRECTORY, StreamKey};

/// Whether the stream goes on after a step.
type Flow = ControlFlow<()>;

/// Why no response arrived.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("the server cannot be reached: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("the request was lost: {0}")]
    Lost(#[from] tokio::task::JoinError),
}

type Fetch = JoinHandle<Result<ShapeResponse, FetchError>>;

/// Runs `key`'s stream until `stopped`.
pub(super) async fn run(context: Arc<Context>, key: StreamKey, stopped: watch::Receiver<bool>) {
    let Some(mut stream) = TableStream::open(context, key, stopped).await else {
        return;
    };
    while stream.step().await.is_continue() {}
}

struct TableStream {
    context: Arc<Context>,
    key: StreamKey,
    /// `key`'s name, which the hub knows it by.
    name: String,
    db: Database,
    client: ShapeClient,
    /// The position committed to SQLite last.
    stored: Position,
    refetching: bool,
    /// The next catch-up page, requested while the current one is written, with its URL.
    prefetched: Option<(String, Fetch)>,
    stopped: watch::Receiver<bool>,
}

impl TableStream {
    /// Opens the table's database connection and resumes from its stored position.
    async fn open(
        context: Arc<Context>,
        key: StreamKey,
        stopped: watch::Receiver<bool>,
    ) -> Option<Self> {
        let name = key.name();
        let failed = |e: crate::store::StoreError| {
            context
                .hub
                .set_state(&name, TableState::Failed(e.to_string()))
        };
        let db = Database::open(&context).await.map_err(failed).ok()?;
        let resumed = key.clone();
        let (position, refetching) = db
            .run(move |c| apply::resume(c, &resumed))
            .await
            .map_err(failed)
            .ok()?;
        let client = ShapeClient::new(key.table, position);
        let stored = client.position().clone();
        if !refetching && !stored.is_start() {
            context.hub.set_state(&name, TableState::Syncing);
        }
        Some(Self {
            context,
            key,
            name,
            db,
            client,
            stored,
            refetching,
            prefetched: None,
            stopped,
        })
    }

    /// One request and what its response calls for.
    async fn step(&mut self) -> Flow {
        if *self.stopped.borrow() {
            return ControlFlow::Break(());
        }
        let (server, token) = match self.credentials().await {
            Ok(found) => found,
            Err(wait) => return self.wait(wait).await,
        };
        let request = self.client.next_request();
        let sent = self.send(&server, &token, &request);
        let response = tokio::select! {
            response = sent => response.unwrap_or_else(|e| Err(e.into())),
            _ = self.stopped.wait_for(|s| *s) => return ControlFlow::Break(()),
        };
        let jitter: f64 = rand::rng().random();
        let (step, failure) = match response {
            Ok(response) if response.status == 403 && self.key.organization.is_some() => {
                return self.wait_for_directory().await;
            }
            Ok(response) => {
                let failure = format!("the server answered {}", response.status);
                (self.client.on_response(&response, jitter), failure)
            }
            Err(e) => (self.client.on_network_error(jitter), e.to_string()),
        };
        match step {
            Step::Apply(batch) => self.apply(batch, &server, &token).await,
            Step::MustRefetch => self.begin_refetch().await,
            Step::Retry(wait) => self.retry(wait, failure).await,
            Step::Unauthorized => self.reauthenticate(&token).await,
            Step::Fatal(e) => self.stop_for(e).await,
        }
    }

    /// The server and an access token, or how long to wait first (the state says why).
    async fn credentials(&mut self) -> Result<(String, String), Duration> {
        let token = match self.context.session.access_token().await {
            Ok(token) => token,
            Err(e) => {
                let offline = matches!(e, SessionError::Unreachable { .. });
                self.session_trouble(e);
                return Err(Duration::from_secs(if offline { 2 } else { 5 }));
            }
        };
        let Some(server) = self.context.session.server_url().await else {
            self.session_trouble(SessionError::SignedOut);
            return Err(Duration::from_secs(5));
        };
        Ok((server, token))
    }

    /// The request in flight: the prefetched one when it is this request, else a new one.
    fn send(&mut self, server: &str, token: &str, request: &ShapeRequest) -> Fetch {
        let url = shape_url(server, &self.key, request);
        match self.prefetched.take() {
            Some((fetched_url, task)) if fetched_url == url => task,
            _ => self.fetch(url, token, request.live),
        }
    }

    fn fetch(&self, url: String, token: &str, live: bool) -> Fetch {
        let request = self
            .context
            .http
            .get(url)
            .bearer_auth(token)
            .timeout(Duration::from_secs(if live { 60 } else { 120 }));
        tokio::spawn(async move {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let body = response.bytes().await?;
            Ok(ShapeResponse {
                status,
                headers,
                body: body.to_vec(),
            })
        })
    }

    /// Commits a batch, fetching the next page meanwhile when more pages follow.
    async fn apply(&mut self, batch: Batch, server: &str, token: &str) -> Flow {
        // A refetch must reach its swap even when the last page brings no rows.
        let unchanged = !self.refetching
            && batch.changes.is_empty()
            && batch.move_outs.is_empty()
            && Some(&batch.handle) == self.stored.handle.as_ref()
            && batch.offset == self.stored.offset;
        if unchanged {
            if self.client.is_live() {
                self.set(TableState::Live);
            }
            return ControlFlow::Continue(());
        }
        let up_to_date = batch.up_to_date;
        if !up_to_date {
            let next = self.client.next_request();
            let url = shape_url(server, &self.key, &next);
            self.prefetched = Some((url.clone(), self.fetch(url, token, next.live)));
        }
        let (key, rows) = (self.key.clone(), batch.changes.len());
        let started = std::time::Instant::now();
        let result = self
            .db
            .run(move |c| apply::commit_batch(c, &key, &batch))
            .await;
        let stream = &self.name;
        tracing::debug!(stream, rows, elapsed = ?started.elapsed(), "applied a batch");
        let applied = match result {
            Ok(applied) => applied,
            // The database refused the batch: start again from what is stored.
            Err(e) => {
                return self
                    .restart_from_store(e.to_string(), Duration::from_secs(5))
                    .await;
            }
        };
        self.stored = self.client.position().clone();
        if applied.swapped {
            self.refetching = false;
        }
        if applied.changed_rows() {
            self.context.hub.tables_changed(self.key.table);
            if self.key.table == DIRECTORY {
                self.directory_changed().await;
            }
        }
        let live = up_to_date && self.client.is_live();
        self.set(if live {
            TableState::Live
        } else {
            TableState::Syncing
        });
        ControlFlow::Continue(())
    }

    /// The shape was replaced: later pages go to staging until the new snapshot is complete.
    async fn begin_refetch(&mut self) -> Flow {
        let (key, handle) = (self.key.clone(), self.client.position().handle.clone());
        let began = self
            .db
            .run(move |c| apply::begin_refetch(c, &key, handle.as_deref()))
            .await;
        if let Err(e) = began {
            // Never stream a new snapshot over the old rows: start over from the store.
            return self
                .restart_from_store(e.to_string(), Duration::from_secs(1))
                .await;
        }
        self.refetching = true;
        self.stored = self.client.position().clone();
        self.set(TableState::Syncing);
        ControlFlow::Continue(())
    }

    /// Waits before asking again; a real wait means the server is away, and says why.
    async fn retry(&mut self, wait: Duration, reason: String) -> Flow {
        if wait > Duration::ZERO {
            let since = self
                .context
                .hub
                .offline_since(&self.name)
                .unwrap_or_else(OffsetDateTime::now_utc);
            self.set(TableState::Offline { since, reason });
        }
        self.wait(wait).await
    }

    /// The access token was refused: get a new one (one refresh for every stream).
    async fn reauthenticate(&mut self, token: &str) -> Flow {
        match self.context.session.refresh(Some(token)).await {
            Ok(_) => ControlFlow::Continue(()),
            Err(e) => {
                self.session_trouble(e);
                self.wait(Duration::from_secs(2)).await
            }
        }
    }

    /// The server refused the shape: configuration problems are rarely fixed in seconds, so
    /// try again gently.
    async fn stop_for(&mut self, error: ShapeError) -> Flow {
        tracing::warn!(stream = self.name, %error, "shape stream stopped");
        self.restart_from_store(error.to_string(), Duration::from_secs(30))
            .await
    }

    /// Reports the failure, waits, and resumes from the position stored in SQLite.
    async fn restart_from_store(&mut self, reason: String, wait: Duration) -> Flow {
        self.set(TableState::Failed(reason));
        self.wait(wait).await?;
        let key = self.key.clone();
        let (position, refetching) = self
            .db
            .run(move |c| apply::resume(c, &key))
            .await
            .unwrap_or((Position::start(), false));
        self.client = ShapeClient::new(self.key.table, position);
        self.stored = self.client.position().clone();
        self.refetching = refetching;
        self.prefetched = None;
        ControlFlow::Continue(())
    }

    /// Reports a session problem: offline when the server is away, else "sign in again".
    fn session_trouble(&self, error: SessionError) {
        let state = match error {
            SessionError::Unreachable { .. } => TableState::Offline {
                since: self
                    .context
                    .hub
                    .offline_since(&self.name)
                    .unwrap_or_else(OffsetDateTime::now_utc),
                reason: error.to_string(),
            },
            other => TableState::NeedsSignIn(other.to_string()),
        };
        self.set(state);
    }

    fn set(&self, state: TableState) {
        self.context.hub.set_state(&self.name, state);
    }

    /// The directory's rows changed: the hub expects the streams of every organization it
    /// lists before the directory reports itself live (so "live" never means "before the
    /// organizations' streams began"), and the supervisor starts and stops them.
    async fn directory_changed(&self) {
        if let Ok(listed) = self.db.run(|c| slices::listed_organizations(c)).await {
            for organization in &listed {
                self.context
                    .hub
                    .expect(&StreamKey::of_organization(organization));
            }
        }
        self.context.organizations_changed.notify_one();
    }

    /// This organization refused the stream (the user is no longer a member): the directory
    /// hears of it too and the supervisor stops this stream; until then, ask again gently.
    async fn wait_for_directory(&mut self) -> Flow {
        tracing::info!(
            stream = self.name,
            "no longer a member; waiting for the directory"
        );
        self.wait(Duration::from_secs(5)).await
    }

    async fn wait(&mut self, duration: Duration) -> Flow {
        if pause(&mut self.stopped, duration).await {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// Where a shape request goes: the API's proxy for the stream's table (and organization), with
/// the client's query.
fn shape_url(server: &str, key: &StreamKey, request: &ShapeRequest) -> String {
    let mut query = request.query.clone();
    if let Some(organization) = &key.organization {
        query.push(("organization_id".to_owned(), organization.clone()));
    }
    format!(
        "{server}/api/electric/{}?{}",
        key.table,
        serde_urlencoded::to_string(&query).unwrap_or_default()
    )
}
