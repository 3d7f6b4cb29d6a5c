//! Generating a team from a [`SeedConfig`], deterministically: one random generator seeded from
//! the config is drawn from in a fixed order — organizations, people, memberships,
//! repositories, tasks, workspaces — so equal configs give equal teams.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use time::Duration;
use uuid::Uuid;

use super::catalog;
use super::team::{Member, Organization, Repository, SeedConfig, Task, Team, User, Workspace};

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
    let organizations = organizations(&mut rng, config.organizations.max(1));
    let users = users(&mut rng, config.users.max(1));
    let (members, org_users) = members(&mut rng, &users, organizations.len());
    let repositories = repositories(&mut rng, config.repositories, &organizations);
    let mut org_repos: Vec<Vec<usize>> = vec![Vec::new(); organizations.len()];
    for (r, repo) in repositories.iter().enumerate() {
        org_repos[repo.organization].push(r);
    }
    let places = Places {
        users: &users,
        org_users: &org_users,
        org_repos: &org_repos,
    };
    let tasks = tasks(config, &mut rng, &organizations, &places);
    let workspaces = workspaces(config, &mut rng, &repositories, &tasks, &places);
    Team {
        organizations,
        users,
        members,
        repositories,
        tasks,
        workspaces,
    }
}

/// Who is in which organization and which repositories it has, by index.
struct Places<'a> {
    users: &'a [User],
    org_users: &'a [Vec<usize>],
    org_repos: &'a [Vec<usize>],
}

fn organizations(rng: &mut StdRng, count: usize) -> Vec<Organization> {
    (0..count)
        .map(|i| {
            let (name, slug, key) = match catalog::ORGANIZATIONS.get(i) {
                Some(&(name, slug, key, _)) => (name.to_owned(), slug.to_owned(), key.to_owned()),
                None => (format!("Team {i}"), format!("team-{i}"), format!("T{i}")),
            };
            Organization {
                id: uuid(rng),
                name,
                slug,
                team_key: key,
            }
        })
        .collect()
}

fn users(rng: &mut StdRng, count: usize) -> Vec<User> {
    (0..count)
        .map(|i| {
            let name = match catalog::PEOPLE.get(i) {
                Some(name) => (*name).to_owned(),
                None => format!("Teammate {i}"),
            };
            let email = format!("{}@example.com", slugify(&name).replace('-', "."));
            let id = uuid(rng);
            User {
                avatar_url: format!("https://avatars.example.com/{}.png", slugify(&name)),
                id,
                email,
                name,
            }
        })
        .collect()
}

/// User i belongs to organization i % orgs; the first user is also a plain member of every
/// other organization, so a multi-org account exists. In each org the first user who calls it
/// home owns it and the second is its admin. Returns the memberships and each org's users.
fn members(rng: &mut StdRng, users: &[User], org_count: usize) -> (Vec<Member>, Vec<Vec<usize>>) {
    let mut members = Vec::new();
    let mut org_users: Vec<Vec<usize>> = vec![Vec::new(); org_count];
    let mut residents = vec![0_usize; org_count];
    for u in 0..users.len() {
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
                id: uuid(rng),
                organization: o,
                user: u,
                role,
            });
        }
    }
    (members, org_users)
}

fn repositories(rng: &mut StdRng, count: usize, organizations: &[Organization]) -> Vec<Repository> {
    let org_count = organizations.len();
    (0..count)
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
                id: uuid(rng),
                organization,
                url: format!("https://github.com/{owner}/{name}"),
                name,
                github_id: rng.random_range(100_000_000..900_000_000),
            }
        })
        .collect()
}

fn tasks(
    config: &SeedConfig,
    rng: &mut StdRng,
    organizations: &[Organization],
    places: &Places<'_>,
) -> Vec<Task> {
    let mut next_number = vec![100_u32; organizations.len()];
    (0..config.tasks)
        .map(|i| {
            let organization = i % organizations.len();
            task(
                config,
                rng,
                organization,
                organizations,
                places,
                &mut next_number,
            )
        })
        .collect()
}

