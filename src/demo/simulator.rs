//! The demo's teammates: while the demo runs, the other seeded users keep working, so a
//! newcomer sees real-time sync within seconds. Every change goes through the real front
//! doors: presence and git state through the API as the workspace's owner (signed in with the
//! demo password), pull requests through the signed GitHub webhook, issues through the signed
//! Linear webhook — exactly what a team's desktops, GitHub and Linear would send.
//!
//! One step every few seconds, chosen at random: a teammate goes active or idle, commits
//! (git state), opens a pull request, gets a review, merges; a Linear issue is created or moves
//! along the workflow. The first steps are a new Linear issue and a pull request, so the
//! effect shows at once.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::team::{DEMO_PASSWORD, demo_user};
use crate::server::db;
use crate::server::integrations::signature::{sign_github, sign_hex};

/// The secrets the demo server checks webhooks with.
#[derive(Debug, Clone)]
pub struct WebhookSecrets {
    pub github: String,
    pub linear: String,
}

/// The signing secret of the demo's link for `linear_org`: each link has its own.
pub fn linear_signing_secret(secrets: &WebhookSecrets, linear_org: &str) -> String {
    format!("{}-{linear_org}", secrets.linear)
}

/// The Linear organization id a demo organization is linked to.
pub fn linear_organization(slug: &str) -> String {
    format!("demo-linear-{slug}")
}

/// Marks what the simulator made, in words a person reading the issue understands.
pub const SIMULATED: &str = "Created by the demo's teammate simulator.";

const TITLES: &[&str] = &[
    "Speed up the sync status badge",
    "Show reviewers on pull request badges",
    "Keyboard shortcut to start work",
    "Remember the last organization per device",
    "Explain offline mode in the status bar",
    "Group workspaces by device",
];

const WORKFLOW: &[(&str, &str)] = &[
    ("Todo", "#e2e2e2"),
    ("In Progress", "#f2c94c"),
    ("In Review", "#0f783c"),
    ("Done", "#5e6ad2"),
];

