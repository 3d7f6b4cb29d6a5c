//! The view model from a fixture database, pinned with insta: grouping by status then priority,
//! workspaces under their task, "(no task)", presence text at a fixed clock, pull request and git
//! badges, the outbox's optimistic rows, and filters.

use serde_json::json;
use superset::app::view_model::Row;
use superset::app::view_model::rows::{self, Filters};
use superset::app::view_model::{Scope, ViewModel, presence_text};
use superset::outbox::{self, Command};
use superset::store;
use time::macros::datetime;

const ORG_A: &str = "00000000-0000-0000-0000-00000000000a";
const ORG_B: &str = "00000000-0000-0000-0000-00000000000b";
const ADA: &str = "00000000-0000-0000-0000-000000000001";
const BOB: &str = "00000000-0000-0000-0000-000000000002";
const REPO: &str = "00000000-0000-0000-0000-0000000000r1";

fn fixture() -> (tempfile::TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = store::open(&dir.path().join("fixture.db")).unwrap();
    let stamp = "2026-11-01 09:00:00+00";
    conn.execute_batch(&format!(
        "INSERT INTO organizations VALUES ('{ORG_A}', 'Acme', 'acme', NULL, '{stamp}', '{stamp}'), \
                                         ('{ORG_B}', 'Bolt', 'bolt', NULL, '{stamp}', '{stamp}');
         INSERT INTO users VALUES ('{ADA}', 'ada@example.com', 'Ada Lovelace', NULL, '{stamp}', '{stamp}'), \
                                  ('{BOB}', 'bob@example.com', 'Bob Stone', NULL, '{stamp}', '{stamp}');
         INSERT INTO organization_members VALUES ('m1', '{ORG_A}', '{ADA}', 'owner', '{stamp}', '{stamp}'), \
                                                 ('m2', '{ORG_B}', '{ADA}', 'member', '{stamp}', '{stamp}'), \
                                                 ('m3', '{ORG_A}', '{BOB}', 'member', '{stamp}', '{stamp}');
         INSERT INTO repositories VALUES ('{REPO}', '{ORG_A}', 'api', 'api', 'https://github.com/acme/api', 'main', NULL, '{stamp}', '{stamp}');
         INSERT INTO local_repos (id, repository_id, local_path, remote_url, device_id) \
                VALUES ('f1', '{REPO}', '/code/api', 'git@github.com:acme/api.git', 'd'), \
                       ('f2', NULL, '/code/notes', NULL, 'd');"
    ))
    .unwrap();
    let tasks = [
        (
            "t1",
            ORG_A,
            "ACM-10",
            "Ship the importer",
            "In Progress",
            "#f2c94c",
            "high",
            Some(ADA),
        ),
        (
            "t2",
            ORG_A,
            "ACM-9",
            "Fix the login form",
            "In Progress",
            "#f2c94c",
            "urgent",
            Some(BOB),
        ),
        (
            "t3",
            ORG_A,
            "ACM-2",
            "Write the docs",
            "Todo",
            "#e2e2e2",
            "low",
            None,
        ),
        (
            "t4", ORG_A, "ACM-3", "Old idea", "Backlog", "#bec2c8", "none", None,
        ),
        (
            "t5",
            ORG_A,
            "ACM-1",
            "Set up CI",
            "Done",
            "#5e6ad2",
            "medium",
            Some(ADA),
        ),
        (
            "t6",
            ORG_B,
            "BLT-1",
            "Another organization's task",
            "Todo",
            "#e2e2e2",
            "high",
            Some(ADA),
        ),
    ];
    for (id, org, key, title, status, color, priority, assignee) in tasks {
        conn.execute(
            "INSERT INTO tasks (id, organization_id, repository_id, title, status, status_color, priority, \
                                assignee_id, external_provider, external_id, external_key, labels, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'linear', ?1, ?9, '[\"bug\"]', ?10, ?10)",
            rusqlite::params![id, org, REPO, title, status, color, priority, assignee, key, stamp],
        )
        .unwrap();
    }
    let workspaces = [
        (
            "00000000-0000-0000-0000-0000000000w1",
            Some("t1"),
            ADA,
            "local",
            "Ada's laptop",
            "active",
            Some("ada/acm-10"),
            Some(r#"{"uncommitted": 3, "ahead": 1, "behind": 0}"#),
            Some(42),
            Some("open"),
            Some("2026-11-25 11:59:30+00"),
        ),
        (
            "00000000-0000-0000-0000-0000000000w2",
            Some("t1"),
            BOB,
            "cloud",
            "Sandbox #3",
            "idle",
            Some("bob/acm-10-review"),
            Some(r#"{"uncommitted": 0, "ahead": 0, "behind": 0}"#),
            Some(43),
            Some("draft"),
            Some("2026-11-25 11:45:00+00"),
        ),
        (
            "00000000-0000-0000-0000-0000000000w3",
            Some("t2"),
            BOB,
            "local",
            "Bob's desktop",
            "idle",
            Some("bob/acm-9"),
            None,
            Some(40),
            Some("merged"),
            Some("2026-11-24 09:00:00+00"),
        ),
        (
            "00000000-0000-0000-0000-0000000000w4",
            None,
            ADA,
            "local",
            "Ada's laptop",
            "active",
            Some("ada/spike"),
            Some(r#"{"uncommitted": 0, "ahead": 0, "behind": 2}"#),
            None,
            None,
            Some("2026-11-25 10:00:00.5+00"),
        ),
        (
            "00000000-0000-0000-0000-0000000000w5",
            Some("t3"),
            BOB,
            "local",
            "Bob's desktop",
            "archived",
            None,
            None,
            None,
            None,
            None,
        ),
    ];
    for (id, task, owner, kind, device, status, branch, git, pr, pr_status, activity) in workspaces
    {
        conn.execute(
            "INSERT INTO workspaces (id, organization_id, task_id, repository_id, owner_id, type, device_name, status, \
                                     git_branch, git_status, pr_number, pr_status, last_activity_at, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
            rusqlite::params![id, ORG_A, task, REPO, owner, kind, device, status, branch, git, pr, pr_status, activity, stamp],
        )
        .unwrap();
    }
    conn.execute(
        "UPDATE workspaces SET pr_review_status = 'changes_requested' WHERE pr_number = 42",
        [],
    )
    .unwrap();
    // Pending writes: a new task, and a title change of t3.
    let mut fields = serde_json::Map::new();
    fields.insert("organization_id".into(), json!(ORG_A));
    fields.insert("title".into(), json!("Written offline"));
    fields.insert("status".into(), json!("Todo"));
    fields.insert("priority".into(), json!("medium"));
    outbox::enqueue(
        &mut conn,
        Command::CreateTask {
            id: uuid::Uuid::from_u128(0xfeed),
            fields,
        },
    )
    .unwrap();
    let mut rename = serde_json::Map::new();
    rename.insert("title".into(), json!("Write the docs (renamed)"));
    conn.execute(
        "UPDATE tasks SET id = '00000000-0000-0000-0000-0000000000f3' WHERE id = 't3'",
        [],
    )
    .unwrap();
    outbox::enqueue(
        &mut conn,
        Command::UpdateTask {
            id: uuid::Uuid::from_u128(0xf3),
            fields: rename,
            expected: serde_json::Map::new(),
        },
    )
    .unwrap();
    (dir, conn)
}

/// The task tree as text, the way the window draws it.
fn outline(vm: &ViewModel, organization: &str, filters: &Filters) -> String {
    let now = datetime!(2026-11-25 12:00 UTC);
    let mut out = String::new();
    for row in rows::build(vm, Some(organization), filters) {
        let line = match row {
            Row::Group { first_task, count } => {
                format!("{} ({count})", vm.tasks[first_task].status)
            }
            Row::NoTask { count } => format!("(no task) ({count})"),
            Row::Task(i) => {
                let t = &vm.tasks[i];
                format!(
                    "  {} {} [{}] {}{}",
                    t.key(),
                    t.title(),
                    t.priority,
                    t.assignee_name.as_deref().unwrap_or("unassigned"),
                    if t.pending { " (saving)" } else { "" }
                )
            }
            Row::Workspace(i) => {
                let w = &vm.workspaces[i];
                let pr = w.pull_request.as_ref().map(|p| {
                    format!(
                        " #{} {}{}",
                        p.number,
                        p.status,
                        p.review
                            .as_ref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default()
                    )
                });
                format!(
                    "      {} · {} · {} · {} · {} · {}{}",
                    w.owner_name,
                    w.device_name,
                    if w.cloud { "cloud" } else { "local" },
                    presence_text(w, now),
                    w.branch.as_deref().unwrap_or("-"),
                    w.git.as_ref().map_or("-".to_owned(), |g| g.summary()),
                    pr.unwrap_or_default()
                )
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn task_tree_groups_sorts_and_overlays_pending_writes() {
    let (_dir, conn) = fixture();
    let vm = ViewModel::load(&conn, Some(ADA)).unwrap();
    assert_eq!(vm.organizations.len(), 2);
    assert_eq!(vm.pending_writes, 2);
    insta::assert_snapshot!("task_tree", outline(&vm, ORG_A, &Filters::default()));
    insta::assert_snapshot!(
        "other_organization",
        outline(&vm, ORG_B, &Filters::default())
    );
    let repositories: Vec<String> = vm
        .repositories
        .iter()
        .map(|r| {
            format!(
                "{} {:?} folders={:?}",
                r.name,
                r.url_key,
                r.folders.iter().map(|f| &f.path).collect::<Vec<_>>()
            )
        })
        .chain(
            vm.local_projects
                .iter()
                .map(|f| format!("local project {}", f.path)),
        )
        .collect();
    insta::assert_snapshot!("repositories", repositories.join("\n"));
}

#[test]
fn filters_narrow_the_tree() {
    let (_dir, conn) = fixture();
    let vm = ViewModel::load(&conn, Some(ADA)).unwrap();
    let cases = [
        (
            "mine",
            Filters {
                mine: true,
                ..Filters::default()
            },
        ),
        (
            "assigned to me",
            Filters {
                assigned_to_me: true,
                ..Filters::default()
            },
        ),
        (
            "status Todo",
            Filters {
                status: Some("Todo".into()),
                ..Filters::default()
            },
        ),
        (
            "active workspace",
            Filters {
                has_active_workspace: true,
                ..Filters::default()
            },
        ),
        (
            "search by branch",
            Filters {
                search: "ACM-10-REVIEW".into(),
                ..Filters::default()
            },
        ),
        (
            "search by person",
            Filters {
                search: "bob".into(),
                ..Filters::default()
            },
        ),
    ];
    let mut out = String::new();
    for (name, filters) in cases {
        out.push_str(&format!("== {name}\n{}", outline(&vm, ORG_A, &filters)));
    }
    insta::assert_snapshot!("filters", out);
}

#[test]
fn presence_ages_with_the_clock() {
    let (_dir, conn) = fixture();
    let vm = ViewModel::load(&conn, Some(ADA)).unwrap();
    let ada = vm
        .workspaces
        .iter()
        .find(|w| w.branch.as_deref() == Some("ada/acm-10"))
        .unwrap();
    let at = |minutes: i64| {
        presence_text(
            ada,
            datetime!(2026-11-25 11:59:30 UTC) + time::Duration::minutes(minutes),
        )
    };
    assert_eq!(at(0), "active now");
    assert_eq!(at(15), "idle 15m ago");
    assert_eq!(at(180), "idle 3h ago");
    assert_eq!(at(3 * 1440), "idle 3d ago");
}

#[test]
fn the_first_screen_is_the_start_of_the_full_list() {
    let (_dir, conn) = fixture();
    let full = ViewModel::load(&conn, Some(ADA)).unwrap();
    let first = ViewModel::load_scoped(
        &conn,
        Some(ADA),
        Scope::FirstScreen {
            organization: Some(ORG_A),
            tasks: 4,
        },
    )
    .unwrap();
    assert!(first.partial && !full.partial);
    // The task created offline (key "new") is not in SQLite yet; it is overlaid on both.
    let keys = |vm: &ViewModel| -> Vec<String> {
        vm.tasks
            .iter()
            .filter(|t| t.organization_id == ORG_A && t.key() != "new")
            .map(|t| t.key().to_owned())
            .collect()
    };
    assert_eq!(keys(&first), ["ACM-9", "ACM-10", "ACM-2", "ACM-3"]);
    assert_eq!(keys(&first), keys(&full)[..4]);
}

#[test]
fn the_first_screen_is_the_start_of_the_full_list_with_dashed_keys() {
    let (_dir, conn) = fixture();
    // Keys whose prefix has a dash of its own, and a local task without a key.
    for (id, key) in [
        ("d1", Some("MY-TEAM-10")),
        ("d2", Some("MY-TEAM-2")),
        ("d3", Some("MY-9")),
        ("d4", None),
    ] {
        conn.execute(
            "INSERT INTO tasks (id, organization_id, title, status, priority, external_key, labels, \
                                created_at, updated_at) \
             VALUES (?1, ?2, 'dashed', 'Todo', 'medium', ?3, '[]', '2026-11-01', '2026-11-01')",
            rusqlite::params![id, ORG_A, key],
        )
        .unwrap();
    }
    let full = ViewModel::load(&conn, Some(ADA)).unwrap();
    let keys = |vm: &ViewModel| -> Vec<String> {
        vm.tasks
            .iter()
            .filter(|t| t.organization_id == ORG_A && t.key() != "new")
            .map(|t| t.key().to_owned())
            .collect()
    };
    let all = keys(&full);
    for n in 1..=all.len() {
        let first = ViewModel::load_scoped(
            &conn,
            Some(ADA),
            Scope::FirstScreen {
                organization: Some(ORG_A),
                tasks: n,
            },
        )
        .unwrap();
        assert_eq!(keys(&first), all[..n], "the first {n} tasks");
    }
    let todo: Vec<&str> = full
        .tasks
        .iter()
        .filter(|t| t.title() == "dashed")
        .map(|t| t.key())
        .collect();
    assert_eq!(todo, ["MY-9", "MY-TEAM-2", "MY-TEAM-10", "d4"]);
}
