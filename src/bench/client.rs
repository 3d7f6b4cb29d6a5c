//! A minimal shape client, enough to load the service the way `@electric-sql/client` does:
//! request `offset=-1`, follow `electric-handle` / `electric-offset` (and `electric-cursor` when
//! live) until `electric-up-to-date`, start over on a 409, and decode every body.
//!
//! Decoding parses each message completely and keeps the row as (column, value) pairs borrowed
//! from the body where JSON escapes allow; that is what a client does before it stores a row.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

/// One HTTP client with a pool large enough for `connections` concurrent requests.
pub fn http(connections: usize) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .pool_idle_timeout(Duration::from_secs(300))
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .no_proxy()
        .build()
        .context("building the HTTP client")
}

/// A response as the client sees it.
pub struct Page {
    pub status: u16,
    pub handle: Option<String>,
    pub offset: Option<String>,
    pub cursor: Option<String>,
    pub up_to_date: bool,
    /// What a shared cache in front of the sync service did (`X-Cache-Status`), if one did.
    pub cache: Option<String>,
    pub body: bytes::Bytes,
}

/// `GET {base}/v1/shape?{query}` with the whole body read.
pub async fn get(
    http: &reqwest::Client,
    base: &str,
    query: &str,
    timeout: Duration,
) -> anyhow::Result<Page> {
    get_url(http.get(format!("{base}/v1/shape?{query}")), timeout).await
}

/// Sends a prepared shape request (another path, a bearer token) and reads the whole body.
pub async fn get_url(request: reqwest::RequestBuilder, timeout: Duration) -> anyhow::Result<Page> {
    let response = request
        .timeout(timeout)
        .send()
        .await
        .context("shape request")?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let page = Page {
        status: response.status().as_u16(),
        handle: header("electric-handle"),
        offset: header("electric-offset"),
        cursor: header("electric-cursor"),
        up_to_date: response.headers().contains_key("electric-up-to-date"),
        cache: header("x-cache-status"),
        body: bytes::Bytes::new(),
    };
    let body = response.bytes().await.context("reading a shape body")?;
    Ok(Page { body, ..page })
}

/// Where a client stands in one shape.
#[derive(Debug, Clone)]
pub struct Position {
    pub handle: Option<String>,
    pub offset: String,
    pub cursor: Option<String>,
    pub up_to_date: bool,
    /// Times the server answered 409 and the client started over.
    pub refetches: usize,
    /// Responses seen.
    pub requests: usize,
}

impl Default for Position {
    fn default() -> Self {
        Self {
            handle: None,
            offset: "-1".to_owned(),
            cursor: None,
            up_to_date: false,
            refetches: 0,
            requests: 0,
        }
    }
}

impl Position {
    /// The query for the next request on shape `definition` (`table=…&where=…`).
    pub fn query(&self, definition: &str, live: bool) -> String {
        let mut query = format!("{definition}&offset={}", self.offset);
        if let Some(handle) = &self.handle {
            query.push_str("&handle=");
            query.push_str(handle);
        }
        if live && self.up_to_date {
            query.push_str("&live=true");
            if let Some(cursor) = &self.cursor {
                query.push_str("&cursor=");
                query.push_str(cursor);
            }
        }
        query
    }

    /// Moves past `page`; true when its body holds shape data to apply (a 200).
    pub fn advance(&mut self, page: &Page) -> anyhow::Result<bool> {
        self.requests += 1;
        match page.status {
            200 => {
                self.handle.clone_from(&page.handle);
                self.offset = page
                    .offset
                    .clone()
                    .context("a 200 without electric-offset")?;
                if page.cursor.is_some() {
                    self.cursor.clone_from(&page.cursor);
                }
                self.up_to_date |= page.up_to_date;
                Ok(true)
            }
            409 => {
                self.handle.clone_from(&page.handle);
                self.offset = "-1".to_owned();
                self.up_to_date = false;
                self.refetches += 1;
                anyhow::ensure!(self.refetches < 10, "the shape keeps answering 409");
                Ok(false)
            }
            status => anyhow::bail!(
                "unexpected {status}: {}",
                String::from_utf8_lossy(&page.body[..page.body.len().min(300)])
            ),
        }
    }
}

/// What a body held.
#[derive(Debug, Default, Clone, Copy)]
pub struct Decoded {
    /// Change messages (insert, update, delete).
    pub changes: usize,
    /// Control messages (`up-to-date`, `snapshot-end`, `must-refetch`).
    pub controls: usize,
    /// Column values decoded.
    pub values: usize,
    /// Characters of keys and values decoded.
    pub text: usize,
    /// Body bytes received (also counted when bodies are not decoded).
    pub bytes: usize,
}

