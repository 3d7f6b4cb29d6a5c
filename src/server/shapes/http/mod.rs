//! `GET`/`POST /v1/shape` and `GET /v1/health`, with Electric's statuses, headers and bodies.
//!
//! A response is one bounded run of log messages, read straight from the shape's data file.
//! Requests that are caught up with `live=true` are held until new messages arrive or the long
//! poll times out (an `up-to-date` with `electric-has-data: false`); with `live_sse=true` they
//! become an event stream. Cache headers, etags and cursors follow Electric exactly, so a CDN
//! in front of the service collapses identical requests the same way.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::watch;

mod replies;
mod subset;

use replies::{bad_request, json_response, no_store, schema_header, serve_error, unavailable};

use super::log::{Slice, read_range_into};
use super::message;
use super::offset::{LogOffset, RequestOffset};
use super::request::{FieldErrors, ShapeRequest};
use super::service::ShapeService;
use super::shape::{Shape, Status, Woken, wait_for_change};
use super::sse::EventStream;
use super::subset::SubsetRequest;
use crate::protocol;

const EXPOSED: &str = "electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,\
                       electric-up-to-date,electric-internal-known-error,retry-after";
const SERVER: &str = concat!(
    "ElectricSQL/1.1.0 (superset-sync ",
    env!("CARGO_PKG_VERSION"),
    ")"
);
/// Seconds since this instant make the long-poll cursor (Electric's epoch for it).
const CURSOR_EPOCH: u64 = 1_728_432_000; // 2024-10-09T00:00:00Z
const SNAPSHOT_WAIT: Duration = Duration::from_secs(120);
/// The largest subset POST body taken (a where clause with thousands of params fits).
const SUBSET_BODY_LIMIT: usize = 1 << 20;

impl ShapeService {
    /// The HTTP routes: `/v1/shape` and `/v1/health`.
    pub fn router(self: &Arc<Self>) -> Router {
        router(self.clone())
    }
}

fn router(service: Arc<ShapeService>) -> Router {
    Router::new()
        .route(
            "/v1/shape",
            get(get_shape)
                .post(post_shape)
                .layer(DefaultBodyLimit::max(SUBSET_BODY_LIMIT))
                .options(preflight),
        )
        .route("/v1/health", get(health))
        .route("/", get(|| async { "" }))
        .with_state(service)
}

async fn health(State(service): State<Arc<ShapeService>>) -> Response {
    let (status, body) = if service.is_streaming() {
        (StatusCode::OK, r#"{"status":"active"}"#)
    } else {
        (StatusCode::ACCEPTED, r#"{"status":"starting"}"#)
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache, no-store, must-revalidate"),
        ],
        body,
    )
        .into_response()
}

async fn preflight(State(service): State<Arc<ShapeService>>, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    add_common(
        &mut response,
        &headers,
        &service.config.limits.allowed_origins,
    );
    let h = response.headers_mut();
    h.insert("access-control-max-age", HeaderValue::from_static("86400"));
    let requested = headers
        .get("access-control-request-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let allowed: Vec<&str> = requested
        .split(',')
        .map(str::trim)
        .filter(|h| {
            h.eq_ignore_ascii_case("if-none-match") || h.eq_ignore_ascii_case("traceparent")
        })
        .collect();
    if !allowed.is_empty()
        && let Ok(value) = HeaderValue::from_str(&allowed.join(","))
    {
        h.insert("access-control-allow-headers", value);
    }
    response
}

/// Headers every answer carries. A browser page may read shapes only from the origins the
/// operator allows (none by default: the API's proxy and native clients need no CORS).
fn add_common(response: &mut Response, request: &HeaderMap, allowed_origins: &[String]) {
    let h = response.headers_mut();
    h.insert(protocol::header::SERVER, HeaderValue::from_static(SERVER));
    let allowed = request
        .get(header::ORIGIN)
        .filter(|origin| {
            origin
                .to_str()
                .is_ok_and(|o| allowed_origins.iter().any(|a| a == o || a == "*"))
        })
        .cloned();
    if let Some(origin) = allowed {
        h.insert("access-control-allow-origin", origin);
        h.insert(header::VARY, HeaderValue::from_static("origin"));
    }
    h.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET, POST, HEAD, DELETE, OPTIONS"),
    );
    h.insert(
        "access-control-expose-headers",
        HeaderValue::from_static(EXPOSED),
    );
}

fn conflict(new_handle: Option<&str>) -> Response {
    let mut response = json_response(StatusCode::CONFLICT, message::MUST_REFETCH.to_owned());
    let h = response.headers_mut();
    match new_handle.and_then(|handle| HeaderValue::from_str(handle).ok()) {
        Some(handle) => {
            h.insert(protocol::header::HANDLE, handle);
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=60, must-revalidate"),
            );
        }
        None => {
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=1, must-revalidate"),
            );
        }
    }
    response
}

