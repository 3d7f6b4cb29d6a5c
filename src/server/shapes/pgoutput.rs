//! Decoding of PostgreSQL's `pgoutput` logical replication messages, protocol version 1.
//!
//! This module owns the byte format and nothing else: one call to [`decode`] turns the payload
//! of one replication `XLogData` message (or one `data` row of
//! `pg_logical_slot_get_binary_changes`) into a [`Message`]. Keeping relation metadata, mapping
//! tuples to column names, routing changes to shapes and tracking LSNs belong to the callers.
//!
//! The input comes over the network from a server we trust but do not control, so the decoder
//! is strict and total:
//!
//! - every read is bounds-checked and every failure is a [`DecodeError`] naming what was being
//!   read and the byte offset (from the start of the message) where it went wrong; it never
//!   panics;
//! - no allocation is sized from a length field before the input has been shown to hold that
//!   many entries (a column count of 65535 followed by three bytes allocates for three at most);
//! - a message must be consumed exactly: trailing bytes are an error, because pgoutput never
//!   pads and leftovers mean we and the server disagree about the format;
//! - names (namespaces, relations, columns, types, origins, message prefixes) must be UTF-8
//!   (our clusters are created with `--encoding UTF8`; anything else is rejected, not guessed);
//!   tuple values are left as raw bytes and checked only when read with [`Value::as_text`];
//! - tuple values and logical message contents are zero-copy slices of the input [`Bytes`].
//!
//! Reference: "Logical Replication Message Formats" in the PostgreSQL documentation. Protocol
//! version 1 has no streaming and no two-phase messages, and no transaction id in
//! Insert/Update/Delete/Relation/Type/Truncate/Message.

use std::fmt;

use bytes::{Buf, Bytes};

/// One decoded pgoutput message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Start of a transaction. `final_lsn` is the LSN of its commit record; `commit_time` is
    /// microseconds since 2000-01-01 00:00:00 UTC (PostgreSQL's epoch).
    Begin {
        final_lsn: u64,
        commit_time: i64,
        xid: u32,
    },
    /// End of a transaction. `flags` is unused by PostgreSQL so far and kept raw.
    Commit {
        flags: u8,
        commit_lsn: u64,
        end_lsn: u64,
        commit_time: i64,
    },
    /// The replication origin the transaction came from (only for replicated changes).
    Origin {
        commit_lsn: u64,
        name: String,
    },
    /// A table's shape; sent before its first change in a session and after it changes.
    Relation(Relation),
    /// A non-built-in column type used by a following Relation message.
    Type {
        id: u32,
        namespace: String,
        name: String,
    },
    Insert {
        relation_id: u32,
        new: Tuple,
    },
    /// `old` is present when the table's replica identity is FULL (the whole old row) or when
    /// the key changed (the old key, other columns null).
    Update {
        relation_id: u32,
        old: Option<OldTuple>,
        new: Tuple,
    },
    Delete {
        relation_id: u32,
        old: OldTuple,
    },
    /// `options`: bit 1 is CASCADE, bit 2 is RESTART IDENTITY.
    Truncate {
        options: u8,
        relation_ids: Vec<u32>,
    },
    /// A `pg_logical_emit_message` call.
    Message {
        transactional: bool,
        lsn: u64,
        prefix: String,
        content: Bytes,
    },
}

/// The description of a published table, as carried by a Relation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub id: u32,
    pub namespace: String,
    pub name: String,
    /// `pg_class.relreplident`: `b'd'` default, `b'n'` nothing, `b'f'` full, `b'i'` index.
    pub replica_identity: u8,
    /// In table order, without dropped (and, in newer servers, generated) columns: the same
    /// positions as the values of every tuple for this relation.
    pub columns: Vec<RelationColumn>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationColumn {
    /// Bit 1 marks a replica identity column. With REPLICA IDENTITY FULL every column has it.
    pub flags: u8,
    pub name: String,
    pub type_oid: u32,
    /// `atttypmod`; -1 when the type has no modifier.
    pub type_modifier: i32,
}

