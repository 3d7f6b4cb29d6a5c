//! A team in a fresh database, the whole server with webhook secrets and an encryption key on
//! a loopback port, signed deliveries, sign-in, and a shape follower that goes through the
//! proxy with a Bearer token like the desktop.

use serde_json::Value;

pub use crate::support::{Reply, ShapeFollower};
use crate::support::{drop_replication_slots, http_client, reply, show_server_log};
use superset::server::api::{accounts, orgs};
use superset::server::db;
use superset::server::integrations::IntegrationsConfig;
use superset::server::integrations::signature::{sign_github, sign_hex};
use superset::testkit::{self, AppServer};
use uuid::Uuid;

pub const GITHUB_SECRET: &str = "github-webhook-secret";
pub const LINEAR_SECRET: &str = "linear-signing-secret";
pub const ENCRYPTION_KEY: &str = "8f2b6c1d4e5a79800112233445566778899aabbccddeeff0011223344556677a";
pub const PASSWORD: &str = "correct horse battery staple";

/// The repository of `@octokit/webhooks-examples`' pull requests.
pub const HELLO_WORLD_ID: i64 = 186853002;
pub const HELLO_WORLD_URL: &str = "https://github.com/Codertocat/Hello-World";
/// Its example pull request and head branch.
pub const PR_URL: &str = "https://github.com/Codertocat/Hello-World/pull/2";
pub const PR_BRANCH: &str = "changes";

