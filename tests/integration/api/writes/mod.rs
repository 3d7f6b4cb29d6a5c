//! Writes to tasks and workspaces: validated, authorized, and each answered with the txid that
//! the synced change carries.

mod idempotency;
mod org_boundaries;
mod task_conflicts;
mod tasks;
mod validation;
mod workspaces;

use serde_json::Value;
use uuid::Uuid;

use super::support::Reply;

/// The `{id, txid}` a write answers with.
#[track_caller]
fn written(reply: &Reply) -> (Uuid, i64) {
    assert!(
        reply.status == 200 || reply.status == 201,
        "a write must succeed: {} {}",
        reply.status,
        reply.body
    );
    let body = reply.json();
    let object = body.as_object().unwrap();
    assert_eq!(object.len(), 2, "exactly id and txid: {body}");
    let id = Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    let txid = body["txid"]
        .as_i64()
        .unwrap_or_else(|| panic!("txid must be a number: {body}"));
    assert!(txid > 0);
    (id, txid)
}

#[track_caller]
fn txid_of(message: &Value) -> i64 {
    message["headers"]["txids"][0]
        .as_i64()
        .unwrap_or_else(|| panic!("no txids in {message}"))
}
