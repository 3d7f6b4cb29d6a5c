//! `superset-server admin …` and `seed`: what an operator does directly in the database, with the
//! same rules as the API (password strength, the last owner kept, Linear links).

use clap::Subcommand;
use tokio_postgres::Client;
use uuid::Uuid;

use super::api::{accounts, orgs};
use super::http::error::AppError;
use super::integrations::linear::{self, NewLink};
use super::integrations::secrets::{EncryptionKey, SecretsError};
use super::{migrate, seed};

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Refused(#[from] AppError),
    #[error("no organization has the slug {0}")]
    NoSuchOrganization(String),
    #[error("the database refused: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("migrating failed: {0}")]
    Migrate(#[from] migrate::MigrateError),
    #[error("seeding failed: {0}")]
    Seed(#[from] seed::SeedError),
    #[error(transparent)]
    Key(#[from] SecretsError),
    #[error(
        "a signing secret is kept sealed with the server's key: set SUPERSET_ENCRYPTION_KEY \
         (or --encryption-key) as the server has it"
    )]
    NoEncryptionKey,
}

#[derive(Debug, Subcommand)]
pub enum Admin {
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
        /// The webhook's signing secret (Linear shows it with the webhook). Without it, the
        /// deployment's LINEAR_WEBHOOK_SECRET verifies this link's deliveries, and only while
        /// it is the only link.
        #[arg(long, env = "LINEAR_SIGNING_SECRET", hide_env_values = true)]
        signing_secret: Option<String>,
        /// The server's SUPERSET_ENCRYPTION_KEY, which seals the signing secret.
        #[arg(long, env = "SUPERSET_ENCRYPTION_KEY", hide_env_values = true)]
        encryption_key: Option<String>,
    },
}

async fn org_by_slug(client: &Client, slug: &str) -> Result<Uuid, AdminError> {
    client
        .query_opt("SELECT id FROM organizations WHERE slug = $1", &[&slug])
        .await?
        .map(|r| r.get(0))
        .ok_or_else(|| AdminError::NoSuchOrganization(slug.to_owned()))
}

/// Carries out `action`; returns what happened, one line per change.
pub async fn run(client: &mut Client, action: Admin) -> Result<Vec<String>, AdminError> {
    match action {
        Admin::CreateUser {
            email,
            name,
            password,
        } => {
            accounts::check_password_strength(&password)?;
            let hash = accounts::hash_password(password).await?;
            let id = accounts::create_user(&*client, &email, &name, &hash).await?;
            Ok(vec![format!("created user {email} ({id})")])
        }
        Admin::CreateOrg { name, slug, owner } => {
            let owner = accounts::user_by_email(&*client, &owner).await?;
            let org = orgs::create_org(client, &name, &slug, owner).await?;
            Ok(vec![format!(
                "created organization {} ({})",
                org.slug, org.id
            )])
        }
        Admin::AddMember { org, email, role } => {
            let (org_id, user) = member(client, &org, &email).await?;
            orgs::add_member(&*client, org_id, user, &role).await?;
            Ok(vec![format!("{email} is now {role} of {org}")])
        }
        Admin::SetRole { org, email, role } => {
            let (org_id, user) = member(client, &org, &email).await?;
            orgs::set_role(client, org_id, user, &role).await?;
            Ok(vec![format!("{email} is now {role} of {org}")])
        }
        Admin::RemoveMember { org, email } => {
            let (org_id, user) = member(client, &org, &email).await?;
            orgs::remove_member(client, org_id, user).await?;
            Ok(vec![format!("removed {email} from {org}")])
        }
        Admin::LinkLinear {
            org,
            linear_org,
            linear_teams,
            signing_secret,
            encryption_key,
        } => {
            let key = encryption_key
                .as_deref()
                .map(EncryptionKey::from_hex)
                .transpose()?;
            let secret = match (signing_secret.as_deref(), key.as_ref()) {
                (Some(secret), Some(key)) => Some((secret, key)),
                (Some(_), None) => return Err(AdminError::NoEncryptionKey),
                (None, _) => None,
            };
            let link = NewLink {
                linear_org: &linear_org,
                teams: &linear_teams,
                secret,
            };
            link_linear(client, &org, link).await
        }
    }
}

/// The organization with slug `org` and the user with `email`.
async fn member(client: &Client, org: &str, email: &str) -> Result<(Uuid, Uuid), AdminError> {
    let org_id = org_by_slug(client, org).await?;
    let user = accounts::user_by_email(client, email).await?;
    Ok((org_id, user))
}

async fn link_linear(
    client: &mut Client,
    org: &str,
    link: NewLink<'_>,
) -> Result<Vec<String>, AdminError> {
    let org_id = org_by_slug(client, org).await?;
    let links = linear::set_links(client, org_id, link).await?;
    Ok(links
        .into_iter()
        .map(|link| match link.linear_team_id {
            Some(team) => format!(
                "linked Linear team {team} (organization {}) to {org}",
                link.linear_organization_id
            ),
            None => format!(
                "linked Linear organization {} to {org}",
                link.linear_organization_id
            ),
        })
        .collect())
}

/// `superset-server seed`: migrates, then fills the database with `config`'s team (after
/// deleting every synced row when `reset`), every user signing in with `password`. Returns the
/// team's summary.
pub async fn seed(
    client: &mut Client,
    config: &seed::SeedConfig,
    reset: bool,
    password: &str,
) -> Result<String, AdminError> {
    migrate::migrate(client).await?;
    if reset {
        seed::wipe(client).await?;
    }
    let team = seed::generate(config);
    seed::insert(client, &team).await?;
    let hash = accounts::hash_password(password.to_owned()).await?;
    seed::set_passwords(client, &team, &hash).await?;
    Ok(team.summary())
}
