//! Electric 1.x's changes-only logs and subset snapshots, as plain HTTP against the service:
//! a changes-only shape starts empty and then streams; a subset (GET or POST) holds exactly
//! the rows Postgres selects for the same where, order and limit; a subset taken while writes
//! commit, followed by the stream from its offset with the client's xid filter, ends with the
//! same rows as Postgres; and hostile or malformed subsets are refused and change nothing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::support::{Fixture, get};
use crate::support::{Reply, reply};

/// `text` as a query-string value.
fn encode(text: &str) -> String {
    let pair = serde_urlencoded::to_string([("v", text)]).unwrap();
    pair["v=".len()..].to_owned()
}

/// `POST /v1/shape?{query}` with a JSON body.
async fn post(base: &str, query: &str, body: &Value) -> Reply {
    let request = reqwest::Client::new()
        .post(format!("{base}/v1/shape?{query}"))
        .json(body)
        .timeout(Duration::from_secs(60));
    reply(request).await
}

/// The ids of a subset reply's rows, in order, after checking its Electric shape.
fn subset_ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("electric-snapshot"), Some("true"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert!(reply.header("electric-handle").is_some());
    assert!(reply.header("electric-offset").is_some());
    assert!(reply.header("electric-schema").is_some());
    let body = reply.json();
    let metadata = &body["metadata"];
    for field in ["xmin", "xmax", "database_lsn"] {
        assert!(
            metadata[field]
                .as_str()
                .is_some_and(|v| v.parse::<u64>().is_ok()),
            "metadata.{field} is a decimal string: {metadata}"
        );
    }
    assert!(metadata["xip_list"].is_array());
    let mark = metadata["snapshot_mark"].as_u64().expect("a snapshot_mark");
    body["data"]
        .as_array()
        .expect("data is an array")
        .iter()
        .map(|row| {
            assert_eq!(row["headers"]["operation"], "insert");
            assert_eq!(row["headers"]["snapshot_mark"], mark);
            row["value"]["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn postgres_ids(fx: &Fixture, condition: &str, tail: &str) -> Vec<String> {
    let sql = fx.sql().await;
    let org = fx.team.organizations[0].id;
    sql.query(
        &format!("SELECT id::text FROM tasks WHERE organization_id = $1 AND ({condition}) {tail}"),
        &[&org],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test]
async fn a_changes_only_shape_starts_empty_then_streams() {
    let fx = Fixture::start_with(|c| c.long_poll = Duration::from_secs(5)).await;
    let shape = format!("{}&log=changes_only", fx.org_tasks());
    let first = get(fx.base(), &format!("{shape}&offset=-1")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let messages = first.messages();
    assert!(
        messages.iter().all(|m| m["headers"]["operation"].is_null()),
        "no snapshot rows: {messages:?}"
    );
    assert_eq!(
        messages.last().unwrap()["headers"]["control"],
        "snapshot-end"
    );
    // The next request finds nothing more: up to date at once.
    let handle = first.header("electric-handle").unwrap().to_owned();
    let offset = first.header("electric-offset").unwrap().to_owned();
    let caught_up = get(
        fx.base(),
        &format!("{shape}&offset={offset}&handle={handle}"),
    )
    .await;
    let messages = caught_up.messages();
    assert_eq!(messages.len(), 1, "{}", caught_up.body);
    assert_eq!(messages[0]["headers"]["control"], "up-to-date");
    let full = get(fx.base(), &format!("{}&offset=-1", fx.org_tasks())).await;
    assert_ne!(
        full.header("electric-handle"),
        first.header("electric-handle"),
        "changes_only is a shape of its own"
    );
    let sql = fx.sql().await;
    let org = fx.team.organizations[0].id;
    sql.execute(
        "INSERT INTO tasks (organization_id, title) VALUES ($1, 'after the start')",
        &[&org],
    )
    .await
    .unwrap();
    let live = get(
        fx.base(),
        &format!("{shape}&offset={offset}&handle={handle}&live=true&cursor="),
    )
    .await;
    let inserted: Vec<Value> = live
        .messages()
        .into_iter()
        .filter(|m| m["headers"]["operation"] == "insert")
        .collect();
    assert_eq!(inserted.len(), 1, "{}", live.body);
    assert_eq!(inserted[0]["value"]["title"], "after the start");
    fx.finish().await;
}

/// One subset and the same rows as SQL: a condition on the first organization's tasks and
/// what follows it.
struct Case {
    where_text: &'static str,
    params: Value,
    order_by: &'static str,
    limit: Option<u64>,
    offset: Option<u64>,
    condition: &'static str,
    tail: &'static str,
}

#[tokio::test]
async fn subsets_hold_exactly_what_postgres_selects() {
    let fx = Fixture::start().await;
    let shape = format!("{}&offset=-1", fx.org_tasks());
    let cases = [
        Case {
            where_text: "status = $1",
            params: json!({"1": "Todo"}),
            order_by: "id",
            limit: None,
            offset: None,
            condition: "status = 'Todo'",
            tail: "ORDER BY id",
        },
        Case {
            where_text: "priority IN ('high', 'urgent') OR assignee_id IS NULL",
            params: json!({}),
            order_by: "title DESC, id",
            limit: Some(7),
            offset: Some(2),
            condition: "priority IN ('high', 'urgent') OR assignee_id IS NULL",
            tail: "ORDER BY title COLLATE \"C\" DESC, id LIMIT 7 OFFSET 2",
        },
        Case {
            where_text: "\"status\" = ANY($1)",
            params: json!({"1": "{Todo,\"In Progress\"}"}),
            order_by: "priority, created_at DESC NULLS LAST, id",
            limit: Some(5),
            offset: None,
            condition: "status IN ('Todo', 'In Progress')",
            tail: "ORDER BY priority COLLATE \"C\", created_at DESC NULLS LAST, id LIMIT 5",
        },
    ];
    for case in cases {
        let expected = postgres_ids(&fx, case.condition, case.tail).await;
        assert!(
            !expected.is_empty(),
            "the seed has rows for {}",
            case.condition
        );
        let mut query = format!(
            "{shape}&subset__where={}&subset__params={}&subset__order_by={}",
            encode(case.where_text),
            encode(&case.params.to_string()),
            encode(case.order_by)
        );
        let mut body =
            json!({"where": case.where_text, "params": case.params, "order_by": case.order_by});
        if let Some(limit) = case.limit {
            query.push_str(&format!("&subset__limit={limit}"));
            body["limit"] = json!(limit);
        }
        if let Some(offset) = case.offset {
            query.push_str(&format!("&subset__offset={offset}"));
            body["offset"] = json!(offset);
        }
        let by_get = subset_ids(&get(fx.base(), &query).await);
        assert_eq!(
            by_get, expected,
            "GET subset {} ORDER BY {}",
            case.where_text, case.order_by
        );
        let by_post = subset_ids(&post(fx.base(), &shape, &body).await);
        assert_eq!(by_post, expected, "POST subset {}", case.where_text);
    }
    // The structured forms the official client sends beside the text.
    let structured = json!({
        "where_expr": {"type": "func", "name": "eq",
                       "args": [{"type": "ref", "column": "status"}, {"type": "val", "paramIndex": 1}]},
        "params": {"1": "Todo"},
        "order_by_expr": [{"column": "id", "direction": "desc"}],
        "limit": 3
    });
    let expected = postgres_ids(&fx, "status = 'Todo'", "ORDER BY id DESC LIMIT 3").await;
    assert_eq!(
        subset_ids(&post(fx.base(), &shape, &structured).await),
        expected
    );
    fx.finish().await;
}

#[tokio::test]
async fn hostile_and_malformed_subsets_are_refused_and_change_nothing() {
    let fx = Fixture::start().await;
    let sql = fx.sql().await;
    let count = || async {
        sql.query_one("SELECT count(*), max(updated_at)::text FROM tasks", &[])
            .await
            .map(|r| (r.get::<_, i64>(0), r.get::<_, Option<String>>(1)))
            .unwrap()
    };
    let before = count().await;
    let shape = format!("{}&offset=-1", fx.org_tasks());
    let refusals = [
        ("subset__where", "true; DROP TABLE tasks", "statement split"),
        ("subset__where", "pg_sleep(10) IS NULL", "unsupported"),
        ("subset__where", "created_at <= now()", "now"),
        (
            "subset__where",
            "title = $1",
            "parameter $1 was not provided",
        ),
        ("subset__where", "nope = 1", "unknown column"),
        ("subset__where", "(SELECT 1) = 1", "unsupported"),
        ("subset__order_by", "random()", "may only name columns"),
        ("subset__order_by", "id; DELETE FROM tasks", "order_by"),
        ("subset__order_by", "nope", "unknown column"),
        ("subset__limit", "0", "> 0"),
        ("subset__limit", "-3", "> 0"),
        ("subset__params", "{\"2\":\"x\"}", "sequentially"),
        ("subset__params", "not json", "not JSON"),
    ];
    for (name, value, says) in refusals {
        let mut query = format!("{shape}&{name}={}", encode(value));
        if name == "subset__limit" {
            query.push_str("&subset__order_by=id");
        }
        let refused = get(fx.base(), &query).await;
        assert_eq!(refused.status, 400, "{name}={value}: {}", refused.body);
        assert_eq!(refused.json()["message"], "Invalid request");
        assert!(
            refused.body.contains(says),
            "{name}={value} says {says:?}: {}",
            refused.body
        );
        assert_eq!(refused.header("cache-control"), Some("no-store"));
    }
    // A limit without an order, a body that is not an object, and a huge body.
    let no_order = post(fx.base(), &shape, &json!({"limit": 3})).await;
    assert!(
        no_order.body.contains("order_by is required"),
        "{}",
        no_order.body
    );
    let array = post(fx.base(), &shape, &json!([1, 2])).await;
    assert!(array.body.contains("JSON object"), "{}", array.body);
    let huge = post(fx.base(), &shape, &json!({"where": "x".repeat(2 << 20)})).await;
    assert_eq!(huge.status, 413);
    // queryable_columns: a subset may only name those.
    let narrow = format!("{shape}&queryable_columns=id,title,status");
    let outside = get(
        fx.base(),
        &format!("{narrow}&subset__where={}", encode("priority = 'high'")),
    )
    .await;
    assert_eq!(outside.status, 400);
    assert!(
        outside.body.contains("queryable_columns"),
        "{}",
        outside.body
    );
    let inside = get(
        fx.base(),
        &format!("{narrow}&subset__where={}", encode("status = 'Todo'")),
    )
    .await;
    let row = &inside.json()["data"][0]["value"];
    let mut columns: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    columns.sort_unstable();
    assert_eq!(
        columns,
        ["id", "status", "title"],
        "queryable columns are the default selection"
    );
    assert_eq!(count().await, before, "nothing changed");
    fx.finish().await;
}

/// Visible in the subset's snapshot, by Postgres's rule on 64-bit xids (the test's xids stay
/// far below 2^32, so the 32-bit `txids` compare directly).
fn visible(xid: u64, metadata: &Value) -> bool {
    let number = |v: &Value| v.as_str().unwrap().parse::<u64>().unwrap();
    let xmin = number(&metadata["xmin"]);
    let xmax = number(&metadata["xmax"]);
    let in_progress = metadata["xip_list"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| number(x) == xid);
    xid < xmin || (xid < xmax && !in_progress)
}

#[tokio::test]
async fn a_subset_taken_while_writes_commit_ends_in_postgres_rows() {
    let fx = Fixture::start_with(|c| c.long_poll = Duration::from_millis(500)).await;
    let shape = format!("{}&log=changes_only", fx.org_tasks());
    let first = get(fx.base(), &format!("{shape}&offset=-1")).await;
    let handle = first.header("electric-handle").unwrap().to_owned();
    let org = fx.team.organizations[0].id;
    let url = fx.database_url.clone();
    let writer = tokio::spawn(async move {
        let sql = superset::server::db::connect(&url).await.unwrap();
        for round in 0..60 {
            sql.execute(
                "UPDATE tasks SET title = 'round ' || $2::int, updated_at = now() \
                 WHERE id = (SELECT id FROM tasks WHERE organization_id = $1 \
                             ORDER BY random() LIMIT 1)",
                &[&org, &round],
            )
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(60)).await;
    let subset = get(
        fx.base(),
        &format!(
            "{shape}&offset=-1&subset__where={}",
            encode("title IS NOT NULL")
        ),
    )
    .await;
    subset_ids(&subset);
    let body = subset.json();
    let mut rows: BTreeMap<String, String> = BTreeMap::new();
    for row in body["data"].as_array().unwrap() {
        rows.insert(
            row["key"].as_str().unwrap().to_owned(),
            row["value"]["title"].as_str().unwrap().to_owned(),
        );
    }
    let in_subset: Vec<String> = rows.keys().cloned().collect();
    writer.await.unwrap();
    // Follow the stream from the subset's offset as the client does, dropping changes to the
    // subset's rows that its snapshot already saw.
    let mut offset = subset.header("electric-offset").unwrap().to_owned();
    let (mut dropped, mut applied) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = get(
            fx.base(),
            &format!("{shape}&offset={offset}&handle={handle}&live=true&cursor="),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        offset = reply.header("electric-offset").unwrap().to_owned();
        let messages = reply.messages();
        let changes: Vec<&Value> = messages
            .iter()
            .filter(|m| m["headers"]["operation"].is_string())
            .collect();
        for change in &changes {
            let key = change["key"].as_str().unwrap().to_owned();
            let xid = change["headers"]["txids"][0].as_u64().unwrap();
            if in_subset.contains(&key) && visible(xid, &body["metadata"]) {
                dropped += 1;
                continue;
            }
            applied += 1;
            if let Some(title) = change["value"]["title"].as_str() {
                rows.insert(key, title.to_owned());
            }
        }
        if changes.is_empty() || Instant::now() > deadline {
            break;
        }
    }
    let expected: BTreeMap<String, String> = fx
        .sql()
        .await
        .query(
            "SELECT id::text, title FROM tasks WHERE organization_id = $1",
            &[&org],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("\"public\".\"tasks\"/\"{}\"", r.get::<_, String>(0)),
                r.get(1),
            )
        })
        .collect();
    assert_eq!(rows, expected, "dropped {dropped}, applied {applied}");
    assert!(dropped + applied > 0, "the writer's changes were seen");
    fx.finish().await;
}
