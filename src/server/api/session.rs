//! Signing in and staying signed in: `POST /api/auth/login`, `/refresh`, `/logout`, and
//! `GET /api/me`.
//!
//! Refresh tokens rotate: each refresh uses one up and issues the next in the same family.
//! A used token presented again means someone else has it, so the whole family is revoked and
//! both parties must sign in again — except a retry within a minute of a refresh whose answer
//! was lost, which gets that same answer again. Failed logins are rate limited per e-mail
//! address and per client address (`limiter`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::state::ApiState;
use super::tokens::{self, REFRESH_TTL_DAYS};
use super::{accounts, limiter};
use crate::server::http::auth::AuthUser;
use crate::server::http::error::{AppError, AppResult};
use crate::server::http::extract::JsonBody;
use crate::server::http::limits;

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

/// `POST /api/auth/login`. No database connection is held while the password is checked, the
/// checks queue for a few cores, and failures are counted per e-mail address and per client
/// address (both answered the same whether or not the account exists).
pub async fn login(
    State(state): State<ApiState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginRequest>,
) -> AppResult<Json<TokenResponse>> {
    limits::text("email", &body.email, limits::SHORT)?;
    limits::text("password", &body.password, limits::SHORT)?;
    let email = body.email.trim().to_lowercase();
    let email_key = format!("email:{email}");
    let address_key = format!("address:{}", client_address(&state, peer, &headers));
    let found = {
        let client = state.pool.get().await?;
        limiter::check_blocked(&**client, &[&email_key, &address_key]).await?;
        accounts::find_login(&**client, &email).await?
    };
    let verified = match found {
        Some((user, hash)) => state
            .hasher
            .verify(body.password, hash)
            .await
            .then_some(user),
        None => {
            // Spend the same time as a real check so response times do not reveal accounts.
            let _ = state
                .hasher
                .verify(body.password, state.dummy_hash.to_string())
                .await;
            None
        }
    };
    let client = state.pool.get().await?;
    let Some(user) = verified else {
        limiter::record_failure(&**client, &address_key, limiter::PER_ADDRESS).await?;
        limiter::record_failure(&**client, &email_key, limiter::PER_EMAIL).await?;
        return Err(AppError::unauthorized(
            "invalid_credentials",
            "wrong e-mail address or password",
        ));
    };
    let refresh_token = tokens::new_refresh_token();
    let response = issue(&state, &**client, user, Uuid::new_v4(), &refresh_token).await?;
    Ok(Json(response))
}

/// The client's address: the connection's peer, or the last `X-Forwarded-For` entry when a
/// trusted load balancer sets it.
fn client_address(
    state: &ApiState,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> String {
    let forwarded = state
        .limits
        .trust_forwarded_for
        .then(|| {
            headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
        })
        .flatten();
    forwarded
        .or_else(|| peer.map(|Extension(ConnectInfo(addr))| addr.ip().to_string()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Stores `refresh_token` (its hash) in `family` and issues an access token beside it.
async fn issue(
    state: &ApiState,
    client: &impl tokio_postgres::GenericClient,
    user: Uuid,
    family: Uuid,
    refresh_token: &str,
) -> AppResult<TokenResponse> {
    let now = OffsetDateTime::now_utc();
    client
        .execute(
            "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) \
             VALUES ($1, $2, $3, $4)",
            &[
                &user,
                &family,
                &tokens::hash_refresh_token(refresh_token),
                &(now + time::Duration::days(REFRESH_TTL_DAYS)),
            ],
        )
        .await?;
    respond(state, user, refresh_token)
}

/// A fresh access token beside `refresh_token`.
fn respond(state: &ApiState, user: Uuid, refresh_token: &str) -> AppResult<TokenResponse> {
    let now = OffsetDateTime::now_utc();
    let (access_token, expires_at) = state.keys.issue(user, now.unix_timestamp())?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_at,
        refresh_token: refresh_token.to_owned(),
        user_id: user,
    })
}

/// A refresh token as stored.
struct Stored {
    id: Uuid,
    user: Uuid,
    family: Uuid,
    used: bool,
    revoked: bool,
    expired: bool,
    /// Used less than a minute ago, and its successor never used: a retry of a refresh whose
    /// answer was lost.
    answer_lost: bool,
}

async fn stored(client: &impl tokio_postgres::GenericClient, hash: &[u8]) -> AppResult<Stored> {
    let row = client
        .query_opt(
            "SELECT id, user_id, family_id, used_at IS NOT NULL, revoked_at IS NOT NULL, \
                    expires_at < now(), \
                    EXISTS (SELECT 1 FROM refresh_tokens s WHERE s.id = t.replaced_by \
                       AND s.used_at IS NULL AND s.revoked_at IS NULL \
                       AND t.used_at > now() - interval '60 seconds') \
             FROM refresh_tokens t WHERE token_hash = $1 FOR UPDATE",
            &[&hash],
        )
        .await?
        .ok_or_else(|| {
            AppError::unauthorized(
                "invalid_refresh_token",
                "the refresh token is not valid: sign in again",
            )
        })?;
    Ok(Stored {
        id: row.get(0),
        user: row.get(1),
        family: row.get(2),
        used: row.get(3),
        revoked: row.get(4),
        expired: row.get(5),
        answer_lost: row.get(6),
    })
}

/// `POST /api/auth/refresh`: the presented token is used up and its successor issued. The
/// successor is derived from the presented token with the server's key, so presenting a token
/// again within a minute of its use — the client died before saving the answer — hands back the
/// *same* successor: a thief replaying it gets nothing the real user does not hold, and
/// whoever uses the successor second ends the session for both. Any other reuse revokes the
/// whole family.
pub async fn refresh(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> AppResult<Json<TokenResponse>> {
    let presented = body.refresh_token.trim();
    limits::text("refresh_token", presented, limits::SHORT)?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let token = stored(&*tx, &tokens::hash_refresh_token(presented)).await?;
    let successor = state.keys.successor_of(presented);
    if token.used && token.answer_lost && !token.revoked {
        tx.commit().await?;
        return Ok(Json(respond(&state, token.user, &successor)?));
    }
    if token.used {
        tx.execute(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
            &[&token.family],
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(user = %token.user, family = %token.family, "a used refresh token was presented again; revoked its family");
        return Err(AppError::unauthorized(
            "refresh_token_reused",
            "this refresh token was already used, so the session was ended for safety: sign in again",
        ));
    }
    if token.revoked {
        return Err(AppError::unauthorized(
            "invalid_refresh_token",
            "this session has ended: sign in again",
        ));
    }
    if token.expired {
        return Err(AppError::unauthorized(
            "invalid_refresh_token",
            "the refresh token has expired: sign in again",
        ));
    }
    let response = issue(&state, &*tx, token.user, token.family, &successor).await?;
    tx.execute(
        "UPDATE refresh_tokens SET used_at = now(), \
             replaced_by = (SELECT id FROM refresh_tokens WHERE token_hash = $2) \
         WHERE id = $1",
        &[&token.id, &tokens::hash_refresh_token(&successor)],
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
