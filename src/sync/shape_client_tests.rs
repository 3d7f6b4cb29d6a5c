//! The shape client against canned responses: every status, header case and control message.

use std::collections::BTreeMap;
use std::time::Duration;

use super::shape_client::*;
use crate::protocol::Operation;

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> ShapeResponse {
    ShapeResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        body: body.as_bytes().to_vec(),
    }
}

const SCHEMA: &str = r#"{"id":{"type":"uuid","pk_index":0},"title":{"type":"text"},"pr_number":{"type":"int4"},"done":{"type":"bool"},"tags":{"type":"text","dims":1}}"#;

fn snapshot_page() -> ShapeResponse {
    response(
        200,
        &[
            ("electric-handle", "h1"),
            ("electric-offset", "0_1"),
            ("electric-schema", SCHEMA),
        ],
        r#"[{"key":"k1","value":{"id":"a","title":"One","pr_number":"42","done":"t","tags":"{x}"},"headers":{"operation":"insert","relation":["public","tasks"]}},
           {"headers":{"control":"snapshot-end","xmin":"1","xmax":"2","xip_list":[]}}]"#,
    )
}

fn query(request: &ShapeRequest) -> BTreeMap<String, String> {
    request.query.iter().cloned().collect()
}

#[test]
fn starts_at_minus_one_then_catches_up_then_goes_live() {
    let mut client = ShapeClient::new("tasks", Position::start());
    let first = client.next_request();
    assert_eq!(
        query(&first),
        BTreeMap::from([("offset".into(), "-1".into())])
    );
    assert!(!first.live);
    let Step::Apply(batch) = client.on_response(&snapshot_page(), 0.5) else {
        panic!("expected a batch");
    };
    assert_eq!(batch.changes.len(), 1);
    assert!(!batch.up_to_date);
    let change = &batch.changes[0];
    assert_eq!(change.operation, Operation::Insert);
    assert_eq!(change.values["pr_number"], 42, "int4 becomes a number");
    assert_eq!(change.values["done"], true, "bool becomes a bool");
    assert_eq!(change.values["tags"], "{x}", "arrays stay text");
    let second = client.next_request();
    assert_eq!(query(&second)["offset"], "0_1");
    assert_eq!(query(&second)["handle"], "h1");
    assert!(!query(&second).contains_key("live"));
    let caught_up = response(
        200,
        &[
            ("electric-handle", "h1"),
            ("electric-offset", "0_1"),
            ("electric-schema", SCHEMA),
            ("electric-up-to-date", ""),
        ],
        r#"[{"headers":{"control":"up-to-date","global_last_seen_lsn":"10"}}]"#,
    );
    let Step::Apply(batch) = client.on_response(&caught_up, 0.5) else {
        panic!("expected a batch");
    };
    assert!(batch.up_to_date && batch.changes.is_empty());
    assert!(client.is_live());
    let live = client.next_request();
    assert!(live.live);
    assert_eq!(query(&live)["live"], "true");
    assert_eq!(
        query(&live)["cursor"],
        "",
        "the first live request has an empty cursor"
    );
    let change = response(
        200,
        &[
            ("electric-handle", "h1"),
            ("electric-offset", "20_0"),
            ("electric-cursor", "777"),
            ("electric-up-to-date", ""),
        ],
        r#"[{"key":"k1","value":{"id":"a","title":"Two"},"headers":{"operation":"update","relation":["public","tasks"],"lsn":"20","op_position":0,"txids":[55],"last":true}},
           {"headers":{"control":"up-to-date","global_last_seen_lsn":"20"}}]"#,
    );
    let Step::Apply(batch) = client.on_response(&change, 0.5) else {
        panic!("expected a batch");
    };
    assert_eq!(batch.changes[0].operation, Operation::Update);
    assert_eq!(batch.changes[0].txids, [55]);
    assert_eq!(batch.offset, "20_0");
    assert_eq!(query(&client.next_request())["cursor"], "777");
}

