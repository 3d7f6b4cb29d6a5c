//! Who may manage an organization's integrations: its owners and admins.

use crate::server::http::auth::role_of;
use crate::server::http::error::{AppError, AppResult};

/// 403 unless `user` is an owner or admin of `org`.
pub(crate) async fn require_admin(
    client: &impl tokio_postgres::GenericClient,
    org: uuid::Uuid,
    user: uuid::Uuid,
) -> AppResult<()> {
    match role_of(client, org, user).await?.as_deref() {
        Some("owner" | "admin") => Ok(()),
        Some(_) => Err(AppError::Forbidden(
            "only owners and admins manage the organization's integrations".to_owned(),
        )),
        None => Err(AppError::Forbidden(
            "you are not a member of that organization".to_owned(),
        )),
    }
}
