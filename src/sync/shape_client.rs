//! A sans-IO client for one Electric shape: it says which request to make next and turns each
//! response into what the caller must do — apply a batch, start over (must-refetch), wait and
//! retry, refresh the access token, or stop. It never touches the network, the clock or the
//! database, so every path is tested with canned responses.
//!
//! It follows the official TypeScript client: offset `-1` first, then catch-up pages, then live
//! long-polls with the server's `cursor` after the first `up-to-date`; a 409 retires the handle
//! (it is never used again) and restarts from `-1`; 5xx, 429 and network failures back off as
//! [`super::retry`] says; other 4xx are fatal, except 401, which asks for a new token.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::messages::{self, Columns, Message};
pub use super::messages::{ColumnKind, MovePattern, Row, Schema};
use super::retry::{self, Backoff, Verdict};
use crate::protocol::{self, Operation, header};

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

/// One row change, values typed per the schema (integers as numbers, the rest as text).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub operation: Operation,
    pub key: String,
    pub values: Row,
    /// For replicated changes, the transaction it came in.
    pub txids: Vec<u64>,
    /// Subquery shapes: why the row is in the shape (`tags`), and reasons it no longer has.
    pub tags: Vec<String>,
    pub removed_tags: Vec<String>,
}

/// A move-out event, placed after the batch's first `after` changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveOut {
    pub after: usize,
    pub patterns: Vec<MovePattern>,
}

/// Changes to apply, and the position to store with them in the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub changes: Vec<Change>,
    /// Subquery shapes' move-out events, in order among the changes.
    pub move_outs: Vec<MoveOut>,
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
pub enum Step {
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
            offset: protocol::START_OFFSET.to_owned(),
        }
    }

    /// True before the first response of a shape (nothing of it is stored yet).
    pub fn is_start(&self) -> bool {
        self.offset == protocol::START_OFFSET
    }
}

