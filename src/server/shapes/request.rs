//! The query string of `GET /v1/shape`, read the way Electric reads it: unknown parameters are
//! ignored (clients add cache busters), `live` is true unless it is literally `false`,
//! `params[n]` are positional values, and every problem is reported per field in Electric's
//! 400 body.

use std::collections::BTreeMap;

use super::definition::ShapeParams;
pub use super::field_errors::{FieldErrors, errors};
use super::offset::RequestOffset;
use super::subset::SubsetRequest;

#[derive(Debug, Clone)]
pub struct ShapeRequest {
    pub shape: ShapeParams,
    pub offset: RequestOffset,
    pub handle: Option<String>,
    pub live: bool,
    pub live_sse: bool,
    pub cursor: Option<String>,
    pub secret: Option<String>,
    /// A subset snapshot asked for with `subset__*` parameters (or a POST body, set later).
    pub subset: Option<SubsetRequest>,
}

impl ShapeRequest {
    /// Parses a raw query string.
    pub fn parse(query: &str) -> Result<Self, FieldErrors> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| errors("query", format!("cannot be parsed: {e}")))?;
        let mut errors_by_field = FieldErrors::new();
        let mut add = |field: &'static str, message: String| {
            errors_by_field.entry(field).or_default().push(message)
        };
        let get = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let table = get("table");
        if table.as_deref().is_none_or(str::is_empty) {
            add("table", "can't be blank".to_owned());
        }
        let offset = match get("offset").as_deref() {
            None | Some("") => {
                add("offset", "can't be blank".to_owned());
                RequestOffset::Start
            }
            Some(text) => text
                .parse()
                .unwrap_or_else(|e: super::offset::InvalidOffset| {
                    add("offset", e.to_string());
                    RequestOffset::Start
                }),
        };
        let is_true = |value: Option<String>| value.is_some_and(|v| v != "false");
        let live = is_true(get("live"));
        let live_sse = is_true(get("live_sse")) || is_true(get("experimental_live_sse"));
        let handle = get("handle").filter(|h| !h.is_empty());
        let starts_fresh = matches!(offset, RequestOffset::Start | RequestOffset::Now);
        if !starts_fresh && handle.is_none() {
            add("handle", "can't be blank when offset != -1".to_owned());
        }
        if live && offset == RequestOffset::Start {
            add("live", "can't be true when offset == -1".to_owned());
        }
        if live && offset == RequestOffset::Now {
            add("live", "can't be true when offset is 'now'".to_owned());
        }
        if live_sse && !live {
            add(
                "live_sse",
                "can't be true unless live is also true".to_owned(),
            );
        }
        let replica = get("replica").unwrap_or_else(|| "default".to_owned());
        if !matches!(replica.as_str(), "default" | "full") {
            add("replica", "is invalid".to_owned());
        }
        let log = get("log").unwrap_or_else(|| "full".to_owned());
        if !matches!(log.as_str(), "full" | "changes_only") {
            add("log", "is invalid".to_owned());
        }
        let mut params = BTreeMap::new();
        for (key, value) in &pairs {
            let Some(inner) = key
                .strip_prefix("params[")
                .and_then(|k| k.strip_suffix(']'))
            else {
                continue;
            };
            match inner.parse::<usize>() {
                Ok(n) if n >= 1 => {
                    params.insert(n, value.clone());
                }
                _ => add(
                    "params",
                    "Parameters can only use numbers as keys".to_owned(),
                ),
            }
        }
        if !params.is_empty() && params.keys().copied().ne(1..=params.len()) {
            add(
                "params",
                "Parameters must be numbered sequentially, starting from 1".to_owned(),
            );
        }
        let subset = match SubsetRequest::from_query(&pairs) {
            Some(Ok(subset)) => Some(subset),
            Some(Err(subset_errors)) => {
                for (field, messages) in subset_errors {
                    messages.into_iter().for_each(|m| add(field, m));
                }
                None
            }
            None => None,
        };
        if subset.is_some() && live_sse {
            add(
                "subset",
                "a subset snapshot cannot be streamed over SSE".to_owned(),
            );
        }
        if !errors_by_field.is_empty() {
            return Err(errors_by_field);
        }
        Ok(Self {
            shape: ShapeParams {
                table: table.unwrap_or_default(),
                where_text: get("where").filter(|w| !w.trim().is_empty()),
                params,
                columns: get("columns").filter(|c| !c.is_empty()),
                replica,
                log,
                queryable_columns: get("queryable_columns").filter(|c| !c.is_empty()),
            },
            // With -1 or now the handle is ignored, so a client may send it as a cache buster.
            handle: if starts_fresh { None } else { handle },
            offset,
            live,
            live_sse,
            cursor: get("cursor").filter(|c| !c.is_empty()),
            secret: get("secret").or_else(|| get("api_secret")),
            subset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::shapes::offset::LogOffset;

    #[test]
    fn reads_a_typical_live_request() {
        let r = ShapeRequest::parse(
            "table=tasks&where=organization_id%20IN%20(%241)&params%5B1%5D=abc&offset=5_2&handle=h1&live=true&cursor=100&expired_handle=h0&cache-buster=x",
        )
        .unwrap();
        assert_eq!(r.shape.table, "tasks");
        assert_eq!(
            r.shape.where_text.as_deref(),
            Some("organization_id IN ($1)")
        );
        assert_eq!(r.shape.params, BTreeMap::from([(1, "abc".to_owned())]));
        assert_eq!(r.offset, RequestOffset::After(LogOffset::new(5, 2)));
        assert_eq!(r.handle.as_deref(), Some("h1"));
        assert!(r.live && !r.live_sse);
        assert_eq!(r.cursor.as_deref(), Some("100"));
    }

    #[test]
    fn live_is_true_unless_literally_false() {
        assert!(
            ShapeRequest::parse("table=t&offset=1_0&handle=h&live")
                .unwrap()
                .live
        );
        assert!(
            !ShapeRequest::parse("table=t&offset=1_0&handle=h&live=false")
                .unwrap()
                .live
        );
    }

    #[test]
    fn reports_every_bad_field() {
        let e = ShapeRequest::parse("offset=abc").unwrap_err();
        assert_eq!(e["table"], ["can't be blank"]);
        assert_eq!(e["offset"], ["has invalid format"]);
        let e = ShapeRequest::parse("table=t&offset=1_0").unwrap_err();
        assert_eq!(e["handle"], ["can't be blank when offset != -1"]);
        let e = ShapeRequest::parse("table=t&offset=-1&live=true").unwrap_err();
        assert_eq!(e["live"], ["can't be true when offset == -1"]);
        let e = ShapeRequest::parse("table=t&offset=-1&params[2]=x").unwrap_err();
        assert_eq!(
            e["params"],
            ["Parameters must be numbered sequentially, starting from 1"]
        );
        let e = ShapeRequest::parse("table=t&offset=-1&params[x]=1").unwrap_err();
        assert_eq!(e["params"], ["Parameters can only use numbers as keys"]);
        let e = ShapeRequest::parse("table=t&offset=-1&replica=half").unwrap_err();
        assert_eq!(e["replica"], ["is invalid"]);
    }

    #[test]
    fn the_handle_is_ignored_when_starting_over() {
        let r = ShapeRequest::parse("table=t&offset=-1&handle=old").unwrap();
        assert_eq!(r.handle, None);
    }
}