impl std::ops::AddAssign for Decoded {
    fn add_assign(&mut self, other: Self) {
        self.changes += other.changes;
        self.controls += other.controls;
        self.values += other.values;
        self.text += other.text;
        self.bytes += other.bytes;
    }
}

/// Parses a shape response body completely.
pub fn decode(body: &[u8]) -> anyhow::Result<Decoded> {
    let messages: Vec<Message<'_>> =
        serde_json::from_slice(body).context("decoding a shape response body")?;
    let mut decoded = Decoded {
        bytes: body.len(),
        ..Decoded::default()
    };
    for message in &messages {
        match (message.headers.operation, message.headers.control) {
            (Some(_), _) => {
                let key = message.key.as_ref().context("a change without a key")?;
                decoded.changes += 1;
                decoded.text += key.0.len();
                for (column, value) in message.value.iter().flat_map(|row| &row.0) {
                    decoded.values += 1;
                    decoded.text += column.0.len() + value.as_ref().map_or(0, |v| v.0.len());
                }
            }
            (None, Some(_)) => decoded.controls += 1,
            (None, None) => anyhow::bail!("a message that is neither a change nor a control"),
        }
    }
    Ok(decoded)
}

/// Fetches a shape from `offset=-1` until up to date, decoding every body.
pub async fn fetch(
    http: &reqwest::Client,
    base: &str,
    definition: &str,
    timeout: Duration,
) -> anyhow::Result<(Position, Decoded)> {
    fetch_with(http, base, definition, timeout, true).await
}

/// [`fetch`], optionally without decoding the bodies (to time the service and HTTP alone).
pub async fn fetch_with(
    http: &reqwest::Client,
    base: &str,
    definition: &str,
    timeout: Duration,
    decode_bodies: bool,
) -> anyhow::Result<(Position, Decoded)> {
    let deadline = Instant::now() + timeout;
    let mut position = Position::default();
    let mut total = Decoded::default();
    while !position.up_to_date {
        let left = deadline.saturating_duration_since(Instant::now());
        anyhow::ensure!(!left.is_zero(), "not up to date within {timeout:?}");
        let page = get(http, base, &position.query(definition, false), left).await?;
        if !position.advance(&page)? {
            total = Decoded::default();
        } else if decode_bodies {
            total += decode(&page.body)?;
        } else {
            total.bytes += page.body.len();
        }
    }
    Ok((position, total))
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    key: Option<Text<'a>>,
    #[serde(borrow, default)]
    value: Option<Row<'a>>,
    #[serde(borrow)]
    headers: Headers<'a>,
}

#[derive(Deserialize)]
struct Headers<'a> {
    #[serde(borrow, default)]
    operation: Option<&'a str>,
    #[serde(borrow, default)]
    control: Option<&'a str>,
}

/// A JSON string, borrowed from the body unless it holds escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// A row's values in message order: (column, text or NULL).
struct Row<'a>(Vec<(Text<'a>, Option<Text<'a>>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Row<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = Row<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of column values")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut values = Vec::with_capacity(map.size_hint().unwrap_or(24));
                while let Some(entry) = map.next_entry::<Text<'de>, Option<Text<'de>>>()? {
                    values.push(entry);
                }
                Ok(Row(values))
            }
        }
        deserializer.deserialize_map(RowVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_changes_and_controls() {
        let body = br#"[{"key":"\"public\".\"tasks\"/\"1\"","value":{"id":"1","title":"a \"quoted\" title","description":null},"headers":{"operation":"insert","relation":["public","tasks"]}},{"headers":{"control":"snapshot-end","xmin":"1","xmax":"2","xip_list":[]}},{"headers":{"control":"up-to-date","global_last_seen_lsn":"0"}}]"#;
        let decoded = decode(body).unwrap();
        assert_eq!(decoded.changes, 1);
        assert_eq!(decoded.controls, 2);
        assert_eq!(decoded.values, 3);
    }

    #[test]
    fn live_queries_carry_handle_and_cursor() {
        let mut position = Position::default();
        assert_eq!(position.query("table=tasks", true), "table=tasks&offset=-1");
        position.handle = Some("h-1".into());
        position.offset = "0_5".into();
        position.cursor = Some("40".into());
        position.up_to_date = true;
        assert_eq!(
            position.query("table=tasks", true),
            "table=tasks&offset=0_5&handle=h-1&live=true&cursor=40"
        );
    }
}
