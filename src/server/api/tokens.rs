//! Access tokens (short-lived HS256 JWTs) and refresh tokens (random, rotating, stored hashed).
//!
//! Validation pins the algorithm to HS256 (so `alg: none` or an RSA/HMAC confusion cannot pass),
//! requires `exp`, `iat`, `sub`, `iss` and `aud`, and checks `nbf` when present. The secret must
//! be at least 32 bytes: HS256 with a short secret can be brute-forced offline from one token.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::error::AppError;

pub const ISSUER: &str = "superset";
pub const AUDIENCE: &str = "superset-desktop";
/// How long an access token lives.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// How long a refresh token lives if unused.
pub const REFRESH_TTL_DAYS: i64 = 30;
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
        })
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
            .map_err(|e| AppError::Internal(format!("signing a token: {e}")))
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

/// A new refresh token and the hash to store for it.
pub fn new_refresh_token() -> (String, Vec<u8>) {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = crate::server::integrations::signature::encode_hex(&bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

/// What is stored for a refresh token: its SHA-256.
pub fn hash_refresh_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
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

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_refresh_token(&a), hash_a);
    }
}