async fn get_shape(
    State(service): State<Arc<ShapeService>>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let parsed = ShapeRequest::parse(query.as_deref().unwrap_or(""));
    let mut response = answer(&service, parsed, &headers).await;
    if method == Method::HEAD {
        *response.body_mut() = Body::empty();
    }
    response
}

/// `POST /v1/shape`: a subset snapshot, its parameters in the JSON body.
async fn post_shape(
    State(service): State<Arc<ShapeService>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let parsed = ShapeRequest::parse(query.as_deref().unwrap_or("")).and_then(|mut request| {
        request.subset = Some(SubsetRequest::from_body(&body)?);
        Ok(request)
    });
    answer(&service, parsed, &headers).await
}

/// The answer to a parsed (or refused) shape request, with the headers every answer carries.
async fn answer(
    service: &Arc<ShapeService>,
    parsed: Result<ShapeRequest, FieldErrors>,
    headers: &HeaderMap,
) -> Response {
    let mut response = match parsed {
        Ok(request) => handle_shape(service, request, headers).await,
        Err(errors) => bad_request(&errors),
    };
    add_common(
        &mut response,
        headers,
        &service.config.limits.allowed_origins,
    );
    response
}

/// Compares the request's secret with ours in constant time (no early exit on the first
/// differing byte, so response times tell nothing about the secret).
fn secret_matches(given: Option<&str>, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.is_some_and(|given| bool::from(given.as_bytes().ct_eq(expected.as_bytes())))
}

async fn handle_shape(
    service: &Arc<ShapeService>,
    request: ShapeRequest,
    headers: &HeaderMap,
) -> Response {
    if let Some(expected) = &service.config.secret
        && !secret_matches(request.secret.as_deref(), expected)
    {
        let mut response = json_response(
            StatusCode::UNAUTHORIZED,
            r#"{"message":"Unauthorized - Invalid API secret"}"#.to_owned(),
        );
        no_store(&mut response);
        return response;
    }
    let definition = match service.definition(request.shape.clone()).await {
        Ok(definition) => definition,
        Err(error) => return serve_error(error),
    };
    // A subset is checked against this request's definition (its queryable columns).
    let subset_definition = request.subset.as_ref().map(|_| definition.clone());
    let shape = match request.offset {
        RequestOffset::Start | RequestOffset::Now => match service.shape_for(definition).await {
            Ok(shape) => shape,
            Err(error) => return serve_error(error),
        },
        RequestOffset::After(_) => {
            let handle = request.handle.as_deref().unwrap_or_default();
            match service.registry.get(handle) {
                Some(shape) if shape.definition.identity == definition.identity => shape,
                // Unknown, retired, or naming another shape: point the client at the current one.
                _ => {
                    return match service.shape_for(definition).await {
                        Ok(current) => conflict(Some(&current.handle)),
                        Err(error) => serve_error(error),
                    };
                }
            }
        }
    };
    shape.touch();
    let mut changes = shape.subscribe();
    let mut shutdown = service.shutdown.subscribe();
    // While a new shape's snapshot is being read, the rows read so far are served as they come
    // (never with up-to-date); a request past them waits for more or for the end.
    // A subset waits for the whole snapshot: its offset must cover what the subset sees.
    let has_data_for = |shape: &Shape| match request.offset {
        _ if request.subset.is_some() => false,
        RequestOffset::Start => shape.latest().is_some(),
        RequestOffset::Now => false,
        RequestOffset::After(offset) => shape.latest().is_some_and(|latest| latest > offset),
    };
    let deadline = Instant::now() + SNAPSHOT_WAIT;
    while shape.status() == Status::Snapshotting && !has_data_for(&shape) {
        let wait = tokio::time::timeout_at(deadline.into(), changes.changed());
        tokio::select! {
            result = wait => if result.is_err() {
                return unavailable("the shape's snapshot is still being taken", 5);
            },
            _ = shutdown.wait_for(|stop| *stop) => return unavailable("the server is shutting down", 1),
        }
    }
    if shape.status() == Status::Retired {
        return match request.offset {
            RequestOffset::Start | RequestOffset::Now => {
                unavailable("the shape could not be created; retry shortly", 1)
            }
            RequestOffset::After(_) => refetch(service, &shape).await,
        };
    }
    if let (Some(subset), Some(definition)) = (&request.subset, &subset_definition) {
        return subset::serve(service, &shape, definition, subset).await;
    }
    let responder = Responder {
        service,
        shape: &shape,
        request: &request,
        if_none_match: headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok()),
    };
    match request.offset {
        RequestOffset::Now => {
            let latest = shape.latest().unwrap_or(LogOffset::ZERO);
            responder.up_to_date(latest, false)
        }
        RequestOffset::Start => match shape.slice_after(None, service.config.chunk_bytes) {
            Some((slice, file)) => responder.data(&slice, &file, false).await,
            None => responder.empty(LogOffset::ZERO),
        },
        RequestOffset::After(offset) => responder.after(offset, changes, shutdown).await,
    }
}

