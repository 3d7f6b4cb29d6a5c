//! Signing in and staying signed in: `POST /api/auth/login`, `/refresh`, `/logout`, and
//! `GET /api/me`.
//!
//! Refresh tokens rotate: each refresh uses one up and issues the next in the same family.
//! A used token presented again means someone else has it, so the whole family is revoked and
//! both parties must sign in again. Failed logins are rate limited per e-mail address.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::accounts;
use super::state::ApiState;
use super::tokens::{self, REFRESH_TTL_DAYS};
use crate::server::http::auth::AuthUser;
use crate::server::http::error::{AppError, AppResult};
use crate::server::http::extract::JsonBody;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub refresh_token: String,
    pub user_id: Uuid,
}

pub async fn login(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody<LoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    let key = body.email.trim().to_lowercase();
    state.login_limiter.check_blocked(&key)?;
    let client = state.pool.get().await?;
    let found = accounts::find_login(&**client, &key).await?;
    let verified = match found {
        Some((user, hash)) => accounts::verify_password(body.password, hash)
            .await
            .then_some(user),
        None => {
            // Spend the same time as a real check so response times do not reveal accounts.
            let _ = accounts::verify_password(body.password, state.dummy_hash.to_string()).await;
            None
        }
    };
    let Some(user) = verified else {
        state.login_limiter.record_failure(&key)?;
        return Err(AppError::unauthorized(
            "invalid_credentials",
            "wrong e-mail address or password",
        ));
    };
    issue(&state, &**client, user, Uuid::new_v4())
        .await
        .map(|(response, _)| Json(response))
}

/// Issues an access token and a new refresh token in `family`; returns them and the new
/// refresh token's id.
async fn issue(
    state: &ApiState,
    client: &impl tokio_postgres::GenericClient,
    user: Uuid,
    family: Uuid,
) -> AppResult<(TokenResponse, Uuid)> {
    let now = OffsetDateTime::now_utc();
    let (access_token, expires_at) = state.keys.issue(user, now.unix_timestamp())?;
    let (refresh_token, hash) = tokens::new_refresh_token();
    let id: Uuid = client
        .query_one(
            "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
            &[
                &user,
                &family,
                &hash,
                &(now + time::Duration::days(REFRESH_TTL_DAYS)),
            ],
        )
        .await?
        .get(0);
    let response = TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_at,
        refresh_token,
        user_id: user,
    };
    Ok((response, id))
}

pub async fn refresh(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> AppResult<Json<TokenResponse>> {
    let hash = tokens::hash_refresh_token(body.refresh_token.trim());
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    // The last column finds a lost answer: the token was used less than a minute ago and the
    // token it was replaced with has never been used (the client died before saving it).
    let row = tx
        .query_opt(
            "SELECT id, user_id, family_id, used_at IS NOT NULL, revoked_at IS NOT NULL, \
                    expires_at < now(), \
                    (SELECT s.id FROM refresh_tokens s WHERE s.id = t.replaced_by \
                       AND s.used_at IS NULL AND s.revoked_at IS NULL \
                       AND t.used_at > now() - interval '60 seconds') \
             FROM refresh_tokens t WHERE token_hash = $1 FOR UPDATE",
            &[&hash],
        )
        .await?;
    let Some(row) = row else {
        return Err(AppError::unauthorized(
            "invalid_refresh_token",
            "the refresh token is not valid: sign in again",
        ));
    };
    let (id, user, family, used, revoked, expired) = (
        row.get::<_, Uuid>(0),
        row.get::<_, Uuid>(1),
        row.get::<_, Uuid>(2),
        row.get::<_, bool>(3),
        row.get::<_, bool>(4),
        row.get::<_, bool>(5),
    );
    let lost_answer: Option<Uuid> = row.get(6);
    if let Some(unused_successor) = lost_answer {
        // Replace the successor the client never received.
        tx.execute(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE id = $1",
            &[&unused_successor],
        )
        .await?;
    } else if used {
        tx.execute(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
            &[&family],
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(%user, %family, "a used refresh token was presented again; revoked its family");
        return Err(AppError::unauthorized(
            "refresh_token_reused",
            "this refresh token was already used, so the session was ended for safety: sign in again",
        ));
    } else if revoked {
        return Err(AppError::unauthorized(
            "invalid_refresh_token",
            "this session has ended: sign in again",
        ));
    }
    if expired {
        return Err(AppError::unauthorized(
            "invalid_refresh_token",
            "the refresh token has expired: sign in again",
        ));
    }
    let (response, successor) = issue(&state, &*tx, user, family).await?;
    tx.execute(
        "UPDATE refresh_tokens SET used_at = coalesce(used_at, now()), replaced_by = $2 WHERE id = $1",
        &[&id, &successor],
    )
    .await?;
    tx.commit().await?;
    Ok(Json(response))
}

pub async fn logout(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> AppResult<axum::http::StatusCode> {
    let hash = tokens::hash_refresh_token(body.refresh_token.trim());
    let client = state.pool.get().await?;
    client
        .execute(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND family_id = \
             (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)",
            &[&hash],
        )
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Membership {
    pub organization_id: Uuid,
    pub name: String,
    pub slug: String,
    pub role: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub avatar_url: Option<String>,
    pub memberships: Vec<Membership>,
}

pub async fn me(State(state): State<ApiState>, user: AuthUser) -> AppResult<Json<Me>> {
    let client = state.pool.get().await?;
    let row = client
        .query_opt(
            "SELECT email, name, avatar_url FROM users WHERE id = $1",
            &[&user.id],
        )
        .await?
        .ok_or_else(|| AppError::unauthorized("unknown_user", "this account no longer exists"))?;
    let memberships = client
        .query(
            "SELECT o.id, o.name, o.slug, m.role FROM organization_members m \
             JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1 ORDER BY o.name",
            &[&user.id],
        )
        .await?
        .iter()
        .map(|r| Membership {
            organization_id: r.get(0),
            name: r.get(1),
            slug: r.get(2),
            role: r.get(3),
        })
        .collect();
    Ok(Json(Me {
        id: user.id,
        email: row.get(0),
        name: row.get(1),
        avatar_url: row.get(2),
        memberships,
    }))
}
