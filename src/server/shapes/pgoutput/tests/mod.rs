//! The decoder against hand-built messages, every truncation, garbage, and bytes captured
//! from a real server. This module holds the message builder and the valid messages the tests
//! decode.

mod capture;
mod malformed;
mod messages;
mod values;

use bytes::Bytes;

use super::Value;

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