/// The 409 for a shape that was retired under a client: the replacement's handle with it.
async fn refetch(service: &Arc<ShapeService>, shape: &Shape) -> Response {
    match service.shape_for(shape.definition.clone()).await {
        Ok(current) => conflict(Some(&current.handle)),
        Err(_) => conflict(None),
    }
}

struct Responder<'a> {
    service: &'a Arc<ShapeService>,
    shape: &'a Arc<Shape>,
    request: &'a ShapeRequest,
    if_none_match: Option<&'a str>,
}

impl Responder<'_> {
    async fn after(
        &self,
        offset: LogOffset,
        mut changes: watch::Receiver<u64>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Response {
        let chunk = self.service.config.chunk_bytes;
        let long_poll = self.service.config.long_poll;
        // An offset past the end (e.g. the log lost its unsynced tail in a crash): wait a while
        // for the stream to bring it back, as Electric does, then give up.
        if self.shape.latest().is_none_or(|latest| offset > latest) {
            let deadline = Instant::now() + long_poll / 2;
            while self.shape.latest().is_none_or(|latest| offset > latest) {
                match wait_for_change(&mut changes, &mut shutdown, deadline).await {
                    Woken::Changed if self.shape.status() == Status::Retired => {
                        return refetch(self.service, self.shape).await;
                    }
                    Woken::Changed => {}
                    Woken::TimedOut | Woken::ShuttingDown => {
                        return bad_request(&super::request::errors(
                            "offset",
                            "out of bounds for this shape",
                        ));
                    }
                }
            }
        }
        if self.request.live_sse {
            return self.sse(offset, changes, shutdown);
        }
        // Up-to-date only once the snapshot is complete: the status is read before the slice.
        let complete = self.shape.status() == Status::Live;
        if let Some((slice, file)) = self.shape.slice_after(Some(offset), chunk) {
            return self
                .data(&slice, &file, slice.reaches_end && complete)
                .await;
        }
        if !complete {
            // The snapshot failed between our checks: the client starts over.
            return refetch(self.service, self.shape).await;
        }
        if !self.request.live {
            return self.up_to_date(offset, false);
        }
        let deadline = Instant::now() + long_poll;
        loop {
            match wait_for_change(&mut changes, &mut shutdown, deadline).await {
                Woken::Changed => {
                    if self.shape.status() == Status::Retired {
                        return refetch(self.service, self.shape).await;
                    }
                    if let Some((slice, file)) = self.shape.slice_after(Some(offset), chunk) {
                        return self.data(&slice, &file, slice.reaches_end).await;
                    }
                }
                Woken::TimedOut | Woken::ShuttingDown => return self.up_to_date(offset, false),
            }
        }
    }

    /// The `global_last_seen_lsn` to put in an up-to-date that ends at `offset`.
    fn last_seen(&self, offset: LogOffset) -> u64 {
        if self.request.live && offset.tx > 0 {
            offset.tx
        } else {
            offset.tx.max(self.service.registry.last_seen_lsn())
        }
    }

    async fn data(&self, slice: &Slice, file: &Arc<std::fs::File>, up_to_date: bool) -> Response {
        let headers = self.headers(slice.last, up_to_date, true);
        if let Some(response) = self.not_modified(&headers) {
            return response;
        }
        let (file, start, end) = (file.clone(), slice.start, slice.end);
        let read = tokio::task::spawn_blocking(move || {
            let mut body = Vec::with_capacity((end - start) as usize + 120);
            body.push(b'[');
            read_range_into(&file, start, end, &mut body).map(|()| body)
        });
        let mut body = match read.await {
            Ok(Ok(body)) => body,
            _ => return unavailable("reading the shape log failed", 1),
        };
        // The last message's trailing comma becomes the separator or is dropped.
        body.pop();
        if up_to_date {
            body.push(b',');
            body.extend_from_slice(message::up_to_date(self.last_seen(slice.last)).as_bytes());
        }
        body.push(b']');
        headers.into_response(Body::from(body))
    }

    fn empty(&self, offset: LogOffset) -> Response {
        let headers = self.headers(offset, false, true);
        if let Some(response) = self.not_modified(&headers) {
            return response;
        }
        headers.into_response(Body::from("[]"))
    }

    fn up_to_date(&self, offset: LogOffset, has_data: bool) -> Response {
        let headers = self.headers(offset, true, has_data);
        if let Some(response) = self.not_modified(&headers) {
            return response;
        }
        let body = format!("[{}]", message::up_to_date(self.last_seen(offset)));
        headers.into_response(Body::from(body))
    }

    fn not_modified(&self, headers: &ShapeHeaders) -> Option<Response> {
        let wanted = self.if_none_match?;
        let etag = headers.etag.trim_matches('"');
        wanted
            .split(',')
            .any(|tag| tag.trim().trim_matches('"') == etag)
            .then(|| {
                let mut response = headers.clone().into_response(Body::empty());
                *response.status_mut() = StatusCode::NOT_MODIFIED;
                response
            })
    }

    fn headers(&self, offset: LogOffset, up_to_date: bool, has_data: bool) -> ShapeHeaders {
        let request_offset = match self.request.offset {
            RequestOffset::Start => protocol::START_OFFSET.to_owned(),
            RequestOffset::Now => "now".to_owned(),
            RequestOffset::After(o) => o.to_string(),
        };
        let mut etag = format!("{}:{request_offset}:{offset}", self.shape.handle);
        if !has_data {
            // Never revalidate an empty live response: each one is unique.
            etag.push_str(&format!(":{}", monotonic_micros()));
        }
        let cache_control = match (
            self.request.offset,
            self.request.live,
            self.request.live_sse,
        ) {
            (RequestOffset::Start, _, _) => {
                "public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746".to_owned()
            }
            (_, true, true) => format!(
                "public, max-age={}",
                self.service.config.sse_timeout.as_secs().saturating_sub(1)
            ),
            (_, true, false) => "public, max-age=5, stale-while-revalidate=5".to_owned(),
            _ => "public, max-age=60, stale-while-revalidate=300".to_owned(),
        };
        ShapeHeaders {
            handle: self.shape.handle.clone(),
            offset: offset.to_string(),
            schema: (!self.request.live).then(|| schema_header(self.shape)),
            cursor: self.request.live.then(|| {
                next_cursor(
                    self.request.cursor.as_deref(),
                    self.service.config.long_poll,
                )
            }),
            up_to_date,
            has_data,
            cache_control,
            etag: format!("\"{etag}\""),
            sse: false,
        }
    }

    /// `live_sse=true`: catch-up, then each new batch followed by an up-to-date, as server-sent
    /// events, with keep-alive comments, until the SSE timeout or a retirement closes it.
    fn sse(
        &self,
        offset: LogOffset,
        changes: watch::Receiver<u64>,
        shutdown: watch::Receiver<bool>,
    ) -> Response {
        let mut headers = self.headers(offset, false, true);
        headers.sse = true;
        let events = EventStream::new(
            self.shape.clone(),
            self.service.clone(),
            offset,
            changes,
            shutdown,
        );
        headers.into_response(events.into_body())
    }
}

