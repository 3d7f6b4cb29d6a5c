//! A sans-IO client for one Electric shape: it says which request to make next and turns each
//! response into what the caller must do — apply a batch, start over (must-refetch), wait and
//! retry, refresh the access token, or stop. It never touches the network, the clock or the
//! database, so every path is tested with canned responses.
//!
//! It follows the official TypeScript client: offset `-1` first, then catch-up pages, then live
//! long-polls with the server's `cursor` after the first `up-to-date`; a 409 retires the handle
//! (it is never used again) and restarts from `-1`; 5xx, 429 and network failures back off
//! 1 s → 32 s with full jitter, never below `Retry-After`; other 4xx are fatal, except 401,
//! which asks for a new token.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

/// Column types from `electric-schema`, reduced to what the local database distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    Boolean,
    Text,
}

/// The shape's columns as the server described them.
pub type Schema = BTreeMap<String, ColumnKind>;

/// A request to make: `GET <server>/api/electric/{table}?{query}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeRequest {
    pub table: String,
    pub query: Vec<(String, String)>,
    /// True for live (long-poll) requests, which may be held for up to ~20 s.
    pub live: bool,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct ShapeResponse {
    pub status: u16,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl ShapeResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Insert,
    Update,
    Delete,
}

/// One row change, values typed per the schema (integers as numbers, the rest as text).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub operation: Operation,
    pub key: String,
    pub values: serde_json::Map<String, Value>,
    /// For replicated changes, the transaction it came in.
    pub txids: Vec<u64>,
}

/// Changes to apply, and the position to store with them in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub changes: Vec<Change>,
    pub handle: String,
    pub offset: String,
    /// The shape is complete up to `offset`: a refetch may swap in now, and the stream goes live.
    pub up_to_date: bool,
}

/// Why a shape cannot continue without someone changing something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("the sync server refused the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error(
        "the sync server's response lacks the {0} header: is a proxy stripping Electric's headers?"
    )]
    MissingHeader(&'static str),
    #[error("the sync server sent a body that is not a list of messages: {0}")]
    BadBody(String),
}

/// What the caller must do after a response.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Apply (possibly empty) changes and store the position, in one transaction.
    Apply(Batch),
    /// The shape was replaced: keep showing the old rows, load the new snapshot beside them,
    /// and swap at the next up-to-date batch. Then request again at once.
    MustRefetch,
    /// Wait, then request again.
    Retry(Duration),
    /// The access token was refused: refresh it, then request again.
    Unauthorized,
    Fatal(ShapeError),
}

/// Where a shape stands; persisted (handle, offset) lets a restart resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub handle: Option<String>,
    pub offset: String,
}

impl Position {
    pub fn start() -> Self {
        Self {
            handle: None,
            offset: "-1".to_owned(),
        }
    }
}

const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(32);

/// One shape's protocol state.
#[derive(Debug, Clone)]
pub struct ShapeClient {
    table: String,
    position: Position,
    cursor: String,
    live: bool,
    schema: Option<Schema>,
    /// Handles retired by a 409: a response carrying one is a stale cached reply.
    expired: Vec<String>,
    /// Set after a 409 so the next request cannot be answered from a cache.
    cache_buster: Option<String>,
    failures: u32,
    /// The last replicated change applied, to skip one delivered twice.
    last_change: Option<(u64, u64)>,
}

