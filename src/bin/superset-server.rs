//! `superset-server`: the API and sync service (`serve`), plus `migrate`, `seed` and `admin`.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use superset::server::api::{accounts, orgs};
use superset::server::app::{ElectricConfig, Server, ServerConfig};
use superset::server::integrations::{IntegrationsConfig, linear};
use superset::server::shapes::{SyncConfig, SyncService};
use superset::server::{self, db, migrate, seed};

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
    /// Signing secret(s) of the Linear webhook(s), comma-separated (one per Linear
    /// workspace). Unset: /webhooks/linear is off.
    #[arg(long, env = "LINEAR_WEBHOOK_SECRET", hide_env_values = true)]
    linear_webhook_secret: Option<String>,
    /// GitHub's REST API (for GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    github_api_url: String,
    /// 64 hex digits (`openssl rand -hex 32`) that encrypt stored GitHub tokens. Unset:
    /// tokens cannot be stored, so repository import is off.
    #[arg(long, env = "SUPERSET_ENCRYPTION_KEY", hide_env_values = true)]
    encryption_key: Option<String>,
}

#[derive(Subcommand)]
enum Admin {
    /// Create a user who can sign in with a password.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// At least 8 characters.
        #[arg(long, env = "SUPERSET_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Create an organization owned by an existing user.
    CreateOrg {
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
        /// E-mail of the owner.
        #[arg(long)]
        owner: String,
    },
    /// Add a user to an organization.
    AddMember {
        /// Organization slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "member", value_parser = ["owner", "admin", "member"])]
        role: String,
    },
    /// Change a member's role.
    SetRole {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["owner", "admin", "member"])]
        role: String,
    },
    /// Remove a user from an organization (an organization keeps at least one owner).
    RemoveMember {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
    },
    /// Link a Linear organization (or some of its teams) to an organization, so Linear's issue
    /// webhooks become its tasks. Replaces the organization's previous Linear link.
    LinkLinear {
        /// Organization slug.
        #[arg(long)]
        org: String,
        /// The Linear organization's id (`organizationId` in Linear's webhooks).
        #[arg(long)]
        linear_org: String,
        /// Only these Linear teams (repeat the flag); without it, the whole Linear organization.
        #[arg(long = "linear-team")]
        linear_teams: Vec<String>,
    },
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

async fn org_by_slug(client: &tokio_postgres::Client, slug: &str) -> anyhow::Result<uuid::Uuid> {
    client
        .query_opt("SELECT id FROM organizations WHERE slug = $1", &[&slug])
        .await?
        .map(|r| r.get(0))
        .with_context(|| format!("no organization has the slug {slug}"))
}

async fn admin(client: &mut tokio_postgres::Client, action: Admin) -> anyhow::Result<()> {
    match action {
        Admin::CreateUser {
            email,
            name,
            password,
        } => {
            accounts::check_password_strength(&password)?;
            let hash = accounts::hash_password(password).await?;
            let id = accounts::create_user(&*client, &email, &name, &hash).await?;
            println!("created user {email} ({id})");
        }
        Admin::CreateOrg { name, slug, owner } => {
            let owner = accounts::user_by_email(&*client, &owner).await?;
            let org = orgs::create_org(client, &name, &slug, owner).await?;
            println!("created organization {} ({})", org.slug, org.id);
        }
        Admin::AddMember { org, email, role } => {
            let org_id = org_by_slug(client, &org).await?;
            let user = accounts::user_by_email(&*client, &email).await?;
            orgs::add_member(&*client, org_id, user, &role).await?;
            println!("{email} is now {role} of {org}");
        }
        Admin::SetRole { org, email, role } => {
            let org_id = org_by_slug(client, &org).await?;
            let user = accounts::user_by_email(&*client, &email).await?;
            orgs::set_role(client, org_id, user, &role).await?;
            println!("{email} is now {role} of {org}");
        }
        Admin::RemoveMember { org, email } => {
            let org_id = org_by_slug(client, &org).await?;
            let user = accounts::user_by_email(&*client, &email).await?;
            orgs::remove_member(client, org_id, user).await?;
            println!("removed {email} from {org}");
        }
        Admin::LinkLinear {
            org,
            linear_org,
            linear_teams,
        } => {
            let org_id = org_by_slug(client, &org).await?;
            let links = linear::set_links(client, org_id, &linear_org, &linear_teams).await?;
            for link in links {
                match link.linear_team_id {
                    Some(team) => println!(
                        "linked Linear team {team} (organization {}) to {org}",
                        link.linear_organization_id
                    ),
                    None => println!(
                        "linked Linear organization {} to {org}",
                        link.linear_organization_id
                    ),
                }
            }
        }
    }
    Ok(())
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
        } => {
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
            let electric_secret = electric_secret.filter(|s| !s.is_empty());
            let electric = match electric_url.filter(|u| !u.is_empty()) {
                Some(url) => ElectricConfig::Remote {
                    url,
                    secret: electric_secret,
                    source_id: electric_source_id,
                },
                None => ElectricConfig::Local {
                    secret: match (electric_secret, electric_insecure) {
                        (Some(secret), _) => Some(secret),
                        (None, true) => None,
                        (None, false) => anyhow::bail!(
                            "no ELECTRIC_SECRET: set one (the built-in /v1/shape requires it as `secret`), \
                             or set ELECTRIC_INSECURE=true for local development"
                        ),
                    },
                    slot,
                },
            };
            let app = Server::start_with_integrations(
                ServerConfig {
                    database_url: db.database_url,
                    data_dir,
                    jwt_secret,
                    electric,
                },
                integrations,
            )
            .await?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            tracing::info!(%listen, "serving");
            let sync = app.sync.clone();
            server::serve(listener, app.router, async move {
                server::termination_signal().await;
                tracing::info!("shutting down");
                if let Some(sync) = sync {
                    sync.shutdown();
                }
            })
            .await?;
        }
        Command::Sync {
            database_url,
            listen,
            data_dir,
            slot,
            secret,
        } => {
            let mut config = SyncConfig::new(database_url, data_dir);
            config.slot = slot;
            config.secret = secret.filter(|s| !s.is_empty());
            let service = SyncService::start(config)
                .await
                .context("starting the sync service")?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            let address = listener.local_addr()?;
            // Scripts read this line to learn the port.
            println!("sync service listening on http://{address}");
            let stopping = service.clone();
            server::serve(listener, service.router(), async move {
                server::termination_signal().await;
                tracing::info!("shutting down");
                stopping.shutdown();
            })
            .await?;
        }
        Command::Admin { db, action } => {
            let mut client = db::connect(&db.database_url)
                .await
                .context("connecting to the database")?;
            admin(&mut client, action).await?;
        }
        Command::Migrate { db } => {
            let mut client = db::connect(&db.database_url)
                .await
                .context("connecting to the database")?;
            let applied = migrate::migrate(&mut client).await?;
            if applied.is_empty() {
                println!("schema is up to date");
            } else {
                println!("applied {}", applied.join(", "));
            }
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
            let mut client = db::connect(&db.database_url)
                .await
                .context("connecting to the database")?;
            migrate::migrate(&mut client).await?;
            if reset {
                seed::wipe(&client).await?;
            }
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
            let team = seed::generate(&config);
            seed::insert(&mut client, &team).await?;
            let hash = accounts::hash_password(password.clone()).await?;
            seed::set_passwords(&client, &team, &hash).await?;
            print!("{}", team.summary());
            println!("\nevery user's password: {password}");
            println!("\ndone in {:.2} s", started.elapsed().as_secs_f64());
        }
    }
    Ok(())
}
