//! `GET /api/electric/{table}`: the only way clients reach shapes. The caller is authenticated,
//! their memberships are read from Postgres on every request (a removed member loses access at
//! once), and the shape is defined here — table, where clause and params — never by the client.
//! Only Electric's protocol parameters pass through. The response (status, headers, streamed
//! body) comes back untouched except for per-user caching.
//!
//! A live request (long-poll or event stream) is held open by the sync service; if the caller
//! is removed from one of its organizations meanwhile (`removals`), the held request ends at
//! once — a long-poll with a 409 (the client fetches afresh, without that organization), an
//! event stream by closing — so nothing more of that organization reaches them. A request
//! without `organization_id` (all the user's organizations) ends the same way when the user
//! joins another organization: its shape is then another.
//!
//! With `?organization_id=<id>` the shape is that one organization's, the same for all its
//! members (so the sync service keeps one per organization, not one per set of memberships);
//! without it, older desktops get all their organizations in one shape, as before.

use std::future::Future;

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use tower::ServiceExt;
use uuid::Uuid;

use super::state::{ApiState, Upstream};
use crate::protocol::{self, control};
use crate::server::http::auth::AuthUser;
use crate::server::http::error::{AppError, AppResult};
use crate::server::http::extract::PathParams;

/// Client parameters that pass through: position in the log and live mode, nothing that
/// defines the shape.
const PASS_THROUGH: [&str; 6] = [
    "offset",
    "handle",
    "live",
    "cursor",
    "live_sse",
    "experimental_live_sse",
];

/// What a user may see of a table: the where clause, its params, and the organizations it
/// covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub where_clause: String,
    pub params: Vec<String>,
    pub organizations: Vec<Uuid>,
}

/// The where clause and params that scope `table` to what `user` may see.
pub async fn scope(
    client: &impl tokio_postgres::GenericClient,
    table: &str,
    user: Uuid,
) -> AppResult<Scope> {
    let orgs: Vec<Uuid> = client
        .query(
            "SELECT organization_id FROM organization_members WHERE user_id = $1 ORDER BY organization_id",
            &[&user],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if orgs.is_empty() {
        return Ok(Scope {
            where_clause: "false".to_owned(),
            params: Vec::new(),
            organizations: orgs,
        });
    }
    Ok(Scope::of(table, orgs))
}

impl Scope {
    /// `table` limited to `organizations` (not empty), each a bound param.
    fn of(table: &str, organizations: Vec<Uuid>) -> Self {
        let placeholders: Vec<String> =
            (1..=organizations.len()).map(|i| format!("${i}")).collect();
        let listed = placeholders.join(", ");
        let where_clause = match table {
            "organizations" => format!("id IN ({listed})"),
            // People the user works with: members of those organizations. A subquery shape, so
            // a teammate joining or leaving moves their row in or out.
            "users" => format!(
                "id IN (SELECT user_id FROM organization_members WHERE organization_id IN ({listed}))"
            ),
            _ => format!("organization_id IN ({listed})"),
        };
        Self {
            where_clause,
            params: organizations.iter().map(Uuid::to_string).collect(),
            organizations,
        }
    }
}

/// `table` in one organization the user belongs to (`?organization_id=`): the same shape for
/// every member, so they share it (and a cache in front of the sync service can too). Not a
/// member: 403, checked on every request.
pub async fn organization_scope(
    client: &impl tokio_postgres::GenericClient,
    table: &str,
    user: Uuid,
    organization: Uuid,
) -> AppResult<Scope> {
    let member = client
        .query_opt(
            "SELECT 1 FROM organization_members WHERE organization_id = $1 AND user_id = $2",
            &[&organization, &user],
        )
        .await?
        .is_some();
    if !member {
        return Err(AppError::Forbidden(
            "you are not a member of this organization".into(),
        ));
    }
    Ok(Scope::of(table, vec![organization]))
}

pub async fn electric(
    State(state): State<ApiState>,
    PathParams(table): PathParams<String>,
    RawQuery(query): RawQuery,
    user: AuthUser,
) -> AppResult<Response> {
    if !protocol::is_synced_table(&table) {
        return Err(AppError::NotFound(format!("{table} is not a synced table")));
    }
    let client_params: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| AppError::BadRequest(format!("the query string cannot be parsed: {e}")))?;
    let organization = client_params
        .iter()
        .find(|(k, _)| k == "organization_id")
        .map(|(_, v)| {
            v.parse::<Uuid>().map_err(|_| {
                AppError::BadRequest(format!("organization_id {v:?} is not an organization id"))
            })
        })
        .transpose()?;
    let scope = {
        let client = state.pool.get().await?;
        match organization {
            Some(organization) => {
                organization_scope(&**client, &table, user.id, organization).await?
            }
            None => scope(&**client, &table, user.id).await?,
        }
    };
    let upstream = upstream_query(&table, &scope, &client_params);
    let live = client_params
        .iter()
        .any(|(k, v)| k == "live" && v == "true");
    if !live {
        return Ok(privately_cached(forward(&state, upstream).await?));
    }
    // Subscribed before the request goes up, so no removal slips between. A shape of all the
    // user's organizations is another shape once they join one: it ends then too.
    let joins = organization.is_none();
    let removed_while_held = state
        .removals
        .removed(user.id, scope.organizations.clone(), joins);
    let removed_while_streaming = state.removals.removed(user.id, scope.organizations, joins);
    let response = tokio::select! {
        response = forward(&state, upstream) => ends_on(response?, removed_while_streaming),
        () = removed_while_held => removed_response(),
    };
    Ok(privately_cached(response))
}

