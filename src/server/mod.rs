//! The server side: everything `superset-server` runs against Postgres.
//!
//! From the bottom up: `db` connects, `migrate` applies the schema in `migrations/postgres`,
//! `seed` fills a database with a realistic team for demos, tests and benchmarks; `shapes` is
//! the sync service (Electric's HTTP Shape API on logical replication); `http` holds what every
//! HTTP feature shares (the error format, extractors, who the caller is); `api` and
//! `integrations` are the features, side by side; `app` merges their routes and starts it all,
//! `admin` is the operator's commands and `options` the limits as command-line options. [`serve`] runs a router.

pub mod admin;
pub mod api;
pub mod app;
pub mod db;
pub mod http;
pub mod integrations;
pub mod migrate;
pub mod options;
pub mod seed;
pub mod shapes;

use std::future::Future;

pub use http::listener::ListenerConfig;

/// Serves `router` on `listener` with `config`'s timeouts and caps until `shutdown` completes,
/// then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    config: ListenerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    http::listener::serve(listener, router, config, shutdown).await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
