//! pgoutput decoding of bytes captured live from a real server.
//!
//! One scenario writes every kind of change the service must follow (inserts, an update that
//! leaves a TOASTed value alone, a delete, logical messages, a schema change with a custom
//! type, a cascading TRUNCATE, a transaction from a replication origin), reads the pgoutput v1
//! stream back through a logical slot and checks that every message decodes to what was
//! written. A smaller variant also runs; with `UPDATE_FIXTURES=1` it saves its capture as
//! `tests/fixtures/pgoutput/capture.hex`, which the decoder's unit tests read, so real server
//! bytes stay covered without a server.

use std::collections::{BTreeSet, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use superset::server::db;
use superset::server::shapes::pgoutput::{
    self, Message, OldTuple, OldTupleKind, Relation, Tuple, Value,
};
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

#[tokio::test]
async fn every_message_kind_decodes_from_a_real_server() {
    let (payloads, written) = capture("pgoutput_capture_live", 100_000).await;
    check_capture(&payloads, &written);
}

/// The small scenario decodes too; with `UPDATE_FIXTURES=1` it also rewrites the fixture the
/// unit tests decode offline (run that after changing the scenario).
#[tokio::test]
async fn a_small_capture_decodes_and_can_refresh_the_fixture() {
    // Big enough to be stored out of line (the threshold is about 2 kB), small enough to keep
    // the fixture readable.
    let (payloads, written) = capture("pgoutput_capture_fixture", 3_000).await;
    check_capture(&payloads, &written);
    if std::env::var_os("UPDATE_FIXTURES").is_none() {
        return;
    }
    let mut text = String::from(
        "# pgoutput protocol v1 payloads, one per line in hex, captured by\n\
         # tests/integration/pgoutput_capture.rs (a_small_capture_decodes_and_can_refresh_the_fixture) from a real server.\n",
    );
    text.push_str(&format!(
        "# server: PostgreSQL {}\n",
        written.server_version
    ));
    let txids: Vec<String> = written.txids.iter().map(u32::to_string).collect();
    text.push_str(&format!("# txids: {}\n", txids.join(" ")));
    for payload in &payloads {
        text.push_str(&hex(payload));
        text.push('\n');
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pgoutput");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(format!("{dir}/capture.hex"), text).unwrap();
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

fn check_capture(payloads: &[Bytes], w: &Written) {
    let messages = decode_all(payloads);

    // Every change names a relation described earlier in the stream; keep the latest shape.
    let mut relations: HashMap<u32, Relation> = HashMap::new();
    let mut relation_messages: Vec<Relation> = Vec::new();
    for message in &messages {
        match message {
            Message::Relation(relation) => {
                relations.insert(relation.id, relation.clone());
                relation_messages.push(relation.clone());
            }
            Message::Insert { relation_id, .. }
            | Message::Update { relation_id, .. }
            | Message::Delete { relation_id, .. } => {
                assert!(relations.contains_key(relation_id), "unknown relation");
            }
            Message::Truncate { relation_ids, .. } => {
                assert!(relation_ids.iter().all(|id| relations.contains_key(id)));
            }
            _ => {}
        }
    }
    for relation in &relation_messages {
        assert_eq!(relation.namespace, "public");
        assert_eq!(
            relation.replica_identity, b'f',
            "every synced table is REPLICA IDENTITY FULL"
        );
        // FULL makes every column part of the identity, so every column carries the key flag.
        assert!(
            relation.columns.iter().all(|c| c.flags == 1),
            "{relation:?}"
        );
        assert!(relation.columns.iter().all(|c| c.type_modifier == -1));
        assert_eq!(relation.id, w.relation_oids[relation.name.as_str()]);
    }
    let organizations = relation_messages
        .iter()
        .find(|r| r.name == "organizations")
        .expect("an organizations relation");
    let described: Vec<(&str, u32)> = organizations
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.type_oid))
        .collect();
    assert_eq!(
        described,
        [
            ("id", 2950),
            ("name", 25),
            ("slug", 25),
            ("avatar_url", 25),
            ("created_at", 1184),
            ("updated_at", 1184),
        ]
    );
    let task_shapes: Vec<&Relation> = relation_messages
        .iter()
        .filter(|r| r.name == "tasks")
        .collect();
    assert!(task_shapes.len() >= 2, "the ALTER TABLE resends tasks");
    let names =
        |r: &Relation| -> Vec<String> { r.columns.iter().map(|c| c.name.clone()).collect() };
    assert_eq!(names(task_shapes[0]), TASK_COLUMNS[..19]);
    assert_eq!(names(task_shapes.last().unwrap()), TASK_COLUMNS);
    let mood = task_shapes.last().unwrap().columns.last().unwrap();
    assert_eq!(mood.type_oid, w.mood_type_oid);

    let items = group(messages);
    let mut outside = Vec::new();
    let mut txs = Vec::new();
    for item in items {
        match item {
            Item::Outside(message) => outside.push(message),
            // Servers before 15 send empty transactions (the DDL one); newer ones skip them.
            Item::Tx(tx) if tx.changes.is_empty() && tx.schema.is_empty() => {}
            Item::Tx(tx) => txs.push(tx),
        }
    }
    assert_eq!(txs.len(), 7, "one per writing transaction");
    let xids: Vec<u32> = txs.iter().map(|tx| tx.xid).collect();
    assert_eq!(xids, w.txids);

    let now_pg_micros = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - PG_EPOCH_UNIX_SECS)
        * 1_000_000;
    let mut previous_commit = w.start_lsn;
    for tx in &txs {
        let (flags, commit_lsn, end_lsn, commit_time) = tx.commit;
        assert_eq!(flags, 0);
        assert_eq!(tx.final_lsn, commit_lsn, "begin announces the commit lsn");
        assert_eq!(tx.begin_time, commit_time);
        assert!(end_lsn > commit_lsn);
        assert!(commit_lsn > previous_commit, "commits in lsn order");
        previous_commit = commit_lsn;
        // Microseconds since 2000-01-01, within an hour of now.
        assert!(
            (commit_time - now_pg_micros).abs() < 3_600_000_000,
            "{commit_time}"
        );
    }

    let row = |relation_id: u32, tuple: &Tuple| -> HashMap<String, Value> {
        let relation = &relations[&relation_id];
        assert_eq!(relation.columns.len(), tuple.len());
        relation
            .columns
            .iter()
            .map(|c| c.name.clone())
            .zip(tuple.iter().cloned())
            .collect()
    };
    let text = |row: &HashMap<String, Value>, column: &str| -> Option<String> {
        row[column].as_text().map(str::to_owned)
    };
    let oid = |table: &str| w.relation_oids[table];

    // 1: three inserts.
    let tables: Vec<&str> = txs[0]
        .schema
        .iter()
        .map(|m| match m {
            Message::Relation(r) => r.name.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(tables, ["organizations", "users", "tasks"]);
    let [
        Message::Insert {
            relation_id: org_rel,
            new: org,
        },
        Message::Insert {
            relation_id: user_rel,
            new: user,
        },
        Message::Insert {
            relation_id: task_rel,
            new: task,
        },
    ] = txs[0].changes.as_slice()
    else {
        panic!("three inserts expected: {:?}", txs[0].changes);
    };
    assert_eq!(*org_rel, oid("organizations"));
    assert_eq!(*user_rel, oid("users"));
    assert_eq!(*task_rel, oid("tasks"));
    let org = row(*org_rel, org);
    assert_eq!(text(&org, "id").as_deref(), Some(ORG));
    assert_eq!(text(&org, "name").as_deref(), Some("Acme"));
    assert_eq!(text(&org, "slug").as_deref(), Some("acme"));
    assert_eq!(org["avatar_url"], Value::Null);
    assert!(text(&org, "created_at").is_some_and(|t| t.contains('-') && t.contains(':')));
    let user = row(*user_rel, user);
    assert_eq!(text(&user, "email").as_deref(), Some("ada@example.com"));
    // The first tasks shape (before ALTER TABLE) is what the insert is read against.
    assert_eq!(task.len(), 19);
    let task: HashMap<String, Value> = TASK_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .zip(task.iter().cloned())
        .collect();
    assert_eq!(text(&task, "title").as_deref(), Some("Write the decoder"));
    assert_eq!(
        text(&task, "description").as_deref(),
        Some(w.description.as_str())
    );
    assert_eq!(text(&task, "labels").as_deref(), Some("[]"));
    assert_eq!(text(&task, "status").as_deref(), Some("Backlog"));
    assert_eq!(text(&task, "priority").as_deref(), Some("none"));

    // 2: the update: full old row, new row with the untouched TOASTed value left out.
    let [
        Message::Update {
            relation_id,
            old: Some(old),
            new,
        },
    ] = txs[1].changes.as_slice()
    else {
        panic!("one update expected: {:?}", txs[1].changes);
    };
    assert_eq!(*relation_id, oid("tasks"));
    assert_eq!(old.kind, OldTupleKind::Full);
    let description_at = 4;
    assert_eq!(new[description_at], Value::UnchangedToast);
    assert_eq!(
        new.iter().filter(|v| **v == Value::UnchangedToast).count(),
        1
    );
    assert_eq!(
        old.values[description_at].as_text(),
        Some(w.description.as_str()),
        "FULL sends the old row with TOASTed values inlined"
    );
    let mut filled = new.clone();
    pgoutput::fill_unchanged_toast(&mut filled, Some(old));
    assert_eq!(
        filled[description_at].as_text(),
        Some(w.description.as_str())
    );
    assert_eq!(filled[3].as_text(), Some("Decode pgoutput"));
    assert_eq!(old.values[3].as_text(), Some("Write the decoder"));
    // Apart from the title and the trigger's updated_at, the new row is the old row.
    for (i, (before, after)) in old.values.iter().zip(&filled).enumerate() {
        if i != 3 && TASK_COLUMNS[i] != "updated_at" {
            assert_eq!(before, after, "column {}", TASK_COLUMNS[i]);
        }
    }

    // 3: the delete carries the whole old row.
    let [
        Message::Delete {
            relation_id,
            old: OldTuple { kind, values },
        },
    ] = txs[2].changes.as_slice()
    else {
        panic!("one delete expected: {:?}", txs[2].changes);
    };
    assert_eq!(*relation_id, oid("users"));
    assert_eq!(*kind, OldTupleKind::Full);
    let deleted = row(*relation_id, values);
    assert_eq!(text(&deleted, "id").as_deref(), Some(USER));
    assert_eq!(text(&deleted, "name").as_deref(), Some("Ada"));

    // 4: the logical messages.
    let [
        Message::Message {
            transactional: true,
            lsn,
            prefix,
            content,
        },
    ] = txs[3].changes.as_slice()
    else {
        panic!("one logical message expected: {:?}", txs[3].changes);
    };
    assert_eq!(prefix, "superset");
    assert_eq!(content.as_ref(), b"hello");
    // The server reports the end of the message's WAL record, not its start: with nothing
    // written after it, that is exactly where the commit record begins.
    assert!(*lsn > txs[2].commit.1 && *lsn <= txs[3].commit.1);
    let [
        Message::Message {
            transactional: false,
            lsn: outside_lsn,
            prefix,
            content,
        },
    ] = outside.as_slice()
    else {
        panic!("one message outside transactions expected: {outside:?}");
    };
    assert_eq!(prefix, "superset");
    assert_eq!(content.as_ref(), b"outside");
    assert!(*outside_lsn > txs[3].commit.1 && *outside_lsn <= txs[4].final_lsn);

    // 5: after the ALTER TABLE: the custom type, then the new tasks shape, then the insert.
    let Some(type_at) = txs[4]
        .schema
        .iter()
        .position(|m| matches!(m, Message::Type { .. }))
    else {
        panic!("a type message expected: {:?}", txs[4].schema);
    };
    assert_eq!(
        txs[4].schema[type_at],
        Message::Type {
            id: w.mood_type_oid,
            namespace: "public".into(),
            name: "task_mood".into()
        }
    );
    assert!(
        txs[4].schema[type_at + 1..].iter().any(
            |m| matches!(m, Message::Relation(r) if r.name == "tasks" && r.columns.len() == 20)
        ),
        "the type precedes the relation using it: {:?}",
        txs[4].schema
    );
    let [Message::Insert { relation_id, new }] = txs[4].changes.as_slice() else {
        panic!("one insert expected: {:?}", txs[4].changes);
    };
    let inserted = row(*relation_id, new);
    assert_eq!(text(&inserted, "id").as_deref(), Some(TASK2));
    assert_eq!(text(&inserted, "mood").as_deref(), Some("calm"));
    assert_eq!(inserted["description"], Value::Null);

    // 6: TRUNCATE ... CASCADE: one message for both tables, the CASCADE bit set.
    let [
        Message::Truncate {
            options,
            relation_ids,
        },
    ] = txs[5].changes.as_slice()
    else {
        panic!("one truncate expected: {:?}", txs[5].changes);
    };
    assert_eq!(*options, 1);
    assert_eq!(
        relation_ids.iter().copied().collect::<BTreeSet<u32>>(),
        BTreeSet::from([oid("tasks"), oid("workspaces")])
    );

    // 7: the origin's transaction names its origin before its changes.
    let [
        Message::Origin { commit_lsn, name },
        Message::Insert { relation_id, new },
    ] = txs[6].changes.as_slice()
    else {
        panic!("origin then insert expected: {:?}", txs[6].changes);
    };
    assert_eq!(*commit_lsn, ORIGIN_LSN);
    assert_eq!(name, &w.origin);
    assert_eq!(*relation_id, oid("organizations"));
    assert_eq!(
        text(&row(*relation_id, new), "slug").as_deref(),
        Some("upstream")
    );
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
