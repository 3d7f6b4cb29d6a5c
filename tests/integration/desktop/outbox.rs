//! Writes from the desktop: stored first, sent once in order (also after being offline or
//! crashing), confirmed by sync, rolled back with the server's reason when refused.

use std::time::Duration;

use serde_json::{Map, Value, json};
use superset::outbox::{self, Command};
use superset::profile;
use superset::store;
use superset::testkit::{AppServer, TEST_JWT_SECRET};
use uuid::Uuid;

use super::support::{Desktop, Setup};

fn fields(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn enqueue(profile: &std::path::Path, command: Command) -> Option<i64> {
    let mut conn = store::open(&profile::database_path(profile)).unwrap();
    outbox::enqueue(&mut conn, command).unwrap()
}

fn outbox_now(profile: &std::path::Path) -> (Vec<outbox::Entry>, Vec<outbox::Entry>) {
    let conn = store::open(&profile::database_path(profile)).unwrap();
    (
        outbox::overlay(&conn).unwrap(),
        outbox::rejected(&conn).unwrap(),
    )
}

async fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn local_task_title(profile: &std::path::Path, id: Uuid) -> Option<String> {
    let conn = store::open(&profile::database_path(profile)).unwrap();
    conn.query_row(
        "SELECT title FROM tasks WHERE id = ?1",
        [id.to_string()],
        |r| r.get(0),
    )
    .ok()
}

#[tokio::test]
async fn an_offline_write_queues_then_is_sent_once_and_confirmed_by_sync() {
    let mut setup = Setup::start(20).await;
    let profile = tempfile::tempdir().unwrap();
    let user = setup.multi_org_user().clone();
    setup.login(profile.path(), &user.email).await;
    let mut desktop = Desktop::start(profile.path());
    desktop.wait_live(Duration::from_secs(30)).await;
    let address = setup.server.base_url.clone();
    setup.server.stop().await;
    let id = Uuid::new_v4();
    let org = setup.team.organizations[0].id;
    enqueue(
        profile.path(),
        Command::CreateTask {
            id,
            fields: fields(json!({"organization_id": org, "title": "Written offline"})),
        },
    )
    .unwrap();
    desktop.engine.as_ref().unwrap().outbox_added();
    wait_for(Duration::from_secs(10), "a failed attempt", || {
        outbox_now(profile.path())
            .0
            .first()
            .is_some_and(|e| e.attempts > 0 && e.state == "pending")
    })
    .await;
    let new_dir = tempfile::tempdir().unwrap();
    setup.server = AppServer::start_on(
        &setup.database_url,
        new_dir.path(),
        TEST_JWT_SECRET,
        &address,
    )
    .await;
    wait_for(Duration::from_secs(60), "confirmation by sync", || {
        outbox_now(profile.path()).0.is_empty() && local_task_title(profile.path(), id).is_some()
    })
    .await;
    let pg = setup.sql().await;
    let rows: i64 = pg
        .query_one("SELECT count(*) FROM tasks WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    desktop.stop().await;
    setup.stop().await;
}

#[tokio::test]
async fn a_refused_write_is_rolled_back_with_the_servers_reason_and_order_is_kept() {
    let (setup, profile, user, mut desktop) = Setup::live_desktop(20).await;
    let not_mine = setup
        .team
        .workspaces
        .iter()
        .find(|w| setup.team.users[w.owner].id != user.id)
        .unwrap()
        .id;
    enqueue(
        profile.path(),
        Command::UpdateWorkspace {
            id: not_mine,
            fields: fields(json!({"status": "archived"})),
        },
    )
    .unwrap();
    // Create then rename: the rename must not overtake the create.
    let id = Uuid::new_v4();
    let org = setup.team.organizations[0].id;
    enqueue(
        profile.path(),
        Command::CreateTask {
            id,
            fields: fields(json!({"organization_id": org, "title": "First name"})),
        },
    )
    .unwrap();
    enqueue(
        profile.path(),
        Command::UpdateTask {
            id,
            fields: fields(json!({"title": "Second name"})),
            expected: Map::new(),
        },
    )
    .unwrap();
    desktop.engine.as_ref().unwrap().outbox_added();
    wait_for(Duration::from_secs(30), "the writes to settle", || {
        let (overlay, rejected) = outbox_now(profile.path());
        overlay.is_empty()
            && rejected.len() == 1
            && local_task_title(profile.path(), id).as_deref() == Some("Second name")
    })
    .await;
    let (_, rejected) = outbox_now(profile.path());
    let reason = rejected[0].last_error.clone().unwrap();
    assert!(reason.contains("owner"), "{reason}");
    let events = desktop.events.drain();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, superset::sync::events::SyncEvent::WriteRejected { reason } if reason.contains("owner"))),
        "{events:?}"
    );
    desktop.stop().await;
    setup.stop().await;
}

