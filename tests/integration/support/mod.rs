//! What every group of integration tests shares: reading a whole HTTP response ([`Reply`]),
//! the server's log in a failing test's output, dropping a finished server's replication slots,
//! and [`ShapeFollower`], the one test-side shape reader (straight from `/v1/shape`, or through
//! the API's proxy with a Bearer token the way the desktop goes).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

/// How long one request may take (longer than the sync service's 20 s long-poll).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(40);

/// A response, read in full.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The body as a list of shape messages.
    #[track_caller]
    pub fn messages(&self) -> Vec<Value> {
        match self.json() {
            Value::Array(items) => items,
            other => panic!("expected an array, got {other}"),
        }
    }

    /// Asserts the status and returns the JSON body (`null` when empty).
    #[track_caller]
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts an error in the API's format, `{"error": {"code", "message"}}`, with this
    /// status and code, and returns the message.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "an error must be JSON, got content-type {:?} and body {:?}",
            self.header("content-type"),
            self.body
        );
        let body = self.json();
        let error = body
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get("error"))
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("expected {{\"error\": {{…}}}}, got {body}"));
        assert_eq!(
            error.get("code").and_then(Value::as_str),
            Some(code),
            "error code; body: {body}"
        );
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("the error has no message: {body}"));
        assert!(!message.trim().is_empty(), "empty error message: {body}");
        message.to_owned()
    }
}

/// Sends `request` and reads the whole response.
pub async fn reply(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("the request failed");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.expect("reading the body"),
    }
}

/// An HTTP client for tests: no proxy, and a timeout past the long-poll.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap()
}

/// The server's log, shown with a failing test's output.
pub fn show_server_log() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
}

