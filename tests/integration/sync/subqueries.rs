//! Subquery shapes as plain HTTP: the rows a subquery shape serves are Postgres's for the same
//! where clause; memberships added and removed while tasks move between organizations end in
//! Postgres's rows with no 409 (moves racing with outer-row updates); a nested subquery (the
//! user's teammates, through their organizations) follows memberships changing at both levels;
//! and subqueries the service must not serve (unsynced tables, deep nesting, OR) are refused
//! with the shape unmade.

use std::collections::BTreeSet;
use std::time::Duration;

use uuid::Uuid;

use super::support::{Fixture, ShapeFollower, get};

fn encode(text: &str) -> String {
    let pair = serde_urlencoded::to_string([("v", text)]).unwrap();
    pair["v=".len()..].to_owned()
}

const MEMBER_TASKS: &str =
    "organization_id IN (SELECT organization_id FROM organization_members WHERE user_id = $1)";

/// A follower of `table` where `where_text`, `$1` being `user`, straight from the service.
fn follow(fx: &Fixture, table: &str, where_text: &str, user: Uuid) -> ShapeFollower {
    fx.follow(&format!(
        "table={table}&where={}&params%5B1%5D={user}",
        encode(where_text)
    ))
}

/// Follows until `held` equals `expected` (at most 20 s), every row held by its tags.
async fn until_equal<T: PartialEq>(
    follower: &mut ShapeFollower,
    held: impl Fn(&ShapeFollower) -> T,
    expected: T,
) {
    follower
        .until(Duration::from_secs(20), |f| held(f) == expected)
        .await;
    assert!(
        follower
            .rows
            .keys()
            .all(|key| follower.tags.contains_key(key)),
        "every row of a subquery shape carries tags"
    );
}

/// (id, organization_id, title) of every row held.
fn held(follower: &ShapeFollower) -> BTreeSet<(String, String, String)> {
    follower
        .rows
        .values()
        .map(|row| {
            let text = |c: &str| row[c].as_str().unwrap().to_owned();
            (text("id"), text("organization_id"), text("title"))
        })
        .collect()
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
    let mut follower = follow(&fx, "tasks", MEMBER_TASKS, user);
    until_equal(&mut follower, held, postgres_rows(&fx, user).await).await;
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
        // The sync service serves any database, where rows may move between the subquery's
        // values; ours refuses moving a task to another organization, so this test lifts that.
        sql.batch_execute("ALTER TABLE tasks DISABLE TRIGGER tasks_keep_organization")
            .await
            .unwrap();
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
        follower.step().await;
    }
    memberships.await.unwrap();
    tasks.await.unwrap();
    let expected = postgres_rows(&fx, user).await;
    until_equal(&mut follower, held, expected).await;
    assert_eq!(follower.refetches, 0, "no 409 while rows moved");
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
    let mut follower = follow(&fx, "users", TEAMMATES, user);
    until_equal(&mut follower, ShapeFollower::ids, expected().await).await;
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
            until_equal(&mut follower, ShapeFollower::ids, expected().await).await;
        }
    }
    assert_eq!(follower.refetches, 0, "no 409 while memberships changed");
    fx.finish().await;
}
