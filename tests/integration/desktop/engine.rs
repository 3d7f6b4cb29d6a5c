//! The engine in-process: it converges, moves teammates in and out without a refetch, and
//! recovers from a restarted server, a 409 and a refused token without anyone signing in.

use std::time::Duration;

use superset::profile;
use superset::store;
use superset::testkit::AppServer;

use super::support::{Desktop, Setup, churn, converge};

#[tokio::test]
async fn the_desktop_converges_with_what_the_user_may_see() {
    let (setup, profile, user, desktop) = Setup::live_desktop(200).await;
    let pg = setup.sql().await;
    converge(&pg, profile.path(), user.id, Duration::from_secs(10)).await;
    churn(&pg, 150, 42).await;
    converge(&pg, profile.path(), user.id, Duration::from_secs(30)).await;
    desktop.stop().await;
    // A user in one organization sees only that one.
    let single = setup
        .team
        .users
        .iter()
        .find(|u| u.id != user.id)
        .unwrap()
        .clone();
    let other_profile = tempfile::tempdir().unwrap();
    setup.login(other_profile.path(), &single.email).await;
    let mut desktop = Desktop::start(other_profile.path());
    desktop.wait_live(Duration::from_secs(30)).await;
    converge(
        &pg,
        other_profile.path(),
        single.id,
        Duration::from_secs(10),
    )
    .await;
    desktop.stop().await;
    setup.stop().await;
}

#[tokio::test]
async fn a_restarted_server_with_new_shapes_and_keys_is_recovered_without_signing_in() {
    let mut setup = Setup::start(50).await;
    let profile = tempfile::tempdir().unwrap();
    let user = setup.multi_org_user().clone();
    setup.login(profile.path(), &user.email).await;
    let mut desktop = Desktop::start(profile.path());
    desktop.wait_live(Duration::from_secs(30)).await;
    // The server comes back on the same address with a new slot and shape store (every handle
    // the desktop holds is unknown: 409) and a new signing key (its access token is refused:
    // 401, then a refresh with the stored refresh token).
    let address = setup.server.base_url.clone();
    setup.server.stop().await;
    let new_dir = tempfile::tempdir().unwrap();
    setup.server = AppServer::start_on(
        &setup.database_url,
        new_dir.path(),
        "another-secret-that-is-at-least-32-bytes",
        &address,
    )
    .await;
    let pg = setup.sql().await;
    churn(&pg, 20, 7).await;
    converge(&pg, profile.path(), user.id, Duration::from_secs(60)).await;
    desktop.wait_live(Duration::from_secs(30)).await;
    desktop.stop().await;
    setup.stop().await;
}

/// The `users` shape is a subquery over memberships: a teammate joining one of the user's
/// organizations moves their row in, leaving moves it out — and the desktop's shape is never
/// refetched (its handle stays the same).
#[tokio::test]
async fn a_teammate_joining_and_leaving_moves_their_row_without_a_refetch() {
    let (setup, profile, user, desktop) = Setup::live_desktop(50).await;
    let pg = setup.sql().await;
    converge(&pg, profile.path(), user.id, Duration::from_secs(10)).await;
    let db = profile::database_path(profile.path());
    let org = setup.team.organizations[0].id;
    let users_handle = || -> String {
        let conn = store::open(&db).unwrap();
        conn.query_row(
            "SELECT handle FROM electric_sync_state WHERE table_name = ?1",
            [format!("users@{org}")],
            |r| r.get(0),
        )
        .unwrap()
    };
    let has_user = |id: uuid::Uuid| -> bool {
        let conn = store::open(&db).unwrap();
        conn.query_row(
            "SELECT count(*) FROM users WHERE id = ?1",
            [id.to_string()],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            == 1
    };
    let handle = users_handle();
    let newcomer: uuid::Uuid = pg
        .query_one(
            "INSERT INTO users (email, name) VALUES ('newcomer@example.com', 'New Comer') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let wait_for = |present: bool| async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while has_user(newcomer) != present {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the newcomer's row did not {} the desktop",
                if present { "reach" } else { "leave" }
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    wait_for(false).await;
    for round in 0..3 {
        pg.execute(
            "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2)",
            &[&org, &newcomer],
        )
        .await
        .unwrap();
        wait_for(true).await;
        pg.execute(
            "DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2",
            &[&org, &newcomer],
        )
        .await
        .unwrap();
        wait_for(false).await;
        assert_eq!(
            users_handle(),
            handle,
            "round {round}: the users shape was refetched"
        );
    }
    converge(&pg, profile.path(), user.id, Duration::from_secs(10)).await;
    assert_eq!(users_handle(), handle, "the users shape was refetched");
    desktop.stop().await;
    setup.stop().await;
}
