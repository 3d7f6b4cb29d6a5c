//! The API server for tests: a seeded database, the whole server (API + in-process sync
//! service) on a loopback port, an HTTP client, and shape followers that go through the proxy
//! with a Bearer token the way the desktop does.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;
use superset::server::api::accounts;
use superset::server::http::auth::TokenKeys;
use superset::server::{db, seed};
use superset::testkit::{self, AppServer, TEST_JWT_SECRET};
use uuid::Uuid;

pub use crate::support::{Reply, ShapeFollower, reply};
use crate::support::{drop_replication_slots, http_client, show_server_log};

/// Every seeded user's password.
pub const PASSWORD: &str = "correct horse battery staple";

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
        show_server_log();
        let database_url = testkit::fresh_database().await;
        let mut client = db::connect(&database_url).await.unwrap();
        let team = seed::generate(&seed::SeedConfig::default());
        seed::insert(&mut client, &team).await.unwrap();
        let hash = accounts::hash_password(PASSWORD.to_owned()).await.unwrap();
        seed::set_passwords(&client, &team, &hash).await.unwrap();
        let data_dir = tempfile::tempdir().unwrap();
        let server = AppServer::start(&database_url, data_dir.path()).await;
        let http = http_client();
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

    /// A shape follower for `table` through the proxy, as `token`; every answer must be
    /// privately cached.
    pub fn shape(&self, table: &str, token: &str) -> ShapeFollower {
        ShapeFollower::proxied(
            self.http.clone(),
            self.base(),
            table,
            token,
            assert_privately_cached,
        )
    }

    /// Stops the server and drops its replication slot.
    pub async fn finish(self) {
        self.server.stop().await;
        drop_replication_slots(&self.database_url).await;
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

/// base64url without padding (JWT segments).
pub fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
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
