//! Writes a generated [`Team`] to Postgres in one transaction.
//!
//! Each table goes in as column arrays through `INSERT … SELECT * FROM unnest(…)`: one round
//! trip per 10,000 rows, typed by Postgres, with no SQL built from values.

use serde_json::Value;
use time::{Date, OffsetDateTime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Transaction};
use uuid::Uuid;

use super::team::{Task, Team};

/// Rows per `unnest` insert: large enough to amortise round trips, small enough to keep each
/// statement's parameters a few megabytes.
const CHUNK: usize = 10_000;

const SYNCED_TABLES: &str =
    "organizations, users, organization_members, repositories, tasks, workspaces";

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database already holds organizations: pass --reset to replace them")]
    NotEmpty,
    #[error("writing the seed failed: {0}")]
    Postgres(#[from] tokio_postgres::Error),
}

/// True when no organization exists yet.
pub async fn is_empty(client: &Client) -> Result<bool, SeedError> {
    let row = client
        .query_one("SELECT NOT EXISTS (SELECT 1 FROM organizations)", &[])
        .await?;
    Ok(row.get(0))
}

/// Deletes every synced row (the team, not the schema).
pub async fn wipe(client: &Client) -> Result<(), SeedError> {
    client
        .batch_execute(&format!("TRUNCATE {SYNCED_TABLES} CASCADE"))
        .await?;
    Ok(())
}

/// Inserts `team` into an empty database.
pub async fn insert(client: &mut Client, team: &Team) -> Result<(), SeedError> {
    if !is_empty(client).await? {
        return Err(SeedError::NotEmpty);
    }
    let tx = client.transaction().await?;
    insert_organizations(&tx, team).await?;
    insert_users(&tx, team).await?;
    insert_members(&tx, team).await?;
    insert_repositories(&tx, team).await?;
    insert_tasks(&tx, team).await?;
    insert_workspaces(&tx, team).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives every user of `team` the password whose argon2 hash is `password_hash`.
pub async fn set_passwords(
    client: &Client,
    team: &Team,
    password_hash: &str,
) -> Result<(), SeedError> {
    let ids: Vec<Uuid> = team.users.iter().map(|u| u.id).collect();
    client
        .execute(
            "INSERT INTO user_credentials (user_id, password_hash) SELECT unnest($1::uuid[]), $2 \
             ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash",
            &[&ids, &password_hash],
        )
        .await?;
    Ok(())
}

/// Runs `INSERT INTO {table} ({columns}) SELECT * FROM unnest($1::type1[], …)` with `arrays`
/// holding one array per column, in the order of `typed_columns`.
async fn insert_columns(
    tx: &Transaction<'_>,
    table: &str,
    typed_columns: &[(&str, &str)],
    arrays: &[&(dyn ToSql + Sync)],
) -> Result<(), SeedError> {
    let columns: Vec<&str> = typed_columns.iter().map(|(c, _)| *c).collect();
    let unnest: Vec<String> = typed_columns
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| format!("${}::{ty}[]", i + 1))
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) SELECT * FROM unnest({})",
        columns.join(", "),
        unnest.join(", ")
    );
    tx.execute(&sql, arrays).await?;
    Ok(())
}

async fn insert_organizations(tx: &Transaction<'_>, team: &Team) -> Result<(), SeedError> {
    let orgs = &team.organizations;
    let id: Vec<Uuid> = orgs.iter().map(|o| o.id).collect();
    let name: Vec<&str> = orgs.iter().map(|o| o.name.as_str()).collect();
    let slug: Vec<&str> = orgs.iter().map(|o| o.slug.as_str()).collect();
    insert_columns(
        tx,
        "organizations",
        &[("id", "uuid"), ("name", "text"), ("slug", "text")],
        &[&id, &name, &slug],
    )
    .await
}

async fn insert_users(tx: &Transaction<'_>, team: &Team) -> Result<(), SeedError> {
    let users = &team.users;
    let id: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let email: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
    let name: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    let avatar: Vec<&str> = users.iter().map(|u| u.avatar_url.as_str()).collect();
    insert_columns(
        tx,
        "users",
        &[
            ("id", "uuid"),
            ("email", "text"),
            ("name", "text"),
            ("avatar_url", "text"),
        ],
        &[&id, &email, &name, &avatar],
    )
    .await
}

