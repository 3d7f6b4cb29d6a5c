//! The API server for tests: a seeded database, the whole server (API + in-process sync
//! service) on a loopback port, an HTTP client, and a shape follower that goes through the
//! proxy with a Bearer token the way the desktop does.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use superset::server::api::accounts;
use superset::server::api::tokens::TokenKeys;
use superset::server::{db, seed};
use superset::testkit::{self, AppServer, TEST_JWT_SECRET};
use uuid::Uuid;

/// Every seeded user's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// How long one request may take (longer than the sync service's 20 s long-poll).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(40);

/// A response, read in full.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// Asserts the status and returns the JSON body (`null` when empty).
    #[track_caller]
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts an error in the API's format, `{"error": {"code", "message"}}`, with this
    /// status and code, and returns the message.
    #[track_caller]
    pub fn error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "an error must be JSON, got content-type {:?} and body {:?}",
            self.header("content-type"),
            self.body
        );
        let body = self.json();
        let error = body
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.get("error"))
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("expected {{\"error\": {{…}}}}, got {body}"));
        assert_eq!(
            error.get("code").and_then(Value::as_str),
            Some(code),
            "error code; body: {body}"
        );
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("the error has no message: {body}"));
        assert!(!message.trim().is_empty(), "empty error message: {body}");
        message.to_owned()
    }
}

/// A seeded database and the whole server on it.
pub struct Api {
    pub server: AppServer,
    pub database_url: String,
    pub team: seed::Team,
    pub http: reqwest::Client,
    keys: TokenKeys,
    _data_dir: tempfile::TempDir,
}

impl Api {
    /// A fresh database with the default seeded team (2 orgs, 8 users; every user's password
    /// is [`PASSWORD`]) and a server on it.
    pub async fn start() -> Self {
        // The server's log, shown with a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .try_init();
        let database_url = testkit::fresh_database().await;
        let mut client = db::connect(&database_url).await.unwrap();
        let team = seed::generate(&seed::SeedConfig::default());
        seed::insert(&mut client, &team).await.unwrap();
        let hash = accounts::hash_password(PASSWORD.to_owned()).await.unwrap();
        seed::set_passwords(&client, &team, &hash).await.unwrap();
        let data_dir = tempfile::tempdir().unwrap();
        let server = AppServer::start(&database_url, data_dir.path()).await;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap();
        Self {
            server,
            database_url,
            team,
            http,
            keys: TokenKeys::new(Some(TEST_JWT_SECRET)).unwrap(),
            _data_dir: data_dir,
        }
    }

    pub fn base(&self) -> &str {
        &self.server.base_url
    }

    pub async fn sql(&self) -> tokio_postgres::Client {
        db::connect(&self.database_url).await.unwrap()
    }

    /// An access token for `user`, exactly as login issues it.
    pub fn token(&self, user: Uuid) -> String {
        self.keys.issue(user, now()).unwrap().0
    }

    pub fn user(&self, index: usize) -> Uuid {
        self.team.users[index].id
    }

    pub fn email(&self, index: usize) -> &str {
        &self.team.users[index].email
    }

    pub fn org(&self, index: usize) -> Uuid {
        self.team.organizations[index].id
    }