impl RelationColumn {
    /// Whether the column is part of the replica identity (the `flags` key bit).
    pub fn is_key(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// The old row of an Update or Delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldTuple {
    pub kind: OldTupleKind,
    pub values: Tuple,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OldTupleKind {
    /// `'K'`: only the replica identity columns carry values; the rest are null.
    Key,
    /// `'O'`: the whole old row (REPLICA IDENTITY FULL).
    Full,
}

/// One row's values, in the column order of the relation's latest Relation message.
pub type Tuple = Vec<Value>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    /// A TOASTed value that the change did not touch; the server does not resend it. See
    /// [`fill_unchanged_toast`].
    UnchangedToast,
    /// The value in the type's text output format (what pgoutput sends by default).
    Text(Bytes),
    /// The value in the type's binary send format (only with the `binary` option).
    Binary(Bytes),
}

impl Value {
    /// The value as text, when it is a text-format value holding valid UTF-8.
    ///
    /// `None` for null, unchanged TOAST and binary-format values (their bytes are the type's
    /// binary encoding, not characters), and for text that is not UTF-8. Callers that must tell
    /// these apart match on the variants instead.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(bytes) => std::str::from_utf8(bytes).ok(),
            Value::Null | Value::UnchangedToast | Value::Binary(_) => None,
        }
    }
}

/// Replaces the [`Value::UnchangedToast`] markers of an Update's new tuple with the old values
/// at the same positions.
///
/// With REPLICA IDENTITY FULL the server sends the whole old row, with TOASTed values inlined,
/// so every marker can be resolved and the new tuple becomes the complete new row. Only real
/// values (text or binary) are copied: in a key-only old tuple a null means "not part of the
/// key", not "was null". Markers without a usable old value stay in place, so a caller can
/// still see that the row is incomplete. Copies share the old tuple's buffer (no byte copy).
pub fn fill_unchanged_toast(new: &mut Tuple, old: Option<&OldTuple>) {
    let Some(old) = old else { return };
    for (value, previous) in new.iter_mut().zip(&old.values) {
        if *value == Value::UnchangedToast && matches!(previous, Value::Text(_) | Value::Binary(_))
        {
            *value = previous.clone();
        }
    }
}

/// Why a payload is not a valid pgoutput v1 message. Every offset (`at`) counts bytes from
/// the start of the payload, tag included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("truncated {what} at byte {at}: needs {needed} bytes, {available} left")]
    Truncated {
        what: &'static str,
        at: usize,
        needed: usize,
        available: usize,
    },
    #[error("unknown message tag {} at byte 0", show_byte(.tag))]
    UnknownTag { tag: u8 },
    #[error("unknown tuple value kind {} at byte {at}", show_byte(.kind))]
    UnknownValueKind { kind: u8, at: usize },
    #[error("expected {expected} at byte {at}, found {}", show_byte(.found))]
    UnexpectedByte {
        expected: &'static str,
        found: u8,
        at: usize,
    },
    #[error("unknown {what} flags {flags:#04x} at byte {at}")]
    UnknownFlags {
        what: &'static str,
        flags: u8,
        at: usize,
    },
    #[error("negative {what} {value} at byte {at}")]
    NegativeLength {
        what: &'static str,
        value: i32,
        at: usize,
    },
    #[error("unterminated {what} starting at byte {at}")]
    UnterminatedString { what: &'static str, at: usize },
    #[error("invalid utf-8 in {what} at byte {at}")]
    InvalidUtf8 { what: &'static str, at: usize },
    #[error("{count} trailing bytes after the {message} message at byte {at}")]
    TrailingBytes {
        message: &'static str,
        count: usize,
        at: usize,
    },
}

/// Shows a protocol byte as the character the docs use (`'B'`) when it is printable ASCII,
/// else in hex, so garbage does not end up as control characters in logs.
fn show_byte(byte: &u8) -> ShownByte {
    ShownByte(*byte)
}

struct ShownByte(u8);

impl fmt::Display for ShownByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() {
            write!(f, "'{}'", self.0 as char)
        } else {
            write!(f, "{:#04x}", self.0)
        }
    }
}