async fn insert_members(tx: &Transaction<'_>, team: &Team) -> Result<(), SeedError> {
    let members = &team.members;
    let id: Vec<Uuid> = members.iter().map(|m| m.id).collect();
    let org: Vec<Uuid> = members
        .iter()
        .map(|m| team.organizations[m.organization].id)
        .collect();
    let user: Vec<Uuid> = members.iter().map(|m| team.users[m.user].id).collect();
    let role: Vec<&str> = members.iter().map(|m| m.role).collect();
    insert_columns(
        tx,
        "organization_members",
        &[
            ("id", "uuid"),
            ("organization_id", "uuid"),
            ("user_id", "uuid"),
            ("role", "text"),
        ],
        &[&id, &org, &user, &role],
    )
    .await
}

async fn insert_repositories(tx: &Transaction<'_>, team: &Team) -> Result<(), SeedError> {
    let repos = &team.repositories;
    let id: Vec<Uuid> = repos.iter().map(|r| r.id).collect();
    let org: Vec<Uuid> = repos
        .iter()
        .map(|r| team.organizations[r.organization].id)
        .collect();
    let name: Vec<&str> = repos.iter().map(|r| r.name.as_str()).collect();
    let url: Vec<&str> = repos.iter().map(|r| r.url.as_str()).collect();
    let github_id: Vec<i64> = repos.iter().map(|r| r.github_id).collect();
    insert_columns(
        tx,
        "repositories",
        &[
            ("id", "uuid"),
            ("organization_id", "uuid"),
            ("name", "text"),
            ("slug", "text"),
            ("url", "text"),
            ("github_id", "int8"),
        ],
        &[&id, &org, &name, &name, &url, &github_id],
    )
    .await
}

