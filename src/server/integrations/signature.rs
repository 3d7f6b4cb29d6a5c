//! HMAC-SHA256 webhook signatures: GitHub's `X-Hub-Signature-256: sha256=<hex>` and Linear's
//! `Linear-Signature: <hex>`, both over the raw request body. Verification compares in
//! constant time (`Mac::verify_slice`) and returns a plain `bool` that callers must act on:
//! the real product once awaited a verifier and ignored its `false`.
//!
//! A server may hold several secrets (rotation); a signature is good when any of them produced
//! it. A Linear link's own secret is checked alone ([`Secrets::one`]).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The webhook secrets a provider's deliveries may be signed with.
#[derive(Clone, Default)]
pub struct Secrets(Vec<Vec<u8>>);

impl Secrets {
    /// Secrets from a comma-separated list (as in `GITHUB_WEBHOOK_SECRET=old,new`); blank
    /// entries are ignored.
    pub fn from_list(list: &str) -> Self {
        Self(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.as_bytes().to_vec())
                .collect(),
        )
    }

    /// Exactly one secret, as given (a link's own signing secret may hold any character).
    pub fn one(secret: &str) -> Self {
        Self(vec![secret.trim().as_bytes().to_vec()])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `signature_hex` is the HMAC of `body` under one of the secrets.
    pub fn verify_hex(&self, body: &[u8], signature_hex: &str) -> bool {
        let Ok(signature) = hex::decode(signature_hex.trim()) else {
            return false;
        };
        // Every secret is tried (no early exit), so timing does not tell which one matched.
        self.0
            .iter()
            .fold(false, |ok, secret| verify(secret, body, &signature) | ok)
    }

    /// Checks a GitHub `X-Hub-Signature-256` header value (`sha256=<hex>`).
    pub fn verify_github(&self, body: &[u8], header: Option<&str>) -> bool {
        match header.and_then(|h| h.trim().strip_prefix("sha256=")) {
            Some(hex) => self.verify_hex(body, hex),
            None => false,
        }
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} configured)", self.0.len())
    }
}

fn verify(secret: &[u8], body: &[u8], signature: &[u8]) -> bool {
    let Ok(mut mac) = <HmacSha256 as KeyInit>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(signature).is_ok()
}

/// The lower-case hex HMAC-SHA256 of `body` under `secret` (what a sender puts in the header).
pub fn sign_hex(secret: &[u8], body: &[u8]) -> String {
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// GitHub's header value for `body`: `sha256=<hex>`.
pub fn sign_github(secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", sign_hex(secret, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_documented_example_verifies() {
        // From GitHub's "Validating webhook deliveries": secret "It's a Secret to Everybody",
        // payload "Hello, World!".
        let expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            sign_hex(b"It's a Secret to Everybody", b"Hello, World!"),
            expected
        );
        let secrets = Secrets::from_list("It's a Secret to Everybody");
        assert!(secrets.verify_github(b"Hello, World!", Some(&format!("sha256={expected}"))));
        assert!(secrets.verify_hex(b"Hello, World!", &expected.to_uppercase()));
    }

    #[test]
    fn wrong_missing_or_malformed_signatures_fail() {
        let secrets = Secrets::from_list("s3cret");
        let body = br#"{"action":"opened"}"#;
        let good = sign_github(b"s3cret", body);
        assert!(secrets.verify_github(body, Some(&good)));
        assert!(!secrets.verify_github(b"{\"action\":\"closed\"}", Some(&good)));
        assert!(!secrets.verify_github(body, None));
        assert!(!secrets.verify_github(body, Some("")));
        assert!(!secrets.verify_github(body, Some("sha256=")));
        assert!(!secrets.verify_github(body, Some(good.trim_start_matches("sha256="))));
        assert!(!secrets.verify_github(body, Some("sha1=0123")));
        assert!(!secrets.verify_github(body, Some("sha256=zz")));
        assert!(!secrets.verify_github(body, Some(&good[..good.len() - 2])));
        assert!(!Secrets::from_list("other").verify_github(body, Some(&good)));
        assert!(!Secrets::default().verify_github(body, Some(&good)));
    }

    #[test]
    fn any_configured_secret_may_sign() {
        let secrets = Secrets::from_list(" old , new ,,");
        assert!(!secrets.is_empty());
        assert!(secrets.verify_hex(b"x", &sign_hex(b"old", b"x")));
        assert!(secrets.verify_hex(b"x", &sign_hex(b"new", b"x")));
        assert!(!secrets.verify_hex(b"x", &sign_hex(b"", b"x")));
        assert!(Secrets::from_list(" , ").is_empty());
        assert_eq!(format!("{secrets:?}"), "Secrets(2 configured)");
    }
}
