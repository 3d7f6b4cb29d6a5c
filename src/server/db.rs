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

/// Connects to `url`, `LISTEN`s on `channel`, and sends each notification's payload to
/// `payloads` until the connection ends (then returns; the caller reconnects).
pub async fn listen(
    url: &str,
    channel: &str,
    payloads: &tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<(), tokio_postgres::Error> {
    use futures_util::StreamExt as _;
    let (client, mut connection) = tokio_postgres::connect(url, NoTls).await?;
    let forward = payloads.clone();
    // The connection is driven here, which also lets the LISTEN below complete.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notification(note) = message?
                && forward.send(note.payload().to_owned()).is_err()
            {
                break;
            }
        }
        Ok(())
    });
    client
        .batch_execute(&format!("LISTEN \"{channel}\""))
        .await?;
    let ended = driver.await.unwrap_or(Ok(()));
    drop(client);
    ended
}
