//! pgoutput decoding of bytes captured live from a real server.
//!
//! One scenario writes every kind of change the service must follow (inserts, an update that
//! leaves a TOASTed value alone, a delete, logical messages, a schema change with a custom
//! type, a cascading TRUNCATE, a transaction from a replication origin), reads the pgoutput v1
//! stream back through a logical slot and checks that every message decodes to what was
//! written. A smaller variant also runs; with `UPDATE_FIXTURES=1` it saves its capture as
//! `tests/fixtures/pgoutput/capture.hex`, which the decoder's unit tests read, so real server
//! bytes stay covered without a server.

mod decoding;
mod fixture;

use std::collections::HashMap;

use bytes::Bytes;
use superset::server::db;
use superset::server::shapes::pgoutput::{self, Message};
use superset::testkit;
use tokio_postgres::{Client, GenericClient};

const ORG: &str = "0000000a-0000-4000-8000-000000000001";
const ORG2: &str = "0000000a-0000-4000-8000-000000000002";
const USER: &str = "0000000b-0000-4000-8000-000000000001";
const TASK: &str = "0000000c-0000-4000-8000-000000000001";
const TASK2: &str = "0000000c-0000-4000-8000-000000000002";
/// What `pg_replication_origin_xact_setup` stamps on the origin transaction.
const ORIGIN_LSN: u64 = 0x1234_5678;
/// Seconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_UNIX_SECS: i64 = 946_684_800;

const TASK_COLUMNS: [&str; 20] = [
    "id",
    "organization_id",
    "repository_id",
    "title",
    "description",
    "status",
    "status_color",
    "priority",
    "assignee_id",
    "external_provider",
    "external_id",
    "external_key",
    "external_url",
    "branch",
    "labels",
    "due_date",
    "created_at",
    "updated_at",
    "deleted_at",
    "mood",
];

/// What the scenario wrote, for checking the capture.
struct Written {
    /// `txid_current()` of each writing transaction, mod 2^32, in commit order.
    txids: Vec<u32>,
    /// The slot's starting point: every decoded LSN is after it.
    start_lsn: u64,
    relation_oids: HashMap<&'static str, u32>,
    mood_type_oid: u32,
    origin: String,
    description: String,
    server_version: String,
}

/// Creates a slot, runs the scenario, reads the slot's changes and drops it.
async fn capture(slot: &str, description_len: usize) -> (Vec<Bytes>, Written) {
    let url = testkit::fresh_database().await;
    let mut client = db::connect(&url).await.unwrap();
    // Slots are cluster-wide and the cluster is shared by the test binary: names per test.
    let start: String = client
        .query_one(
            "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')",
            &[&slot],
        )
        .await
        .unwrap()
        .get(0);
    let description = incompressible_text(description_len);
    let origin = format!("{slot}_origin");
    let txids = write_changes(&mut client, &url, &description, &origin).await;

    let rows = client
        .query(
            "SELECT data FROM pg_logical_slot_get_binary_changes($1, NULL, NULL, \
             'proto_version', '1', 'publication_names', 'superset_sync', 'messages', 'true')",
            &[&slot],
        )
        .await
        .unwrap();
    let payloads = rows
        .iter()
        .map(|row| Bytes::from(row.get::<_, Vec<u8>>(0)))
        .collect();
    client
        .execute("SELECT pg_drop_replication_slot($1)", &[&slot])
        .await
        .unwrap();

    let mut relation_oids = HashMap::new();
    for table in ["organizations", "users", "tasks", "workspaces"] {
        let oid: u32 = client
            .query_one("SELECT $1::text::regclass::oid", &[&table])
            .await
            .unwrap()
            .get(0);
        relation_oids.insert(table, oid);
    }
    let mood_type_oid: u32 = client
        .query_one("SELECT 'task_mood'::regtype::oid", &[])
        .await
        .unwrap()
        .get(0);
    let server_version: String = client
        .query_one("SHOW server_version", &[])
        .await
        .unwrap()
        .get(0);
    let written = Written {
        txids,
        start_lsn: parse_lsn(&start),
        relation_oids,
        mood_type_oid,
        origin,
        description,
        server_version,
    };
    (payloads, written)
}

async fn txid(client: &impl GenericClient) -> u32 {
    let txid: i64 = client
        .query_one("SELECT txid_current()", &[])
        .await
        .unwrap()
        .get(0);
    // txid_current() carries the epoch in its high half; the protocol sends the 32-bit xid.
    (txid as u64 & 0xffff_ffff) as u32
}

