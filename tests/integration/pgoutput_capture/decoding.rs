//! The full scenario with a large out-of-line value, and the check every capture must pass:
//! each message decodes to what the scenario wrote.

use std::collections::{BTreeSet, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use superset::server::shapes::pgoutput::{
    self, Message, OldTuple, OldTupleKind, Relation, Tuple, Value,
};

use super::{
    Item, ORG, ORIGIN_LSN, PG_EPOCH_UNIX_SECS, TASK_COLUMNS, TASK2, USER, Written, capture,
    decode_all, group,
};

#[tokio::test]
async fn every_message_kind_decodes_from_a_real_server() {
    let (payloads, written) = capture("pgoutput_capture_live", 100_000).await;
    check_capture(&payloads, &written);
}

pub(super) fn check_capture(payloads: &[Bytes], w: &Written) {
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
