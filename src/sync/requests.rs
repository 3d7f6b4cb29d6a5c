//! One-off requests to the API as the signed-in person, beside the shape streams and the
//! outbox: the session's access token is sent, and refreshed once when the server refuses it.
//! Failures come back as [`RequestError`], in words.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::session::{Session, SessionError};

/// Why a request did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    /// The server answered with an error; `message` is its own words.
    #[error("{message}")]
    Refused { status: u16, message: String },
    #[error("the server's answer cannot be read: {0}")]
    BadAnswer(String),
}

/// The API at the session's server.
#[derive(Clone)]
pub struct Api {
    session: Arc<Session>,
    http: reqwest::Client,
}

impl Api {
    pub fn new(session: Arc<Session>, http: reqwest::Client) -> Self {
        Self { session, http }
    }

    /// `method path` with `body` (JSON), read as `T` (an empty answer reads as `null`).
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, RequestError> {
        let token = self.session.access_token().await?;
        let (mut status, mut text) = self.send(&method, path, body, &token).await?;
        if status == 401 {
            let token = self.session.refresh(Some(&token)).await?;
            (status, text) = self.send(&method, path, body, &token).await?;
        }
        read_answer(status, &text)
    }

    async fn send(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Value>,
        token: &str,
    ) -> Result<(u16, String), RequestError> {
        let server = self
            .session
            .server_url()
            .await
            .ok_or(SessionError::SignedOut)?;
        let mut request = self
            .http
            .request(method.clone(), format!("{server}{path}"))
            .bearer_auth(token)
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(body);
        }
        let unreachable = |e: reqwest::Error| RequestError::Unreachable(e.to_string());
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.map_err(unreachable)?))
    }
}

fn read_answer<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, RequestError> {
    let json: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(text).map_err(|e| RequestError::BadAnswer(e.to_string()))?
    };
    if !(200..300).contains(&status) {
        let message = json["error"]["message"]
            .as_str()
            .map_or_else(|| format!("the server answered {status}"), str::to_owned);
        return Err(RequestError::Refused { status, message });
    }
    serde_json::from_value(json).map_err(|e| RequestError::BadAnswer(e.to_string()))
}
