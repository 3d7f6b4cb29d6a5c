//! Tuple values: reading them as text, and filling unchanged TOAST markers from the old tuple.

use bytes::Bytes;

use super::{text, update_full};
use crate::server::shapes::pgoutput::{
    Message, OldTuple, OldTupleKind, Value, decode, fill_unchanged_toast,
};

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