/// The sync service's query for `table` in `scope`, with the client's protocol parameters.
fn upstream_query(
    table: &str,
    scope: &Scope,
    client_params: &[(String, String)],
) -> Vec<(String, String)> {
    let mut upstream: Vec<(String, String)> = vec![
        ("table".into(), table.to_owned()),
        ("where".into(), scope.where_clause.clone()),
    ];
    for (i, value) in scope.params.iter().enumerate() {
        upstream.push((format!("params[{}]", i + 1), value.clone()));
    }
    for name in PASS_THROUGH {
        // The first occurrence only: a duplicated parameter cannot smuggle a second meaning.
        if let Some((_, value)) = client_params.iter().find(|(k, _)| k == name) {
            upstream.push((name.to_owned(), value.clone()));
        }
    }
    upstream
}

/// Sends the shape request to the sync service (in this process, or another).
async fn forward(state: &ApiState, mut upstream: Vec<(String, String)>) -> AppResult<Response> {
    match &*state.upstream {
        Upstream::InProcess { router, secret } => {
            if let Some(secret) = secret {
                upstream.push(("secret".into(), secret.clone()));
            }
            let uri = format!("/v1/shape?{}", encode(&upstream)?);
            let request = Request::get(uri)
                .body(Body::empty())
                .map_err(AppError::internal)?;
            router
                .clone()
                .oneshot(request)
                .await
                .map_err(AppError::internal)
        }
        Upstream::Remote {
            url,
            secret,
            source_id,
        } => {
            if let Some(source_id) = source_id {
                upstream.push(("source_id".into(), source_id.clone()));
            }
            if let Some(secret) = secret {
                upstream.push(("secret".into(), secret.clone()));
            }
            let remote = state
                .http
                .get(format!("{url}?{}", encode(&upstream)?))
                .send()
                .await
                .map_err(|e| {
                    AppError::Unavailable(format!("the sync service is unreachable: {e}").into())
                })?;
            restream(remote)
        }
    }
}

/// An external service's answer as ours: status and headers, the body streamed through.
fn restream(remote: reqwest::Response) -> AppResult<Response> {
    let mut builder = Response::builder().status(remote.status().as_u16());
    for (name, value) in remote.headers() {
        // The body is re-streamed, so length and encoding are ours to set.
        if name != header::CONTENT_LENGTH
            && name != header::CONTENT_ENCODING
            && name != header::TRANSFER_ENCODING
        {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
    }
    builder
        .body(Body::from_stream(remote.bytes_stream()))
        .map_err(AppError::internal)
}

/// The response with its body cut off when `removed` resolves (an event stream ends between
/// events: each chunk is one).
fn ends_on(response: Response, removed: impl Future<Output = ()> + Send + 'static) -> Response {
    let (parts, body) = response.into_parts();
    let body = Body::from_stream(body.into_data_stream().take_until(removed));
    Response::from_parts(parts, body)
}

/// What a held request gets when its caller left one of its organizations: fetch afresh.
fn removed_response() -> Response {
    let body = format!(
        r#"[{{"headers":{{"control":"{}"}}}}]"#,
        control::MUST_REFETCH
    );
    let mut response = (
        StatusCode::CONFLICT,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn encode(params: &[(String, String)]) -> AppResult<String> {
    serde_urlencoded::to_string(params).map_err(AppError::internal)
}

/// Shapes are per user now: keep shared caches out and key browser caches by the token.
fn privately_cached(mut response: Response) -> Response {
    let headers: &mut HeaderMap = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Authorization"));
    if let Some(value) = headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
    {
        let private: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|d| !d.starts_with("s-maxage"))
            .map(|d| if d == "public" { "private" } else { d })
            .collect();
        if let Ok(value) = HeaderValue::from_str(&private.join(", ")) {
            headers.insert(header::CACHE_CONTROL, value);
        }
    }
    headers.remove("surrogate-control");
    response
}
