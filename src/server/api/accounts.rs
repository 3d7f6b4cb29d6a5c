//! Users' passwords and sign-in look-ups. Passwords are argon2id PHC strings; hashing runs on
//! the blocking pool because it is deliberately slow.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio_postgres::GenericClient;
use uuid::Uuid;

use crate::server::http::error::{AppError, AppResult};
use crate::server::http::limits;

/// Hashes `password` (argon2id, random salt).
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| AppError::internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(AppError::internal)?
}

/// True when `password` matches the stored `hash`.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Password checks for sign-in, at most as many at once as the machine has cores: a flood of
/// sign-ins queues here instead of taking every thread, and no database connection waits on it.
pub struct Hasher {
    permits: tokio::sync::Semaphore,
}

impl Hasher {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: tokio::sync::Semaphore::new(cores),
        }
    }

    /// As [`verify_password`], waiting for a turn first.
    pub async fn verify(&self, password: String, hash: String) -> bool {
        let Ok(_turn) = self.permits.acquire().await else {
            return false;
        };
        verify_password(password, hash).await
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

/// Checks a new password: long enough to resist guessing.
pub fn check_password_strength(password: &str) -> AppResult<()> {
    if password.chars().count() < 8 {
        return Err(AppError::BadRequest(
            "the password is too short: use at least 8 characters".to_owned(),
        ));
    }
    Ok(())
}

/// Creates a user with a password; returns the new id.
pub async fn create_user(
    client: &impl GenericClient,
    email: &str,
    name: &str,
    password_hash: &str,
) -> AppResult<Uuid> {
    let email = email.trim();
    limits::text("email", email, limits::SHORT)?;
    limits::text("name", name, limits::NAME)?;
    if !email.contains('@') || email.len() < 3 {
        return Err(AppError::BadRequest(format!(
            "{email:?} is not an e-mail address"
        )));
    }
    let id: Uuid = client
        .query_one(
            "INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id",
            &[&email, &name.trim()],
        )
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Conflict(_) => {
                AppError::Conflict(format!("a user with e-mail {email} already exists"))
            }
            other => other,
        })?
        .get(0);
    set_password_hash(client, id, password_hash).await?;
    Ok(id)
}

/// Stores (or replaces) a user's password hash.
pub async fn set_password_hash(
    client: &impl GenericClient,
    user: Uuid,
    hash: &str,
) -> AppResult<()> {
    client
        .execute(
            "INSERT INTO user_credentials (user_id, password_hash) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash",
            &[&user, &hash],
        )
        .await?;
    Ok(())
}

/// The id and password hash of the user signing in with `email` (case-insensitive).
pub async fn find_login(
    client: &impl GenericClient,
    email: &str,
) -> AppResult<Option<(Uuid, String)>> {
    let row = client
        .query_opt(
            "SELECT u.id, c.password_hash FROM users u JOIN user_credentials c ON c.user_id = u.id \
             WHERE lower(u.email) = lower($1)",
            &[&email.trim()],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// The id of the user with `email`.
pub async fn user_by_email(client: &impl GenericClient, email: &str) -> AppResult<Uuid> {
    client
        .query_opt(
            "SELECT id FROM users WHERE lower(email) = lower($1)",
            &[&email.trim()],
        )
        .await?
        .map(|r| r.get(0))
        .ok_or_else(|| AppError::NotFound(format!("no user has the e-mail {}", email.trim())))
}
