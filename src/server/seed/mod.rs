//! `superset-server seed`: a realistic, deterministic team for demos, tests and benchmarks.
//!
//! [`generate`] is pure: the same [`SeedConfig`] (seed number, sizes and reference time) always
//! yields the same organizations, people, repositories, tasks and workspaces. [`insert`] writes
//! them in one transaction with array-`unnest` inserts, so 100,000 tasks take seconds.

mod catalog;
mod insert;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

pub use insert::{SeedError, insert, is_empty, set_passwords, wipe};

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

fn uuid(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Generates a team from `config`. Deterministic: equal configs give equal teams.
pub fn generate(config: &SeedConfig) -> Team {
    let mut rng = StdRng::seed_from_u64(config.seed);
    let org_count = config.organizations.max(1);
    let organizations: Vec<Organization> = (0..org_count)
        .map(|i| {
            let (name, slug, key) = match catalog::ORGANIZATIONS.get(i) {
                Some(&(name, slug, key, _)) => (name.to_owned(), slug.to_owned(), key.to_owned()),
                None => (format!("Team {i}"), format!("team-{i}"), format!("T{i}")),
            };
            Organization {
                id: uuid(&mut rng),
                name,
                slug,
                team_key: key,
            }
        })
        .collect();

    let users: Vec<User> = (0..config.users.max(1))
        .map(|i| {
            let name = match catalog::PEOPLE.get(i) {
                Some(name) => (*name).to_owned(),
                None => format!("Teammate {i}"),
            };
            let email = format!("{}@example.com", slugify(&name).replace('-', "."));
            let id = uuid(&mut rng);
            User {
                avatar_url: format!("https://avatars.example.com/{}.png", slugify(&name)),
                id,
                email,
                name,
            }
        })
        .collect();

    // User i belongs to organization i % orgs; the first user is also a plain member of every
    // other organization, so a multi-org account exists. In each org the first user who calls
    // it home owns it and the second is its admin.
    let mut members = Vec::new();
    let mut org_users: Vec<Vec<usize>> = vec![Vec::new(); org_count];
    let mut residents = vec![0_usize; org_count];
    for (u, _) in users.iter().enumerate() {
        let home = u % org_count;
        let orgs: Vec<usize> = if u == 0 {
            (0..org_count).collect()
        } else {
            vec![home]
        };
        for o in orgs {
            let role = if o != home {
                "member"
            } else {
                residents[o] += 1;
                match residents[o] {
                    1 => "owner",
                    2 => "admin",
                    _ => "member",
                }
            };
            org_users[o].push(u);
            members.push(Member {
                id: uuid(&mut rng),
                organization: o,
                user: u,
                role,
            });
        }
    }

    let repositories: Vec<Repository> = (0..config.repositories)
        .map(|i| {
            let organization = i % org_count;
            let owner = catalog::ORGANIZATIONS
                .get(organization)
                .map(|o| o.3.to_owned())
                .unwrap_or_else(|| organizations[organization].slug.clone());
            let base = catalog::REPOSITORIES[i / org_count % catalog::REPOSITORIES.len()];
            let round = i / (org_count * catalog::REPOSITORIES.len());
            let name = if round == 0 {
                base.to_owned()
            } else {
                format!("{base}-{round}")
            };
            Repository {
                id: uuid(&mut rng),
                organization,
                url: format!("https://github.com/{owner}/{name}"),
                name,
                github_id: rng.random_range(100_000_000..900_000_000),
            }
        })
        .collect();
    let mut org_repos: Vec<Vec<usize>> = vec![Vec::new(); org_count];
    for (r, repo) in repositories.iter().enumerate() {
        org_repos[repo.organization].push(r);
    }

    let mut next_number = vec![100_u32; org_count];
    let tasks: Vec<Task> = (0..config.tasks)
        .map(|i| {
            let organization = i % org_count;
            let org = &organizations[organization];
            let title = format!(
                "{} {}",
                catalog::VERBS.choose(&mut rng).expect("verbs"),
                catalog::OBJECTS.choose(&mut rng).expect("objects")
            );
            let &(status, status_color, _) = catalog::STATES
                .choose_weighted(&mut rng, |s| s.2)
                .expect("states");
            let &(priority, _) = catalog::PRIORITIES
                .choose_weighted(&mut rng, |p| p.1)
                .expect("priorities");
            let assignee = if rng.random_bool(0.8) {
                org_users[organization].choose(&mut rng).copied()
            } else {
                None
            };
            let repository = if rng.random_bool(0.5) {
                org_repos[organization].choose(&mut rng).copied()
            } else {
                None
            };
            let from_linear = rng.random_bool(0.85);
            let (external, branch) = if from_linear {
                next_number[organization] += 1;
                let key = format!("{}-{}", org.team_key, next_number[organization]);
                let url = format!(
                    "https://linear.app/{}/issue/{}/{}",
                    org.slug,
                    key.to_lowercase(),
                    slugify(&title)
                );
                let who = assignee
                    .map(|u| {
                        slugify(&users[u].name)
                            .split('-')
                            .next()
                            .unwrap_or("dev")
                            .to_owned()
                    })
                    .unwrap_or_else(|| "dev".to_owned());
                let branch = format!("{who}/{}-{}", key.to_lowercase(), slugify(&title));
                (Some((uuid(&mut rng).to_string(), key, url)), Some(branch))
            } else {
                (None, None)
            };
            let label_count = rng.random_range(0..=3);
            let labels: Vec<&str> = catalog::LABELS
                .choose_multiple(&mut rng, label_count)
                .copied()
                .collect();
            let due_date = rng
                .random_bool(0.4)
                .then(|| (config.now + Duration::days(rng.random_range(-10..=30))).date());
            let description = rng.random_bool(0.7).then(|| {
                (*catalog::DESCRIPTIONS
                    .choose(&mut rng)
                    .expect("descriptions"))
                .to_owned()
            });
            Task {
                id: uuid(&mut rng),
                organization,
                repository,
                title,
                description,
                status,
                status_color,
                priority,
                assignee,
                external,
                branch,
                labels: json!(labels),
                due_date,
                created_at: config.now - Duration::minutes(rng.random_range(60..90 * 24 * 60)),
            }
        })
        .collect();

    let workspaces = generate_workspaces(
        config,
        &mut rng,
        &users,
        &repositories,
        &tasks,
        &org_users,
        &org_repos,
    );

    Team {
        organizations,
        users,
        members,
        repositories,
        tasks,
        workspaces,
    }
}

fn generate_workspaces(
    config: &SeedConfig,
    rng: &mut StdRng,
    users: &[User],
    repositories: &[Repository],
    tasks: &[Task],
    org_users: &[Vec<usize>],
    org_repos: &[Vec<usize>],
) -> Vec<Workspace> {
    // Work happens on tasks that are in flight; fall back to any task in a tiny seed.
    let in_flight: Vec<usize> = tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| matches!(t.status, "In Progress" | "In Review"))
        .map(|(i, _)| i)
        .collect();
    let pr_states = ["open", "draft", "merged", "closed"];
    let mut pr_numbers = vec![40_i32; repositories.len()];
    let mut pull_requests = 0_usize;
    let mut workspaces = Vec::with_capacity(config.workspaces);
    for w in 0..config.workspaces {
        // Every seventh workspace is exploratory work with no task.
        let task = if w % 7 == 3 || tasks.is_empty() {
            None
        } else if in_flight.is_empty() {
            Some(w % tasks.len())
        } else {
            Some(in_flight[w * 7919 % in_flight.len()])
        };
        let organization = match task {
            Some(t) => tasks[t].organization,
            None => w % org_users.len(),
        };
        let repository = match task.and_then(|t| tasks[t].repository) {
            Some(r) => r,
            None => match org_repos[organization].choose(rng) {
                Some(&r) => r,
                None => continue, // an organization without repositories has nowhere to work
            },
        };
        let owner = task.and_then(|t| tasks[t].assignee).unwrap_or_else(|| {
            *org_users[organization]
                .choose(rng)
                .expect("every org has a member")
        });
        let first_name = users[owner]
            .name
            .split(' ')
            .next()
            .unwrap_or("Someone")
            .to_owned();
        let cloud = w % 4 == 2;
        let (kind, device_name) = if cloud {
            ("cloud", format!("Cloud Sandbox #{}", w + 1))
        } else {
            let device = catalog::DEVICES.choose(rng).expect("devices");
            ("local", format!("{first_name}'s {device}"))
        };
        let active = rng.random_bool(0.5);
        let last_activity_at = if active {
            config.now - Duration::seconds(rng.random_range(0..180))
        } else {
            config.now - Duration::minutes(rng.random_range(15..240))
        };
        let git_branch = match task.and_then(|t| tasks[t].branch.clone()) {
            Some(branch) => branch,
            None => format!("{}/explore-{}", first_name.to_lowercase(), w + 1),
        };
        let git_status = json!({
            "uncommitted": rng.random_range(0..6),
            "ahead": rng.random_range(0..4),
            "behind": rng.random_range(0..3),
        });
        // Two workspaces in three have a pull request, cycling through every status.
        let pull_request = (w % 3 != 1).then(|| {
            pr_numbers[repository] += 1;
            let number = pr_numbers[repository];
            let state = pr_states[pull_requests % pr_states.len()];
            pull_requests += 1;
            (
                format!("{}/pull/{number}", repositories[repository].url),
                number,
                state,
            )
        });
        workspaces.push(Workspace {
            id: uuid(rng),
            organization,
            task,
            repository,
            owner,
            kind,
            device_name,
            status: if active { "active" } else { "idle" },
            git_branch,
            git_status,
            pull_request,
            last_activity_at,
            created_at: last_activity_at - Duration::hours(rng.random_range(1..72)),
        });
    }
    workspaces
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
