//! The decoder against hand-built messages, every truncation, garbage, and bytes captured
//! from a real server.

use super::*;

/// Builds messages by hand, big-endian like the server.
#[derive(Default, Clone)]
struct Msg(Vec<u8>);

impl Msg {
    fn tag(tag: u8) -> Self {
        Self(vec![tag])
    }
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn i32(mut self, v: i32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn i64(mut self, v: i64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn str(mut self, s: &str) -> Self {
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
        self
    }
    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
    /// TupleData from test values.
    fn tuple(mut self, values: &[Value]) -> Self {
        self = self.u16(values.len() as u16);
        for value in values {
            self = match value {
                Value::Null => self.u8(b'n'),
                Value::UnchangedToast => self.u8(b'u'),
                Value::Text(b) => self.u8(b't').i32(b.len() as i32).raw(b),
                Value::Binary(b) => self.u8(b'b').i32(b.len() as i32).raw(b),
            };
        }
        self
    }
    fn bytes(&self) -> Bytes {
        Bytes::from(self.0.clone())
    }
}

fn text(s: &str) -> Value {
    Value::Text(Bytes::copy_from_slice(s.as_bytes()))
}

fn begin() -> Msg {
    Msg::tag(b'B')
        .u64(0x0000_0001_0000_0028)
        .i64(805_000_000_000_000)
        .u32(742)
}
fn commit() -> Msg {
    Msg::tag(b'C')
        .u8(0)
        .u64(0x0000_0001_0000_0028)
        .u64(0x0000_0001_0000_0058)
        .i64(805_000_000_000_000)
}
fn origin() -> Msg {
    Msg::tag(b'O').u64(77).str("upstream")
}
fn relation_msg() -> Msg {
    Msg::tag(b'R')
        .u32(16_390)
        .str("public")
        .str("tasks")
        .u8(b'f')
        .u16(3)
        .u8(1)
        .str("id")
        .u32(2950)
        .i32(-1)
        .u8(0)
        .str("title")
        .u32(25)
        .i32(-1)
        .u8(0)
        .str("code")
        .u32(1043)
        .i32(14)
}
fn type_msg() -> Msg {
    Msg::tag(b'Y').u32(16_500).str("public").str("mood")
}
fn insert() -> Msg {
    Msg::tag(b'I').u32(16_390).u8(b'N').tuple(&[
        text("a1"),
        Value::Null,
        Value::Binary(Bytes::from_static(&[0, 0, 0, 7])),
    ])
}
fn update_plain() -> Msg {
    Msg::tag(b'U')
        .u32(16_390)
        .u8(b'N')
        .tuple(&[text("a1"), text("x"), Value::UnchangedToast])
}
fn update_key() -> Msg {
    Msg::tag(b'U')
        .u32(16_390)
        .u8(b'K')
        .tuple(&[text("a0"), Value::Null, Value::Null])
        .u8(b'N')
        .tuple(&[text("a1"), text("x"), text("y")])
}
fn update_full() -> Msg {
    Msg::tag(b'U')
        .u32(16_390)
        .u8(b'O')
        .tuple(&[text("a1"), text("old"), text("big")])
        .u8(b'N')
        .tuple(&[text("a1"), text("new"), Value::UnchangedToast])
}
fn delete_full() -> Msg {
    Msg::tag(b'D')
        .u32(16_390)
        .u8(b'O')
        .tuple(&[text("a1"), Value::Null, text("")])
}
fn delete_key() -> Msg {
    Msg::tag(b'D').u32(16_390).u8(b'K').tuple(&[text("a1")])
}
fn truncate() -> Msg {
    Msg::tag(b'T').i32(2).u8(1).u32(16_390).u32(16_400)
}
fn logical() -> Msg {
    Msg::tag(b'M')
        .u8(1)
        .u64(0x28)
        .str("superset")
        .i32(5)
        .raw(b"hello")
}

fn all_valid() -> Vec<Msg> {
    vec![
        begin(),
        commit(),
        origin(),
        relation_msg(),
        type_msg(),
        insert(),
        update_plain(),
        update_key(),
        update_full(),
        delete_full(),
        delete_key(),
        truncate(),
        logical(),
        // Edge shapes: empty tuple, empty strings, empty message content.
        Msg::tag(b'I').u32(1).u8(b'N').tuple(&[]),
        Msg::tag(b'R').u32(1).str("").str("").u8(b'd').u16(0),
        Msg::tag(b'M').u8(0).u64(1).str("").i32(0),
        Msg::tag(b'T').i32(0).u8(0),
    ]
}

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

#[test]
fn every_truncation_of_every_valid_message_is_an_error() {
    for msg in all_valid() {
        let full = msg.bytes();
        decode(full.clone()).unwrap_or_else(|e| panic!("{e}: {:?}", msg.0));
        for cut in 0..full.len() {
            let result = decode(full.slice(..cut));
            let error = result.expect_err(&format!("prefix of {cut} bytes of {:?}", msg.0));
            let text = error.to_string();
            assert!(text.contains("byte"), "{text}");
        }
    }
}

#[test]
fn trailing_bytes_are_an_error() {
    for msg in all_valid() {
        let len = msg.0.len();
        let error = decode(msg.raw(&[0]).bytes()).unwrap_err();
        assert!(
            matches!(error, DecodeError::TrailingBytes { count: 1, at, .. } if at == len),
            "{error:?}"
        );
    }
    assert_eq!(
        decode(begin().raw(b"xy").bytes()).unwrap_err().to_string(),
        "2 trailing bytes after the begin message at byte 21"
    );
}

#[test]
fn malformed_inputs_say_what_and_where() {
    let cases: Vec<(Msg, &str)> = vec![
        (
            Msg::default(),
            "truncated message tag at byte 0: needs 1 bytes, 0 left",
        ),
        (Msg::tag(b'Z'), "unknown message tag 'Z' at byte 0"),
        (Msg::tag(0x01), "unknown message tag 0x01 at byte 0"),
        (
            Msg::tag(b'I').u32(1).u8(b'N').u16(1).u8(b'x'),
            "unknown tuple value kind 'x' at byte 8",
        ),
        (
            Msg::tag(b'I').u32(1).u8(b'X'),
            "expected 'N' (new tuple) at byte 5, found 'X'",
        ),
        (
            Msg::tag(b'U').u32(1).u8(b'Q'),
            "expected 'K', 'O' or 'N' (update tuple) at byte 5, found 'Q'",
        ),
        (
            Msg::tag(b'U').u32(1).u8(b'O').tuple(&[]).u8(b'K'),
            "expected 'N' (new tuple) at byte 8, found 'K'",
        ),
        (
            Msg::tag(b'D').u32(1).u8(b'N').tuple(&[]),
            "expected 'K' or 'O' (old tuple) at byte 5, found 'N'",
        ),
        (
            Msg::tag(b'I').u32(1).u8(b'N').u16(1).u8(b't').i32(-1),
            "negative text value -1 at byte 9",
        ),
        (
            Msg::tag(b'I')
                .u32(1)
                .u8(b'N')
                .u16(1)
                .u8(b't')
                .i32(10)
                .raw(b"abc"),
            "truncated text value at byte 13: needs 10 bytes, 3 left",
        ),
        (
            Msg::tag(b'T').i32(-2).u8(0),
            "negative truncate relation count -2 at byte 1",
        ),
        (
            Msg::tag(b'T').i32(1_000_000).u8(0).u32(1),
            "truncated truncate relation oids at byte 6: needs 4000000 bytes, 4 left",
        ),
        (
            Msg::tag(b'M').u8(2).u64(1).str("p").i32(0),
            "unknown logical message flags 0x02 at byte 1",
        ),
        (
            Msg::tag(b'M').u8(0).u64(1).str("p").i32(i32::MIN),
            "negative logical message content -2147483648 at byte 12",
        ),
        (
            Msg::tag(b'O').u64(1).raw(b"abc"),
            "unterminated origin name starting at byte 9",
        ),
        (
            Msg::tag(b'Y').u32(1).str("ok").raw(b"ab\xffc\0"),
            "invalid utf-8 in type name at byte 10",
        ),
    ];
    for (msg, expected) in cases {
        let error = decode(msg.bytes()).unwrap_err();
        assert_eq!(error.to_string(), expected, "{:?}", msg.0);
    }
}

#[test]
fn huge_counts_with_little_input_fail_without_preallocating() {
    // 65535 columns claimed, three bytes present: the capacity is capped by the input.
    let tuple = Msg::tag(b'I').u32(1).u8(b'N').u16(u16::MAX).raw(b"nnn");
    assert!(matches!(
        decode(tuple.bytes()),
        Err(DecodeError::Truncated { at: 11, .. })
    ));
    let relation = Msg::tag(b'R')
        .u32(1)
        .str("s")
        .str("t")
        .u8(b'd')
        .u16(u16::MAX)
        .raw(b"\x01");
    assert!(decode(relation.bytes()).is_err());
    let truncate = Msg::tag(b'T').i32(i32::MAX).u8(0);
    assert!(matches!(
        decode(truncate.bytes()),
        Err(DecodeError::Truncated { needed, .. }) if needed == i32::MAX as usize * 4
    ));
    let logical = Msg::tag(b'M').u8(1).u64(1).str("p").i32(i32::MAX).raw(b"x");
    assert!(decode(logical.bytes()).is_err());
}

/// Random bytes, random bytes behind a valid tag, and random mutations of valid messages:
/// none may panic. Deterministic, so a failure reproduces.
#[test]
fn garbage_never_panics() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    let mut rng = StdRng::seed_from_u64(0x005e_75e7);
    let tags = b"BCORYIUDTM";
    let valid = all_valid();
    let mut decoded_ok = 0;
    for round in 0..6000 {
        let mut bytes: Vec<u8> = match round % 3 {
            0 => (0..rng.random_range(0..48)).map(|_| rng.random()).collect(),
            1 => {
                let mut v = vec![tags[rng.random_range(0..tags.len())]];
                v.extend((0..rng.random_range(0..64)).map(|_| rng.random::<u8>()));
                v
            }
            _ => valid[rng.random_range(0..valid.len())].0.clone(),
        };
        if round % 3 == 2 {
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..bytes.len());
                match rng.random_range(0..3) {
                    0 => bytes[at] = rng.random(),
                    1 => {
                        bytes.remove(at);
                        if bytes.is_empty() {
                            break;
                        }
                    }
                    _ => bytes.insert(at, rng.random()),
                }
            }
        }
        if decode(Bytes::from(bytes)).is_ok() {
            decoded_ok += 1;
        }
    }
    // Mutations sometimes still form valid messages (e.g. a changed value byte); the point
    // is that no input panicked, but the generator must not be trivially all-invalid.
    assert!(decoded_ok > 0);
}

