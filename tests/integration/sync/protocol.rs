//! Requests and responses as Electric defines them.

use std::time::Duration;

use serde_json::Value;

use super::support::{Fixture, get};

#[tokio::test]
async fn snapshot_then_live_insert_update_delete_arrive_in_order() {
    let fx = Fixture::start().await;
    let org = fx.team.organizations[0].id;
    let definition = fx.org_tasks();
    let first = get(fx.base(), &format!("{definition}&offset=-1")).await;
    assert_eq!(first.status, 200);
    let handle = first.header("electric-handle").unwrap().to_owned();
    assert!(
        first
            .header("electric-schema")
            .unwrap()
            .contains(r#""id":{"#)
    );
    assert_eq!(
        first.header("cache-control"),
        Some("public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746")
    );
    let snapshot = first.messages();
    assert!(
        snapshot
            .iter()
            .all(|m| m["headers"]["control"] != "up-to-date"),
        "an offset=-1 reply never ends with up-to-date"
    );
    let expected = fx.team.tasks.iter().filter(|t| t.organization == 0).count();
    let rows = snapshot
        .iter()
        .filter(|m| m["headers"]["operation"] == "insert")
        .count();
    assert_eq!(rows, expected);
    assert_eq!(
        snapshot.last().unwrap()["headers"]["control"],
        "snapshot-end"
    );

    let mut follower = fx.follow(&definition);
    follower.catch_up().await;
    assert_eq!(follower.handle.as_deref(), Some(handle.as_str()));
    assert_eq!(follower.rows.len(), expected);

    let sql = fx.sql().await;
    let id: uuid::Uuid = sql
        .query_one(
            "INSERT INTO tasks (organization_id, title) VALUES ($1, 'Live one') RETURNING id",
            &[&org],
        )
        .await
        .unwrap()
        .get(0);
    sql.execute("UPDATE tasks SET status = 'Done' WHERE id = $1", &[&id])
        .await
        .unwrap();
    sql.execute("DELETE FROM tasks WHERE id = $1", &[&id])
        .await
        .unwrap();
    follower
        .until(Duration::from_secs(10), |f| f.log.len() >= expected + 3)
        .await;
    let live: Vec<&Value> = follower.log[expected..].iter().collect();
    let operations: Vec<&str> = live
        .iter()
        .map(|m| m["headers"]["operation"].as_str().unwrap())
        .collect();
    assert_eq!(operations, ["insert", "update", "delete"]);
    let key = format!("\"public\".\"tasks\"/\"{id}\"");
    assert!(live.iter().all(|m| m["key"] == key.as_str()));
    // The update carries the key and what changed (replica=default), the delete only the key.
    assert_eq!(live[1]["value"]["status"], "Done");
    assert_eq!(live[1]["value"]["id"], id.to_string());
    assert!(live[1]["value"].get("title").is_none());
    assert_eq!(live[2]["value"].as_object().unwrap().len(), 1);
    let lsns: Vec<u64> = live
        .iter()
        .map(|m| m["headers"]["lsn"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        lsns.windows(2).all(|w| w[0] < w[1]),
        "commit LSNs increase: {lsns:?}"
    );
    for message in &live {
        assert_eq!(message["headers"]["last"], true);
        assert!(message["headers"]["txids"][0].as_u64().unwrap() > 0);
    }
    assert_eq!(follower.offset, format!("{}_0", lsns[2]));
    fx.finish().await;
}

#[tokio::test]
async fn offset_now_skips_history_and_live_requests_time_out_with_up_to_date() {
    let fx = Fixture::start_with(|c| c.long_poll = Duration::from_millis(300)).await;
    let now = get(fx.base(), &format!("{}&offset=now", fx.org_tasks())).await;
    assert_eq!(now.status, 200);
    assert_eq!(now.header("electric-has-data"), Some("false"));
    assert!(now.header("electric-up-to-date").is_some());
    assert!(now.header("electric-schema").is_some());
    let messages = now.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["headers"]["control"], "up-to-date");
    let handle = now.header("electric-handle").unwrap();
    let offset = now.header("electric-offset").unwrap();
    let started = std::time::Instant::now();
    let live = get(
        fx.base(),
        &format!(
            "{}&offset={offset}&handle={handle}&live=true&cursor=",
            fx.org_tasks()
        ),
    )
    .await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(live.status, 200);
    assert_eq!(live.header("electric-has-data"), Some("false"));
    assert_eq!(live.header("electric-offset"), Some(offset));
    assert!(live.header("electric-cursor").is_some());
    assert!(
        live.header("electric-schema").is_none(),
        "no schema on live responses"
    );
    assert_eq!(
        live.header("cache-control"),
        Some("public, max-age=5, stale-while-revalidate=5")
    );
    assert_eq!(live.messages()[0]["headers"]["control"], "up-to-date");
    fx.finish().await;
}

#[tokio::test]
async fn a_handle_that_does_not_match_the_definition_gets_409_with_the_right_handle() {
    let fx = Fixture::start().await;
    let mut follower = fx.follow(&fx.org_tasks());
    follower.catch_up().await;
    let old_handle = follower.handle.clone().unwrap();
    // Same handle, another organization: another shape.
    let other = format!(
        "table=tasks&where=organization_id%20%3D%20%241&params%5B1%5D={}",
        fx.team.organizations[1].id
    );
    let response = get(
        fx.base(),
        &format!("{other}&offset={}&handle={old_handle}", follower.offset),
    )
    .await;
    assert_eq!(response.status, 409);
    let new_handle = response.header("electric-handle").unwrap();
    assert_ne!(new_handle, old_handle);
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=60, must-revalidate")
    );
    assert_eq!(response.messages()[0]["headers"]["control"], "must-refetch");
    // The handle it points to serves that definition.
    let fresh = get(fx.base(), &format!("{other}&offset=-1")).await;
    assert_eq!(fresh.header("electric-handle"), Some(new_handle));
    // An unknown handle is a 409 too.
    let unknown = get(
        fx.base(),
        &format!("{}&offset=5_0&handle=nope", fx.org_tasks()),
    )
    .await;
    assert_eq!(unknown.status, 409);
    assert_eq!(unknown.header("electric-handle"), Some(old_handle.as_str()));
    fx.finish().await;
}

