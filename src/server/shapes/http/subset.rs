//! Answering a subset request (`subset__*` on GET, or POST `/v1/shape`): Electric's
//! `{"metadata":…,"data":[…]}` with `electric-snapshot: true` and `cache-control: no-cache`.
//!
//! The offset sent back is the shape's newest offset read *before* the subset's Postgres
//! snapshot: every transaction up to it is visible in the subset, so a client resuming there
//! misses nothing, and the later ones the subset already saw it drops by their xids.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::replies::{bad_request, schema_header, serve_error};
use crate::protocol;
use crate::server::shapes::definition::ShapeDefinition;
use crate::server::shapes::offset::LogOffset;
use crate::server::shapes::service::ShapeService;
use crate::server::shapes::shape::Shape;
use crate::server::shapes::subset::SubsetRequest;

pub(super) async fn serve(
    service: &Arc<ShapeService>,
    shape: &Shape,
    definition: &ShapeDefinition,
    request: &SubsetRequest,
) -> Response {
    let subset = match request.compile(definition) {
        Ok(subset) => subset,
        Err(errors) => return bad_request(&errors),
    };
    let offset = shape.latest().unwrap_or(LogOffset::ZERO);
    let reply = match service.read_subset(definition, &subset).await {
        Ok(reply) => reply,
        Err(error) => return serve_error(error),
    };
    tracing::debug!(handle = %shape.handle, rows = reply.rows, "served a subset snapshot");
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        Body::from(reply.body),
    )
        .into_response();
    let h = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            h.insert(name, value);
        }
    };
    set(protocol::header::HANDLE, &shape.handle);
    set(protocol::header::OFFSET, &offset.to_string());
    set(protocol::header::SCHEMA, &schema_header(shape));
    set("electric-snapshot", "true");
    set("cache-control", "no-cache");
    response
}
