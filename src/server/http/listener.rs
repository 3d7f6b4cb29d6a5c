//! Serving a router on a TCP listener so that slow, silent or too many sockets cannot starve
//! the server: HTTP/1.1 connections from hyper with a timeout for reading a request's headers
//! (which also ends keep-alive connections that sit idle between requests), a cap on the
//! request head's size, a cap on open connections overall and per client address, and a
//! graceful shutdown that lets requests in flight finish. Long-polls and server-sent events are
//! unaffected: the header timeout stops once a request's head has arrived.
//!
//! The client's address reaches handlers as axum's `ConnectInfo<SocketAddr>`.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// The listener's limits.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// A client must send a request's whole head within this long of connecting (or of its
    /// previous response, on a kept-alive connection).
    pub header_timeout: Duration,
    /// The largest request head accepted (431 beyond).
    pub max_header_bytes: usize,
    /// Open connections at most; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Open connections at most from one client address (0: no such limit, e.g. behind a load
    /// balancer whose address every connection has).
    pub max_connections_per_address: usize,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            max_header_bytes: 64 * 1024,
            max_connections: default_max_connections(),
            max_connections_per_address: 512,
        }
    }
}

/// Half of the open-file limit (raised to its hard maximum first), at most 16,384: the other
/// half is for shape logs, the database pool and the replication stream.
fn default_max_connections() -> usize {
    (open_file_limit() / 2).clamp(64, 16_384)
}

#[cfg(unix)]
fn open_file_limit() -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return 1024;
    };
    if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        return usize::try_from(hard).unwrap_or(usize::MAX);
    }
    usize::try_from(soft).unwrap_or(usize::MAX)
}

#[cfg(not(unix))]
fn open_file_limit() -> usize {
    8192
}

/// Connections open per client address, and the address's permit while it holds one.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

impl PerAddress {
    /// Counts a new connection from `address`; `false` when it already holds `max`.
    fn enter(&self, address: IpAddr, max: usize) -> bool {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(address).or_default();
        if max > 0 && *count >= max {
            return false;
        }
        *count += 1;
        true
    }

    fn leave(&self, address: IpAddr) {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&address);
            }
        }
    }
}

/// Serves `router` on `listener` with `config`'s limits until `shutdown` completes, then lets
/// the requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: ListenerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .max_buf_size(config.max_header_bytes.max(8192));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or similar: wait rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        if !per_address.enter(remote.ip(), config.max_connections_per_address) {
            tracing::debug!(%remote, "too many connections from one address; closed");
            continue;
        }
        let connection = Connection {
            remote,
            _permit: permit,
            per_address: per_address.clone(),
        };
        let served =
            builder.serve_connection(TokioIo::new(stream), service(router.clone(), remote));
        let watched = graceful.watch(served);
        tokio::spawn(async move {
            if let Err(error) = watched.await {
                tracing::debug!(%error, "a connection ended with an error");
            }
            drop(connection);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// One accepted connection: what it holds until it closes.
struct Connection {
    remote: SocketAddr,
    _permit: OwnedSemaphorePermit,
    per_address: Arc<PerAddress>,
}

/// The router, with the client's address in every request's extensions.
fn service(
    router: Router,
    remote: SocketAddr,
) -> TowerToHyperService<
    impl tower::Service<
        hyper::Request<Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future: Send,
    > + Clone
    + Send,
> {
    TowerToHyperService::new(tower::service_fn(
        move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            router.clone().oneshot(request.map(axum::body::Body::new))
        },
    ))
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.per_address.leave(self.remote.ip());
    }
}
