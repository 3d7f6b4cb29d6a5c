//! Membership by invitation. An owner or admin invites an e-mail address; the person who signs
//! in with it sees the invitation and accepts or declines it. Until then they see nothing of the
//! organization and it sees only the invited address — and the answer to an invitation is the
//! same whether or not the address has an account, so addresses cannot be probed. (The operator's
//! `superset-server admin add-member` and the seed add members directly.)

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::orgs::{check_role, require_manager};
use super::state::ApiState;
use crate::server::http::auth::AuthUser;
use crate::server::http::error::{AppError, AppResult};
use crate::server::http::extract::{JsonBody, PathParams};
use crate::server::http::limits;

/// Pending invitations an organization may hold at once.
const MAX_PENDING: i64 = 500;

/// An invitation as the organization sees it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Invitation {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub role: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An invitation as the invited person sees it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Received {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub role: String,
    /// Who invited them, by name (none when that account is gone).
    pub invited_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    pub email: String,
    pub role: String,
}

fn normalized_email(email: &str) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    limits::text("email", &email, limits::SHORT)?;
    if email.len() < 3 || !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        return Err(AppError::BadRequest(format!(
            "{email:?} is not an e-mail address"
        )));
    }
    Ok(email)
}

/// `POST /api/organizations/{org}/members`: invites `email` with `role` (inviting again
/// changes the role).
pub async fn invite(
    State(state): State<ApiState>,
    user: AuthUser,
    PathParams(org): PathParams<Uuid>,
    JsonBody(body): JsonBody<NewInvitation>,
) -> AppResult<(StatusCode, Json<Invitation>)> {
    check_role(&body.role)?;
    let email = normalized_email(&body.email)?;
    let mut client = state.pool.get().await?;
    require_manager(&**client, org, user.id, body.role == "owner").await?;
    let tx = client.transaction().await?;
    let member = tx
        .query_opt(
            "SELECT 1 FROM organization_members m JOIN users u ON u.id = m.user_id \
             WHERE m.organization_id = $1 AND lower(u.email) = $2",
            &[&org, &email],
        )
        .await?;
    if member.is_some() {
        return Err(AppError::Conflict(format!("{email} is already a member")));
    }
    let pending: i64 = tx
        .query_one(
            "SELECT count(*) FROM invitations WHERE organization_id = $1",
            &[&org],
        )
        .await?
        .get(0);
    if pending >= MAX_PENDING {
        return Err(AppError::Conflict(format!(
            "the organization has {MAX_PENDING} pending invitations: revoke some first"
        )));
    }
    let row = tx
        .query_one(
            "INSERT INTO invitations (organization_id, email, role, invited_by) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (organization_id, lower(email)) DO UPDATE SET role = EXCLUDED.role \
             RETURNING id, created_at",
            &[&org, &email, &body.role, &user.id],
        )
        .await?;
    tx.commit().await?;
    let invitation = Invitation {
        id: row.get(0),
        organization_id: org,
        email,
        role: body.role,
        created_at: row.get(1),
    };
    Ok((StatusCode::CREATED, Json(invitation)))
}

/// `GET /api/organizations/{org}/invitations`: the pending invitations (managers only).
pub async fn pending(
    State(state): State<ApiState>,
    user: AuthUser,
    PathParams(org): PathParams<Uuid>,
) -> AppResult<Json<Vec<Invitation>>> {
    let client = state.pool.get().await?;
    require_manager(&**client, org, user.id, false).await?;
    let rows = client
        .query(
            "SELECT id, email, role, created_at FROM invitations WHERE organization_id = $1 \
             ORDER BY created_at, email",
            &[&org],
        )
        .await?;
    Ok(Json(
        rows.iter()
            .map(|r| Invitation {
                id: r.get(0),
                organization_id: org,
                email: r.get(1),
                role: r.get(2),
                created_at: r.get(3),
            })
            .collect(),
    ))
}

/// `DELETE /api/organizations/{org}/invitations/{id}`: revokes a pending invitation.
pub async fn revoke(
    State(state): State<ApiState>,
    user: AuthUser,
    PathParams((org, id)): PathParams<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    let client = state.pool.get().await?;
    require_manager(&**client, org, user.id, false).await?;
    let removed = client
        .execute(
            "DELETE FROM invitations WHERE id = $1 AND organization_id = $2",
            &[&id, &org],
        )
        .await?;
    if removed == 0 {
        return Err(AppError::NotFound("no such invitation".to_owned()));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/invitations`: the invitations waiting for the signed-in person.
pub async fn received(
    State(state): State<ApiState>,
    user: AuthUser,
) -> AppResult<Json<Vec<Received>>> {
    let client = state.pool.get().await?;
    let rows = client
        .query(
            "SELECT i.id, i.organization_id, o.name, i.role, inviter.name, i.created_at \
             FROM invitations i \
             JOIN users me ON me.id = $1 AND lower(me.email) = lower(i.email) \
             JOIN organizations o ON o.id = i.organization_id \
             LEFT JOIN users inviter ON inviter.id = i.invited_by \
             ORDER BY i.created_at",
            &[&user.id],
        )
        .await?;
    Ok(Json(
        rows.iter()
            .map(|r| Received {
                id: r.get(0),
                organization_id: r.get(1),
                organization_name: r.get(2),
                role: r.get(3),
                invited_by: r.get(4),
                created_at: r.get(5),
            })
            .collect(),
    ))
}

/// The caller's own invitation `id`, locked: its organization and role (404 for anyone else's).
async fn own_invitation(
    client: &impl GenericClient,
    id: Uuid,
    user: Uuid,
) -> AppResult<(Uuid, String)> {
    client
        .query_opt(
            "SELECT i.organization_id, i.role FROM invitations i \
             JOIN users me ON me.id = $2 AND lower(me.email) = lower(i.email) \
             WHERE i.id = $1 FOR UPDATE OF i",
            &[&id, &user],
        )
        .await?
        .map(|r| (r.get(0), r.get(1)))
        .ok_or_else(|| AppError::NotFound("no such invitation".to_owned()))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Joined {
    pub organization_id: Uuid,
    pub role: String,
}

/// `POST /api/invitations/{id}/accept`: joins the organization with the invited role.
pub async fn accept(
    State(state): State<ApiState>,
    user: AuthUser,
    PathParams(id): PathParams<Uuid>,
) -> AppResult<Json<Joined>> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let (org, role) = own_invitation(&*tx, id, user.id).await?;
    tx.execute(
        "INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, $3) \
         ON CONFLICT (organization_id, user_id) DO NOTHING",
        &[&org, &user.id, &role],
    )
    .await?;
    tx.execute("DELETE FROM invitations WHERE id = $1", &[&id])
        .await?;
    tx.commit().await?;
    Ok(Json(Joined {
        organization_id: org,
        role,
    }))
}

/// `POST /api/invitations/{id}/decline`: declines; the organization's invitation is gone.
pub async fn decline(
    State(state): State<ApiState>,
    user: AuthUser,
    PathParams(id): PathParams<Uuid>,
) -> AppResult<StatusCode> {
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    own_invitation(&*tx, id, user.id).await?;
    tx.execute("DELETE FROM invitations WHERE id = $1", &[&id])
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