#[derive(Debug, Clone)]
struct ShapeHeaders {
    handle: String,
    offset: String,
    schema: Option<String>,
    cursor: Option<String>,
    up_to_date: bool,
    has_data: bool,
    cache_control: String,
    etag: String,
    sse: bool,
}

impl ShapeHeaders {
    fn into_response(self, body: Body) -> Response {
        let content_type = if self.sse {
            "text/event-stream"
        } else {
            "application/json; charset=utf-8"
        };
        let mut response =
            (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
        let h = response.headers_mut();
        let mut set = |name: &'static str, value: &str| {
            if let Ok(value) = HeaderValue::from_str(value) {
                h.insert(name, value);
            }
        };
        set(protocol::header::HANDLE, &self.handle);
        set(protocol::header::OFFSET, &self.offset);
        if let Some(schema) = &self.schema {
            set(protocol::header::SCHEMA, schema);
        }
        if let Some(cursor) = &self.cursor {
            set(protocol::header::CURSOR, cursor);
        }
        if self.up_to_date {
            set(protocol::header::UP_TO_DATE, "");
        }
        set(
            protocol::header::HAS_DATA,
            if self.has_data { "true" } else { "false" },
        );
        set("cache-control", &self.cache_control);
        set("etag", &self.etag);
        if self.sse {
            set("connection", "keep-alive");
            set("x-accel-buffering", "no");
        }
        response
    }
}

/// Electric's cursor: the end of the current long-poll interval since its epoch, moved past the
/// client's cursor when equal, so CDN cache keys change over time but match across clients.
fn next_cursor(client_cursor: Option<&str>, long_poll: Duration) -> String {
    let interval = long_poll.as_secs();
    if interval == 0 {
        return "0".to_owned();
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .saturating_sub(CURSOR_EPOCH);
    let next = now.div_ceil(interval) * interval;
    match client_cursor.and_then(|c| c.parse::<u64>().ok()) {
        Some(previous) if next <= previous => {
            (previous + 1 + rand::random_range(0..3600)).to_string()
        }
        _ => next.to_string(),
    }
}

fn monotonic_micros() -> u128 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_micros()
}
