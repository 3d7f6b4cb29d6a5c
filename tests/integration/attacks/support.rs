//! The arena for the attack suite: a seeded team (two organizations) on the whole server with
//! every integration configured. The victim is organization 0; the attacker is a plain member
//! of organization 1 only, who may create organizations of their own. [`Arena::state_of`]
//! dumps everything an organization holds, so a test can assert an attack changed nothing.

use serde_json::{Value, json};
use superset::server::api::accounts;
use superset::server::http::auth::TokenKeys;
use superset::server::integrations::IntegrationsConfig;
use superset::server::integrations::signature::{sign_github, sign_hex};
use superset::server::{db, seed};
use superset::testkit::{self, AppServer, ServerOptions, TEST_JWT_SECRET};
use uuid::Uuid;

use crate::support::{
    Reply, ShapeFollower, drop_replication_slots, http_client, reply, show_server_log,
};

pub const PASSWORD: &str = "correct horse battery staple";
pub const GITHUB_SECRET: &str = "github-webhook-secret";
/// The deployment-wide Linear secret (for links made without their own).
pub const LINEAR_DEPLOYMENT_SECRET: &str = "deployment-linear-secret";
pub const ENCRYPTION_KEY: &str = "8f2b6c1d4e5a79800112233445566778899aabbccddeeff0011223344556677a";

pub struct Arena {
    pub server: AppServer,
    pub database_url: String,
    pub team: seed::Team,
    pub http: reqwest::Client,
    keys: TokenKeys,
    _data_dir: tempfile::TempDir,
}

impl Arena {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// The arena with `adjust` applied to the server's options (limits, listener).
    pub async fn start_with(adjust: impl FnOnce(&mut ServerOptions)) -> Self {
        show_server_log();
        let database_url = testkit::fresh_database().await;
        let mut client = db::connect(&database_url).await.unwrap();
        let team = seed::generate(&seed::SeedConfig::default());
        seed::insert(&mut client, &team).await.unwrap();
        let hash = accounts::hash_password(PASSWORD.to_owned()).await.unwrap();
        seed::set_passwords(&client, &team, &hash).await.unwrap();
        let mut options = ServerOptions {
            integrations: IntegrationsConfig::from_values(
                Some(GITHUB_SECRET),
                Some(LINEAR_DEPLOYMENT_SECRET),
                None,
                Some(ENCRYPTION_KEY),
            )
            .unwrap(),
            ..ServerOptions::default()
        };
        adjust(&mut options);
        let data_dir = tempfile::tempdir().unwrap();
        let server = AppServer::start_with(&database_url, data_dir.path(), options).await;
        Self {
            server,
            database_url,
            team,
            http: http_client(),
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

    /// The victim organization.
    pub fn victim_org(&self) -> Uuid {
        self.team.organizations[0].id
    }

    /// A member with `role` in organization `org` only.
    fn only_in(&self, org: usize, role: &str) -> &seed::User {
        let user = self
            .team
            .members
            .iter()
            .find(|m| {
                m.organization == org
                    && m.role == role
                    && self
                        .team
                        .members
                        .iter()
                        .filter(|o| o.user == m.user)
                        .count()
                        == 1
            })
            .unwrap_or_else(|| panic!("the seed has no {role} only in org {org}"));
        &self.team.users[user.user]
    }

    /// The victim organization's admin (in no other organization).
    pub fn victim(&self) -> &seed::User {
        self.only_in(0, "admin")
    }

    /// A plain member of organization 1 only: the attacker.
    pub fn attacker(&self) -> &seed::User {
        self.only_in(1, "member")
    }

    /// An access token for `user`, as sign-in issues it.
    pub fn token(&self, user: Uuid) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.keys.issue(user, now).unwrap().0
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
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

    /// Everything organization `org` holds, in Postgres: its synced rows, its Linear link and
    /// its invitations, as one canonical text.
    pub async fn state_of(&self, org: Uuid) -> String {
        let sql = self.sql().await;
        let mut state = String::new();
        for query in [
            "SELECT to_jsonb(t) FROM organizations t WHERE id = $1",
            "SELECT to_jsonb(t) FROM organization_members t WHERE organization_id = $1 ORDER BY id",
            "SELECT to_jsonb(t) FROM repositories t WHERE organization_id = $1 ORDER BY id",
            "SELECT to_jsonb(t) FROM tasks t WHERE organization_id = $1 ORDER BY id",
            "SELECT to_jsonb(t) FROM workspaces t WHERE organization_id = $1 ORDER BY id",
            "SELECT to_jsonb(t) FROM linear_links t WHERE organization_id = $1",
            "SELECT to_jsonb(t) FROM invitations t WHERE organization_id = $1 ORDER BY id",
        ] {
            for row in sql.query(query, &[&org]).await.unwrap() {
                state.push_str(&row.get::<_, Value>(0).to_string());
                state.push('\n');
            }
        }
        state
    }

    /// `table`'s shape through the proxy as the holder of `token`, caught up.
    pub async fn synced(&self, table: &str, token: &str) -> ShapeFollower {
        let mut follower =
            ShapeFollower::proxied(self.http.clone(), self.base(), table, token, |_| {});
        follower.catch_up().await;
        follower
    }

    /// Posts a Linear delivery signed with `secret`.
    pub async fn linear(&self, payload: &Value, secret: &str) -> Reply {
        let body = payload.to_string();
        let request = self
            .http
            .post(format!("{}/webhooks/linear", self.base()))
            .header("content-type", "application/json")
            .header("linear-delivery", Uuid::new_v4().to_string())
            .header(
                "linear-signature",
                sign_hex(secret.as_bytes(), body.as_bytes()),
            )
            .body(body);
        reply(request).await
    }

    /// Posts a GitHub delivery, signed with the deployment's secret.
    pub async fn github(&self, event: &str, payload: &Value) -> Reply {
        let body = payload.to_string();
        let request = self
            .http
            .post(format!("{}/webhooks/github", self.base()))
            .header("content-type", "application/json")
            .header("x-github-event", event)
            .header("x-github-delivery", Uuid::new_v4().to_string())
            .header(
                "x-hub-signature-256",
                sign_github(GITHUB_SECRET.as_bytes(), body.as_bytes()),
            )
            .body(body);
        reply(request).await
    }

    pub async fn finish(self) {
        self.server.stop().await;
        drop_replication_slots(&self.database_url).await;
    }
}

/// A Linear `Issue` delivery for `linear_org`, as Linear's docs shape it.
pub fn linear_issue(linear_org: &str, action: &str, issue_id: &str, title: &str) -> Value {
    json!({
        "action": action,
        "type": "Issue",
        "organizationId": linear_org,
        "webhookTimestamp": time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
        "data": {
            "id": issue_id,
            "identifier": "ENG-1",
            "title": title,
            "priority": 2,
            "state": {"name": "Todo", "color": "#e2e2e2"},
            "teamId": "team-1",
            "url": format!("https://linear.app/x/issue/ENG-1"),
            "updatedAt": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap(),
        }
    })
}