/// Drops the replication slots a stopped server left in its database (waits until none is
/// active, at most 10 s).
pub async fn drop_replication_slots(database_url: &str) {
    let client = superset::server::db::connect(database_url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let left: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if left == 0 {
            return;
        }
        client
            .execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                 WHERE database = current_database() AND NOT active",
                &[],
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Follows one shape the way the official client does: insert = set, update = merge,
/// delete = remove, 409 = start over with the new handle; for subquery shapes, each row's tags
/// are kept and a move-out event removes the rows left with none.
pub struct ShapeFollower {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    /// Run on every answer (the proxy's tests check its caching headers here).
    check: fn(&Reply),
    /// Query text sent before the protocol parameters (a shape's definition, for `/v1/shape`).
    pub prefix: String,
    /// Query text sent after them.
    pub suffix: String,
    pub handle: Option<String>,
    pub offset: String,
    pub cursor: String,
    pub rows: BTreeMap<String, serde_json::Map<String, Value>>,
    /// Subquery shapes: the tags each row holds.
    pub tags: BTreeMap<String, BTreeSet<String>>,
    pub up_to_date: bool,
    pub refetches: usize,
    /// Every change message applied, in order.
    pub log: Vec<Value>,
}

impl ShapeFollower {
    /// A shape of the sync service at `base`, defined by `definition` (`table=…&where=…`).
    pub fn direct(base: &str, definition: &str) -> Self {
        let mut follower = Self::new(http_client(), format!("{base}/v1/shape"), None);
        follower.prefix = definition.to_owned();
        follower
    }

    /// `table`'s shape through the API's proxy at `base`, as the holder of `token`; `check`
    /// runs on every answer.
    pub fn proxied(
        http: reqwest::Client,
        base: &str,
        table: &str,
        token: &str,
        check: fn(&Reply),
    ) -> Self {
        let mut follower = Self::new(
            http,
            format!("{base}/api/electric/{table}"),
            Some(token.to_owned()),
        );
        follower.check = check;
        follower
    }

    /// Follows the same shape on the sync service now at `base` (a restarted service on a new
    /// port), keeping the position.
    pub fn move_to(&mut self, base: &str) {
        self.url = format!("{base}/v1/shape");
    }

    fn new(http: reqwest::Client, url: String, token: Option<String>) -> Self {
        Self {
            http,
            url,
            token,
            check: |_| {},
            prefix: String::new(),
            suffix: String::new(),
            handle: None,
            offset: "-1".to_owned(),
            cursor: String::new(),
            rows: BTreeMap::new(),
            tags: BTreeMap::new(),
            up_to_date: false,
            refetches: 0,
            log: Vec::new(),
        }
    }

    fn request_url(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.prefix.is_empty() {
            parts.push(self.prefix.clone());
        }
        parts.push(format!("offset={}", self.offset));
        if let Some(handle) = &self.handle {
            parts.push(format!("handle={handle}"));
        }
        if self.up_to_date {
            parts.push(format!("live=true&cursor={}", self.cursor));
        }
        if !self.suffix.is_empty() {
            parts.push(self.suffix.clone());
        }
        format!("{}?{}", self.url, parts.join("&"))
    }

    /// One request; live once up to date. Panics on anything but 200 and 409.
    pub async fn step(&mut self) -> Reply {
        let url = self.request_url();
        let mut request = self.http.get(&url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let reply = reply(request).await;
        (self.check)(&reply);
        match reply.status {
            200 => {
                self.handle = reply.header("electric-handle").map(str::to_owned);
                self.offset = reply
                    .header("electric-offset")
                    .unwrap_or_else(|| panic!("no electric-offset from {url}"))
                    .to_owned();
                if let Some(cursor) = reply.header("electric-cursor") {
                    self.cursor = cursor.to_owned();
                }
                let messages = reply.messages();
                for message in &messages {
                    self.apply(message);
                }
                if messages
                    .last()
                    .is_some_and(|m| m["headers"]["control"] == "up-to-date")
                {
                    self.up_to_date = true;
                }
            }
            409 => {
                self.handle = reply.header("electric-handle").map(str::to_owned);
                self.offset = "-1".to_owned();
                self.rows.clear();
                self.tags.clear();
                self.up_to_date = false;
                self.refetches += 1;
            }
            other => panic!("unexpected {other} from {url}: {}", reply.body),
        }
        reply
    }

    fn apply(&mut self, message: &Value) {
        let headers = &message["headers"];
        if headers["event"] == "move-out" {
            self.move_out(&headers["patterns"]);
            return;
        }
        let Some(operation) = headers["operation"].as_str() else {
            return;
        };
        let key = message["key"].as_str().expect("a key").to_owned();
        let value = message["value"].as_object().expect("a value").clone();
        let strings = |name: &str| -> Vec<String> {
            headers[name]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        match operation {
            "insert" => {
                let tags = strings("tags");
                if !tags.is_empty() {
                    self.tags.insert(key.clone(), tags.into_iter().collect());
                }
                self.rows.insert(key, value);
            }
            "update" => {
                let (added, removed) = (strings("tags"), strings("removed_tags"));
                if !added.is_empty() || !removed.is_empty() {
                    let tags = self.tags.entry(key.clone()).or_default();
                    tags.retain(|t| !removed.contains(t));
                    tags.extend(added);
                }
                self.rows.entry(key).or_default().extend(value);
            }
            "delete" => {
                self.tags.remove(&key);
                self.rows.remove(&key);
            }
            other => panic!("unknown operation {other}"),
        }
        self.log.push(message.clone());
    }

    /// Removes the tags a move-out event's single-part patterns name; rows left with none go.
    fn move_out(&mut self, patterns: &Value) {
        let values: Vec<&str> = patterns
            .as_array()
            .expect("move-out patterns")
            .iter()
            .map(|p| {
                assert_eq!(p["pos"], 0, "one subquery: one tag part");
                p["value"].as_str().expect("a pattern value")
            })
            .collect();
        self.tags.retain(|key, tags| {
            tags.retain(|t| !values.contains(&t.as_str()));
            let keep = !tags.is_empty();
            if !keep {
                self.rows.remove(key);
            }
            keep
        });
    }

    /// Requests (non-live) until up to date.
    pub async fn catch_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !self.up_to_date {
            assert!(
                Instant::now() < deadline,
                "{} did not catch up in 120 s",
                self.url
            );
            self.step().await;
        }
    }

    /// Catches up, then live requests until `done` holds (at most `limit`).
    pub async fn until(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + limit;
        self.catch_up().await;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "condition not reached on {} in {limit:?}",
                self.url
            );
            match tokio::time::timeout_at(deadline.into(), self.step()).await {
                Ok(_) => {}
                Err(_) => panic!("condition not reached on {} in {limit:?}", self.url),
            }
        }
    }

    /// The ids of the rows held.
    pub fn ids(&self) -> BTreeSet<String> {
        self.rows
            .values()
            .map(|row| {
                row.get("id")
                    .and_then(Value::as_str)
                    .expect("a row with an id")
                    .to_owned()
            })
            .collect()
    }

    /// The row whose `id` is `id`, if held.
    pub fn row(&self, id: Uuid) -> Option<&serde_json::Map<String, Value>> {
        let id = id.to_string();
        self.rows.values().find(|r| r["id"] == id.as_str())
    }

    /// The change messages for row `id`, in order.
    pub fn changes_of(&self, id: Uuid) -> Vec<&Value> {
        let id = id.to_string();
        self.log
            .iter()
            .filter(|m| m["value"]["id"].as_str() == Some(id.as_str()))
            .collect()
    }
}
