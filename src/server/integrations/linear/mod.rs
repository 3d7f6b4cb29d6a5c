//! `POST /webhooks/linear`: Linear issues as tasks of the organization their Linear
//! organization is linked to (`links`), applied as `issue` says.
//!
//! A delivery is believed only when `Linear-Signature` (hex HMAC-SHA256 of the raw body)
//! verifies against the signing secret of the link its `organizationId` names: a secret is
//! bound to one Linear organization, so a delivery signed with another workspace's secret that
//! claims this one is a 401. A link made without a secret (by the operator) is verified by the
//! deployment's `LINEAR_WEBHOOK_SECRET` while it is the only link; deliveries for Linear
//! organizations that are not linked are verified by that secret too and recorded as
//! `unlinked`. Then `webhookTimestamp` (ms) must be within 60 s of our clock, so a captured
//! delivery cannot be replayed later, and the delivery is claimed by its Linear organization and
//! `Linear-Delivery` id in the transaction that applies it. Issues of teams a link does not
//! cover are recorded as `unlinked`; other types and actions are 204.

mod issue;
mod links;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use time::OffsetDateTime;
use tokio_postgres::GenericClient;

use super::deliveries;
use super::error::IntegrationError;
use super::signature::Secrets;
use super::state::IntegrationsState;
use super::webhook::{WEBHOOK_DEADLINE, header, maybe_prune, outcome_response};
use crate::server::http::error::AppError;
use crate::server::http::limits::refuse_nul;
pub use issue::priority;
use issue::{Issue, PROVIDER, Payload};
pub use links::{LinearLink, NewLink, delete_link, put_link, set_links};

pub async fn webhook(
    State(state): State<IntegrationsState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, IntegrationError> {
    let config = &state.config;
    if config.linear_webhook_secrets.is_empty() && config.encryption_key.is_none() {
        return Err(AppError::NotFound(
            "Linear webhooks are off on this server: set SUPERSET_ENCRYPTION_KEY (for per-link \
             signing secrets) or LINEAR_WEBHOOK_SECRET"
                .to_owned(),
        )
        .into());
    }
    let signature = header(&headers, "linear-signature").ok_or_else(bad_signature)?;
    let payload: Payload = serde_json::from_slice(&body).map_err(|e| {
        AppError::BadRequest(format!("the payload is not a Linear webhook payload: {e}"))
    })?;
    let link = verified_link(&state, &payload, &body, signature).await?;
    check_timestamp(&state, &payload)?;
    if payload.kind != "Issue" || !["create", "update", "remove"].contains(&payload.action.as_str())
    {
        return Ok(outcome_response("ignored", None));
    }
    refuse_nul(&payload.data)?;
    let issue: Issue = serde_json::from_value(payload.data.clone()).map_err(|e| {
        AppError::BadRequest(format!("the Issue payload's data is not an issue: {e}"))
    })?;
    let delivery = header(&headers, "linear-delivery")
        .ok_or_else(|| AppError::BadRequest("the Linear-Delivery header is missing".to_owned()))?;
    // Deliveries are claimed per Linear organization: one workspace cannot use up another's ids.
    let claim = format!(
        "{}/{delivery}",
        payload.organization_id.as_deref().unwrap_or("-")
    );
    let work = async {
        let mut client = state.pool.get().await?;
        let tx = client.transaction().await?;
        if !deliveries::claim(&*tx, PROVIDER, &claim, "Issue").await? {
            return Ok(("duplicate", None));
        }
        let (outcome, rows) = match &link {
            Some(link) if link.covers(issue.team_id()) => {
                issue::apply(&tx, link.organization_id, &payload.action, &issue).await?
            }
            _ => ("unlinked", 0),
        };
        deliveries::set_outcome(&*tx, PROVIDER, &claim, outcome).await?;
        tx.commit().await?;
        Ok::<_, AppError>((outcome, Some(rows)))
    };
    let (outcome, rows) = tokio::time::timeout(WEBHOOK_DEADLINE, work)
        .await
        .map_err(|_| AppError::Unavailable("applying a Linear webhook timed out".into()))??;
    tracing::info!(%claim, action = %payload.action, outcome, rows, "linear webhook");
    maybe_prune(&state.pool);
    Ok(outcome_response(outcome, rows))
}

fn bad_signature() -> IntegrationError {
    AppError::unauthorized(
        "invalid_signature",
        "Linear-Signature is missing or does not match the body: check the webhook's signing secret",
    )
    .into()
}

/// The link of the Linear organization the delivery names, once the signature checks out
/// against that link's secret (`None`: not linked, signed with the deployment's secret).
async fn verified_link(
    state: &IntegrationsState,
    payload: &Payload,
    body: &[u8],
    signature: &str,
) -> Result<Option<links::Link>, IntegrationError> {
    let client = state.pool.get().await?;
    let link = match payload.organization_id.as_deref() {
        Some(linear_org) => links::find(&**client, linear_org).await?,
        None => None,
    };
    let deployment = &state.config.linear_webhook_secrets;
    let verified = match &link {
        Some(link) => match link.secret(state.config.encryption_key.as_ref())? {
            Some(secret) => Secrets::one(&secret).verify_hex(body, signature),
            None => {
                !deployment.is_empty()
                    && only_link(&**client).await?
                    && deployment.verify_hex(body, signature)
            }
        },
        None => !deployment.is_empty() && deployment.verify_hex(body, signature),
    };
    if verified {
        Ok(link)
    } else {
        Err(bad_signature())
    }
}

async fn only_link(client: &impl GenericClient) -> Result<bool, IntegrationError> {
    Ok(links::count(client).await? == 1)
}

/// 401 unless `webhookTimestamp` is within the allowed skew of our clock.
fn check_timestamp(state: &IntegrationsState, payload: &Payload) -> Result<(), IntegrationError> {
    let max_skew = state.config.linear_max_clock_skew;
    let sent = payload
        .webhook_timestamp
        .ok_or_else(|| AppError::BadRequest("the payload has no webhookTimestamp".to_owned()))?;
    let now = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let skew = (now - i128::from(sent)).unsigned_abs();
    if skew > max_skew.as_millis() {
        return Err(AppError::unauthorized(
            "stale_delivery",
            format!(
                "webhookTimestamp is {} s away from the server's clock (at most {} s allowed): \
                 a replay, or a clock out of sync",
                skew / 1000,
                max_skew.as_secs()
            ),
        )
        .into());
    }
    Ok(())
}