/// Decodes one pgoutput protocol version 1 message.
pub fn decode(data: Bytes) -> Result<Message, DecodeError> {
    let mut r = Reader::new(data);
    let tag = r.u8("message tag")?;
    let (message, name) = match tag {
        b'B' => (
            Message::Begin {
                final_lsn: r.u64("begin final lsn")?,
                commit_time: r.i64("begin commit timestamp")?,
                xid: r.u32("begin xid")?,
            },
            "begin",
        ),
        b'C' => (
            Message::Commit {
                flags: r.u8("commit flags")?,
                commit_lsn: r.u64("commit lsn")?,
                end_lsn: r.u64("commit end lsn")?,
                commit_time: r.i64("commit timestamp")?,
            },
            "commit",
        ),
        b'O' => (
            Message::Origin {
                commit_lsn: r.u64("origin commit lsn")?,
                name: r.string("origin name")?,
            },
            "origin",
        ),
        b'R' => (Message::Relation(relation(&mut r)?), "relation"),
        b'Y' => (
            Message::Type {
                id: r.u32("type oid")?,
                namespace: r.string("type namespace")?,
                name: r.string("type name")?,
            },
            "type",
        ),
        b'I' => {
            let relation_id = r.u32("insert relation oid")?;
            r.expect(b'N', "'N' (new tuple)")?;
            let new = tuple(&mut r)?;
            (Message::Insert { relation_id, new }, "insert")
        }
        b'U' => {
            let relation_id = r.u32("update relation oid")?;
            let at = r.pos();
            let old = match r.u8("update tuple marker")? {
                b'N' => None,
                marker @ (b'K' | b'O') => {
                    let values = tuple(&mut r)?;
                    r.expect(b'N', "'N' (new tuple)")?;
                    Some(OldTuple {
                        kind: old_kind(marker),
                        values,
                    })
                }
                found => {
                    return Err(DecodeError::UnexpectedByte {
                        expected: "'K', 'O' or 'N' (update tuple)",
                        found,
                        at,
                    });
                }
            };
            let new = tuple(&mut r)?;
            (
                Message::Update {
                    relation_id,
                    old,
                    new,
                },
                "update",
            )
        }
        b'D' => {
            let relation_id = r.u32("delete relation oid")?;
            let at = r.pos();
            let kind = match r.u8("delete tuple marker")? {
                marker @ (b'K' | b'O') => old_kind(marker),
                found => {
                    return Err(DecodeError::UnexpectedByte {
                        expected: "'K' or 'O' (old tuple)",
                        found,
                        at,
                    });
                }
            };
            let values = tuple(&mut r)?;
            (
                Message::Delete {
                    relation_id,
                    old: OldTuple { kind, values },
                },
                "delete",
            )
        }
        b'T' => {
            let count = r.length("truncate relation count")?;
            let options = r.u8("truncate options")?;
            // The ids are fixed-size, so the whole list can be checked before allocating it.
            r.need(count.saturating_mul(4), "truncate relation oids")?;
            let mut relation_ids = Vec::with_capacity(count);
            for _ in 0..count {
                relation_ids.push(r.u32("truncate relation oid")?);
            }
            (
                Message::Truncate {
                    options,
                    relation_ids,
                },
                "truncate",
            )
        }
        b'M' => {
            let at = r.pos();
            // The flags collapse into a bool, so unknown bits would be lost silently: refuse.
            let transactional = match r.u8("logical message flags")? {
                0 => false,
                1 => true,
                flags => {
                    return Err(DecodeError::UnknownFlags {
                        what: "logical message",
                        flags,
                        at,
                    });
                }
            };
            let lsn = r.u64("logical message lsn")?;
            let prefix = r.string("logical message prefix")?;
            let content = r.sized("logical message content")?;
            (
                Message::Message {
                    transactional,
                    lsn,
                    prefix,
                    content,
                },
                "logical",
            )
        }
        tag => return Err(DecodeError::UnknownTag { tag }),
    };
    r.finish(name)?;
    Ok(message)
}

fn old_kind(marker: u8) -> OldTupleKind {
    if marker == b'K' {
        OldTupleKind::Key
    } else {
        OldTupleKind::Full
    }
}

/// The smallest encoding of one Relation column: flags, an empty name's NUL, oid, typmod.
const MIN_COLUMN_BYTES: usize = 1 + 1 + 4 + 4;