impl ShapeClient {
    /// A client for `table` resuming at `position` (use [`Position::start`] for a new one).
    pub fn new(table: impl Into<String>, position: Position) -> Self {
        Self {
            table: table.into(),
            position,
            cursor: String::new(),
            live: false,
            schema: None,
            expired: Vec::new(),
            cache_buster: None,
            failures: 0,
            last_change: None,
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn position(&self) -> &Position {
        &self.position
    }

    /// True once the shape has been up to date: requests are now live long-polls.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// The request to make now.
    pub fn next_request(&self) -> ShapeRequest {
        let mut query = vec![("offset".to_owned(), self.position.offset.clone())];
        if let Some(handle) = &self.position.handle {
            query.push(("handle".to_owned(), handle.clone()));
        }
        if self.live {
            query.push(("live".to_owned(), "true".to_owned()));
            query.push(("cursor".to_owned(), self.cursor.clone()));
        }
        if let Some(buster) = &self.cache_buster {
            query.push(("cache-buster".to_owned(), buster.clone()));
        }
        if let Some(expired) = self.expired.last() {
            query.push(("expired_handle".to_owned(), expired.clone()));
        }
        query.sort();
        ShapeRequest {
            table: self.table.clone(),
            query,
            live: self.live,
        }
    }

    /// The request failed before a response (connection refused, reset, timeout).
    /// `jitter` is a random number in `[0, 1)`.
    pub fn on_network_error(&mut self, jitter: f64) -> Outcome {
        Outcome::Retry(self.backoff(jitter, None))
    }

    fn backoff(&mut self, jitter: f64, retry_after: Option<Duration>) -> Duration {
        let ceiling = INITIAL_BACKOFF
            .saturating_mul(2_u32.saturating_pow(self.failures.min(10)))
            .min(MAX_BACKOFF);
        self.failures += 1;
        let wait = ceiling.mul_f64(jitter.clamp(0.0, 1.0));
        wait.max(retry_after.unwrap_or_default())
    }

    /// Turns a response into what to do. `jitter` is a random number in `[0, 1)`.
    pub fn on_response(&mut self, response: &ShapeResponse, jitter: f64) -> Outcome {
        match response.status {
            200..=299 => self.on_success(response),
            409 => {
                if let Some(old) = self.position.handle.take() {
                    self.expired.push(old);
                }
                self.position = Position {
                    handle: response.header("electric-handle").map(str::to_owned),
                    offset: "-1".to_owned(),
                };
                self.live = false;
                self.cursor.clear();
                self.schema = None;
                self.last_change = None;
                self.cache_buster = Some(format!("{}", (jitter * 1e12) as u64));
                Outcome::MustRefetch
            }
            401 => Outcome::Unauthorized,
            429 | 500..=599 => {
                let retry_after = response
                    .header("retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(3600)));
                Outcome::Retry(self.backoff(jitter, retry_after))
            }
            status => Outcome::Fatal(ShapeError::Rejected {
                status,
                message: error_message(&response.body),
            }),
        }
    }

    fn on_success(&mut self, response: &ShapeResponse) -> Outcome {
        let Some(handle) = response.header("electric-handle") else {
            return Outcome::Fatal(ShapeError::MissingHeader("electric-handle"));
        };
        let Some(offset) = response.header("electric-offset") else {
            return Outcome::Fatal(ShapeError::MissingHeader("electric-offset"));
        };
        if self.expired.iter().any(|h| h == handle) {
            // A cached reply from before the 409: ask again, past any cache.
            self.cache_buster = Some(format!("{}-{}", self.failures, self.expired.len()));
            self.failures += 1;
            return Outcome::Retry(Duration::ZERO);
        }
        if self.live && response.header("electric-cursor").is_none() {
            return Outcome::Fatal(ShapeError::MissingHeader("electric-cursor"));
        }
        if let Some(schema) = response.header("electric-schema") {
            if self.schema.is_none() {
                match parse_schema(schema) {
                    Ok(parsed) => self.schema = Some(parsed),
                    Err(e) => return Outcome::Fatal(e),
                }
            }
        } else if !self.live {
            return Outcome::Fatal(ShapeError::MissingHeader("electric-schema"));
        }
        let messages: Vec<Value> = if response.body.is_empty() {
            Vec::new()
        } else {
            match serde_json::from_slice(&response.body) {
                Ok(Value::Array(items)) => items,
                Ok(_) => {
                    return Outcome::Fatal(ShapeError::BadBody("expected a JSON array".into()));
                }
                Err(e) => return Outcome::Fatal(ShapeError::BadBody(e.to_string())),
            }
        };
        let schema = self.schema.clone().unwrap_or_default();
        let mut changes = Vec::new();
        let mut up_to_date = false;
        for mut message in messages {
            let headers = &message["headers"];
            up_to_date = headers["control"] == "up-to-date";
            let operation = match headers["operation"].as_str() {
                Some("insert") => Operation::Insert,
                Some("update") => Operation::Update,
                Some("delete") => Operation::Delete,
                // Control messages we do not need (snapshot-end, must-refetch in a body).
                _ => continue,
            };
            if let (Some(lsn), Some(op)) = (
                headers["lsn"].as_str().and_then(|l| l.parse::<u64>().ok()),
                headers["op_position"].as_u64(),
            ) {
                if self.last_change.is_some_and(|last| (lsn, op) <= last) {
                    continue; // delivered twice
                }
                self.last_change = Some((lsn, op));
            }
            let txids = headers["txids"]
                .as_array()
                .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            let Value::String(key) = message["key"].take() else {
                return Outcome::Fatal(ShapeError::BadBody("a change without a key".into()));
            };
            let values = match message["value"].take() {
                Value::Object(values) => typed(values, &schema),
                _ => {
                    return Outcome::Fatal(ShapeError::BadBody("a change without a value".into()));
                }
            };
            changes.push(Change {
                operation,
                key,
                values,
                txids,
            });
        }
        self.failures = 0;
        self.cache_buster = None;
        self.position = Position {
            handle: Some(handle.to_owned()),
            offset: offset.to_owned(),
        };
        if let Some(cursor) = response.header("electric-cursor") {
            self.cursor = cursor.to_owned();
        }
        if up_to_date {
            self.live = true;
        }
        Outcome::Apply(Batch {
            changes,
            handle: handle.to_owned(),
            offset: offset.to_owned(),
            up_to_date,
        })
    }
}

fn parse_schema(text: &str) -> Result<Schema, ShapeError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ShapeError::BadBody(format!("electric-schema is not JSON: {e}")))?;
    let columns = value
        .as_object()
        .ok_or_else(|| ShapeError::BadBody("electric-schema is not an object".into()))?;
    Ok(columns
        .iter()
        .map(|(name, info)| {
            let dims = info["dims"].as_u64().unwrap_or(0);
            let kind = match info["type"].as_str() {
                _ if dims > 0 => ColumnKind::Text,
                Some("int2" | "int4" | "int8") => ColumnKind::Integer,
                Some("bool") => ColumnKind::Boolean,
                _ => ColumnKind::Text,
            };
            (name.clone(), kind)
        })
        .collect())
}

/// Electric sends every value as text; integers and booleans become JSON numbers and bools.
/// Takes the values by value: nothing is copied.
fn typed(
    mut values: serde_json::Map<String, Value>,
    schema: &Schema,
) -> serde_json::Map<String, Value> {
    for (name, value) in values.iter_mut() {
        let Value::String(text) = value else {
            continue;
        };
        match schema.get(name) {
            Some(ColumnKind::Integer) => {
                if let Ok(number) = text.parse::<i64>() {
                    *value = Value::from(number);
                }
            }
            Some(ColumnKind::Boolean) => {
                *value = Value::Bool(matches!(text.as_str(), "t" | "true"))
            }
            _ => {}
        }
    }
    values
}

/// The human part of an error body: Electric's `{"message", "errors"}` or our API's
/// `{"error": {"message"}}`, else the text itself.
fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match serde_json::from_slice::<Value>(body) {
        Ok(json) => {
            if let Some(message) = json["error"]["message"].as_str() {
                return message.to_owned();
            }
            match (json["message"].as_str(), json.get("errors")) {
                (Some(message), Some(errors)) => format!("{message}: {errors}"),
                (Some(message), None) => message.to_owned(),
                _ => text.into_owned(),
            }
        }
        Err(_) => text.chars().take(300).collect(),
    }
}