#[tokio::test]
async fn truncate_and_alter_table_retire_shapes_with_409() {
    let fx = Fixture::start().await;
    let mut follower = fx.follow("table=repositories");
    follower.catch_up().await;
    let first_handle = follower.handle.clone().unwrap();
    let sql = fx.sql().await;
    sql.batch_execute("TRUNCATE repositories CASCADE")
        .await
        .unwrap();
    follower
        .until(Duration::from_secs(10), |f| f.refetches == 1)
        .await;
    assert_ne!(follower.handle.as_deref(), Some(first_handle.as_str()));
    follower.catch_up().await;
    assert!(
        follower.rows.is_empty(),
        "the table is empty after the truncate"
    );
    let second_handle = follower.handle.clone().unwrap();
    // A schema change reaches the stream with the next write to the table.
    sql.batch_execute(
        "ALTER TABLE repositories ADD COLUMN stars int4; \
         INSERT INTO repositories (organization_id, name, slug, url) \
         SELECT id, 'n', 'n', 'https://github.com/x/n' FROM organizations LIMIT 1",
    )
    .await
    .unwrap();
    follower
        .until(Duration::from_secs(10), |f| f.refetches == 2)
        .await;
    follower.catch_up().await;
    assert_ne!(follower.handle.as_deref(), Some(second_handle.as_str()));
    assert_eq!(follower.rows.len(), 1);
    assert!(follower.rows.values().next().unwrap().contains_key("stars"));
    // Retired handles are never served again.
    for old in [&first_handle, &second_handle] {
        let response = get(
            fx.base(),
            &format!("table=repositories&offset=0_0&handle={old}"),
        )
        .await;
        assert_eq!(response.status, 409);
        assert_eq!(
            response.header("electric-handle"),
            follower.handle.as_deref()
        );
    }
    fx.finish().await;
}

