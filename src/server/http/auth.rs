//! Who is calling: access tokens (short-lived HS256 JWTs), the [`AuthUser`] extractor every
//! authenticated route takes, and what the caller's role is in an organization.
//!
//! Validation pins the algorithm to HS256 (so `alg: none` or an RSA/HMAC confusion cannot pass),
//! requires `exp`, `iat`, `sub`, `iss` and `aud`, and checks `nbf` when present. The secret must
//! be at least 32 bytes: HS256 with a short secret can be brute-forced offline from one token.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::error::{AppError, AppResult};

pub const ISSUER: &str = "superset";
pub const AUDIENCE: &str = "superset-desktop";
/// How long an access token lives.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub iss: String,
    pub aud: String,
}

/// Why a JWT secret is refused.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "SUPERSET_JWT_SECRET is not set: set it to a random string of at least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"
    )]
    Missing,
    #[error(
        "SUPERSET_JWT_SECRET is too weak ({0} bytes): use at least {MIN_SECRET_BYTES} random bytes (e.g. `openssl rand -hex 32`)"
    )]
    TooShort(usize),
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Derives each refresh token's successor (see [`TokenKeys::successor_of`]).
    successors: Vec<u8>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    pub fn new(secret: Option<&str>) -> Result<Self, SecretError> {
        let secret = secret
            .filter(|s| !s.is_empty())
            .ok_or(SecretError::Missing)?;
        if secret.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort(secret.len()));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            successors: secret.as_bytes().to_vec(),
        })
    }

    /// The refresh token that replaces `token`: an HMAC of it under the server's secret, so the
    /// same token always has the same successor and nobody without the secret can guess it.
    pub fn successor_of(&self, token: &str) -> String {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.successors)
            .expect("HMAC takes a key of any length");
        mac.update(b"superset refresh successor\0");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Signs an access token for `user`, valid from `now` (unix seconds).
    pub fn issue(&self, user: Uuid, now: i64) -> Result<(String, i64), AppError> {
        let claims = Claims {
            sub: user.to_string(),
            exp: now + ACCESS_TTL_SECS,
            iat: now,
            nbf: Some(now),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        self.sign(&claims).map(|token| (token, claims.exp))
    }

    /// Signs arbitrary claims (tests use this to make expired or future tokens).
    pub fn sign(&self, claims: &Claims) -> Result<String, AppError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("signing a token: {e}")))
    }

    /// Checks a token and returns its user.
    pub fn verify(&self, token: &str) -> Result<Uuid, AppError> {
        if let Some(alg) = header_algorithm(token)
            && alg != "HS256"
        {
            return Err(AppError::unauthorized(
                "invalid_token",
                format!(
                    "the access token uses the {alg:?} algorithm, which this server does not accept"
                ),
            ));
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                let message = match e.kind() {
                    ErrorKind::ExpiredSignature => "the access token has expired: refresh it",
                    ErrorKind::ImmatureSignature => "the access token is not valid yet",
                    ErrorKind::InvalidSignature => "the access token's signature is invalid",
                    ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
                        "the access token uses an algorithm this server does not accept"
                    }
                    ErrorKind::InvalidAudience => "the access token is meant for another audience",
                    ErrorKind::InvalidIssuer => "the access token comes from another issuer",
                    ErrorKind::MissingRequiredClaim(_) => "the access token lacks a required claim",
                    _ => "the access token is malformed",
                };
                AppError::unauthorized("invalid_token", message)
            })?;
        Uuid::parse_str(&data.claims.sub).map_err(|_| {
            AppError::unauthorized(
                "invalid_token",
                "the access token's subject is not a user id",
            )
        })
    }
}

/// The `alg` a token's header names, read without trusting it (for a precise error message:
/// jsonwebtoken cannot parse algorithms it does not know, such as `none`).
fn header_algorithm(token: &str) -> Option<String> {
    use base64::Engine as _;
    let header = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    json["alg"].as_str().map(str::to_owned)
}

/// The signed-in user of a request: a valid `Authorization: Bearer` access token.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub id: Uuid,
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    Arc<TokenKeys>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                AppError::unauthorized("missing_token", "sign in first: no Authorization header")
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::unauthorized(
                    "invalid_token",
                    "the Authorization header must be `Bearer <token>`",
                )
            })?;
        let keys = Arc::<TokenKeys>::from_ref(state);
        Ok(AuthUser {
            id: keys.verify(token)?,
        })
    }
}

/// The role of `user` in `org`, if a member.
pub async fn role_of(
    client: &impl GenericClient,
    org: Uuid,
    user: Uuid,
) -> AppResult<Option<String>> {
    Ok(client
        .query_opt(
            "SELECT role FROM organization_members WHERE organization_id = $1 AND user_id = $2",
            &[&org, &user],
        )
        .await?
        .map(|r| r.get(0)))
}

/// The caller's role in `org`, or 403.
pub async fn require_member(
    client: &impl GenericClient,
    org: Uuid,
    user: Uuid,
) -> AppResult<String> {
    role_of(client, org, user)
        .await?
        .ok_or_else(|| AppError::Forbidden("you are not a member of that organization".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn weak_or_missing_secrets_are_refused_with_a_reason() {
        assert!(matches!(TokenKeys::new(None), Err(SecretError::Missing)));
        assert!(matches!(
            TokenKeys::new(Some("short")),
            Err(SecretError::TooShort(5))
        ));
        assert!(TokenKeys::new(Some(SECRET)).is_ok());
    }

    #[test]
    fn issued_tokens_verify_and_tampered_ones_do_not() {
        let keys = TokenKeys::new(Some(SECRET)).unwrap();
        let user = Uuid::new_v4();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (token, _) = keys.issue(user, now).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), user);
        let other = TokenKeys::new(Some("another-secret-of-at-least-32-bytes!")).unwrap();
        assert!(other.verify(&token).is_err());
        let mut tampered = token.clone();
        tampered.pop();
        assert!(keys.verify(&tampered).is_err());
    }
}
