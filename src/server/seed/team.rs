//! The generated team as plain data: organizations, people, memberships, repositories, tasks
//! and workspaces, referring to each other by index.

use serde_json::Value;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// What to generate. Sizes are totals across organizations.
#[derive(Debug, Clone)]
pub struct SeedConfig {
    pub seed: u64,
    pub organizations: usize,
    pub users: usize,
    pub repositories: usize,
    pub tasks: usize,
    pub workspaces: usize,
    /// "Now" for the team: activity and due dates are placed relative to it.
    pub now: OffsetDateTime,
}

impl Default for SeedConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            organizations: 2,
            users: 8,
            repositories: 5,
            tasks: 200,
            workspaces: 20,
            now: OffsetDateTime::now_utc(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub team_key: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub avatar_url: String,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub id: Uuid,
    pub organization: usize,
    pub user: usize,
    pub role: &'static str,
}

#[derive(Debug, Clone)]
pub struct Repository {
    pub id: Uuid,
    pub organization: usize,
    pub name: String,
    pub url: String,
    pub github_id: i64,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: Uuid,
    pub organization: usize,
    pub repository: Option<usize>,
    pub title: String,
    pub description: Option<String>,
    pub status: &'static str,
    pub status_color: &'static str,
    pub priority: &'static str,
    pub assignee: Option<usize>,
    /// Linear's id, key and URL; `None` for tasks created in Superset itself.
    pub external: Option<(String, String, String)>,
    pub branch: Option<String>,
    pub labels: Value,
    pub due_date: Option<Date>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: Uuid,
    pub organization: usize,
    pub task: Option<usize>,
    pub repository: usize,
    pub owner: usize,
    pub kind: &'static str,
    pub device_name: String,
    pub status: &'static str,
    pub git_branch: String,
    pub git_status: Value,
    /// URL, number and status of the branch's pull request.
    pub pull_request: Option<(String, i32, &'static str)>,
    pub last_activity_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
}

/// A whole generated team, rows referring to each other by index.
#[derive(Debug, Clone)]
pub struct Team {
    pub organizations: Vec<Organization>,
    pub users: Vec<User>,
    pub members: Vec<Member>,
    pub repositories: Vec<Repository>,
    pub tasks: Vec<Task>,
    pub workspaces: Vec<Workspace>,
}

impl Team {
    /// A human summary: who can sign in, where, and with which role.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "seeded {} organizations, {} users, {} repositories, {} tasks, {} workspaces\n",
            self.organizations.len(),
            self.users.len(),
            self.repositories.len(),
            self.tasks.len(),
            self.workspaces.len()
        );
        for (o, org) in self.organizations.iter().enumerate() {
            out.push_str(&format!("\n{} ({})\n", org.name, org.slug));
            for m in self.members.iter().filter(|m| m.organization == o) {
                let user = &self.users[m.user];
                out.push_str(&format!(
                    "  {:<7} {:<24} {}\n",
                    m.role, user.name, user.email
                ));
            }
        }
        out
    }
}