#[tokio::test]
async fn a_crash_after_the_server_applied_a_write_resends_it_exactly_once() {
    let setup = Setup::start(20).await;
    let profile = tempfile::tempdir().unwrap();
    let user = setup.multi_org_user().clone();
    setup.login(profile.path(), &user.email).await;
    let id = Uuid::new_v4();
    let org = setup.team.organizations[0].id;
    enqueue(
        profile.path(),
        Command::CreateTask {
            id,
            fields: fields(json!({"organization_id": org, "title": "Sent before the crash"})),
        },
    )
    .unwrap();
    // The server applied it, but the desktop died before recording that.
    let (device_id, entry) = {
        let conn = store::open(&profile::database_path(profile.path())).unwrap();
        let device: String = conn
            .query_row("SELECT device_id FROM settings", [], |r| r.get(0))
            .unwrap();
        (device, outbox::next_pending(&conn).unwrap().unwrap())
    };
    let login: Value = reqwest::Client::new()
        .post(format!("{}/api/auth/login", setup.server.base_url))
        .json(&json!({"email": user.email, "password": super::support::PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (method, path, body) = entry.command.request();
    let first = reqwest::Client::new()
        .request(method, format!("{}{path}", setup.server.base_url))
        .bearer_auth(login["access_token"].as_str().unwrap())
        .header("idempotency-key", entry.idempotency_key(&device_id))
        .json(&body.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let mut desktop = Desktop::start(profile.path());
    wait_for(
        Duration::from_secs(30),
        "the resend to be confirmed",
        || {
            outbox_now(profile.path()).0.is_empty()
                && local_task_title(profile.path(), id).is_some()
        },
    )
    .await;
    let rows: i64 = setup
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM tasks WHERE title = 'Sent before the crash'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "applied exactly once");
    desktop.wait_live(Duration::from_secs(30)).await;
    desktop.stop().await;
    setup.stop().await;
}

#[tokio::test]
async fn heartbeats_coalesce_and_unchanged_values_write_nothing() {
    let (setup, profile, user, desktop) = Setup::live_desktop(20).await;
    desktop.stop().await;
    let mine = setup
        .team
        .workspaces
        .iter()
        .find(|w| setup.team.users[w.owner].id == user.id)
        .expect("the multi-org user owns a workspace");
    let heartbeat = |at: &str| Command::UpdateWorkspace {
        id: mine.id,
        fields: fields(json!({"last_activity_at": at})),
    };
    let first = enqueue(profile.path(), heartbeat("2026-11-25T10:00:00Z")).unwrap();
    let second = enqueue(profile.path(), heartbeat("2026-11-25T10:00:30Z")).unwrap();
    assert_eq!(
        first, second,
        "the newer heartbeat merges into the unsent one"
    );
    assert_eq!(
        enqueue(profile.path(), heartbeat("2026-11-25T10:00:30Z")),
        None,
        "nothing changed"
    );
    let current_status = mine.status;
    let unchanged = Command::UpdateWorkspace {
        id: mine.id,
        fields: fields(json!({"status": current_status})),
    };
    assert_eq!(
        enqueue(profile.path(), unchanged),
        None,
        "equal to the synced value"
    );
    let (overlay, _) = outbox_now(profile.path());
    assert_eq!(overlay.len(), 1);
    setup.stop().await;
}

/// A conflicted update: the fields it wanted, the teammate's values, and the other field it
/// carried that nobody else touched.
fn conflicted_update(profile: &std::path::Path, id: Uuid) -> i64 {
    let entry = enqueue(
        profile,
        Command::UpdateTask {
            id,
            fields: fields(json!({"status": "In Progress", "priority": "high"})),
            expected: fields(json!({"status": "Todo", "priority": "none"})),
        },
    )
    .unwrap();
    let conn = store::open(&profile::database_path(profile)).unwrap();
    let stored = outbox::overlay(&conn).unwrap().remove(0);
    let answer = json!({
        "error": {"code": "conflict", "message": "Mike changed the status to Done while you were editing"},
        "current": {"status": "Done"},
        "conflicts": [{"field": "status", "expected": "Todo", "current": "Done",
                       "changed_by": {"id": Uuid::nil(), "name": "Mike"}}]
    });
    let conflict = outbox::Conflict::from_response(&answer, &stored.command).unwrap();
    assert_eq!(conflict.fields[0].mine, json!("In Progress"));
    assert_eq!(conflict.fields[0].changed_by.as_deref(), Some("Mike"));
    outbox::mark_conflicted(&conn, &stored, &conflict).unwrap();
    assert!(
        outbox::overlay(&conn).unwrap().is_empty(),
        "a conflict is not shown as mine"
    );
    entry
}

#[test]
fn a_conflict_is_settled_by_keeping_mine_or_taking_theirs() {
    let profile = tempfile::tempdir().unwrap();
    let id = Uuid::new_v4();
    let path = profile::database_path(profile.path());

    // Keep mine: sent again, based on the teammate's value; the untouched field goes too.
    let entry = conflicted_update(profile.path(), id);
    let mut conn = store::open(&path).unwrap();
    assert_eq!(outbox::conflicts(&conn).unwrap().len(), 1);
    outbox::resolve(&mut conn, entry, outbox::Resolution::KeepMine).unwrap();
    assert!(outbox::conflicts(&conn).unwrap().is_empty());
    let pending = outbox::next_pending(&conn).unwrap().unwrap();
    assert_eq!(
        pending.command,
        Command::UpdateTask {
            id,
            fields: fields(json!({"status": "In Progress", "priority": "high"})),
            expected: fields(json!({"status": "Done", "priority": "none"})),
        }
    );
    let (_, path_of_request, body) = pending.command.request();
    assert_eq!(path_of_request, format!("/api/tasks/{id}"));
    assert_eq!(body.unwrap()["expected"]["status"], "Done");
    outbox::discard_pending(&conn).unwrap();

    // Take theirs: my status is dropped; the priority nobody else touched still goes.
    let entry = conflicted_update(profile.path(), id);
    outbox::resolve(&mut conn, entry, outbox::Resolution::TakeTheirs).unwrap();
    let pending = outbox::next_pending(&conn).unwrap().unwrap();
    assert_eq!(
        pending.command,
        Command::UpdateTask {
            id,
            fields: fields(json!({"priority": "high"})),
            expected: fields(json!({"priority": "none"})),
        }
    );
    // Settling twice changes nothing.
    outbox::resolve(&mut conn, entry, outbox::Resolution::KeepMine).unwrap();
    assert_eq!(outbox::overlay(&conn).unwrap().len(), 1);
}

#[test]
fn an_undone_delete_is_dropped_before_it_is_sent_and_restored_after() {
    let profile = tempfile::tempdir().unwrap();
    let id = Uuid::new_v4();
    let mut conn = store::open(&profile::database_path(profile.path())).unwrap();
    outbox::enqueue(&mut conn, Command::DeleteTask { id }).unwrap();
    outbox::undo_delete(&mut conn, id).unwrap();
    assert!(
        outbox::overlay(&conn).unwrap().is_empty(),
        "nothing left to send"
    );

    outbox::enqueue(&mut conn, Command::DeleteTask { id }).unwrap();
    let sent = outbox::next_pending(&conn).unwrap().unwrap();
    outbox::mark_sent(&mut conn, &sent, 42).unwrap();
    outbox::undo_delete(&mut conn, id).unwrap();
    let commands: Vec<Command> = outbox::overlay(&conn)
        .unwrap()
        .into_iter()
        .map(|e| e.command)
        .collect();
    assert_eq!(
        commands,
        vec![Command::DeleteTask { id }, Command::RestoreTask { id }]
    );
}

#[test]
fn an_update_merged_into_one_in_flight_goes_on_based_on_what_was_sent() {
    let profile = tempfile::tempdir().unwrap();
    let id = Uuid::new_v4();
    let mut conn = store::open(&profile::database_path(profile.path())).unwrap();
    let update = |fields_: Value, expected: Value| Command::UpdateTask {
        id,
        fields: fields(fields_),
        expected: fields(expected),
    };
    outbox::enqueue(
        &mut conn,
        update(json!({"priority": "urgent"}), json!({"priority": "none"})),
    )
    .unwrap();
    // The sender took it; before its answer is recorded, two more changes merge into it.
    let in_flight = outbox::next_pending(&conn).unwrap().unwrap();
    outbox::enqueue(
        &mut conn,
        update(json!({"assignee_id": "me"}), json!({"assignee_id": null})),
    )
    .unwrap();
    outbox::enqueue(
        &mut conn,
        update(json!({"priority": "high"}), json!({"priority": "urgent"})),
    )
    .unwrap();
    outbox::mark_sent(&mut conn, &in_flight, 7).unwrap();
    let entries: Vec<(String, Command)> = outbox::overlay(&conn)
        .unwrap()
        .into_iter()
        .map(|e| (e.state, e.command))
        .collect();
    assert_eq!(
        entries,
        vec![
            (
                "sent".to_owned(),
                update(json!({"priority": "urgent"}), json!({"priority": "none"}))
            ),
            (
                "pending".to_owned(),
                update(
                    json!({"assignee_id": "me", "priority": "high"}),
                    json!({"assignee_id": null, "priority": "urgent"})
                )
            ),
        ]
    );
}