#[tokio::test]
async fn bad_requests_get_electric_shaped_400s() {
    let fx = Fixture::start().await;
    let cases: &[(&str, &str, &str)] = &[
        ("table=tasks", "offset", "can't be blank"),
        ("table=tasks&offset=abc", "offset", "has invalid format"),
        ("offset=-1", "table", "can't be blank"),
        ("table=nope&offset=-1", "table", "does not exist"),
        (
            "table=tasks&offset=-1&where=lower(title)%20%3D%20'x'",
            "where",
            "lower",
        ),
        (
            "table=tasks&offset=-1&where=title%20%3D",
            "where",
            "At location",
        ),
        (
            "table=tasks&offset=-1&where=id%20%3D%20'x';%20DROP%20TABLE%20tasks",
            "where",
            "",
        ),
        (
            "table=tasks&offset=-1&where=priority%20%3D%20%242",
            "params",
            "",
        ),
        (
            "table=tasks&offset=-1&columns=title",
            "columns",
            "must include all primary key columns",
        ),
        (
            "table=tasks&offset=-1&columns=id,nope",
            "columns",
            "not found",
        ),
        (
            "table=tasks&offset=-1&where=organization_id%20%3D%205",
            "where",
            "",
        ),
        ("table=tasks&offset=1_0", "handle", "can't be blank"),
        ("table=tasks&offset=-1&live=true", "live", "can't be true"),
    ];
    for (query, field, needle) in cases {
        let response = get(fx.base(), query).await;
        assert_eq!(response.status, 400, "{query}: {}", response.body);
        assert_eq!(
            response.header("cache-control"),
            Some("no-store"),
            "{query}"
        );
        let body = response.json();
        assert_eq!(body["message"], "Invalid request", "{query}");
        let errors = body["errors"].as_object().unwrap();
        let (got_field, messages) = errors.iter().next().unwrap();
        let field_ok = got_field == field || (*field == "params" && got_field == "where");
        assert!(field_ok, "{query}: {body}");
        assert!(
            messages[0].as_str().unwrap().contains(needle),
            "{query}: {body}"
        );
    }
    fx.finish().await;
}

#[tokio::test]
async fn the_secret_is_required_when_configured() {
    let fx = Fixture::start_with(|c| c.secret = Some("s3cret".into())).await;
    let denied = get(fx.base(), "table=users&offset=-1").await;
    assert_eq!(denied.status, 401);
    assert_eq!(
        denied.json()["message"],
        "Unauthorized - Invalid API secret"
    );
    let wrong = get(fx.base(), "table=users&offset=-1&secret=nope").await;
    assert_eq!(wrong.status, 401);
    let allowed = get(fx.base(), "table=users&offset=-1&secret=s3cret").await;
    assert_eq!(allowed.status, 200);
    fx.finish().await;
}