/// The scenario. Returns the xid of every transaction that writes something, in order.
async fn write_changes(
    client: &mut Client,
    url: &str,
    description: &str,
    origin: &str,
) -> Vec<u32> {
    let mut txids = Vec::new();

    // 1: three inserts in one transaction; the task's description goes out of line (TOAST).
    let tx = client.transaction().await.unwrap();
    txids.push(txid(&tx).await);
    tx.batch_execute(&format!(
        "INSERT INTO organizations (id, name, slug) VALUES ('{ORG}', 'Acme', 'acme');
         INSERT INTO users (id, email, name) VALUES ('{USER}', 'ada@example.com', 'Ada');"
    ))
    .await
    .unwrap();
    tx.execute(
        &format!(
            "INSERT INTO tasks (id, organization_id, title, description) \
             VALUES ('{TASK}', '{ORG}', 'Write the decoder', $1)"
        ),
        &[&description],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // 2: an update that leaves the TOASTed description alone.
    let tx = client.transaction().await.unwrap();
    txids.push(txid(&tx).await);
    tx.execute(
        &format!("UPDATE tasks SET title = 'Decode pgoutput' WHERE id = '{TASK}'"),
        &[],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // 3: a delete.
    let tx = client.transaction().await.unwrap();
    txids.push(txid(&tx).await);
    tx.execute(&format!("DELETE FROM users WHERE id = '{USER}'"), &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // 4: a transactional logical message, then a non-transactional one outside any transaction.
    let tx = client.transaction().await.unwrap();
    txids.push(txid(&tx).await);
    tx.execute(
        "SELECT pg_logical_emit_message(true, 'superset', 'hello')",
        &[],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    client
        .execute(
            "SELECT pg_logical_emit_message(false, 'superset', 'outside')",
            &[],
        )
        .await
        .unwrap();

    // 5: a schema change with a non-built-in type; it changes no rows, so it sends nothing
    // until the next change to the table, which then carries Type and Relation messages.
    client
        .batch_execute(
            "CREATE TYPE task_mood AS ENUM ('calm', 'busy');
             ALTER TABLE tasks ADD COLUMN mood task_mood;",
        )
        .await
        .unwrap();
    let tx = client.transaction().await.unwrap();
    txids.push(txid(&tx).await);
    tx.execute(
        &format!(
            "INSERT INTO tasks (id, organization_id, title, mood) \
             VALUES ('{TASK2}', '{ORG}', 'Feel things', 'calm')"
        ),
        &[],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // 6: TRUNCATE ... CASCADE, which takes workspaces along.
    let tx = client.transaction().await.unwrap();
    txids.push(txid(&tx).await);
    tx.execute("TRUNCATE tasks CASCADE", &[]).await.unwrap();
    tx.commit().await.unwrap();

    // 7: a transaction replayed from a replication origin (as a subscriber would write it);
    // on its own connection so the origin setting does not leak into other work.
    let mut other = db::connect(url).await.unwrap();
    other
        .execute("SELECT pg_replication_origin_create($1)", &[&origin])
        .await
        .unwrap();
    other
        .execute("SELECT pg_replication_origin_session_setup($1)", &[&origin])
        .await
        .unwrap();
    let tx = other.transaction().await.unwrap();
    txids.push(txid(&tx).await);
    tx.batch_execute(&format!(
        "SELECT pg_replication_origin_xact_setup('{}', now());
         INSERT INTO organizations (id, name, slug) VALUES ('{ORG2}', 'Upstream', 'upstream');",
        format_lsn(ORIGIN_LSN)
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    other
        .batch_execute("SELECT pg_replication_origin_session_reset()")
        .await
        .unwrap();
    other
        .execute("SELECT pg_replication_origin_drop($1)", &[&origin])
        .await
        .unwrap();

    txids
}

/// One decoded transaction.
struct Tx {
    xid: u32,
    final_lsn: u64,
    begin_time: i64,
    commit: (u8, u64, u64, i64),
    /// Relation and Type messages, which the server sends whenever its cache says so.
    schema: Vec<Message>,
    /// Everything else, in order.
    changes: Vec<Message>,
}

enum Item {
    Tx(Tx),
    Outside(Message),
}

fn decode_all(payloads: &[Bytes]) -> Vec<Message> {
    payloads
        .iter()
        .map(|payload| {
            pgoutput::decode(payload.clone())
                .unwrap_or_else(|e| panic!("{e}: payload {}", hex(payload)))
        })
        .collect()
}

fn group(messages: Vec<Message>) -> Vec<Item> {
    let mut items = Vec::new();
    let mut open: Option<Tx> = None;
    for message in messages {
        match message {
            Message::Begin {
                final_lsn,
                commit_time,
                xid,
            } => {
                assert!(open.is_none(), "begin inside a transaction");
                open = Some(Tx {
                    xid,
                    final_lsn,
                    begin_time: commit_time,
                    commit: (0, 0, 0, 0),
                    schema: Vec::new(),
                    changes: Vec::new(),
                });
            }
            Message::Commit {
                flags,
                commit_lsn,
                end_lsn,
                commit_time,
            } => {
                let mut tx = open.take().expect("commit without begin");
                tx.commit = (flags, commit_lsn, end_lsn, commit_time);
                items.push(Item::Tx(tx));
            }
            other => match &mut open {
                Some(tx) if matches!(other, Message::Relation(_) | Message::Type { .. }) => {
                    tx.schema.push(other)
                }
                Some(tx) => tx.changes.push(other),
                None => items.push(Item::Outside(other)),
            },
        }
    }
    assert!(open.is_none(), "unterminated transaction");
    items
}

/// Pseudo-random letters and digits: pglz finds nothing to compress, so a value this size is
/// stored out of line and an update that does not touch it sends the unchanged-TOAST marker.
fn incompressible_text(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            // xorshift64: deterministic, no dependency, plenty random for a compressor.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ALPHABET[(state >> 58) as usize] as char
        })
        .collect()
}

fn parse_lsn(text: &str) -> u64 {
    let (high, low) = text.split_once('/').expect("an lsn like 0/16B3748");
    (u64::from_str_radix(high, 16).unwrap() << 32) | u64::from_str_radix(low, 16).unwrap()
}

fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xffff_ffff)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
