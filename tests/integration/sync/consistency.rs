//! Nothing lost, nothing doubled: between snapshot and stream, across restarts of the service,
//! and across a lost replication connection.

use std::collections::BTreeSet;
use std::time::Duration;

use superset::testkit::SyncServer;

use super::support::{Fixture, ShapeFollower};

/// Ids of the rows a follower holds, from their keys.
fn ids(follower: &ShapeFollower) -> BTreeSet<String> {
    follower
        .rows
        .values()
        .map(|row| row["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn ids_in_postgres(client: &tokio_postgres::Client, org: uuid::Uuid) -> BTreeSet<String> {
    client
        .query(
            "SELECT id::text FROM tasks WHERE organization_id = $1",
            &[&org],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn concurrent_writes_during_the_snapshot_are_neither_lost_nor_doubled() {
    let fx = Fixture::start().await;
    let org = fx.team.organizations[0].id;
    let sql = fx.sql().await;
    sql.execute(
        "INSERT INTO tasks (organization_id, title) SELECT $1, 'bulk ' || n FROM generate_series(1, 20000) n",
        &[&org],
    )
    .await
    .unwrap();
    // Writers keep inserting, updating and deleting while the shape is created.
    let url = fx.database_url.clone();
    let writer = tokio::spawn(async move {
        let client = superset::server::db::connect(&url).await.unwrap();
        for n in 0..300 {
            client
                .execute(
                    "INSERT INTO tasks (organization_id, title) VALUES ($1, 'during ' || $2::int4)",
                    &[&org, &n],
                )
                .await
                .unwrap();
            if n % 10 == 0 {
                client
                    .execute(
                        "DELETE FROM tasks WHERE id = (SELECT id FROM tasks WHERE title LIKE 'bulk %' \
                         AND organization_id = $1 ORDER BY id LIMIT 1)",
                        &[&org],
                    )
                    .await
                    .unwrap();
            }
        }
    });
    let mut follower = fx.follow(&fx.org_tasks());
    follower.catch_up().await;
    writer.await.unwrap();
    let expected = ids_in_postgres(&sql, org).await;
    follower
        .until(Duration::from_secs(30), |f| f.rows.len() == expected.len())
        .await;
    assert_eq!(ids(&follower), expected);
    // Exactly once: no key was inserted twice without a delete in between.
    let mut present = BTreeSet::new();
    for message in &follower.log {
        let key = message["key"].as_str().unwrap().to_owned();
        match message["headers"]["operation"].as_str().unwrap() {
            "insert" => assert!(present.insert(key), "a row arrived twice"),
            "delete" => assert!(present.remove(&key), "a delete for a row never seen"),
            _ => {}
        }
    }
    fx.finish().await;
}

#[tokio::test]
async fn a_restarted_service_resumes_clients_without_a_refetch() {
    let fx = Fixture::start().await;
    let org = fx.team.organizations[0].id;
    let mut follower = fx.follow(&fx.org_tasks());
    follower.catch_up().await;
    let handle = follower.handle.clone();
    let Fixture {
        database_url,
        server,
        config,
        data_dir,
        team,
    } = fx;
    server.stop().await;
    // Writes while the service is down reach it through the slot.
    let sql = superset::server::db::connect(&database_url).await.unwrap();
    for n in 0..5 {
        sql.execute(
            "INSERT INTO tasks (organization_id, title) VALUES ($1, 'while down ' || $2::int4)",
            &[&org, &n],
        )
        .await
        .unwrap();
    }
    let server = SyncServer::start(config.clone()).await;
    follower.move_to(&server.base_url);
    let expected = ids_in_postgres(&sql, org).await;
    follower
        .until(Duration::from_secs(20), |f| f.rows.len() == expected.len())
        .await;
    assert_eq!(follower.refetches, 0, "the handle survived the restart");
    assert_eq!(follower.handle, handle);
    assert_eq!(ids(&follower), expected);
    let fx = Fixture {
        database_url,
        server,
        config,
        data_dir,
        team,
    };
    fx.finish().await;
}

#[tokio::test]
async fn a_lost_replication_connection_recovers_without_loss() {
    let fx = Fixture::start().await;
    let org = fx.team.organizations[0].id;
    let mut follower = fx.follow(&fx.org_tasks());
    follower.catch_up().await;
    let sql = fx.sql().await;
    for round in 0..3 {
        for n in 0..20 {
            sql.execute(
                "INSERT INTO tasks (organization_id, title) VALUES ($1, 'round ' || $2::int4 || '/' || $3::int4)",
                &[&org, &round, &n],
            )
            .await
            .unwrap();
        }
        // Cut the walsender: the service must reconnect and pick up from the slot.
        sql.execute(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1",
            &[&fx.config.slot],
        )
        .await
        .unwrap();
    }
    let expected = ids_in_postgres(&sql, org).await;
    follower
        .until(Duration::from_secs(30), |f| f.rows.len() == expected.len())
        .await;
    assert_eq!(ids(&follower), expected);
    let inserts = follower
        .log
        .iter()
        .filter(|m| m["headers"]["operation"] == "insert")
        .count();
    assert_eq!(inserts, expected.len(), "no change delivered twice");
    fx.finish().await;
}

#[tokio::test]
async fn a_dropped_slot_is_recreated_and_clients_refetch() {
    let fx = Fixture::start().await;
    let org = fx.team.organizations[0].id;
    let mut follower = fx.follow(&fx.org_tasks());
    follower.catch_up().await;
    let sql = fx.sql().await;
    // The service reconnects quickly; keep cutting it off until the slot can be dropped.
    let mut dropped = false;
    for _ in 0..200 {
        sql.execute(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1",
            &[&fx.config.slot],
        )
        .await
        .unwrap();
        if sql
            .execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                 WHERE slot_name = $1 AND NOT active",
                &[&fx.config.slot],
            )
            .await
            .unwrap()
            == 1
        {
            dropped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(dropped, "could not drop the slot");
    sql.execute(
        "INSERT INTO tasks (organization_id, title) VALUES ($1, 'after the slot was lost')",
        &[&org],
    )
    .await
    .unwrap();
    let expected = ids_in_postgres(&sql, org).await;
    follower
        .until(Duration::from_secs(30), |f| {
            f.refetches >= 1 && f.up_to_date && f.rows.len() == expected.len()
        })
        .await;
    assert_eq!(ids(&follower), expected);
    fx.finish().await;
}
