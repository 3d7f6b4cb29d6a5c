//! Asking the API to find a pushed branch's pull request on GitHub (for servers without the
//! GitHub webhook; with it, the pull request arrives by itself).

use reqwest::Method;
use serde::Deserialize;
use uuid::Uuid;

use crate::sync::requests::{Api, RequestError};

/// A pull request as the lookup answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FoundPullRequest {
    pub number: i64,
    pub url: String,
    pub status: String,
}

#[derive(Deserialize)]
struct Answer {
    pull_request: Option<FoundPullRequest>,
}

/// Looks up workspace `id`'s pull request; the server records it on the workspace, and sync
/// brings it back.
pub async fn look_up_pull_request(
    api: &Api,
    id: Uuid,
) -> Result<Option<FoundPullRequest>, RequestError> {
    let answer: Answer = api
        .call(
            Method::POST,
            &format!("/api/workspaces/{id}/pull-request"),
            None,
        )
        .await?;
    Ok(answer.pull_request)
}