/// One shape's protocol state.
#[derive(Debug, Clone)]
pub struct ShapeClient {
    table: String,
    position: Position,
    cursor: String,
    live: bool,
    schema: Option<Schema>,
    /// The schema's column names, shared by every row decoded.
    columns: Columns,
    /// Handles retired by a 409: a response carrying one is a stale cached reply.
    expired: Vec<String>,
    /// Set after a 409 so the next request cannot be answered from a cache.
    cache_buster: Option<String>,
    backoff: Backoff,
    /// Cached replies from before a 409 seen so far (each asks again with a new buster).
    stale_replies: u32,
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
            columns: Columns::default(),
            expired: Vec::new(),
            cache_buster: None,
            backoff: Backoff::default(),
            stale_replies: 0,
            last_change: None,
        }
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
    pub fn on_network_error(&mut self, jitter: f64) -> Step {
        Step::Retry(self.backoff.next(jitter, None))
    }

    /// Turns a response into what to do. `jitter` is a random number in `[0, 1)`.
    pub fn on_response(&mut self, response: &ShapeResponse, jitter: f64) -> Step {
        match retry::classify(response.status) {
            Verdict::Done => self.on_success(response),
            Verdict::Conflict => self.on_conflict(response, jitter),
            Verdict::SignInAgain => Step::Unauthorized,
            Verdict::Retry => {
                let retry_after = retry::retry_after(response.header("retry-after"));
                Step::Retry(self.backoff.next(jitter, retry_after))
            }
            Verdict::Refused => Step::Fatal(ShapeError::Rejected {
                status: response.status,
                message: error_message(&response.body),
            }),
        }
    }

    /// A 409: retire the handle and start over at the new one.
    fn on_conflict(&mut self, response: &ShapeResponse, jitter: f64) -> Step {
        if let Some(old) = self.position.handle.take() {
            self.expired.push(old);
        }
        self.position = Position {
            handle: response.header(header::HANDLE).map(str::to_owned),
            offset: protocol::START_OFFSET.to_owned(),
        };
        self.live = false;
        self.cursor.clear();
        self.schema = None;
        self.columns = Columns::default();
        self.last_change = None;
        self.cache_buster = Some(format!("{}", (jitter * 1e12) as u64));
        Step::MustRefetch
    }

    fn on_success(&mut self, response: &ShapeResponse) -> Step {
        let (handle, offset) = match self.check_headers(response) {
            Ok(found) => found,
            Err(step) => return step,
        };
        let messages = match messages::decode(&response.body, &mut self.columns) {
            Ok(messages) => messages,
            Err(e) => return Step::Fatal(ShapeError::BadBody(e.to_string())),
        };
        let mut changes = Vec::with_capacity(messages.len());
        let mut move_outs = Vec::new();
        let mut up_to_date = false;
        for message in messages {
            up_to_date = message.up_to_date;
            if message.move_out {
                if let Some(patterns) = self.move_out(message) {
                    let after = changes.len();
                    move_outs.push(MoveOut { after, patterns });
                }
                continue;
            }
            match self.change(message) {
                Ok(Some(change)) => changes.push(change),
                Ok(None) => {}
                Err(e) => return Step::Fatal(e),
            }
        }
        self.backoff.reset();
        self.cache_buster = None;
        self.position = Position {
            handle: Some(handle.clone()),
            offset: offset.clone(),
        };
        if let Some(cursor) = response.header(header::CURSOR) {
            self.cursor = cursor.to_owned();
        }
        if up_to_date {
            self.live = true;
        }
        Step::Apply(Batch {
            changes,
            move_outs,
            handle,
            offset,
            up_to_date,
        })
    }

    /// The handle and offset of a successful response, once its headers are complete and it is
    /// not a cached reply from before a 409; the schema is learnt from the first page.
    fn check_headers(&mut self, response: &ShapeResponse) -> Result<(String, String), Step> {
        let missing = |name| Step::Fatal(ShapeError::MissingHeader(name));
        let handle = response
            .header(header::HANDLE)
            .ok_or_else(|| missing(header::HANDLE))?;
        let offset = response
            .header(header::OFFSET)
            .ok_or_else(|| missing(header::OFFSET))?;
        if self.expired.iter().any(|h| h == handle) {
            // A cached reply from before the 409: ask again, past any cache.
            self.stale_replies += 1;
            self.cache_buster = Some(format!("{}-{}", self.stale_replies, self.expired.len()));
            return Err(Step::Retry(Duration::ZERO));
        }
        if self.live && response.header(header::CURSOR).is_none() {
            return Err(missing(header::CURSOR));
        }
        match response.header(header::SCHEMA) {
            Some(schema) if self.schema.is_none() => {
                let schema = parse_schema(schema).map_err(Step::Fatal)?;
                self.columns = Columns::of(&schema);
                self.schema = Some(schema);
            }
            Some(_) => {}
            None if !self.live => return Err(missing(header::SCHEMA)),
            None => {}
        }
        Ok((handle.to_owned(), offset.to_owned()))
    }

    /// The row change a message carries; `None` for control messages we do not need
    /// (snapshot-end, must-refetch in a body) and for a change delivered twice.
    fn change(&mut self, message: Message) -> Result<Option<Change>, ShapeError> {
        let Some(operation) = message.operation.as_deref().and_then(Operation::parse) else {
            return Ok(None);
        };
        if self.seen_before(message.replicated_at) {
            return Ok(None);
        }
        let Some(key) = message.key else {
            return Err(ShapeError::BadBody("a change without a key".into()));
        };
        let Some(values) = message.value else {
            return Err(ShapeError::BadBody("a change without a value".into()));
        };
        Ok(Some(Change {
            operation,
            key,
            values,
            txids: message.txids,
            tags: message.tags,
            removed_tags: message.removed_tags,
        }))
    }

    /// True for a replicated message at or before the last one applied (delivered twice);
    /// otherwise remembers it as the last.
    fn seen_before(&mut self, replicated_at: Option<(u64, u64)>) -> bool {
        let Some(at) = replicated_at else {
            return false;
        };
        if self.last_change.is_some_and(|last| at <= last) {
            return true;
        }
        self.last_change = Some(at);
        false
    }

    /// A move-out event's patterns; `None` when it was delivered before or names none.
    fn move_out(&mut self, message: Message) -> Option<Vec<MovePattern>> {
        if self.seen_before(message.replicated_at) {
            return None;
        }
        (!message.patterns.is_empty()).then_some(message.patterns)
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
