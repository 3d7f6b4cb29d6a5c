//! The whole server (API + in-process sync service) for scenarios that go through the API.

use anyhow::Context;
use tokio::sync::oneshot;

use super::context::{Bench, seed_team};
use super::env::Database;
use crate::server::api::accounts;
use crate::server::app::{ElectricConfig, Server, ServerConfig};
use crate::server::{db, seed};

pub const SYNC_SECRET: &str = "bench-sync-secret";
const JWT_SECRET: &str = "bench-jwt-secret-that-is-at-least-32-bytes";
/// Every seeded user's password.
pub const PASSWORD: &str = "superset";

/// A running server on a loopback port.
pub struct App {
    pub base: String,
    pub team: seed::Team,
    stop: oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl App {
    /// Seeds `database` with `config` (passwords set) and serves it.
    pub async fn start(
        bench: &Bench<'_>,
        database: &Database,
        config: seed::SeedConfig,
    ) -> anyhow::Result<Self> {
        let team = seed_team(database, config).await?;
        let client = db::connect(&database.url).await?;
        let hash = accounts::hash_password(PASSWORD.to_owned()).await?;
        seed::set_passwords(&client, &team, &hash).await?;
        let server = Server::start(ServerConfig::new(
            &database.url,
            bench.lab.data_dir(&database.name),
            Some(JWT_SECRET.to_owned()),
            ElectricConfig::Local {
                secret: Some(SYNC_SECRET.to_owned()),
                slot: format!("bench_{}", database.name),
            },
        ))
        .await
        .context("starting the server")?;
        let sync = server
            .shapes
            .clone()
            .context("the sync service runs in-process")?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !sync.is_streaming() {
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "replication did not start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(crate::server::serve(
            listener,
            server.router.clone(),
            crate::server::ListenerConfig::default(),
            async move {
                let _ = stopped.await;
                sync.shutdown();
            },
        ));
        Ok(Self {
            base,
            team,
            stop,
            serving,
        })
    }

    /// Signs `email` in; returns the access token.
    pub async fn sign_in(&self, http: &reqwest::Client, email: &str) -> anyhow::Result<String> {
        let login: serde_json::Value = http
            .post(format!("{}/api/auth/login", self.base))
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(login["access_token"]
            .as_str()
            .context("an access token")?
            .to_owned())
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.serving.await;
    }
}
