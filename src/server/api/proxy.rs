//! `GET /api/electric/{table}`: the only way clients reach shapes. The caller is authenticated,
//! their memberships are read from Postgres on every request (a removed member loses access at
//! once), and the shape is defined here — table, where clause and params — never by the client.
//! Only Electric's protocol parameters pass through. The response (status, headers, streamed
//! body) comes back untouched except for per-user caching.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Request, header};
use axum::response::Response;
use tower::ServiceExt;
use uuid::Uuid;

use super::state::{ApiState, Upstream};
use crate::protocol;
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

/// The where clause and params that scope `table` to what `user` may see.
pub async fn scope(
    client: &impl tokio_postgres::GenericClient,
    table: &str,
    user: Uuid,
) -> AppResult<(String, Vec<String>)> {
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
        return Ok(("false".to_owned(), Vec::new()));
    }
    let (column, ids): (&str, Vec<Uuid>) = match table {
        "organizations" => ("id", orgs),
        // People the user works with: members of any of their organizations.
        "users" => (
            "id",
            client
                .query(
                    "SELECT DISTINCT user_id FROM organization_members WHERE organization_id = ANY($1) ORDER BY user_id",
                    &[&orgs],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
        ),
        _ => ("organization_id", orgs),
    };
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    Ok((
        format!("{column} IN ({})", placeholders.join(", ")),
        ids.iter().map(Uuid::to_string).collect(),
    ))
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
    let (where_clause, values) = {
        let client = state.pool.get().await?;
        scope(&**client, &table, user.id).await?
    };
    let mut upstream: Vec<(String, String)> = vec![
        ("table".into(), table.clone()),
        ("where".into(), where_clause),
    ];
    for (i, value) in values.into_iter().enumerate() {
        upstream.push((format!("params[{}]", i + 1), value));
    }
    for name in PASS_THROUGH {
        // The first occurrence only: a duplicated parameter cannot smuggle a second meaning.
        if let Some((_, value)) = client_params.iter().find(|(k, _)| k == name) {
            upstream.push((name.to_owned(), value.clone()));
        }
    }
    let response = match &*state.upstream {
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
                .map_err(AppError::internal)?
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
                .map_err(AppError::internal)?
        }
    };
    Ok(privately_cached(response))
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
