//! Extractors whose rejections use the server's error format instead of axum's plain text: a
//! JSON body (malformed JSON, unknown fields, wrong types, and a NUL character anywhere in it,
//! named by where it is) and path parameters (malformed ids).

use axum::Json;
use axum::extract::{FromRequest, Request};
use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde_json::Value;

use super::error::AppError;
use super::limits;

/// A JSON request body.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) =
            Json::<Value>::from_request(request, state)
                .await
                .map_err(|rejection| {
                    AppError::BadRequest(format!(
                        "the request body is not valid: {}",
                        rejection.body_text()
                    ))
                })?;
        limits::refuse_nul(&value)?;
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| AppError::BadRequest(format!("the request body is not valid: {e}")))
    }
}

/// For PATCH fields where "absent" (leave alone) differs from `null` (clear):
/// use with `#[serde(default, deserialize_with = "present")]` on an `Option<Option<T>>`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A path parameter extractor whose rejection (e.g. `/api/tasks/not-a-uuid`) is a 400 in the
/// API's error format.
pub struct PathParams<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParams(value)),
            Err(rejection) => Err(AppError::BadRequest(format!(
                "the URL is not valid: {}",
                rejection.body_text()
            ))),
        }
    }
}
