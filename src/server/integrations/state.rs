//! What the integration routes need from the server: the database, who may call, GitHub's API
//! client and the integrations' configuration.

use std::sync::Arc;

use axum::extract::FromRef;
use deadpool_postgres::Pool;

use super::config::IntegrationsConfig;
use crate::server::http::auth::TokenKeys;

#[derive(Clone)]
pub struct IntegrationsState {
    pub pool: Pool,
    pub keys: Arc<TokenKeys>,
    pub http: reqwest::Client,
    pub config: Arc<IntegrationsConfig>,
}

impl FromRef<IntegrationsState> for Arc<TokenKeys> {
    fn from_ref(state: &IntegrationsState) -> Self {
        state.keys.clone()
    }
}