fn relation(r: &mut Reader) -> Result<Relation, DecodeError> {
    let id = r.u32("relation oid")?;
    let namespace = r.string("relation namespace")?;
    let name = r.string("relation name")?;
    let replica_identity = r.u8("relation replica identity")?;
    let count = usize::from(r.u16("relation column count")?);
    // Capacity bounded by what the remaining input could hold, not by the claimed count.
    let mut columns = Vec::with_capacity(count.min(r.remaining() / MIN_COLUMN_BYTES));
    for _ in 0..count {
        columns.push(RelationColumn {
            flags: r.u8("column flags")?,
            name: r.string("column name")?,
            type_oid: r.u32("column type oid")?,
            type_modifier: r.i32("column type modifier")?,
        });
    }
    Ok(Relation {
        id,
        namespace,
        name,
        replica_identity,
        columns,
    })
}

fn tuple(r: &mut Reader) -> Result<Tuple, DecodeError> {
    let count = usize::from(r.u16("tuple column count")?);
    // Every value takes at least its kind byte, so the input bounds the capacity.
    let mut values = Vec::with_capacity(count.min(r.remaining()));
    for _ in 0..count {
        let at = r.pos();
        let value = match r.u8("tuple value kind")? {
            b'n' => Value::Null,
            b'u' => Value::UnchangedToast,
            b't' => Value::Text(r.sized("text value")?),
            b'b' => Value::Binary(r.sized("binary value")?),
            kind => return Err(DecodeError::UnknownValueKind { kind, at }),
        };
        values.push(value);
    }
    Ok(values)
}

/// A cursor over one message that knows its offset, for error messages.
struct Reader {
    buf: Bytes,
    len: usize,
}

impl Reader {
    fn new(buf: Bytes) -> Self {
        let len = buf.len();
        Self { buf, len }
    }

    fn pos(&self) -> usize {
        self.len - self.buf.len()
    }

    fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn need(&self, needed: usize, what: &'static str) -> Result<(), DecodeError> {
        if self.buf.len() < needed {
            return Err(DecodeError::Truncated {
                what,
                at: self.pos(),
                needed,
                available: self.buf.len(),
            });
        }
        Ok(())
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        self.need(1, what)?;
        Ok(self.buf.get_u8())
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        self.need(2, what)?;
        Ok(self.buf.get_u16())
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.need(4, what)?;
        Ok(self.buf.get_u32())
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        self.need(4, what)?;
        Ok(self.buf.get_i32())
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        self.need(8, what)?;
        Ok(self.buf.get_u64())
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        self.need(8, what)?;
        Ok(self.buf.get_i64())
    }

    /// Reads `expected` or fails saying what was expected.
    fn expect(&mut self, expected: u8, description: &'static str) -> Result<(), DecodeError> {
        let at = self.pos();
        let found = self.u8(description)?;
        if found != expected {
            return Err(DecodeError::UnexpectedByte {
                expected: description,
                found,
                at,
            });
        }
        Ok(())
    }

    /// An Int32 count or length, which the protocol declares signed; negative is malformed.
    fn length(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let at = self.pos();
        let value = self.i32(what)?;
        usize::try_from(value).map_err(|_| DecodeError::NegativeLength { what, value, at })
    }

    /// An Int32 length followed by that many bytes, returned without copying.
    fn sized(&mut self, what: &'static str) -> Result<Bytes, DecodeError> {
        let len = self.length(what)?;
        self.need(len, what)?;
        Ok(self.buf.split_to(len))
    }

    /// A NUL-terminated UTF-8 string.
    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let at = self.pos();
        let Some(end) = self.buf.iter().position(|&b| b == 0) else {
            return Err(DecodeError::UnterminatedString { what, at });
        };
        let bytes = self.buf.split_to(end);
        self.buf.advance(1);
        match std::str::from_utf8(&bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(error) => Err(DecodeError::InvalidUtf8 {
                what,
                at: at + error.valid_up_to(),
            }),
        }
    }

    fn finish(self, message: &'static str) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        Err(DecodeError::TrailingBytes {
            message,
            count: self.buf.len(),
            at: self.pos(),
        })
    }
}

#[cfg(test)]
mod tests {
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
    const CAPTURE: &str = include_str!("../../../tests/fixtures/pgoutput/capture.hex");

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
}
