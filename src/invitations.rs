//! Invitations to organizations, as the invited person sees them: which are waiting, and
//! accepting or declining one. The window shows them as notices; `superset invitations` lists
//! them. Accepting makes the person a member; the organization's rows then arrive through sync.

use reqwest::Method;
use serde::Deserialize;
use uuid::Uuid;

use crate::sync::requests::{Api, RequestError};

/// An invitation waiting for the signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Invitation {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub role: String,
    pub invited_by: Option<String>,
}

impl Invitation {
    /// "Ada Lovelace invited you to Acme as member".
    pub fn describe(&self) -> String {
        let who = self.invited_by.as_deref().unwrap_or("Someone");
        format!(
            "{who} invited you to {} as {}",
            self.organization_name, self.role
        )
    }
}

/// The invitations waiting for the signed-in person.
pub async fn waiting(api: &Api) -> Result<Vec<Invitation>, RequestError> {
    api.call(Method::GET, "/api/invitations", None).await
}

/// Joins the invitation's organization.
pub async fn accept(api: &Api, id: Uuid) -> Result<(), RequestError> {
    api.call::<serde_json::Value>(Method::POST, &format!("/api/invitations/{id}/accept"), None)
        .await
        .map(drop)
}

/// Declines the invitation; the organization's invitation is gone.
pub async fn decline(api: &Api, id: Uuid) -> Result<(), RequestError> {
    api.call::<serde_json::Value>(
        Method::POST,
        &format!("/api/invitations/{id}/decline"),
        None,
    )
    .await
    .map(drop)
}
