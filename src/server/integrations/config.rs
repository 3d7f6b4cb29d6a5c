//! The integrations' configuration, from the environment: webhook secrets, GitHub's API, the key
//! that seals stored tokens, and how far a Linear delivery's clock may be from ours.

use std::time::Duration;

use super::secrets::{EncryptionKey, SecretsError};
use super::signature::Secrets;

/// GitHub's public API.
pub const GITHUB_API_URL: &str = "https://api.github.com";

/// What the integrations need from the server's configuration.
#[derive(Clone, Debug)]
pub struct IntegrationsConfig {
    /// `GITHUB_WEBHOOK_SECRET` (comma-separated for rotation); empty: webhook off.
    pub github_webhook_secrets: Secrets,
    /// `LINEAR_WEBHOOK_SECRET` (comma-separated: one per Linear webhook); empty: webhook off.
    pub linear_webhook_secrets: Secrets,
    /// GitHub's REST API (`GITHUB_API_URL`), without a trailing slash.
    pub github_api_url: String,
    /// `SUPERSET_ENCRYPTION_KEY`; without it, GitHub tokens cannot be stored.
    pub encryption_key: Option<EncryptionKey>,
    /// Linear deliveries whose `webhookTimestamp` is further than this from our clock are
    /// refused (Linear's SDK uses 60 s).
    pub linear_max_clock_skew: Duration,
}

impl Default for IntegrationsConfig {
    fn default() -> Self {
        Self {
            github_webhook_secrets: Secrets::default(),
            linear_webhook_secrets: Secrets::default(),
            github_api_url: GITHUB_API_URL.to_owned(),
            encryption_key: None,
            linear_max_clock_skew: Duration::from_secs(60),
        }
    }
}

impl IntegrationsConfig {
    /// The configuration from the values of `GITHUB_WEBHOOK_SECRET`, `LINEAR_WEBHOOK_SECRET`,
    /// `GITHUB_API_URL` and `SUPERSET_ENCRYPTION_KEY` (each optional; blank counts as unset).
    pub fn from_values(
        github_webhook_secret: Option<&str>,
        linear_webhook_secret: Option<&str>,
        github_api_url: Option<&str>,
        encryption_key: Option<&str>,
    ) -> Result<Self, SecretsError> {
        let encryption_key = match encryption_key.map(str::trim).filter(|k| !k.is_empty()) {
            Some(key) => Some(EncryptionKey::from_hex(key)?),
            None => None,
        };
        Ok(Self {
            github_webhook_secrets: Secrets::from_list(github_webhook_secret.unwrap_or("")),
            linear_webhook_secrets: Secrets::from_list(linear_webhook_secret.unwrap_or("")),
            github_api_url: github_api_url
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .unwrap_or(GITHUB_API_URL)
                .trim_end_matches('/')
                .to_owned(),
            encryption_key,
            ..Self::default()
        })
    }
}