/// Runs until dropped.
pub struct Simulator {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Simulator {
    pub fn start(base_url: String, database_url: String, secrets: WebhookSecrets) -> Self {
        let task = tokio::spawn(async move {
            let mut team = Team {
                base_url,
                secrets,
                http: reqwest::Client::new(),
                tokens: HashMap::new(),
            };
            let Ok(db) = db::connect(&database_url).await else {
                tracing::warn!("the teammate simulator cannot reach the demo database");
                return;
            };
            let mut step = 0u64;
            loop {
                let outcome = match step {
                    0 => team.new_issue(&db).await,
                    1 => team.open_pull_request(&db).await,
                    _ => {
                        let pick = rand::rng().random_range(0..10);
                        match pick {
                            0..=3 => team.presence(&db).await,
                            4 | 5 => team.commit(&db).await,
                            6 => team.open_pull_request(&db).await,
                            7 => team.advance_pull_request(&db).await,
                            8 => team.new_issue(&db).await,
                            _ => team.move_issue(&db).await,
                        }
                    }
                };
                if let Err(e) = outcome {
                    tracing::debug!("teammate simulator step failed: {e}");
                }
                step += 1;
                let pause = rand::rng().random_range(1500..4000);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
        });
        Self { task }
    }
}

type Step = Result<(), String>;

struct Team {
    base_url: String,
    secrets: WebhookSecrets,
    http: reqwest::Client,
    /// Access tokens by e-mail.
    tokens: HashMap<String, String>,
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn failed(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Team {
    async fn token(&mut self, email: &str) -> Result<String, String> {
        if let Some(token) = self.tokens.get(email) {
            return Ok(token.clone());
        }
        let response: Value = self
            .http
            .post(format!("{}/api/auth/login", self.base_url))
            .json(&json!({"email": email, "password": DEMO_PASSWORD}))
            .send()
            .await
            .map_err(failed)?
            .error_for_status()
            .map_err(failed)?
            .json()
            .await
            .map_err(failed)?;
        let token = response["access_token"]
            .as_str()
            .ok_or("no access token")?
            .to_owned();
        self.tokens.insert(email.to_owned(), token.clone());
        Ok(token)
    }

    /// PATCH a workspace as its owner (signing in again once if the token expired).
    async fn update_workspace(&mut self, email: &str, id: Uuid, fields: Value) -> Step {
        for _ in 0..2 {
            let token = self.token(email).await?;
            let response = self
                .http
                .patch(format!("{}/api/workspaces/{id}", self.base_url))
                .bearer_auth(token)
                .json(&fields)
                .send()
                .await
                .map_err(failed)?;
            if response.status() == reqwest::StatusCode::UNAUTHORIZED {
                self.tokens.remove(email);
                continue;
            }
            response.error_for_status().map_err(failed)?;
            return Ok(());
        }
        Err("signed out twice in a row".into())
    }

    /// A teammate's local workspace (never the demo user's: their desktop reports its own).
    async fn teammate_workspace(
        &self,
        db: &tokio_postgres::Client,
        condition: &str,
    ) -> Result<Option<tokio_postgres::Row>, String> {
        db.query_opt(
            &format!(
                "SELECT w.id, u.email, w.status, w.git_branch, w.pr_number, w.pr_url, r.github_id, r.url \
                 FROM workspaces w JOIN users u ON u.id = w.owner_id JOIN repositories r ON r.id = w.repository_id \
                 WHERE w.status != 'archived' AND u.email != $1 AND {condition} ORDER BY random() LIMIT 1"
            ),
            &[&demo_user()],
        )
        .await
        .map_err(failed)
    }

    async fn presence(&mut self, db: &tokio_postgres::Client) -> Step {
        let Some(row) = self.teammate_workspace(db, "true").await? else {
            return Ok(());
        };
        let (id, email, status): (Uuid, String, String) = (row.get(0), row.get(1), row.get(2));
        let fields = if status == "active" && rand::rng().random_bool(0.4) {
            json!({"status": "idle"})
        } else {
            json!({"status": "active", "last_activity_at": now()})
        };
        self.update_workspace(&email, id, fields).await
    }

    async fn commit(&mut self, db: &tokio_postgres::Client) -> Step {
        let Some(row) = self.teammate_workspace(db, "w.type = 'local'").await? else {
            return Ok(());
        };
        let (id, email): (Uuid, String) = (row.get(0), row.get(1));
        let (uncommitted, ahead, behind) = {
            let mut rng = rand::rng();
            (
                rng.random_range(0..5),
                rng.random_range(0..4),
                rng.random_range(0..2),
            )
        };
        let fields = json!({
            "status": "active",
            "last_activity_at": now(),
            "git_status": {"uncommitted": uncommitted, "ahead": ahead, "behind": behind},
        });
        self.update_workspace(&email, id, fields).await
    }

    /// POSTs a signed webhook delivery: `headers` name the event, delivery id and signature.
    async fn deliver(&self, path: &str, body: Vec<u8>, headers: [(&str, String); 3]) -> Step {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request
            .body(body)
            .send()
            .await
            .map_err(failed)?
            .error_for_status()
            .map_err(failed)?;
        Ok(())
    }

    async fn github(&self, event: &str, payload: Value) -> Step {
        let body = serde_json::to_vec(&payload).map_err(failed)?;
        let signature = sign_github(self.secrets.github.as_bytes(), &body);
        let headers = [
            ("x-github-event", event.to_owned()),
            ("x-github-delivery", Uuid::new_v4().to_string()),
            ("x-hub-signature-256", signature),
        ];
        self.deliver("/webhooks/github", body, headers).await
    }

    async fn open_pull_request(&mut self, db: &tokio_postgres::Client) -> Step {
        let Some(row) = self
            .teammate_workspace(
                db,
                "w.pr_number IS NULL AND w.git_branch IS NOT NULL AND r.github_id IS NOT NULL",
            )
            .await?
        else {
            return Ok(());
        };
        let (branch, github_id, url): (String, i64, String) = (row.get(3), row.get(6), row.get(7));
        let number: i32 = db
            .query_one(
                "SELECT coalesce(max(pr_number), 0) + 1 FROM workspaces w \
                 JOIN repositories r ON r.id = w.repository_id WHERE r.github_id = $1",
                &[&github_id],
            )
            .await
            .map_err(failed)?
            .get(0);
        let payload =
            pull_request_payload("opened", number, &url, github_id, &branch, "open", false);
        self.github("pull_request", payload).await
    }

    /// Review an open pull request, or merge an approved one.
    async fn advance_pull_request(&mut self, db: &tokio_postgres::Client) -> Step {
        let Some(row) = self
            .teammate_workspace(
                db,
                "w.pr_status = 'open' AND w.pr_number IS NOT NULL AND r.github_id IS NOT NULL",
            )
            .await?
        else {
            return self.open_pull_request(db).await;
        };
        let (branch, number, github_id, url): (String, i32, i64, String) =
            (row.get(3), row.get(4), row.get(6), row.get(7));
        let merge = rand::rng().random_bool(0.5);
        if merge {
            let payload =
                pull_request_payload("closed", number, &url, github_id, &branch, "closed", true);
            return self.github("pull_request", payload).await;
        }
        let verdict = *["approved", "changes_requested", "commented"]
            .choose(&mut rand::rng())
            .expect("verdicts");
        let mut payload =
            pull_request_payload("submitted", number, &url, github_id, &branch, "open", false);
        payload["review"] = json!({"state": verdict, "submitted_at": now()});
        self.github("pull_request_review", payload).await
    }

    async fn linear(&self, action: &str, organization: &str, issue: Value) -> Step {
        let payload = json!({
            "action": action,
            "type": "Issue",
            "organizationId": organization,
            "webhookTimestamp": OffsetDateTime::now_utc().unix_timestamp() * 1000,
            "createdAt": now(),
            "data": issue,
        });
        let body = serde_json::to_vec(&payload).map_err(failed)?;
        let secret = linear_signing_secret(&self.secrets, organization);
        let signature = sign_hex(secret.as_bytes(), &body);
        let headers = [
            ("linear-event", "Issue".to_owned()),
            ("linear-delivery", Uuid::new_v4().to_string()),
            ("linear-signature", signature),
        ];
        self.deliver("/webhooks/linear", body, headers).await
    }

    async fn new_issue(&mut self, db: &tokio_postgres::Client) -> Step {
        // An organization, its team key (from its tasks' keys), the next number, an assignee.
        let row = db
            .query_opt(
                "SELECT o.slug, split_part(t.external_key, '-', 1), \
                        max(split_part(t.external_key, '-', 2)::int) + 1, \
                        (SELECT u.email FROM organization_members m JOIN users u ON u.id = m.user_id \
                         WHERE m.organization_id = o.id ORDER BY random() LIMIT 1) \
                 FROM organizations o JOIN tasks t ON t.organization_id = o.id \
                 WHERE t.external_key ~ '^[A-Z]+-[0-9]+$' \
                 GROUP BY o.id, o.slug, split_part(t.external_key, '-', 1) ORDER BY random() LIMIT 1",
                &[],
            )
            .await
            .map_err(failed)?;
        let Some(row) = row else { return Ok(()) };
        let (slug, team, number, assignee): (String, String, i32, Option<String>) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let title = *TITLES.choose(&mut rand::rng()).expect("titles");
        let identifier = format!("{team}-{number}");
        let (state, color) = WORKFLOW[0];
        let issue = json!({
            "id": Uuid::new_v4().to_string(),
            "identifier": identifier,
            "title": title,
            "description": SIMULATED,
            "priority": rand::rng().random_range(1..5),
            "state": {"name": state, "color": color, "type": "unstarted"},
            "teamId": format!("demo-team-{slug}"),
            "assignee": assignee.map(|email| json!({"email": email})),
            "labels": [],
            "url": format!("https://linear.app/{slug}/issue/{}", identifier.to_lowercase()),
            "createdAt": now(),
            "updatedAt": now(),
        });
        self.linear("create", &linear_organization(&slug), issue)
            .await
    }

    /// Moves a Linear issue one step along the workflow.
    async fn move_issue(&mut self, db: &tokio_postgres::Client) -> Step {
        let row = db
            .query_opt(
                "SELECT t.external_id, t.external_key, t.title, t.description, t.status, o.slug, t.external_url, \
                        t.priority, t.labels, u.email, t.due_date::text \
                 FROM tasks t JOIN organizations o ON o.id = t.organization_id \
                 LEFT JOIN users u ON u.id = t.assignee_id \
                 WHERE t.external_provider = 'linear' AND t.deleted_at IS NULL \
                   AND t.status IN ('Todo', 'In Progress', 'In Review') ORDER BY random() LIMIT 1",
                &[],
            )
            .await
            .map_err(failed)?;
        let Some(row) = row else { return Ok(()) };
        let status: String = row.get(4);
        let at = WORKFLOW.iter().position(|(s, _)| *s == status).unwrap_or(0);
        let (state, color) = WORKFLOW[(at + 1).min(WORKFLOW.len() - 1)];
        let slug: String = row.get(5);
        let issue = json!({
            "id": row.get::<_, String>(0),
            "identifier": row.get::<_, Option<String>>(1),
            "title": row.get::<_, String>(2),
            "description": row.get::<_, Option<String>>(3),
            "state": {"name": state, "color": color},
            "teamId": format!("demo-team-{slug}"),
            "url": row.get::<_, Option<String>>(6),
            // The whole issue, as Linear sends it: what is left out would be cleared.
            "priority": linear_priority(&row.get::<_, String>(7)),
            "labels": row
                .get::<_, Value>(8)
                .as_array()
                .map(|names| names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>())
                .unwrap_or_default(),
            "assignee": row.get::<_, Option<String>>(9).map(|email| json!({"email": email})),
            "dueDate": row.get::<_, Option<String>>(10),
            "updatedAt": now(),
        });
        self.linear("update", &linear_organization(&slug), issue)
            .await
    }
}

/// Our priority as Linear's number (0 none, 1 urgent … 4 low).
fn linear_priority(priority: &str) -> u8 {
    match priority {
        "urgent" => 1,
        "high" => 2,
        "medium" => 3,
        "low" => 4,
        _ => 0,
    }
}

fn pull_request_payload(
    action: &str,
    number: i32,
    repository_url: &str,
    github_id: i64,
    branch: &str,
    state: &str,
    merged: bool,
) -> Value {
    json!({
        "action": action,
        "number": number,
        "pull_request": {
            "html_url": format!("{repository_url}/pull/{number}"),
            "number": number,
            "state": state,
            "draft": false,
            "merged": merged,
            "merged_at": merged.then(now),
            "updated_at": now(),
            "head": {"ref": branch},
        },
        "repository": {
            "id": github_id,
            "html_url": repository_url,
            "default_branch": "main",
        },
    })
}