#[tokio::test]
async fn rows_moving_in_and_out_of_a_shape_arrive_as_insert_and_delete() {
    let fx = Fixture::start().await;
    let shape =
        |status: &str| format!("table=tasks&where=status%20%3D%20%241&params%5B1%5D={status}");
    let mut in_todo = fx.follow(&shape("Todo"));
    let mut in_done = fx.follow(&shape("Done"));
    in_todo.catch_up().await;
    in_done.catch_up().await;
    let (count_todo, count_done) = (in_todo.rows.len(), in_done.rows.len());
    let sql = fx.sql().await;
    let moved: uuid::Uuid = sql
        .query_one(
            "UPDATE tasks SET status = 'Done' \
             WHERE id = (SELECT id FROM tasks WHERE status = 'Todo' ORDER BY id LIMIT 1) RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    in_todo
        .until(Duration::from_secs(10), |f| f.rows.len() == count_todo - 1)
        .await;
    in_done
        .until(Duration::from_secs(10), |f| f.rows.len() == count_done + 1)
        .await;
    let left = in_todo.log.last().unwrap();
    assert_eq!(left["headers"]["operation"], "delete");
    assert!(left["key"].as_str().unwrap().contains(&moved.to_string()));
    let arrived = in_done.log.last().unwrap();
    assert_eq!(arrived["headers"]["operation"], "insert");
    assert!(
        arrived["value"]["title"].as_str().is_some(),
        "a move-in carries the whole row"
    );
    fx.finish().await;
}

#[tokio::test]
async fn server_sent_events_deliver_live_changes() {
    let fx = Fixture::start().await;
    let mut follower = fx.follow("table=organizations");
    follower.catch_up().await;
    let url = format!(
        "{}/v1/shape?table=organizations&offset={}&handle={}&live=true&live_sse=true&experimental_live_sse=true&cursor=",
        fx.base(),
        follower.offset,
        follower.handle.as_deref().unwrap()
    );
    let response = reqwest::Client::new()
        .get(url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let sql = fx.sql().await;
    sql.execute(
        "UPDATE organizations SET name = 'Renamed over SSE' WHERE slug = 'superset'",
        &[],
    )
    .await
    .unwrap();
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !text.contains("up-to-date") {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let events: Vec<Value> = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(events[0]["headers"]["operation"], "update");
    assert_eq!(events[0]["value"]["name"], "Renamed over SSE");
    assert_eq!(events.last().unwrap()["headers"]["control"], "up-to-date");
    fx.finish().await;
}

#[tokio::test]
async fn replica_full_sends_whole_rows_and_old_values_and_columns_project() {
    let fx = Fixture::start().await;
    let definition = "table=organizations&replica=full&columns=id,name";
    let mut follower = fx.follow(definition);
    follower.catch_up().await;
    assert!(
        follower.rows.values().all(|row| row.len() == 2),
        "only the selected columns arrive: {:?}",
        follower.rows
    );
    let sql = fx.sql().await;
    sql.execute(
        "UPDATE organizations SET name = 'Whole rows' WHERE slug = 'superset'",
        &[],
    )
    .await
    .unwrap();
    sql.execute(
        "UPDATE organizations SET avatar_url = 'https://x/y.png' WHERE slug = 'globex'",
        &[],
    )
    .await
    .unwrap();
    let before = follower.log.len();
    follower
        .until(Duration::from_secs(10), |f| f.log.len() > before)
        .await;
    let update = &follower.log[before];
    assert_eq!(update["headers"]["operation"], "update");
    assert_eq!(
        update["value"].as_object().unwrap().len(),
        2,
        "the whole (projected) row"
    );
    assert_eq!(update["value"]["name"], "Whole rows");
    assert_eq!(
        update["old_value"]["name"], "Superset",
        "old values of changed columns"
    );
    // A change to a column outside the projection sends nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(follower.log.len(), before + 1);
    fx.finish().await;
}

#[tokio::test]
async fn a_matching_if_none_match_gets_304_and_head_works() {
    let fx = Fixture::start().await;
    let first = get(fx.base(), "table=users&offset=-1").await;
    let etag = first.header("etag").unwrap().to_owned();
    let response = reqwest::Client::new()
        .get(format!("{}/v1/shape?table=users&offset=-1", fx.base()))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(
        response.headers()["electric-handle"],
        first.header("electric-handle").unwrap()
    );
    let head = reqwest::Client::new()
        .head(format!("{}/v1/shape?table=users&offset=-1", fx.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.headers().contains_key("electric-offset"));
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/v1/shape", fx.base()))
        .header(
            "access-control-request-headers",
            "if-none-match, authorization",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-headers"],
        "if-none-match"
    );
    fx.finish().await;
}
