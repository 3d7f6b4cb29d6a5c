//! Which of our organizations a Linear organization belongs to. A Linear organization is linked
//! to at most one of ours (optionally only some of its teams), and the link is proven rather
//! than asserted: it stores the signing secret Linear shows that workspace's admin, sealed with
//! the server's key, and only deliveries signed with it are accepted for that Linear
//! organization. Claiming a Linear organization linked elsewhere is refused (409) and changes
//! nothing.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::super::access::require_admin;
use super::super::error::IntegrationError;
use super::super::secrets::{EncryptionKey, Sealed};
use super::super::state::IntegrationsState;
use crate::server::http::auth::AuthUser;
use crate::server::http::error::{AppError, AppResult};
use crate::server::http::extract::{JsonBody, PathParams};
use crate::server::http::limits;

/// One link from a Linear organization (or one of its teams) to our organization.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LinearLink {
    pub linear_organization_id: String,
    /// `None`: the whole Linear organization.
    pub linear_team_id: Option<String>,
}

/// A Linear organization's link as a delivery needs it.
#[derive(Debug)]
pub struct Link {
    pub organization_id: Uuid,
    /// Only these teams' issues are ours (empty: every team's).
    pub teams: Vec<String>,
    sealed: Option<Sealed>,
}

impl Link {
    /// The link's signing secret; `None` for a link made without one (verified by the
    /// deployment's `LINEAR_WEBHOOK_SECRET` while it is the only link).
    pub fn secret(&self, key: Option<&EncryptionKey>) -> Result<Option<String>, IntegrationError> {
        let Some(sealed) = &self.sealed else {
            return Ok(None);
        };
        let key = key.ok_or_else(no_key)?;
        let plain = key
            .open(self.organization_id, sealed)
            .map_err(|e| IntegrationError::NotConfigured(e.to_string()))?;
        Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
    }

    /// True when issues of `team` belong to the link.
    pub fn covers(&self, team: Option<&str>) -> bool {
        self.teams.is_empty() || team.is_some_and(|t| self.teams.iter().any(|l| l == t))
    }
}

fn no_key() -> IntegrationError {
    IntegrationError::NotConfigured(
        "the server has no SUPERSET_ENCRYPTION_KEY, so it keeps no Linear signing secrets: the \
         operator sets one (64 hex digits, e.g. `openssl rand -hex 32`) and restarts the server"
            .to_owned(),
    )
}

/// The link of `linear_org`, if it is linked.
pub async fn find(client: &impl GenericClient, linear_org: &str) -> AppResult<Option<Link>> {
    let Some(row) = client
        .query_opt(
            "SELECT organization_id, secret_ciphertext, secret_nonce, \
                    coalesce((SELECT array_agg(team_id ORDER BY team_id) FROM linear_link_teams t \
                              WHERE t.external_organization_id = l.external_organization_id), '{}') \
             FROM linear_links l WHERE external_organization_id = $1",
            &[&linear_org],
        )
        .await?
    else {
        return Ok(None);
    };
    let sealed = match (row.get(1), row.get(2)) {
        (Some(ciphertext), Some(nonce)) => Some(Sealed { ciphertext, nonce }),
        _ => None,
    };
    Ok(Some(Link {
        organization_id: row.get(0),
        teams: row.get(3),
        sealed,
    }))
}

/// How many Linear organizations are linked (the deployment-wide secret stands in for a
/// missing per-link secret only while there is one).
pub async fn count(client: &impl GenericClient) -> AppResult<i64> {
    Ok(client
        .query_one("SELECT count(*) FROM linear_links", &[])
        .await?
        .get(0))
}

/// What a link is made of.
pub struct NewLink<'a> {
    pub linear_org: &'a str,
    pub teams: &'a [String],
    /// The webhook's signing secret, sealed with `key` (both, or neither for an operator's link
    /// verified by the deployment-wide secret).
    pub secret: Option<(&'a str, &'a EncryptionKey)>,
}

