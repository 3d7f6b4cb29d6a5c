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
        b'I' => (insert(&mut r)?, "insert"),
        b'U' => (update(&mut r)?, "update"),
        b'D' => (delete(&mut r)?, "delete"),
        b'T' => (truncate(&mut r)?, "truncate"),
        b'M' => (logical_message(&mut r)?, "logical"),
        tag => return Err(DecodeError::UnknownTag { tag }),
    };
    r.finish(name)?;
    Ok(message)
}

fn insert(r: &mut Reader) -> Result<Message, DecodeError> {
    let relation_id = r.u32("insert relation oid")?;
    r.expect(b'N', "'N' (new tuple)")?;
    let new = tuple(r)?;
    Ok(Message::Insert { relation_id, new })
}

fn update(r: &mut Reader) -> Result<Message, DecodeError> {
    let relation_id = r.u32("update relation oid")?;
    let at = r.pos();
    let old = match r.u8("update tuple marker")? {
        b'N' => None,
        marker @ (b'K' | b'O') => {
            let values = tuple(r)?;
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
    let new = tuple(r)?;
    Ok(Message::Update {
        relation_id,
        old,
        new,
    })
}

fn delete(r: &mut Reader) -> Result<Message, DecodeError> {
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
    let values = tuple(r)?;
    Ok(Message::Delete {
        relation_id,
        old: OldTuple { kind, values },
    })
}

fn truncate(r: &mut Reader) -> Result<Message, DecodeError> {
    let count = r.length("truncate relation count")?;
    let options = r.u8("truncate options")?;
    // The ids are fixed-size, so the whole list can be checked before allocating it.
    r.need(count.saturating_mul(4), "truncate relation oids")?;
    let mut relation_ids = Vec::with_capacity(count);
    for _ in 0..count {
        relation_ids.push(r.u32("truncate relation oid")?);
    }
    Ok(Message::Truncate {
        options,
        relation_ids,
    })
}

fn logical_message(r: &mut Reader) -> Result<Message, DecodeError> {
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
    Ok(Message::Message {
        transactional,
        lsn: r.u64("logical message lsn")?,
        prefix: r.string("logical message prefix")?,
        content: r.sized("logical message content")?,
    })
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
mod tests;
