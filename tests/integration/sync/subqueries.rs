//! Subquery shapes as plain HTTP: the rows a subquery shape serves are Postgres's for the same
//! where clause; memberships added and removed while tasks move between organizations end in
//! Postgres's rows with no 409 (moves racing with outer-row updates); a nested subquery (the
//! user's teammates, through their organizations) follows memberships changing at both levels;
//! and subqueries the service must not serve (unsynced tables, deep nesting, OR) are refused
//! with the shape unmade.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

use super::support::{Fixture, get};

fn encode(text: &str) -> String {
    let pair = serde_urlencoded::to_string([("v", text)]).unwrap();
    pair["v=".len()..].to_owned()
}

const MEMBER_TASKS: &str =
    "organization_id IN (SELECT organization_id FROM organization_members WHERE user_id = $1)";

/// Follows a subquery shape as a client does: rows with their tags, move-outs by pattern.
struct Follower {
    query: String,
    handle: Option<String>,
    offset: String,
    cursor: String,
    live: bool,
    rows: BTreeMap<String, (serde_json::Map<String, Value>, BTreeSet<String>)>,
    conflicts: usize,
}

impl Follower {
    fn new(user: Uuid) -> Self {
        Self::of("tasks", MEMBER_TASKS, user)
    }

    /// Follows `table` where `where_text`, `$1` being `user`.
    fn of(table: &str, where_text: &str, user: Uuid) -> Self {
        Self {
            query: format!(
                "table={table}&where={}&params%5B1%5D={user}",
                encode(where_text)
            ),
            handle: None,
            offset: "-1".into(),
            cursor: String::new(),
            live: false,
            rows: BTreeMap::new(),
            conflicts: 0,
        }
    }

    /// One request; returns how many messages it brought.
    async fn step(&mut self, base: &str) -> usize {
        let mut query = format!("{}&offset={}", self.query, self.offset);
        if let Some(handle) = &self.handle {
            query.push_str(&format!("&handle={handle}"));
        }
        if self.live {
            query.push_str(&format!("&live=true&cursor={}", self.cursor));
        }
        let reply = get(base, &query).await;
        if reply.status == 409 {
            self.conflicts += 1;
            self.handle = reply.header("electric-handle").map(str::to_owned);
            self.offset = "-1".into();
            self.rows.clear();
            self.live = false;
            return 0;
        }
        assert_eq!(reply.status, 200, "{}", reply.body);
        self.handle = reply.header("electric-handle").map(str::to_owned);
        self.offset = reply.header("electric-offset").unwrap().to_owned();
        if let Some(cursor) = reply.header("electric-cursor") {
            self.cursor = cursor.to_owned();
        }
        let messages = reply.messages();
        for message in &messages {
            self.apply(message);
        }
        if messages
            .last()
            .is_some_and(|m| m["headers"]["control"] == "up-to-date")
        {
            self.live = true;
        }
        messages
            .iter()
            .filter(|m| m["headers"]["control"].is_null())
            .count()
    }

