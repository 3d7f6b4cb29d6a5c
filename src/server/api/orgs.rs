//! Organizations and their members: create an org (its creator owns it, up to a per-person
//! limit), change a role, remove a member; people join by invitation (`invitations`). Owners and admins manage members; only owners make
//! or unmake owners; an organization always keeps at least one owner. The same functions back
//! the `superset-server admin` commands.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::state::ApiState;
use crate::server::http::auth::{AuthUser, role_of};
use crate::server::http::error::{AppError, AppResult};
use crate::server::http::extract::{JsonBody, PathParams};
use crate::server::http::limits;

pub const ROLES: [&str; 3] = ["owner", "admin", "member"];

pub(super) fn check_role(role: &str) -> AppResult<()> {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "role must be owner, admin or member, not {role:?}"
        )))
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

/// Creates an organization owned by `owner`.
pub async fn create_org(
    client: &mut impl GenericClient,
    name: &str,
    slug: &str,
    owner: Uuid,
) -> AppResult<Organization> {
    if name.trim().is_empty() {
        return Err(AppError::BadRequest("name must not be empty".to_owned()));
    }
    limits::text("name", name, limits::NAME)?;
    limits::text("slug", slug, 64)?;
    if slug.is_empty()
        || !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || slug.starts_with('-')
    {
        return Err(AppError::BadRequest(format!(
            "slug {slug:?} must be lower-case letters, digits and dashes, starting with a letter or digit"
        )));
    }
    let tx = client.transaction().await?;
    let id: Uuid = tx
        .query_one(
            "INSERT INTO organizations (name, slug) VALUES ($1, $2) RETURNING id",
            &[&name.trim(), &slug],
        )
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => AppError::Conflict(format!("the slug {slug} is taken")),
            other => other,
        })?
        .get(0);
    tx.execute(
        "INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, 'owner')",
        &[&id, &owner],
    )
    .await?;
    tx.commit().await?;
    Ok(Organization {
        id,
        name: name.trim().to_owned(),
        slug: slug.to_owned(),
    })
}

/// Checks that `actor` may give or take `role` (an owner's, or anyone's when `role` is owner).
pub(super) async fn require_manager(
    client: &impl GenericClient,
    org: Uuid,
    actor: Uuid,
    touches_owner: bool,
) -> AppResult<()> {
    match role_of(client, org, actor).await?.as_deref() {
        Some("owner") => Ok(()),
        Some("admin") if !touches_owner => Ok(()),
        Some("admin") => Err(AppError::Forbidden(
            "only owners can make or change owners".to_owned(),
        )),
        Some(_) => Err(AppError::Forbidden(
            "only owners and admins manage members".to_owned(),
        )),
        None => Err(AppError::Forbidden(
            "you are not a member of that organization".to_owned(),
        )),
    }
}

/// Fails when `user` is `org`'s last owner (used before demoting or removing them). Locks the
/// org's owner rows so two concurrent changes cannot both pass.
async fn keep_an_owner(client: &impl GenericClient, org: Uuid, user: Uuid) -> AppResult<()> {
    let owners: Vec<Uuid> = client
        .query(
            "SELECT user_id FROM organization_members WHERE organization_id = $1 AND role = 'owner' FOR UPDATE",
            &[&org],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if owners == [user] {
        return Err(AppError::Conflict(
            "an organization needs an owner: make someone else owner first".to_owned(),
        ));
    }
    Ok(())
}

pub async fn add_member(
    client: &impl GenericClient,
    org: Uuid,
    user: Uuid,
    role: &str,
) -> AppResult<()> {
    check_role(role)?;
    client
        .execute(
            "INSERT INTO organization_members (organization_id, user_id, role) VALUES ($1, $2, $3)",
            &[&org, &user, &role],
        )
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => AppError::Conflict("that user is already a member".to_owned()),
            other => other,
        })?;
    Ok(())
}

pub async fn set_role(
    client: &mut impl GenericClient,
    org: Uuid,
    user: Uuid,
    role: &str,
) -> AppResult<()> {
    check_role(role)?;
    let tx = client.transaction().await?;
    let current = role_of(&tx, org, user)
        .await?
        .ok_or_else(|| AppError::NotFound("that user is not a member".to_owned()))?;
    if current == "owner" && role != "owner" {
        keep_an_owner(&tx, org, user).await?;
    }
    tx.execute(
        "UPDATE organization_members SET role = $3 WHERE organization_id = $1 AND user_id = $2",
        &[&org, &user, &role],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove_member(
    client: &mut impl GenericClient,
    org: Uuid,
    user: Uuid,
) -> AppResult<()> {
    let tx = client.transaction().await?;
    let current = role_of(&tx, org, user)
        .await?
        .ok_or_else(|| AppError::NotFound("that user is not a member".to_owned()))?;
    if current == "owner" {
        keep_an_owner(&tx, org, user).await?;
    }
    tx.execute(
        "DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2",
        &[&org, &user],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    pub name: String,
    pub slug: String,
}

/// `POST /api/organizations`: creates an organization the caller owns, up to their limit.
pub async fn create(
    State(state): State<ApiState>,
    user: AuthUser,
    JsonBody(body): JsonBody<NewOrganization>,
) -> AppResult<(StatusCode, Json<Organization>)> {
    let mut client = state.pool.get().await?;
    let created: i64 = client
        .query_one(
            "SELECT count(*) FROM organization_creators WHERE user_id = $1",
            &[&user.id],
        )
        .await?
        .get(0);
    let limit = state.limits.organizations_per_user;
    if created >= i64::try_from(limit).unwrap_or(i64::MAX) {
        return Err(AppError::Forbidden(format!(
            "you have created {created} organizations, the most one person may create here \
             ({limit}): ask the operator to raise SUPERSET_MAX_ORGANIZATIONS_PER_USER"
        )));
    }
    let org = create_org(&mut **client, &body.name, &body.slug, user.id).await?;
    client
        .execute(
            "INSERT INTO organization_creators (organization_id, user_id) VALUES ($1, $2)",
            &[&org.id, &user.id],
        )
        .await?;
    Ok((StatusCode::CREATED, Json(org)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: String,
}

pub async fn change_role(
    State(state): State<ApiState>,
    user: AuthUser,
    PathParams((org, member)): PathParams<(Uuid, Uuid)>,
    JsonBody(body): JsonBody<RoleChange>,
) -> AppResult<StatusCode> {
    check_role(&body.role)?;
    let mut client = state.pool.get().await?;
    let current = role_of(&**client, org, member).await?;
    let touches_owner = body.role == "owner" || current.as_deref() == Some("owner");
    require_manager(&**client, org, user.id, touches_owner).await?;
    set_role(&mut **client, org, member, &body.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove(
    State(state): State<ApiState>,
    user: AuthUser,
    PathParams((org, member)): PathParams<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    let mut client = state.pool.get().await?;
    // Anyone may leave; removing someone else takes a manager.
    if member != user.id {
        let touches_owner = role_of(&**client, org, member).await?.as_deref() == Some("owner");
        require_manager(&**client, org, user.id, touches_owner).await?;
    }
    remove_member(&mut **client, org, member).await?;
    Ok(StatusCode::NO_CONTENT)
}
