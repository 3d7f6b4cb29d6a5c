//! `live_sse=true`: a shape's changes as server-sent events — the catch-up, then each new batch
//! followed by an up-to-date whose `global_last_seen_lsn` is a valid resume offset, keep-alive
//! comments every 21 s, closed after the SSE timeout or when the shape is retired (the client's
//! next request then gets the 409).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use tokio::sync::watch;

use super::log::read_range;
use super::message;
use super::offset::LogOffset;
use super::service::ShapeService;
use super::shape::{Shape, Status, Woken, wait_for_change};

const SSE_KEEPALIVE: Duration = Duration::from_secs(21);

pub(super) struct EventStream {
    shape: Arc<Shape>,
    service: Arc<ShapeService>,
    offset: LogOffset,
    changes: watch::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
    closes_at: Instant,
    done: bool,
}

impl EventStream {
    pub(super) fn new(
        shape: Arc<Shape>,
        service: Arc<ShapeService>,
        offset: LogOffset,
        changes: watch::Receiver<u64>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            closes_at: Instant::now() + service.config.sse_timeout,
            shape,
            service,
            offset,
            changes,
            shutdown,
            done: false,
        }
    }

    /// The response body: events as they come, until the stream closes.
    pub(super) fn into_body(self) -> Body {
        let stream = futures_util::stream::unfold(self, |mut state| async move {
            let event = state.next_event().await?;
            Some((Ok::<_, std::io::Error>(event), state))
        });
        Body::from_stream(stream)
    }

    /// The next piece of the event stream, or `None` to close it.
    async fn next_event(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.done || self.shape.status() == Status::Retired {
                return None;
            }
            if let Some((slice, file)) = self
                .shape
                .slice_after(Some(self.offset), self.service.config.chunk_bytes)
            {
                let (start, end) = (slice.start, slice.end);
                let bytes = tokio::task::spawn_blocking(move || read_range(&file, start, end))
                    .await
                    .ok()?
                    .ok()?;
                let mut out = Vec::with_capacity(bytes.len() + 16 * slice.boundaries.len() + 100);
                let mut from = 0;
                for &boundary in &slice.boundaries {
                    let to = (boundary - start) as usize - 1;
                    out.extend_from_slice(b"data: ");
                    out.extend_from_slice(&bytes[from..to]);
                    out.extend_from_slice(b"\n\n");
                    from = to + 1;
                }
                self.offset = slice.last;
                if slice.reaches_end {
                    let lsn = if slice.last.tx > 0 {
                        slice.last.tx
                    } else {
                        self.service.registry.last_seen_lsn()
                    };
                    out.extend_from_slice(
                        format!("data: {}\n\n", message::up_to_date(lsn)).as_bytes(),
                    );
                }
                return Some(out);
            }
            let keepalive = (Instant::now() + SSE_KEEPALIVE).min(self.closes_at);
            match wait_for_change(&mut self.changes, &mut self.shutdown, keepalive).await {
                Woken::Changed => {}
                Woken::ShuttingDown => return None,
                Woken::TimedOut if Instant::now() >= self.closes_at => {
                    self.done = true;
                    return None;
                }
                Woken::TimedOut => return Some(b": keep-alive\n\n".to_vec()),
            }
        }
    }
}
