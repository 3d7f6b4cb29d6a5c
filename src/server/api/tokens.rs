//! Refresh tokens: random, rotating, stored hashed (access tokens are `server::http::auth`'s).

use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long a refresh token lives if unused.
pub const REFRESH_TTL_DAYS: i64 = 30;

/// A new refresh token (the first of a family; later ones are derived, see
/// `TokenKeys::successor_of`).
pub fn new_refresh_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What is stored for a refresh token: its SHA-256.
pub fn hash_refresh_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(hash_refresh_token(&a), hash_refresh_token(&b));
    }
}