/// Replaces `org`'s Linear link with `link`: the whole Linear organization when it names no
/// teams, else those teams. 409 when the Linear organization is linked to another organization.
pub async fn set_links(
    client: &mut impl GenericClient,
    org: Uuid,
    link: NewLink<'_>,
) -> AppResult<Vec<LinearLink>> {
    let linear_org = link.linear_org.trim();
    if linear_org.is_empty() {
        return Err(AppError::BadRequest(
            "linear_organization_id must not be empty: it is the organizationId Linear's webhooks carry"
                .to_owned(),
        ));
    }
    limits::text("linear_organization_id", linear_org, limits::NAME)?;
    let mut teams: Vec<String> = link
        .teams
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    teams.sort();
    teams.dedup();
    for team in &teams {
        limits::text("linear_team_ids", team, limits::NAME)?;
    }
    let sealed = match link.secret {
        Some((secret, key)) => {
            limits::text("signing_secret", secret, limits::SHORT)?;
            Some(key.seal(org, secret.trim().as_bytes()))
        }
        None => None,
    };
    let tx = client.transaction().await?;
    let owner: Option<Uuid> = tx
        .query_opt(
            "SELECT organization_id FROM linear_links WHERE external_organization_id = $1 FOR UPDATE",
            &[&linear_org],
        )
        .await?
        .map(|r| r.get(0));
    if owner.is_some_and(|owner| owner != org) {
        return Err(claimed(linear_org));
    }
    tx.execute(
        "DELETE FROM linear_links WHERE organization_id = $1",
        &[&org],
    )
    .await?;
    tx.execute(
        "INSERT INTO linear_links (external_organization_id, organization_id, secret_ciphertext, secret_nonce) \
         VALUES ($1, $2, $3, $4)",
        &[
            &linear_org,
            &org,
            &sealed.as_ref().map(|s| &s.ciphertext),
            &sealed.as_ref().map(|s| &s.nonce),
        ],
    )
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => claimed(linear_org),
        other => other,
    })?;
    for team in &teams {
        tx.execute(
            "INSERT INTO linear_link_teams (external_organization_id, team_id) VALUES ($1, $2)",
            &[&linear_org, team],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(described(linear_org, teams))
}

fn claimed(linear_org: &str) -> AppError {
    AppError::Conflict(format!(
        "the Linear organization {linear_org} is linked to another organization: it must be \
         unlinked there first"
    ))
}

/// The links as the API shows them: one per team, or one for the whole organization.
fn described(linear_org: &str, teams: Vec<String>) -> Vec<LinearLink> {
    if teams.is_empty() {
        return vec![LinearLink {
            linear_organization_id: linear_org.to_owned(),
            linear_team_id: None,
        }];
    }
    teams
        .into_iter()
        .map(|team| LinearLink {
            linear_organization_id: linear_org.to_owned(),
            linear_team_id: Some(team),
        })
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub linear_organization_id: String,
    #[serde(default)]
    pub linear_team_ids: Vec<String>,
    /// The signing secret Linear shows for the webhook (Settings → API → Webhooks).
    pub signing_secret: String,
}

/// `PUT /api/organizations/{org}/linear`: link a Linear organization (or some of its teams),
/// with the webhook's signing secret.
pub async fn put_link(
    State(state): State<IntegrationsState>,
    user: AuthUser,
    PathParams(org): PathParams<Uuid>,
    JsonBody(body): JsonBody<LinkRequest>,
) -> Result<Json<Vec<LinearLink>>, IntegrationError> {
    let mut client = state.pool.get().await?;
    require_admin(&**client, org, user.id).await?;
    if body.signing_secret.trim().is_empty() {
        return Err(AppError::BadRequest(
            "signing_secret must not be empty: it is the secret Linear shows for the webhook"
                .to_owned(),
        )
        .into());
    }
    let key = state.config.encryption_key.as_ref().ok_or_else(no_key)?;
    let link = NewLink {
        linear_org: &body.linear_organization_id,
        teams: &body.linear_team_ids,
        secret: Some((&body.signing_secret, key)),
    };
    Ok(Json(set_links(&mut **client, org, link).await?))
}

/// `DELETE /api/organizations/{org}/linear`: unlink Linear.
pub async fn delete_link(
    State(state): State<IntegrationsState>,
    user: AuthUser,
    PathParams(org): PathParams<Uuid>,
) -> AppResult<StatusCode> {
    let client = state.pool.get().await?;
    require_admin(&**client, org, user.id).await?;
    client
        .execute(
            "DELETE FROM linear_links WHERE organization_id = $1",
            &[&org],
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
