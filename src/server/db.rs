//! Postgres connections: single ones for one-off jobs (migrate, seed) and tests, pools for the
//! services.

use tokio_postgres::{Client, NoTls};

/// Connects to `url` and drives the connection on the current tokio runtime.
pub async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "postgres connection closed");
        }
    });
    Ok(client)
}

/// A connection pool for `url`; `options` are session settings (`-c name=value …`).
pub fn pool(
    url: &str,
    options: Option<&str>,
    size: usize,
) -> Result<deadpool_postgres::Pool, String> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| e.to_string())?;
    if let Some(options) = options {
        config.options(options);
    }
    config.application_name("superset-server");
    let manager = deadpool_postgres::Manager::from_config(
        config,
        NoTls,
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| e.to_string())
}
