//! Postgres connections for the server's one-off jobs (migrate, seed) and its tests.

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