    /// The seeded role of user `user` in org `org`.
    pub fn role(&self, user: usize, org: usize) -> Option<&'static str> {
        self.team
            .members
            .iter()
            .find(|m| m.user == user && m.organization == org)
            .map(|m| m.role)
    }

    /// The orgs user `user` belongs to.
    pub fn orgs_of(&self, user: usize) -> Vec<usize> {
        self.team
            .members
            .iter()
            .filter(|m| m.user == user)
            .map(|m| m.organization)
            .collect()
    }

    /// A user whose only org is `org`, with `role` there.
    pub fn only_in(&self, org: usize, role: &str) -> usize {
        (0..self.team.users.len())
            .find(|&u| self.orgs_of(u) == [org] && self.role(u, org) == Some(role))
            .unwrap_or_else(|| panic!("the seed has no {role} who is only in org {org}"))
    }

    /// A user with `role` in `org` (possibly also in other orgs).
    pub fn with_role(&self, org: usize, role: &str) -> usize {
        (0..self.team.users.len())
            .find(|&u| self.role(u, org) == Some(role))
            .unwrap_or_else(|| panic!("the seed has no {role} in org {org}"))
    }

    /// The seeded index of a user in both orgs.
    pub fn multi_org_user(&self) -> usize {
        (0..self.team.users.len())
            .find(|&u| self.orgs_of(u).len() > 1)
            .expect("the seed has a user in several orgs")
    }

    /// A repository of org `org`.
    pub fn repository_of(&self, org: usize) -> Uuid {
        self.team
            .repositories
            .iter()
            .find(|r| r.organization == org)
            .expect("a repository")
            .id
    }

    /// A task of org `org`.
    pub fn task_of(&self, org: usize) -> Uuid {
        self.team
            .tasks
            .iter()
            .find(|t| t.organization == org)
            .expect("a task")
            .id
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply(request).await
    }

    /// A request with a body sent as is, with `content_type` if given.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &str,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base()))
            .body(body.to_owned());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        reply(request).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::DELETE, path, token, None).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/auth/login",
            None,
            serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    /// A shape follower for `table` through the proxy, as `token`.
    pub fn shape(&self, table: &str, token: &str) -> Shape {
        Shape::new(self, table, token)
    }

    /// Stops the server and drops its replication slot.
    pub async fn finish(self) {
        let url = self.database_url.clone();
        self.server.stop().await;
        let client = db::connect(&url).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let left: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if left == 0 {
                return;
            }
            client
                .execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                     WHERE database = current_database() AND NOT active",
                    &[],
                )
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Sends `request` and reads the whole response.
pub async fn reply(request: reqwest::RequestBuilder) -> Reply {
    let response = request.send().await.expect("the request failed");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.expect("reading the body"),
    }
}

/// Unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// What `user` may see of `table`, straight from Postgres: ids as text.
pub async fn visible_ids(
    sql: &tokio_postgres::Client,
    table: &str,
    user: Uuid,
) -> BTreeSet<String> {
    let orgs = "SELECT organization_id FROM organization_members WHERE user_id = $1";
    let query = match table {
        "organizations" => format!("SELECT id::text FROM organizations WHERE id IN ({orgs})"),
        "users" => format!(
            "SELECT id::text FROM users WHERE id IN \
             (SELECT user_id FROM organization_members WHERE organization_id IN ({orgs}))"
        ),
        table => format!("SELECT id::text FROM {table} WHERE organization_id IN ({orgs})"),
    };
    sql.query(&query, &[&user])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The columns of `table`.
pub async fn columns(sql: &tokio_postgres::Client, table: &str) -> BTreeSet<String> {
    sql.query(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = $1",
        &[&table],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Asserts what every proxied response must carry: `Vary: Authorization` and private caching.
#[track_caller]
pub fn assert_privately_cached(reply: &Reply) {
    let vary = reply.header("vary").unwrap_or_default();
    assert!(
        vary.split(',')
            .any(|v| v.trim().eq_ignore_ascii_case("authorization")),
        "the proxy must answer with Vary: Authorization (status {}, vary {vary:?})",
        reply.status
    );
    let cache = reply
        .header("cache-control")
        .unwrap_or_else(|| panic!("no cache-control on a {} from the proxy", reply.status));
    let directives: Vec<String> = cache
        .split(',')
        .map(|d| d.trim().to_ascii_lowercase())
        .collect();
    assert!(
        directives.iter().any(|d| d == "private" || d == "no-store"),
        "cache-control must be private: {cache}"
    );
    assert!(
        !directives
            .iter()
            .any(|d| d == "public" || d.starts_with("s-maxage")),
        "cache-control must not let shared caches keep a user's shape: {cache}"
    );
}

/// Follows one table's shape through the proxy like the official client: insert = set,
/// update = merge, delete = remove, 409 = start over with the new handle.
pub struct Shape {
    url: String,
    token: String,
    http: reqwest::Client,
    /// Query text sent before the protocol parameters.
    pub prefix: String,
    /// Query text sent after them.
    pub suffix: String,
    pub handle: Option<String>,
    pub offset: String,
    pub cursor: String,
    pub rows: BTreeMap<String, serde_json::Map<String, Value>>,
    pub up_to_date: bool,
    pub refetches: usize,
    /// Every change message applied, in order.
    pub log: Vec<Value>,
}

impl Shape {
    fn new(api: &Api, table: &str, token: &str) -> Self {
        Self {
            url: format!("{}/api/electric/{table}", api.base()),
            token: token.to_owned(),
            http: api.http.clone(),
            prefix: String::new(),
            suffix: String::new(),
            handle: None,
            offset: "-1".to_owned(),
            cursor: String::new(),
            rows: BTreeMap::new(),
            up_to_date: false,
            refetches: 0,
            log: Vec::new(),
        }
    }

    /// One request; live once up to date. Panics on anything but 200 and 409.
    pub async fn step(&mut self) -> Reply {
        let mut parts: Vec<String> = Vec::new();
        if !self.prefix.is_empty() {
            parts.push(self.prefix.clone());
        }
        parts.push(format!("offset={}", self.offset));
        if let Some(handle) = &self.handle {
            parts.push(format!("handle={handle}"));
        }
        if self.up_to_date {
            parts.push(format!("live=true&cursor={}", self.cursor));
        }
        if !self.suffix.is_empty() {
            parts.push(self.suffix.clone());
        }
        let url = format!("{}?{}", self.url, parts.join("&"));
        let reply = reply(self.http.get(&url).bearer_auth(&self.token)).await;
        match reply.status {
            200 => {
                assert_privately_cached(&reply);
                self.handle = reply.header("electric-handle").map(str::to_owned);
                self.offset = reply
                    .header("electric-offset")
                    .unwrap_or_else(|| panic!("no electric-offset from {url}"))
                    .to_owned();
                if let Some(cursor) = reply.header("electric-cursor") {
                    self.cursor = cursor.to_owned();
                }
                let messages = match reply.json() {
                    Value::Array(items) => items,
                    other => panic!("expected an array from {url}, got {other}"),
                };
                for message in &messages {
                    self.apply(message);
                }
                if messages
                    .last()
                    .is_some_and(|m| m["headers"]["control"] == "up-to-date")
                {
                    self.up_to_date = true;
                }
            }
            409 => {
                assert_privately_cached(&reply);
                self.handle = reply.header("electric-handle").map(str::to_owned);
                self.offset = "-1".to_owned();
                self.rows.clear();
                self.up_to_date = false;
                self.refetches += 1;
            }
            other => panic!("unexpected {other} from {url}: {}", reply.body),
        }
        reply
    }

    fn apply(&mut self, message: &Value) {
        let Some(operation) = message["headers"]["operation"].as_str() else {
            return;
        };
        let key = message["key"].as_str().expect("a key").to_owned();
        let value = message["value"].as_object().expect("a value").clone();
        match operation {
            "insert" => {
                self.rows.insert(key, value);
            }
            "update" => {
                self.rows.entry(key).or_default().extend(value);
            }
            "delete" => {
                self.rows.remove(&key);
            }
            other => panic!("unknown operation {other}"),
        }
        self.log.push(message.clone());
    }

    /// Requests (non-live) until up to date.
    pub async fn catch_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.up_to_date {
            assert!(
                Instant::now() < deadline,
                "{} did not catch up in 30 s",
                self.url
            );
            self.step().await;
        }
    }

    /// Catches up, then live requests until `done` holds (at most `limit`).
    pub async fn until(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + limit;
        self.catch_up().await;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "condition not reached on {} in {limit:?}",
                self.url
            );
            match tokio::time::timeout_at(deadline.into(), self.step()).await {
                Ok(_) => {}
                Err(_) => panic!("condition not reached on {} in {limit:?}", self.url),
            }
        }
    }

    /// The ids of the rows held.
    pub fn ids(&self) -> BTreeSet<String> {
        self.rows
            .values()
            .map(|row| {
                row.get("id")
                    .and_then(Value::as_str)
                    .expect("a row with an id")
                    .to_owned()
            })
            .collect()
    }

    /// The change messages for row `id`, in order.
    pub fn changes_of(&self, id: Uuid) -> Vec<&Value> {
        let id = id.to_string();
        self.log
            .iter()
            .filter(|m| m["value"]["id"].as_str() == Some(id.as_str()))
            .collect()
    }
}

/// base64url without padding (JWT segments).
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let symbols = chunk.len() + 1;
        for i in 0..symbols {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

#[test]
fn base64url_matches_known_values() {
    assert_eq!(base64url(b""), "");
    assert_eq!(base64url(b"f"), "Zg");
    assert_eq!(base64url(b"fo"), "Zm8");
    assert_eq!(base64url(b"foo"), "Zm9v");
    assert_eq!(base64url(b"foob"), "Zm9vYg");
    assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    assert_eq!(
        base64url(br#"{"alg":"none","typ":"JWT"}"#),
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"
    );
}