    fn apply(&mut self, message: &Value) {
        let headers = &message["headers"];
        let strings = |name: &str| -> Vec<String> {
            headers[name]
                .as_array()
                .map(|a| a.iter().map(|t| t.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        if headers["event"] == "move-out" {
            let patterns: Vec<String> = headers["patterns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    assert_eq!(p["pos"], 0, "one subquery: one tag part");
                    p["value"].as_str().unwrap().to_owned()
                })
                .collect();
            self.rows.retain(|_, (_, tags)| {
                tags.retain(|t| !patterns.contains(t));
                !tags.is_empty()
            });
            return;
        }
        let Some(operation) = headers["operation"].as_str() else {
            return;
        };
        let key = message["key"].as_str().unwrap().to_owned();
        let value = message["value"].as_object().unwrap().clone();
        match operation {
            "insert" => {
                let tags: BTreeSet<String> = strings("tags").into_iter().collect();
                assert!(
                    !tags.is_empty(),
                    "a subquery shape's row carries tags: {message}"
                );
                self.rows.insert(key, (value, tags));
            }
            "update" => {
                let entry = self.rows.entry(key).or_default();
                entry.0.extend(value);
                for tag in strings("removed_tags") {
                    entry.1.remove(&tag);
                }
                entry.1.extend(strings("tags"));
            }
            "delete" => {
                self.rows.remove(&key);
            }
            other => panic!("unknown operation {other}"),
        }
    }

    /// Requests until a live request brings nothing for a while.
    async fn settle(&mut self, base: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut quiet = 0;
        while quiet < 2 {
            assert!(Instant::now() < deadline, "the shape did not settle");
            let brought = self.step(base).await;
            quiet = if self.live && brought == 0 {
                quiet + 1
            } else {
                0
            };
        }
    }

    /// Follows until `held` equals `expected` (at most 20 s); the last rows held.
    async fn until_equal<T: PartialEq + std::fmt::Debug>(
        &mut self,
        base: &str,
        held: impl Fn(&Self) -> T,
        expected: T,
        what: &str,
    ) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while held(self) != expected {
            assert!(
                Instant::now() < deadline,
                "{what}: held {:?}, Postgres has {expected:?}",
                held(self)
            );
            self.step(base).await;
        }
    }

    /// The ids of the rows held.
    fn ids(&self) -> BTreeSet<String> {
        self.rows
            .values()
            .map(|(row, _)| row["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// (id, organization_id, title) of every row held.
    fn held(&self) -> BTreeSet<(String, String, String)> {
        self.rows
            .values()
            .map(|(row, _)| {
                let text = |c: &str| row[c].as_str().unwrap().to_owned();
                (text("id"), text("organization_id"), text("title"))
            })
            .collect()
    }
}

async fn postgres_rows(fx: &Fixture, user: Uuid) -> BTreeSet<(String, String, String)> {
    fx.sql()
        .await
        .query(
            &format!(
                "SELECT id::text, organization_id::text, title FROM tasks WHERE {}",
                MEMBER_TASKS
            ),
            &[&user],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test]
async fn moves_racing_with_task_updates_end_in_postgres_rows_without_a_409() {
    let fx = Fixture::start_with(|c| c.long_poll = Duration::from_millis(300)).await;
    let user = fx.team.users[0].id;
    let orgs: Vec<Uuid> = fx.team.organizations.iter().map(|o| o.id).collect();
    let mut follower = Follower::new(user);
    follower.settle(fx.base()).await;
    assert_eq!(
        follower.held(),
        postgres_rows(&fx, user).await,
        "the snapshot"
    );
    let url = fx.database_url.clone();
    let memberships = {
        let (url, orgs) = (url.clone(), orgs.clone());
        tokio::spawn(async move {
            let sql = superset::server::db::connect(&url).await.unwrap();
            for round in 0..40_usize {
                let org = orgs[round % orgs.len()];
                if round % 3 == 2 {
                    sql.execute(
                        "DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2",
                        &[&org, &user],
                    )
                    .await
                    .unwrap();
                } else {
                    sql.execute(
                        "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2) \
                         ON CONFLICT DO NOTHING",
                        &[&org, &user],
                    )
                    .await
                    .unwrap();
                }
                tokio::time::sleep(Duration::from_millis(7)).await;
            }
        })
    };
    let tasks = tokio::spawn(async move {
        let sql = superset::server::db::connect(&url).await.unwrap();
        for round in 0..80_usize {
            let org = orgs[(round * 7) % orgs.len()];
            sql.execute(
                "UPDATE tasks SET title = 'moved ' || $2::int, organization_id = $1 \
                 WHERE id = (SELECT id FROM tasks ORDER BY random() LIMIT 1)",
                &[&org, &(round as i32)],
            )
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    });
    // Follow while the writers run, then until quiet.
    while !(memberships.is_finished() && tasks.is_finished()) {
        follower.step(fx.base()).await;
    }
    memberships.await.unwrap();
    tasks.await.unwrap();
    let expected = postgres_rows(&fx, user).await;
    follower
        .until_equal(fx.base(), Follower::held, expected, "after the writes")
        .await;
    assert_eq!(follower.conflicts, 0, "no 409 while rows moved");
    fx.finish().await;
}

#[tokio::test]
async fn subqueries_the_service_must_not_serve_are_refused() {
    let fx = Fixture::start().await;
    let refused = [
        (
            "id IN (SELECT user_id FROM refresh_tokens)",
            "unknown table",
        ),
        (
            "organization_id IN (SELECT organization_id FROM organization_members WHERE user_id IN \
             (SELECT id FROM users WHERE id IN (SELECT user_id FROM organization_members WHERE \
             organization_id IN (SELECT organization_id FROM organization_members))))",
            "nested more than 3 deep",
        ),
        (
            "title = 'x' OR organization_id IN (SELECT organization_id FROM organization_members)",
            "under OR or NOT",
        ),
    ];
    for (where_text, says) in refused {
        let reply = get(
            fx.base(),
            &format!("table=tasks&offset=-1&where={}", encode(where_text)),
        )
        .await;
        assert_eq!(reply.status, 400, "{where_text}: {}", reply.body);
        assert!(reply.body.contains(says), "{where_text}: {}", reply.body);
    }
    assert!(
        fx.server.service.registry().is_empty(),
        "no shape was made for a refused subquery"
    );
    fx.finish().await;
}

/// The user's teammates: members of any organization the user belongs to.
const TEAMMATES: &str = "id IN (SELECT user_id FROM organization_members WHERE organization_id IN \
     (SELECT organization_id FROM organization_members WHERE user_id = $1))";

#[tokio::test]
async fn a_nested_subquery_follows_memberships_at_both_levels_without_a_409() {
    let fx = Fixture::start_with(|c| c.long_poll = Duration::from_millis(300)).await;
    let user = fx.team.users[0].id;
    let orgs: Vec<Uuid> = fx.team.organizations.iter().map(|o| o.id).collect();
    let others: Vec<Uuid> = fx
        .team
        .users
        .iter()
        .map(|u| u.id)
        .filter(|id| *id != user)
        .collect();
    let expected = || async {
        let rows = fx
            .sql()
            .await
            .query(
                &format!("SELECT id::text FROM users WHERE {TEAMMATES}"),
                &[&user],
            )
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<BTreeSet<String>>()
    };
    let mut follower = Follower::of("users", TEAMMATES, user);
    follower.settle(fx.base()).await;
    assert_eq!(follower.ids(), expected().await, "the snapshot");
    let sql = fx.sql().await;
    let mut rng = 7_u64;
    let mut next = |n: usize| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) as usize % n
    };
    for round in 0..60 {
        // Half the time the user's own memberships (the inner level), half a teammate's.
        let member = if round % 2 == 0 {
            user
        } else {
            others[next(others.len())]
        };
        let org = orgs[next(orgs.len())];
        let statement = if next(3) == 0 {
            "DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2"
        } else {
            "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING"
        };
        sql.execute(statement, &[&org, &member]).await.unwrap();
        if round % 10 == 9 {
            let what = format!("after round {round}");
            follower
                .until_equal(fx.base(), Follower::ids, expected().await, &what)
                .await;
        }
    }
    assert_eq!(follower.conflicts, 0, "no 409 while memberships changed");
    fx.finish().await;
}
