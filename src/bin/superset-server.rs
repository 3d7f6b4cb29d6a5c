//! `superset-server`: the API and sync service (`serve`), plus `migrate`, `seed` and `admin`.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use superset::server::admin::{self, Admin};
use superset::server::app::{ElectricConfig, Server, ServerConfig};
use superset::server::integrations::IntegrationsConfig;
use superset::server::options::{ApiOptions, ListeningOptions, ShapeOptions};
use superset::server::shapes::{ShapeService, ShapeServiceConfig};
use superset::server::{self, ListenerConfig, db, migrate, seed};

#[derive(Parser)]
#[command(
    name = "superset-server",
    version,
    about = "Superset's sync service and API server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Database {
    /// Postgres connection URL (the database needs wal_level=logical for sync).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
}

/// GitHub and Linear (webhooks at /webhooks/github and /webhooks/linear, repository import).
#[derive(Args)]
struct Integrations {
    /// Secret of the GitHub webhook (`X-Hub-Signature-256`); comma-separated to rotate.
    /// Unset: /webhooks/github is off.
    #[arg(long, env = "GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    github_webhook_secret: Option<String>,
    /// The Linear webhook signing secret of a deployment with a single Linear link made
    /// without its own secret (links made in the API carry their own). Comma-separated to
    /// rotate.
    #[arg(long, env = "LINEAR_WEBHOOK_SECRET", hide_env_values = true)]
    linear_webhook_secret: Option<String>,
    /// GitHub's REST API (for GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    github_api_url: String,
    /// 64 hex digits (`openssl rand -hex 32`) that encrypt stored GitHub tokens and Linear
    /// signing secrets. Unset: neither can be stored, so repository import and Linear links
    /// made in the API are off.
    #[arg(long, env = "SUPERSET_ENCRYPTION_KEY", hide_env_values = true)]
    encryption_key: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Manage users and organizations directly in the database.
    Admin {
        #[command(flatten)]
        db: Database,
        #[command(subcommand)]
        action: Admin,
    },
    /// Serve the API (`/api/...`) and the sync service (`/v1/shape`, `/v1/health`).
    Serve {
        #[command(flatten)]
        db: Database,
        /// Address to listen on.
        #[arg(long, env = "SUPERSET_LISTEN", default_value = "127.0.0.1:3000")]
        listen: std::net::SocketAddr,
        /// Where shape logs are kept (they survive restarts).
        #[arg(long, env = "SUPERSET_DATA_DIR", default_value = "./superset-data")]
        data_dir: std::path::PathBuf,
        /// Secret for signing access tokens (HS256), at least 32 bytes.
        #[arg(long, env = "SUPERSET_JWT_SECRET", hide_env_values = true)]
        jwt_secret: Option<String>,
        /// Proxy shapes to this Electric instead of the built-in sync service
        /// (e.g. https://api.electric-sql.cloud/v1/shape).
        #[arg(long, env = "ELECTRIC_URL")]
        electric_url: Option<String>,
        /// Electric Cloud's source id (with --electric-url).
        #[arg(long, env = "ELECTRIC_SOURCE_ID")]
        electric_source_id: Option<String>,
        /// The sync secret: required by the built-in /v1/shape, sent to an external Electric.
        #[arg(long, env = "ELECTRIC_SECRET", hide_env_values = true)]
        electric_secret: Option<String>,
        /// Serve the built-in /v1/shape without a secret: local development only.
        #[arg(long, env = "ELECTRIC_INSECURE", default_value_t = false)]
        electric_insecure: bool,
        /// Logical replication slot name.
        #[arg(
            long,
            env = "SUPERSET_REPLICATION_SLOT",
            default_value = "superset_sync"
        )]
        slot: String,
        #[command(flatten)]
        integrations: Integrations,
        #[command(flatten)]
        listening: ListeningOptions,
        #[command(flatten)]
        shapes: ShapeOptions,
        #[command(flatten)]
        api: ApiOptions,
    },
    /// Serve only the sync service (`/v1/shape`, `/v1/health`): a per-worktree development
    /// server for an API that proxies to it through ELECTRIC_URL.
    Sync {
        /// The database, unpooled (replication cannot go through a pooler).
        #[arg(long, env = "DIRECT_URL")]
        database_url: String,
        /// Address to listen on (port 0: any free port; the chosen address is printed).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Where shape logs are kept.
        #[arg(long, default_value = "./superset-sync-data")]
        data_dir: std::path::PathBuf,
        /// Logical replication slot name (one per running sync service).
        #[arg(long, default_value = "superset_sync")]
        slot: String,
        /// The secret clients must send; without it the service is open (development only).
        #[arg(long, env = "ELECTRIC_SECRET", hide_env_values = true)]
        secret: Option<String>,
        #[command(flatten)]
        listening: ListeningOptions,
        #[command(flatten)]
        shapes: ShapeOptions,
    },
    /// Apply the Postgres schema (safe to run again: applied migrations are skipped).
    Migrate {
        #[command(flatten)]
        db: Database,
    },
    /// Migrate, then fill the database with a realistic team.
    Seed {
        #[command(flatten)]
        db: Database,
        /// Random seed: the same number gives the same team.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 2)]
        organizations: usize,
        #[arg(long, default_value_t = 8)]
        users: usize,
        #[arg(long, default_value_t = 5)]
        repositories: usize,
        #[arg(long, default_value_t = 200)]
        tasks: usize,
        #[arg(long, default_value_t = 20)]
        workspaces: usize,
        /// The team's "now" (RFC 3339); activity and due dates are placed around it.
        #[arg(long, value_parser = parse_time)]
        now: Option<time::OffsetDateTime>,
        /// Delete every synced row first (otherwise a database with data is left alone).
        #[arg(long)]
        reset: bool,
        /// The password every seeded user signs in with.
        #[arg(long, default_value = "superset")]
        password: String,
    },
}