pub fn fixture(path: &str) -> Value {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// An organization `acme` with an owner (ada), an admin (carol) and a member (bob), the
/// Hello-World repository, and the server with every integration configured.
pub struct Team {
    pub database_url: String,
    pub server: AppServer,
    pub http: reqwest::Client,
    pub org: Uuid,
    pub ada: Uuid,
    pub bob: Uuid,
    pub carol: Uuid,
    pub repository: Uuid,
    _data_dir: tempfile::TempDir,
}

impl Team {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut IntegrationsConfig)) -> Self {
        show_server_log();
        let database_url = testkit::fresh_database().await;
        let mut client = db::connect(&database_url).await.unwrap();
        let hash = accounts::hash_password(PASSWORD.to_owned()).await.unwrap();
        let ada = accounts::create_user(&client, "ada@example.com", "Ada", &hash)
            .await
            .unwrap();
        let bob = accounts::create_user(&client, "Bob@Example.com", "Bob", &hash)
            .await
            .unwrap();
        let carol = accounts::create_user(&client, "carol@example.com", "Carol", &hash)
            .await
            .unwrap();
        let org = orgs::create_org(&mut client, "Acme", "acme", ada)
            .await
            .unwrap()
            .id;
        orgs::add_member(&client, org, bob, "member").await.unwrap();
        orgs::add_member(&client, org, carol, "admin")
            .await
            .unwrap();
        let repository: Uuid = client
            .query_one(
                "INSERT INTO repositories (organization_id, name, slug, url, github_id) \
                 VALUES ($1, 'Hello-World', 'hello-world', $2, $3) RETURNING id",
                &[&org, &HELLO_WORLD_URL, &HELLO_WORLD_ID],
            )
            .await
            .unwrap()
            .get(0);
        let mut config = IntegrationsConfig::from_values(
            Some(GITHUB_SECRET),
            Some(LINEAR_SECRET),
            None,
            Some(ENCRYPTION_KEY),
        )
        .unwrap();
        adjust(&mut config);
        let data_dir = tempfile::tempdir().unwrap();
        let server =
            AppServer::start_with_integrations(&database_url, data_dir.path(), config).await;
        Self {
            database_url,
            server,
            http: http_client(),
            org,
            ada,
            bob,
            carol,
            repository,
            _data_dir: data_dir,
        }
    }

    pub fn base(&self) -> &str {
        &self.server.base_url
    }

    pub async fn sql(&self) -> tokio_postgres::Client {
        db::connect(&self.database_url).await.unwrap()
    }

    /// A workspace of ada's on `branch` of Hello-World.
    pub async fn workspace(&self, branch: &str, pr_url: Option<&str>) -> Uuid {
        self.sql()
            .await
            .query_one(
                "INSERT INTO workspaces (organization_id, repository_id, owner_id, device_name, git_branch, pr_url) \
                 VALUES ($1, $2, $3, 'ada-laptop', $4, $5) RETURNING id",
                &[&self.org, &self.repository, &self.ada, &branch, &pr_url],
            )
            .await
            .unwrap()
            .get(0)
    }

    /// `(pr_url, pr_number, pr_status, pr_review_status)` of a workspace.
    pub async fn pr_of(
        &self,
        workspace: Uuid,
    ) -> (Option<String>, Option<i32>, Option<String>, Option<String>) {
        let row = self
            .sql()
            .await
            .query_one(
                "SELECT pr_url, pr_number, pr_status, pr_review_status FROM workspaces WHERE id = $1",
                &[&workspace],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1), row.get(2), row.get(3))
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.sql().await.query_one(sql, &[]).await.unwrap().get(0)
    }

    /// Posts `body` to `/webhooks/github` as GitHub does, signed unless `signature` says
    /// otherwise (`Some(value)`: that header value; `Some("")`: no header).
    pub async fn github_raw(
        &self,
        event: &str,
        delivery: &str,
        body: &[u8],
        signature: Option<&str>,
    ) -> Reply {
        let mut request = self
            .http
            .post(format!("{}/webhooks/github", self.base()))
            .header("content-type", "application/json")
            .header("user-agent", "GitHub-Hookshot/test")
            .header("x-github-event", event)
            .header("x-github-delivery", delivery)
            .header("x-github-hook-id", "1");
        match signature {
            None => {
                request = request.header(
                    "x-hub-signature-256",
                    sign_github(GITHUB_SECRET.as_bytes(), body),
                )
            }
            Some("") => {}
            Some(value) => request = request.header("x-hub-signature-256", value),
        }
        reply(request.body(body.to_vec())).await
    }

    pub async fn github(&self, event: &str, delivery: &str, payload: &Value) -> Reply {
        self.github_raw(event, delivery, payload.to_string().as_bytes(), None)
            .await
    }

    /// Posts `body` to `/webhooks/linear` as Linear does (signed unless `signature` is given).
    pub async fn linear_raw(&self, delivery: &str, body: &[u8], signature: Option<&str>) -> Reply {
        let signature = signature
            .map(str::to_owned)
            .unwrap_or_else(|| sign_hex(LINEAR_SECRET.as_bytes(), body));
        let mut request = self
            .http
            .post(format!("{}/webhooks/linear", self.base()))
            .header("content-type", "application/json; charset=utf-8")
            .header("user-agent", "Linear-Webhook")
            .header("linear-delivery", delivery)
            .header("linear-event", "Issue");
        if !signature.is_empty() {
            request = request.header("linear-signature", signature);
        }
        reply(request.body(body.to_vec())).await
    }

    pub async fn linear(&self, delivery: &str, payload: &Value) -> Reply {
        self.linear_raw(delivery, payload.to_string().as_bytes(), None)
            .await
    }

    /// Signs in; returns the access token.
    pub async fn login(&self, email: &str) -> String {
        let reply = reply(
            self.http
                .post(format!("{}/api/auth/login", self.base()))
                .json(&serde_json::json!({"email": email, "password": PASSWORD})),
        )
        .await;
        reply.ok(200)["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base()))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        reply(request).await
    }

    /// Stops the server and drops its replication slot (slots are cluster-wide and limited).
    pub async fn finish(self) {
        self.server.stop().await;
        drop_replication_slots(&self.database_url).await;
    }

    /// `table`'s shape through the proxy, as the holder of `token`.
    pub fn follow(&self, table: &str, token: &str) -> ShapeFollower {
        ShapeFollower::proxied(self.http.clone(), self.base(), table, token, |_| {})
    }
}
