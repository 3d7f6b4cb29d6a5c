//! Decoding each kind of well-formed message, and that decoded values borrow the input.

use bytes::Bytes;

use super::{
    Msg, begin, commit, delete_full, delete_key, insert, logical, origin, relation_msg, text,
    truncate, type_msg, update_full, update_key, update_plain,
};
use crate::server::shapes::pgoutput::{
    Message, OldTuple, OldTupleKind, RelationColumn, Value, decode,
};

#[test]
fn begin_commit_and_origin_decode() {
    assert_eq!(
        decode(begin().bytes()).unwrap(),
        Message::Begin {
            final_lsn: 0x0000_0001_0000_0028,
            commit_time: 805_000_000_000_000,
            xid: 742
        }
    );
    assert_eq!(
        decode(commit().bytes()).unwrap(),
        Message::Commit {
            flags: 0,
            commit_lsn: 0x0000_0001_0000_0028,
            end_lsn: 0x0000_0001_0000_0058,
            commit_time: 805_000_000_000_000
        }
    );
    assert_eq!(
        decode(origin().bytes()).unwrap(),
        Message::Origin {
            commit_lsn: 77,
            name: "upstream".into()
        }
    );
}

#[test]
fn relation_and_type_decode() {
    let Message::Relation(relation) = decode(relation_msg().bytes()).unwrap() else {
        panic!("not a relation");
    };
    assert_eq!(relation.id, 16_390);
    assert_eq!(relation.namespace, "public");
    assert_eq!(relation.name, "tasks");
    assert_eq!(relation.replica_identity, b'f');
    assert_eq!(
        relation.columns,
        vec![
            RelationColumn {
                flags: 1,
                name: "id".into(),
                type_oid: 2950,
                type_modifier: -1
            },
            RelationColumn {
                flags: 0,
                name: "title".into(),
                type_oid: 25,
                type_modifier: -1
            },
            RelationColumn {
                flags: 0,
                name: "code".into(),
                type_oid: 1043,
                type_modifier: 14
            },
        ]
    );
    assert!(relation.columns[0].is_key());
    assert!(!relation.columns[1].is_key());
    assert_eq!(
        decode(type_msg().bytes()).unwrap(),
        Message::Type {
            id: 16_500,
            namespace: "public".into(),
            name: "mood".into()
        }
    );
}

#[test]
fn insert_update_delete_decode() {
    assert_eq!(
        decode(insert().bytes()).unwrap(),
        Message::Insert {
            relation_id: 16_390,
            new: vec![
                text("a1"),
                Value::Null,
                Value::Binary(Bytes::from_static(&[0, 0, 0, 7]))
            ]
        }
    );
    assert_eq!(
        decode(update_plain().bytes()).unwrap(),
        Message::Update {
            relation_id: 16_390,
            old: None,
            new: vec![text("a1"), text("x"), Value::UnchangedToast]
        }
    );
    assert_eq!(
        decode(update_key().bytes()).unwrap(),
        Message::Update {
            relation_id: 16_390,
            old: Some(OldTuple {
                kind: OldTupleKind::Key,
                values: vec![text("a0"), Value::Null, Value::Null]
            }),
            new: vec![text("a1"), text("x"), text("y")]
        }
    );
    assert_eq!(
        decode(update_full().bytes()).unwrap(),
        Message::Update {
            relation_id: 16_390,
            old: Some(OldTuple {
                kind: OldTupleKind::Full,
                values: vec![text("a1"), text("old"), text("big")]
            }),
            new: vec![text("a1"), text("new"), Value::UnchangedToast]
        }
    );
    assert_eq!(
        decode(delete_full().bytes()).unwrap(),
        Message::Delete {
            relation_id: 16_390,
            old: OldTuple {
                kind: OldTupleKind::Full,
                values: vec![text("a1"), Value::Null, text("")]
            }
        }
    );
    assert_eq!(
        decode(delete_key().bytes()).unwrap(),
        Message::Delete {
            relation_id: 16_390,
            old: OldTuple {
                kind: OldTupleKind::Key,
                values: vec![text("a1")]
            }
        }
    );
}

#[test]
fn truncate_and_logical_message_decode() {
    assert_eq!(
        decode(truncate().bytes()).unwrap(),
        Message::Truncate {
            options: 1,
            relation_ids: vec![16_390, 16_400]
        }
    );
    assert_eq!(
        decode(logical().bytes()).unwrap(),
        Message::Message {
            transactional: true,
            lsn: 0x28,
            prefix: "superset".into(),
            content: Bytes::from_static(b"hello")
        }
    );
    assert_eq!(
        decode(Msg::tag(b'M').u8(0).u64(1).str("p").i32(0).bytes()).unwrap(),
        Message::Message {
            transactional: false,
            lsn: 1,
            prefix: "p".into(),
            content: Bytes::new()
        }
    );
}

#[test]
fn values_are_slices_of_the_input() {
    let data = insert().bytes();
    let range = data.as_ptr() as usize..data.as_ptr() as usize + data.len();
    let Message::Insert { new, .. } = decode(data.clone()).unwrap() else {
        panic!("not an insert");
    };
    for value in &new {
        if let Value::Text(b) | Value::Binary(b) = value {
            assert!(
                range.contains(&(b.as_ptr() as usize)),
                "{value:?} was copied"
            );
        }
    }
    let data = logical().bytes();
    let range = data.as_ptr() as usize..data.as_ptr() as usize + data.len();
    let Message::Message { content, .. } = decode(data.clone()).unwrap() else {
        panic!("not a logical message");
    };
    assert!(range.contains(&(content.as_ptr() as usize)));
}