fn task(
    config: &SeedConfig,
    rng: &mut StdRng,
    organization: usize,
    organizations: &[Organization],
    places: &Places<'_>,
    next_number: &mut [u32],
) -> Task {
    let org = &organizations[organization];
    let title = format!(
        "{} {}",
        catalog::VERBS.choose(rng).expect("verbs"),
        catalog::OBJECTS.choose(rng).expect("objects")
    );
    let &(status, status_color, _) = catalog::STATES
        .choose_weighted(rng, |s| s.2)
        .expect("states");
    let &(priority, _) = catalog::PRIORITIES
        .choose_weighted(rng, |p| p.1)
        .expect("priorities");
    let assignee = if rng.random_bool(0.8) {
        places.org_users[organization].choose(rng).copied()
    } else {
        None
    };
    let repository = if rng.random_bool(0.5) {
        places.org_repos[organization].choose(rng).copied()
    } else {
        None
    };
    let (external, branch) = if rng.random_bool(0.85) {
        next_number[organization] += 1;
        let (external, branch) = linear_issue(
            rng,
            org,
            next_number[organization],
            &title,
            assignee,
            places,
        );
        (Some(external), Some(branch))
    } else {
        (None, None)
    };
    let label_count = rng.random_range(0..=3);
    let labels: Vec<&str> = catalog::LABELS
        .choose_multiple(rng, label_count)
        .copied()
        .collect();
    let due_date = rng
        .random_bool(0.4)
        .then(|| (config.now + Duration::days(rng.random_range(-10..=30))).date());
    let description = rng
        .random_bool(0.7)
        .then(|| (*catalog::DESCRIPTIONS.choose(rng).expect("descriptions")).to_owned());
    Task {
        id: uuid(rng),
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
}

/// A task that came from Linear: its (id, key, URL), and the branch its assignee works on.
fn linear_issue(
    rng: &mut StdRng,
    org: &Organization,
    number: u32,
    title: &str,
    assignee: Option<usize>,
    places: &Places<'_>,
) -> ((String, String, String), String) {
    let key = format!("{}-{number}", org.team_key);
    let url = format!(
        "https://linear.app/{}/issue/{}/{}",
        org.slug,
        key.to_lowercase(),
        slugify(title)
    );
    let who = assignee
        .map(|u| {
            slugify(&places.users[u].name)
                .split('-')
                .next()
                .unwrap_or("dev")
                .to_owned()
        })
        .unwrap_or_else(|| "dev".to_owned());
    let branch = format!("{who}/{}-{}", key.to_lowercase(), slugify(title));
    ((uuid(rng).to_string(), key, url), branch)
}

/// Where a workspace sits: its task (if any), organization and repository.
struct Placement {
    task: Option<usize>,
    organization: usize,
    repository: usize,
}

fn workspaces(
    config: &SeedConfig,
    rng: &mut StdRng,
    repositories: &[Repository],
    tasks: &[Task],
    places: &Places<'_>,
) -> Vec<Workspace> {
    // Work happens on tasks that are in flight; fall back to any task in a tiny seed.
    let in_flight: Vec<usize> = tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| matches!(t.status, "In Progress" | "In Review"))
        .map(|(i, _)| i)
        .collect();
    let mut pull_requests = PullRequests {
        numbers: vec![40_i32; repositories.len()],
        made: 0,
    };
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
            None => w % places.org_users.len(),
        };
        let repository = match task.and_then(|t| tasks[t].repository) {
            Some(r) => r,
            None => match places.org_repos[organization].choose(rng) {
                Some(&r) => r,
                None => continue, // an organization without repositories has nowhere to work
            },
        };
        let placement = Placement {
            task,
            organization,
            repository,
        };
        let known = Known {
            tasks,
            repositories,
            places,
        };
        workspaces.push(workspace(
            config,
            rng,
            w,
            placement,
            &known,
            &mut pull_requests,
        ));
    }
    workspaces
}

/// Pull request numbers per repository, and how many have been made (statuses cycle).
struct PullRequests {
    numbers: Vec<i32>,
    made: usize,
}

/// What is generated before the workspaces.
struct Known<'a> {
    tasks: &'a [Task],
    repositories: &'a [Repository],
    places: &'a Places<'a>,
}

fn workspace(
    config: &SeedConfig,
    rng: &mut StdRng,
    w: usize,
    placement: Placement,
    known: &Known<'_>,
    pull_requests: &mut PullRequests,
) -> Workspace {
    let Placement {
        task,
        organization,
        repository,
    } = placement;
    let Known {
        tasks,
        repositories,
        places,
    } = known;
    let owner = task.and_then(|t| tasks[t].assignee).unwrap_or_else(|| {
        *places.org_users[organization]
            .choose(rng)
            .expect("every org has a member")
    });
    let first_name = places.users[owner]
        .name
        .split(' ')
        .next()
        .unwrap_or("Someone")
        .to_owned();
    let (kind, device_name) = if w % 4 == 2 {
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
        const STATES: [&str; 4] = ["open", "draft", "merged", "closed"];
        pull_requests.numbers[repository] += 1;
        let number = pull_requests.numbers[repository];
        let state = STATES[pull_requests.made % STATES.len()];
        pull_requests.made += 1;
        (
            format!("{}/pull/{number}", repositories[repository].url),
            number,
            state,
        )
    });
    Workspace {
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
    }
}
