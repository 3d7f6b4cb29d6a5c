//! The building blocks of the shape API's replies that more than one handler sends: JSON
//! bodies, Electric's 400 and 503 forms with their no-store caching, and the
//! `electric-schema` header.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::server::shapes::request::FieldErrors;
use crate::server::shapes::service::ServeError;
use crate::server::shapes::shape::Shape;

pub(super) fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

pub(super) fn bad_request(errors: &FieldErrors) -> Response {
    let body = serde_json::json!({"message": "Invalid request", "errors": errors});
    let mut response = json_response(StatusCode::BAD_REQUEST, body.to_string());
    no_store(&mut response);
    response
}

pub(super) fn no_store(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("surrogate-control", HeaderValue::from_static("no-store"));
}

pub(super) fn unavailable(message: &str, retry_after: u32) -> Response {
    let body = serde_json::json!({"code": "database_unreachable", "message": message});
    let mut response = json_response(StatusCode::SERVICE_UNAVAILABLE, body.to_string());
    no_store(&mut response);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

pub(super) fn serve_error(error: ServeError) -> Response {
    match error {
        ServeError::Invalid(errors) => bad_request(&errors),
        ServeError::Unavailable(message) => {
            tracing::warn!(%message, "shape request failed");
            unavailable("the database is unreachable; retry shortly", 1)
        }
    }
}

/// The `electric-schema` header: each selected column's type and flags.
pub(super) fn schema_header(shape: &Shape) -> String {
    let table = &shape.definition.table;
    let mut schema = serde_json::Map::new();
    for &i in &shape.definition.selected {
        let column = &table.columns[i];
        let mut info = serde_json::Map::new();
        info.insert("type".into(), column.type_name.clone().into());
        if column.dims > 0 {
            info.insert("dims".into(), column.dims.into());
        }
        if let Some(pk) = column.pk_index {
            info.insert("pk_index".into(), pk.into());
        }
        if column.not_null {
            info.insert("not_null".into(), true.into());
        }
        schema.insert(column.name.clone(), info.into());
    }
    serde_json::Value::Object(schema).to_string()
}