#[test]
fn a_409_retires_the_handle_and_restarts_from_minus_one() {
    let mut client = ShapeClient::new(
        "tasks",
        Position {
            handle: Some("old".into()),
            offset: "5_0".into(),
        },
    );
    let conflict = response(
        409,
        &[("electric-handle", "new")],
        r#"[{"headers":{"control":"must-refetch"}}]"#,
    );
    assert_eq!(client.on_response(&conflict, 0.3), Step::MustRefetch);
    let request = query(&client.next_request());
    assert_eq!(request["offset"], "-1");
    assert_eq!(request["handle"], "new");
    assert_eq!(request["expired_handle"], "old");
    assert!(request.contains_key("cache-buster"));
    // A stale cached reply still carrying the old handle is not believed.
    let stale = response(
        200,
        &[
            ("electric-handle", "old"),
            ("electric-offset", "5_0"),
            ("electric-schema", SCHEMA),
        ],
        "[]",
    );
    assert_eq!(client.on_response(&stale, 0.3), Step::Retry(Duration::ZERO));
    assert_eq!(client.position().handle.as_deref(), Some("new"));
}

#[test]
fn server_errors_back_off_with_jitter_and_honour_retry_after() {
    let mut client = ShapeClient::new("tasks", Position::start());
    let unavailable = response(503, &[], r#"{"message":"busy"}"#);
    let waits: Vec<Duration> = (0..8)
        .map(|_| match client.on_response(&unavailable, 0.999_999) {
            Step::Retry(wait) => wait,
            other => panic!("{other:?}"),
        })
        .collect();
    let secs: Vec<u64> = waits
        .iter()
        .map(|w| w.as_secs_f64().round() as u64)
        .collect();
    assert_eq!(
        secs,
        [1, 2, 4, 8, 16, 32, 32, 32],
        "1 s doubling, capped at 32 s"
    );
    match client.on_response(&response(503, &[("retry-after", "60")], "{}"), 0.0) {
        Step::Retry(wait) => {
            assert_eq!(wait, Duration::from_secs(60), "Retry-After is the floor")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.on_response(&response(429, &[], ""), 0.5),
        Step::Retry(_)
    ));
    assert!(matches!(client.on_network_error(0.5), Step::Retry(_)));
    // Success resets the backoff.
    client.on_response(&snapshot_page(), 0.5);
    match client.on_network_error(0.999) {
        Step::Retry(wait) => assert!(wait <= Duration::from_secs(1)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unauthorized_asks_for_a_token_and_other_client_errors_are_fatal_with_the_reason() {
    let mut client = ShapeClient::new("tasks", Position::start());
    assert_eq!(
        client.on_response(&response(401, &[], "{}"), 0.5),
        Step::Unauthorized
    );
    let bad = response(
        400,
        &[],
        r#"{"message":"Invalid request","errors":{"where":["At location 3: syntax error"]}}"#,
    );
    match client.on_response(&bad, 0.5) {
        Step::Fatal(ShapeError::Rejected { status, message }) => {
            assert_eq!(status, 400);
            assert!(message.contains("syntax error"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let api_error = response(
        404,
        &[],
        r#"{"error":{"code":"not_found","message":"nope is not a synced table"}}"#,
    );
    match client.on_response(&api_error, 0.5) {
        Step::Fatal(ShapeError::Rejected { message, .. }) => {
            assert_eq!(message, "nope is not a synced table")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_headers_and_garbage_bodies_are_fatal_not_panics() {
    let mut client = ShapeClient::new("tasks", Position::start());
    let no_handle = response(
        200,
        &[("electric-offset", "0_0"), ("electric-schema", SCHEMA)],
        "[]",
    );
    assert_eq!(
        client.on_response(&no_handle, 0.5),
        Step::Fatal(ShapeError::MissingHeader("electric-handle"))
    );
    let no_schema = response(
        200,
        &[("electric-handle", "h"), ("electric-offset", "0_0")],
        "[]",
    );
    assert_eq!(
        client.on_response(&no_schema, 0.5),
        Step::Fatal(ShapeError::MissingHeader("electric-schema"))
    );
    for body in [
        "{",
        "{}",
        "[{\"headers\":{\"operation\":\"insert\"}}]",
        "\u{0}\u{1}",
    ] {
        let garbage = response(
            200,
            &[
                ("electric-handle", "h"),
                ("electric-offset", "0_0"),
                ("electric-schema", SCHEMA),
            ],
            body,
        );
        assert!(
            matches!(
                client.on_response(&garbage, 0.5),
                Step::Fatal(ShapeError::BadBody(_))
            ),
            "{body:?}"
        );
    }
    let empty = response(
        200,
        &[
            ("electric-handle", "h"),
            ("electric-offset", "0_0"),
            ("electric-schema", SCHEMA),
        ],
        "",
    );
    assert!(matches!(client.on_response(&empty, 0.5), Step::Apply(b) if b.changes.is_empty()));
}

#[test]
fn a_change_delivered_twice_is_applied_once() {
    let mut client = ShapeClient::new("tasks", Position::start());
    client.on_response(&snapshot_page(), 0.5);
    let body = r#"[{"key":"k1","value":{"id":"a"},"headers":{"operation":"delete","relation":["public","tasks"],"lsn":"30","op_position":2,"txids":[9]}},
                  {"headers":{"control":"up-to-date","global_last_seen_lsn":"30"}}]"#;
    let page = response(
        200,
        &[
            ("electric-handle", "h1"),
            ("electric-offset", "30_2"),
            ("electric-schema", SCHEMA),
        ],
        body,
    );
    let Step::Apply(first) = client.on_response(&page, 0.5) else {
        panic!()
    };
    assert_eq!(first.changes.len(), 1);
    let live_page = response(
        200,
        &[
            ("electric-handle", "h1"),
            ("electric-offset", "30_2"),
            ("electric-cursor", "1"),
        ],
        body,
    );
    let Step::Apply(again) = client.on_response(&live_page, 0.5) else {
        panic!()
    };
    assert!(again.changes.is_empty());
}

#[test]
fn tags_and_move_out_events_reach_the_batch_in_order_once() {
    let mut client = ShapeClient::new("users", Position::start());
    let Step::Apply(_) = client.on_response(&snapshot_page(), 0.5) else {
        panic!("expected a batch");
    };
    let body = r#"[
        {"key":"k2","value":{"id":"b"},"headers":{"operation":"insert","relation":["public","users"],"lsn":"10","op_position":0,"txids":[5],"tags":["b"]}},
        {"headers":{"event":"move-out","patterns":[{"pos":0,"value":"a"}],"lsn":"10","op_position":2,"txids":[5]}},
        {"key":"k2","value":{"id":"b"},"headers":{"operation":"update","relation":["public","users"],"lsn":"11","op_position":0,"txids":[6],"tags":["c"],"removed_tags":["b"]}},
        {"headers":{"control":"up-to-date"}}]"#;
    let page = response(
        200,
        &[
            ("electric-handle", "h1"),
            ("electric-offset", "11_0"),
            ("electric-schema", SCHEMA),
            ("electric-cursor", "1"),
        ],
        body,
    );
    let Step::Apply(batch) = client.on_response(&page, 0.5) else {
        panic!("expected a batch");
    };
    assert_eq!(batch.changes[0].tags, ["b"]);
    assert_eq!(batch.changes[1].tags, ["c"]);
    assert_eq!(batch.changes[1].removed_tags, ["b"]);
    assert_eq!(
        batch.move_outs,
        [MoveOut {
            after: 1,
            patterns: vec![MovePattern {
                pos: 0,
                value: "a".into()
            }]
        }]
    );
    // The same page delivered again brings nothing twice.
    let Step::Apply(again) = client.on_response(&page, 0.5) else {
        panic!("expected a batch");
    };
    assert!(again.changes.is_empty() && again.move_outs.is_empty());
}
