//! Bytes captured from a real server: they decode to the scenario that wrote them, and every
//! truncation of them is an error.

use bytes::Bytes;

use crate::server::shapes::pgoutput::{
    Message, OldTupleKind, RelationColumn, Value, decode, fill_unchanged_toast,
};

/// Payloads captured from a real server by `tests/integration/pgoutput_capture/fixture.rs`
/// (`a_small_capture_decodes_and_can_refresh_the_fixture`): one hex payload a line, `#` lines are comments, one of which
/// lists the xids the writing transactions saw with `txid_current()`.
const CAPTURE: &str = include_str!("../../../../../tests/fixtures/pgoutput/capture.hex");

fn capture() -> (Vec<Bytes>, Vec<u32>) {
    let mut payloads = Vec::new();
    let mut txids = Vec::new();
    for line in CAPTURE.lines() {
        if let Some(list) = line.strip_prefix("# txids:") {
            txids = list
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect();
        } else if !line.starts_with('#') && !line.is_empty() {
            let bytes: Vec<u8> = (0..line.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&line[i..i + 2], 16).unwrap())
                .collect();
            payloads.push(Bytes::from(bytes));
        }
    }
    (payloads, txids)
}

#[test]
fn captured_server_bytes_decode() {
    let (payloads, txids) = capture();
    let messages: Vec<Message> = payloads
        .iter()
        .map(|p| decode(p.clone()).unwrap_or_else(|e| panic!("{e}")))
        .collect();

    // The stream without schema messages, as tags: what the scenario wrote, in order.
    let changes: String = messages
        .iter()
        .filter_map(|m| match m {
            Message::Begin { .. } => Some('B'),
            Message::Commit { .. } => Some('C'),
            Message::Origin { .. } => Some('O'),
            Message::Relation(_) | Message::Type { .. } => None,
            Message::Insert { .. } => Some('I'),
            Message::Update { .. } => Some('U'),
            Message::Delete { .. } => Some('D'),
            Message::Truncate { .. } => Some('T'),
            Message::Message { .. } => Some('M'),
        })
        .collect();
    assert_eq!(changes, "BIIICBUCBDCBMCMBICBTCBOIC");

    let mut begins = Vec::new();
    let mut relations = std::collections::HashMap::new();
    let mut mood_type = None;
    let mut inserted_description = None;
    for message in &messages {
        match message {
            Message::Begin {
                final_lsn,
                commit_time,
                xid,
            } => begins.push((*final_lsn, *commit_time, *xid)),
            Message::Commit {
                flags,
                commit_lsn,
                end_lsn,
                commit_time,
            } => {
                let (final_lsn, begin_time, _) = *begins.last().unwrap();
                assert_eq!(
                    (*flags, *commit_lsn, *commit_time),
                    (0, final_lsn, begin_time)
                );
                assert!(end_lsn > commit_lsn);
            }
            Message::Relation(relation) => {
                assert_eq!(relation.replica_identity, b'f');
                assert!(relation.columns.iter().all(RelationColumn::is_key));
                relations.insert(relation.id, relation.clone());
            }
            Message::Type {
                id,
                namespace,
                name,
            } => {
                assert_eq!((namespace.as_str(), name.as_str()), ("public", "task_mood"));
                mood_type = Some(*id);
            }
            Message::Insert { relation_id, new } => {
                let relation = &relations[relation_id];
                assert_eq!(relation.columns.len(), new.len());
                if relation.name == "tasks" && inserted_description.is_none() {
                    assert_eq!(relation.columns[4].name, "description");
                    inserted_description = new[4].as_text().map(str::to_owned);
                }
                if relation.name == "tasks" && relation.columns.len() == 20 {
                    assert_eq!(relation.columns[19].name, "mood");
                    assert_eq!(Some(relation.columns[19].type_oid), mood_type);
                    assert_eq!(new[19].as_text(), Some("calm"));
                }
            }
            Message::Update {
                relation_id,
                old,
                new,
            } => {
                assert_eq!(relations[relation_id].name, "tasks");
                assert_eq!(old.as_ref().unwrap().kind, OldTupleKind::Full);
                assert_eq!(new[4], Value::UnchangedToast);
                let mut filled = new.clone();
                fill_unchanged_toast(&mut filled, old.as_ref());
                let description = inserted_description.as_deref().unwrap();
                assert_eq!(description.len(), 3_000);
                assert_eq!(filled[4].as_text(), Some(description));
                assert_eq!(filled[3].as_text(), Some("Decode pgoutput"));
            }
            Message::Delete { relation_id, old } => {
                assert_eq!(relations[relation_id].name, "users");
                assert_eq!(old.kind, OldTupleKind::Full);
                assert_eq!(old.values[1].as_text(), Some("ada@example.com"));
            }
            Message::Truncate {
                options,
                relation_ids,
            } => {
                assert_eq!(*options, 1, "CASCADE");
                let mut names: Vec<&str> = relation_ids
                    .iter()
                    .map(|id| relations[id].name.as_str())
                    .collect();
                names.sort();
                assert_eq!(names, ["tasks", "workspaces"]);
            }
            Message::Origin { commit_lsn, name } => {
                assert_eq!(*commit_lsn, 0x1234_5678);
                assert_eq!(name, "pgoutput_capture_fixture_origin");
            }
            Message::Message {
                transactional,
                prefix,
                content,
                ..
            } => {
                assert_eq!(prefix, "superset");
                let expected: &[u8] = if *transactional { b"hello" } else { b"outside" };
                assert_eq!(content.as_ref(), expected);
            }
        }
    }
    let xids: Vec<u32> = begins.iter().map(|b| b.2).collect();
    assert_eq!(xids, txids);
    let commits: Vec<u64> = begins.iter().map(|b| b.0).collect();
    assert!(commits.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn every_truncation_of_captured_server_bytes_is_an_error() {
    for payload in capture().0 {
        for cut in 0..payload.len() {
            assert!(decode(payload.slice(..cut)).is_err());
        }
    }
}