fn parse_time(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 time like 2026-11-25T10:00:00Z: {e}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            db,
            listen,
            data_dir,
            jwt_secret,
            electric_url,
            electric_source_id,
            electric_secret,
            electric_insecure,
            slot,
            integrations,
            listening,
            shapes,
            api,
        } => {
            let electric = ElectricConfig::from_options(
                electric_url,
                electric_source_id,
                electric_secret,
                electric_insecure,
                slot,
            )?;
            let mut config = ServerConfig::new(db.database_url, data_dir, jwt_secret, electric);
            config.api_limits = api.limits();
            config.shape_limits = shapes.limits();
            serve(config, integrations, listen, listening.config()).await
        }
        Command::Sync {
            database_url,
            listen,
            data_dir,
            slot,
            secret,
            listening,
            shapes,
        } => {
            let mut config = ShapeServiceConfig::new(database_url, data_dir);
            config.slot = slot;
            config.secret = secret.filter(|s| !s.is_empty());
            config.limits = shapes.limits();
            sync(config, listen, listening.config()).await
        }
        Command::Admin { db, action } => {
            for line in admin::run(&mut connect(&db).await?, action).await? {
                println!("{line}");
            }
            Ok(())
        }
        Command::Migrate { db } => {
            let applied = migrate::migrate(&mut connect(&db).await?).await?;
            if applied.is_empty() {
                println!("schema is up to date");
            } else {
                println!("applied {}", applied.join(", "));
            }
            Ok(())
        }
        Command::Seed {
            db,
            seed,
            organizations,
            users,
            repositories,
            tasks,
            workspaces,
            now,
            reset,
            password,
        } => {
            let config = seed::SeedConfig {
                seed,
                organizations,
                users,
                repositories,
                tasks,
                workspaces,
                now: now.unwrap_or_else(time::OffsetDateTime::now_utc),
            };
            let started = std::time::Instant::now();
            let summary = admin::seed(&mut connect(&db).await?, &config, reset, &password).await?;
            print!("{summary}");
            println!("\nevery user's password: {password}");
            println!("\ndone in {:.2} s", started.elapsed().as_secs_f64());
            Ok(())
        }
    }
}

async fn connect(db: &Database) -> anyhow::Result<tokio_postgres::Client> {
    db::connect(&db.database_url)
        .await
        .context("connecting to the database")
}

/// `serve`: the API and, unless proxying to an external Electric, the sync service.
async fn serve(
    config: ServerConfig,
    integrations: Integrations,
    listen: std::net::SocketAddr,
    listening: ListenerConfig,
) -> anyhow::Result<()> {
    let integrations = IntegrationsConfig::from_values(
        integrations.github_webhook_secret.as_deref(),
        integrations.linear_webhook_secret.as_deref(),
        Some(&integrations.github_api_url),
        integrations.encryption_key.as_deref(),
    )?;
    tracing::info!(
        github_webhook = !integrations.github_webhook_secrets.is_empty(),
        linear_webhook = !integrations.linear_webhook_secrets.is_empty(),
        github_token_storage = integrations.encryption_key.is_some(),
        "integrations"
    );
    let app = Server::start_with_integrations(config, integrations).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, "serving");
    let shapes = app.shapes.clone();
    server::serve(listener, app.router, listening, async move {
        server::termination_signal().await;
        tracing::info!("shutting down");
        if let Some(shapes) = shapes {
            shapes.shutdown();
        }
    })
    .await?;
    Ok(())
}

/// `sync`: the sync service alone, printing the address it listens on.
async fn sync(
    config: ShapeServiceConfig,
    listen: std::net::SocketAddr,
    listening: ListenerConfig,
) -> anyhow::Result<()> {
    let service = ShapeService::start(config)
        .await
        .context("starting the sync service")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    // Scripts read this line to learn the port.
    println!("sync service listening on http://{address}");
    let stopping = service.clone();
    server::serve(listener, service.router(), listening, async move {
        server::termination_signal().await;
        tracing::info!("shutting down");
        stopping.shutdown();
    })
    .await?;
    Ok(())
}