/// Linear's tasks go first, so the key counters the local ones start (see the migration
/// `V7`) count on after every Linear key sharing their prefix; local tasks then get their keys
/// in the order they were made.
async fn insert_tasks(tx: &Transaction<'_>, team: &Team) -> Result<(), SeedError> {
    let mut tasks: Vec<&Task> = team.tasks.iter().collect();
    tasks.sort_by_key(|t| (t.external.is_none(), t.created_at));
    for chunk in tasks.chunks(CHUNK) {
        let id: Vec<Uuid> = chunk.iter().map(|t| t.id).collect();
        let org: Vec<Uuid> = chunk
            .iter()
            .map(|t| team.organizations[t.organization].id)
            .collect();
        let repo: Vec<Option<Uuid>> = chunk
            .iter()
            .map(|t| t.repository.map(|r| team.repositories[r].id))
            .collect();
        let title: Vec<&str> = chunk.iter().map(|t| t.title.as_str()).collect();
        let description: Vec<Option<&str>> =
            chunk.iter().map(|t| t.description.as_deref()).collect();
        let status: Vec<&str> = chunk.iter().map(|t| t.status).collect();
        let status_color: Vec<&str> = chunk.iter().map(|t| t.status_color).collect();
        let priority: Vec<&str> = chunk.iter().map(|t| t.priority).collect();
        let assignee: Vec<Option<Uuid>> = chunk
            .iter()
            .map(|t| t.assignee.map(|u| team.users[u].id))
            .collect();
        let provider: Vec<Option<&str>> = chunk
            .iter()
            .map(|t| t.external.as_ref().map(|_| "linear"))
            .collect();
        let external_id: Vec<Option<&str>> = chunk
            .iter()
            .map(|t| t.external.as_ref().map(|e| e.0.as_str()))
            .collect();
        let external_key: Vec<Option<&str>> = chunk
            .iter()
            .map(|t| t.external.as_ref().map(|e| e.1.as_str()))
            .collect();
        let external_url: Vec<Option<&str>> = chunk
            .iter()
            .map(|t| t.external.as_ref().map(|e| e.2.as_str()))
            .collect();
        let branch: Vec<Option<&str>> = chunk.iter().map(|t| t.branch.as_deref()).collect();
        let labels: Vec<&Value> = chunk.iter().map(|t| &t.labels).collect();
        let due: Vec<Option<Date>> = chunk.iter().map(|t| t.due_date).collect();
        let created: Vec<OffsetDateTime> = chunk.iter().map(|t| t.created_at).collect();
        insert_columns(
            tx,
            "tasks",
            &[
                ("id", "uuid"),
                ("organization_id", "uuid"),
                ("repository_id", "uuid"),
                ("title", "text"),
                ("description", "text"),
                ("status", "text"),
                ("status_color", "text"),
                ("priority", "text"),
                ("assignee_id", "uuid"),
                ("external_provider", "text"),
                ("external_id", "text"),
                ("external_key", "text"),
                ("external_url", "text"),
                ("branch", "text"),
                ("labels", "jsonb"),
                ("due_date", "date"),
                ("created_at", "timestamptz"),
                ("updated_at", "timestamptz"),
            ],
            &[
                &id,
                &org,
                &repo,
                &title,
                &description,
                &status,
                &status_color,
                &priority,
                &assignee,
                &provider,
                &external_id,
                &external_key,
                &external_url,
                &branch,
                &labels,
                &due,
                &created,
                &created,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn insert_workspaces(tx: &Transaction<'_>, team: &Team) -> Result<(), SeedError> {
    for chunk in team.workspaces.chunks(CHUNK) {
        let id: Vec<Uuid> = chunk.iter().map(|w| w.id).collect();
        let org: Vec<Uuid> = chunk
            .iter()
            .map(|w| team.organizations[w.organization].id)
            .collect();
        let task: Vec<Option<Uuid>> = chunk
            .iter()
            .map(|w| w.task.map(|t| team.tasks[t].id))
            .collect();
        let repo: Vec<Uuid> = chunk
            .iter()
            .map(|w| team.repositories[w.repository].id)
            .collect();
        let owner: Vec<Uuid> = chunk.iter().map(|w| team.users[w.owner].id).collect();
        let kind: Vec<&str> = chunk.iter().map(|w| w.kind).collect();
        let device: Vec<&str> = chunk.iter().map(|w| w.device_name.as_str()).collect();
        let status: Vec<&str> = chunk.iter().map(|w| w.status).collect();
        let branch: Vec<&str> = chunk.iter().map(|w| w.git_branch.as_str()).collect();
        let git_status: Vec<&Value> = chunk.iter().map(|w| &w.git_status).collect();
        let pr_url: Vec<Option<&str>> = chunk
            .iter()
            .map(|w| w.pull_request.as_ref().map(|p| p.0.as_str()))
            .collect();
        let pr_number: Vec<Option<i32>> = chunk
            .iter()
            .map(|w| w.pull_request.as_ref().map(|p| p.1))
            .collect();
        let pr_status: Vec<Option<&str>> = chunk
            .iter()
            .map(|w| w.pull_request.as_ref().map(|p| p.2))
            .collect();
        let activity: Vec<OffsetDateTime> = chunk.iter().map(|w| w.last_activity_at).collect();
        let created: Vec<OffsetDateTime> = chunk.iter().map(|w| w.created_at).collect();
        insert_columns(
            tx,
            "workspaces",
            &[
                ("id", "uuid"),
                ("organization_id", "uuid"),
                ("task_id", "uuid"),
                ("repository_id", "uuid"),
                ("owner_id", "uuid"),
                ("type", "text"),
                ("device_name", "text"),
                ("status", "text"),
                ("git_branch", "text"),
                ("git_status", "jsonb"),
                ("pr_url", "text"),
                ("pr_number", "int4"),
                ("pr_status", "text"),
                ("last_activity_at", "timestamptz"),
                ("created_at", "timestamptz"),
                ("updated_at", "timestamptz"),
            ],
            &[
                &id,
                &org,
                &task,
                &repo,
                &owner,
                &kind,
                &device,
                &status,
                &branch,
                &git_status,
                &pr_url,
                &pr_number,
                &pr_status,
                &activity,
                &created,
                &activity,
            ],
        )
        .await?;
    }
    Ok(())
}