#[test]
fn as_text_reads_only_utf8_text_values() {
    assert_eq!(text("héllo").as_text(), Some("héllo"));
    assert_eq!(text("").as_text(), Some(""));
    assert_eq!(Value::Text(Bytes::from_static(b"\xff")).as_text(), None);
    assert_eq!(Value::Binary(Bytes::from_static(b"abc")).as_text(), None);
    assert_eq!(Value::Null.as_text(), None);
    assert_eq!(Value::UnchangedToast.as_text(), None);
}

#[test]
fn fill_unchanged_toast_takes_old_values_at_the_same_position() {
    let old = OldTuple {
        kind: OldTupleKind::Full,
        values: vec![
            text("id"),
            text("old title"),
            text("big"),
            Value::Binary(Bytes::from_static(b"\x01")),
        ],
    };
    let mut new = vec![
        text("id"),
        text("new title"),
        Value::UnchangedToast,
        Value::UnchangedToast,
    ];
    fill_unchanged_toast(&mut new, Some(&old));
    assert_eq!(
        new,
        vec![
            text("id"),
            text("new title"),
            text("big"),
            Value::Binary(Bytes::from_static(b"\x01")),
        ]
    );

    // Nothing to fill from: markers stay, so the caller sees the row is incomplete.
    let mut new = vec![text("id"), Value::UnchangedToast];
    fill_unchanged_toast(&mut new, None);
    assert_eq!(new, vec![text("id"), Value::UnchangedToast]);

    // A key tuple's nulls mean "not in the key"; they must not overwrite a marker.
    let key = OldTuple {
        kind: OldTupleKind::Key,
        values: vec![text("id"), Value::Null],
    };
    fill_unchanged_toast(&mut new, Some(&key));
    assert_eq!(new, vec![text("id"), Value::UnchangedToast]);

    // A shorter old tuple leaves the positions it does not cover alone.
    let short = OldTuple {
        kind: OldTupleKind::Full,
        values: vec![text("id")],
    };
    fill_unchanged_toast(&mut new, Some(&short));
    assert_eq!(new, vec![text("id"), Value::UnchangedToast]);
}

#[test]
fn fill_shares_the_old_buffer() {
    let data = update_full().bytes();
    let Message::Update { old, mut new, .. } = decode(data.clone()).unwrap() else {
        panic!("not an update");
    };
    fill_unchanged_toast(&mut new, old.as_ref());
    let Value::Text(filled) = &new[2] else {
        panic!("not filled: {new:?}");
    };
    assert_eq!(filled.as_ref(), b"big");
    let start = data.as_ptr() as usize;
    assert!((start..start + data.len()).contains(&(filled.as_ptr() as usize)));
}

/// Payloads captured from a real server by `tests/integration/pgoutput_capture.rs`
/// (`a_small_capture_decodes_and_can_refresh_the_fixture`): one hex payload a line, `#` lines are comments, one of which
/// lists the xids the writing transactions saw with `txid_current()`.
const CAPTURE: &str = include_str!("../../../../tests/fixtures/pgoutput/capture.hex");

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
