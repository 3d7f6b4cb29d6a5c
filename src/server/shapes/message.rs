//! Encoding shape log messages exactly as Electric writes them.
//!
//! A change message is `{"key":…,"value":{…},"headers":{…}}` with every non-null value as the
//! Postgres text output in a JSON string. Keys are `"schema"."table"/"pk1"/"pk2"` with `/`
//! doubled inside values (and `.` doubled inside names), NULL written as a bare `_`.
//! Messages are written straight into a byte buffer: the log stores them as they will be sent.

use std::io::Write;

use super::word;
use crate::protocol::{Operation, control};

/// Where a replicated change sits in its transaction (snapshot rows have none of this).
#[derive(Debug, Clone, Copy)]
pub struct TxPosition {
    pub lsn: u64,
    pub op_position: u64,
    pub xid: u32,
    pub last: bool,
}

/// A primary key change is sent as a delete of the old key and an insert of the new one,
/// each naming the other.
#[derive(Debug, Clone, Copy)]
pub enum KeyChange<'a> {
    To(&'a str),
    From(&'a str),
}

/// The table a message belongs to.
#[derive(Debug, Clone)]
pub struct Relation {
    pub schema: String,
    pub table: String,
}

impl Relation {
    /// The key prefix `"schema"."table"`, with `/` and `.` doubled inside the names.
    pub fn key_prefix(&self) -> String {
        let escape = |name: &str| name.replace('/', "//").replace('.', "..");
        format!("\"{}\".\"{}\"", escape(&self.schema), escape(&self.table))
    }
}

/// Appends a row key: the relation prefix, then `/"value"` per key column (`/_` for NULL).
pub fn write_key(
    out: &mut String,
    prefix: &str,
    key_values: impl Iterator<Item = Option<impl AsRef<str>>>,
) {
    out.push_str(prefix);
    for value in key_values {
        match value {
            Some(value) => {
                out.push_str("/\"");
                for (i, part) in value.as_ref().split('/').enumerate() {
                    if i > 0 {
                        out.push_str("//");
                    }
                    out.push_str(part);
                }
                out.push('"');
            }
            None => out.push_str("/_"),
        }
    }
}

/// Writes `text` as a JSON string, escaped byte for byte as serde_json escapes it. Eight bytes
/// at a time are checked for a quote, a backslash or a control character; runs without one are
/// copied whole, and a word with one skips straight to it.
fn write_json_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if let Some(w) = word::word_at(bytes, i) {
            let mask = word::below(w, 0x20) | word::equal(w, b'"') | word::equal(w, b'\\');
            if mask == 0 {
                i += 8;
                continue;
            }
            // Each mask's lowest mark is exact (a false one only sits above a true one), so
            // the lowest of the three is the first byte to escape.
            i += word::first(mask);
        }
        if let Some((escape, len)) = escape_of(bytes[i]) {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(&escape[..len]);
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// serde_json's escape for `byte` (bytes and length), or `None` when it is written as it is.
fn escape_of(byte: u8) -> Option<([u8; 6], usize)> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        0x00..=0x1f => {
            let (high, low) = (HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 15)]);
            return Some(([b'\\', b'u', b'0', b'0', high, low], 6));
        }
        _ => return None,
    };
    Some(([b'\\', short, 0, 0, 0, 0], 2))
}

/// Column names as the openings of JSON object members (`"name":`), encoded once per shape
/// rather than once per row.
#[derive(Debug, Clone)]
pub struct MemberNames(Vec<Box<[u8]>>);

impl MemberNames {
    pub fn new<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        Self(
            names
                .map(|name| {
                    let mut member = Vec::with_capacity(name.len() + 3);
                    write_json_str(&mut member, name);
                    member.push(b':');
                    member.into_boxed_slice()
                })
                .collect(),
        )
    }
}

/// Writes a JSON object of column name → text value (or null) for the `columns` of `row`
/// (indexes into both `row` and `names`).
pub fn write_row_values(
    out: &mut Vec<u8>,
    names: &MemberNames,
    row: &[Option<&str>],
    columns: impl Iterator<Item = usize>,
) {
    out.push(b'{');
    for (n, i) in columns.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&names.0[i]);
        match row[i] {
            Some(value) => write_json_str(out, value),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b'}');
}

/// Writes a JSON object of column name → text value (or null).
#[cfg(test)]
pub fn write_values<'a>(
    out: &mut Vec<u8>,
    values: impl Iterator<Item = (&'a str, Option<&'a str>)>,
) {
    let (names, row): (Vec<&str>, Vec<Option<&str>>) = values.unzip();
    let members = MemberNames::new(names.into_iter());
    write_row_values(out, &members, &row, 0..row.len());
}

/// One change message, ready to encode. `value` and `old_value` are pre-encoded JSON objects
/// (see [`write_row_values`]).
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub key: &'a str,
    pub value: &'a [u8],
    pub old_value: Option<&'a [u8]>,
    pub operation: Operation,
    pub relation: &'a Relation,
    pub position: Option<TxPosition>,
    pub key_change: Option<KeyChange<'a>>,
    /// More header members, pre-encoded (`"snapshot_mark":3`, `"tags":[…]`), or empty.
    pub extra_headers: &'a [u8],
}

impl Change<'_> {
    pub fn write(&self, out: &mut Vec<u8>) {
        self.write_value_with(out, |out| out.extend_from_slice(self.value));
    }

    /// Writes the message with its value written in place by `value` (`self.value` is then
    /// not read): a row's values go straight into the message, not through a copy.
    pub fn write_value_with(&self, out: &mut Vec<u8>, value: impl FnOnce(&mut Vec<u8>)) {
        out.extend_from_slice(b"{\"key\":");
        write_json_str(out, self.key);
        out.extend_from_slice(b",\"value\":");
        value(out);
        if let Some(old) = self.old_value {
            out.extend_from_slice(b",\"old_value\":");
            out.extend_from_slice(old);
        }
        out.extend_from_slice(b",\"headers\":{\"operation\":\"");
        out.extend_from_slice(self.operation.as_str().as_bytes());
        out.extend_from_slice(b"\",\"relation\":[");
        write_json_str(out, &self.relation.schema);
        out.push(b',');
        write_json_str(out, &self.relation.table);
        out.push(b']');
        if let Some(p) = self.position {
            write!(
                out,
                ",\"lsn\":\"{}\",\"op_position\":{},\"txids\":[{}]",
                p.lsn, p.op_position, p.xid
            )
            .expect("writing to a Vec cannot fail");
            if p.last {
                out.extend_from_slice(b",\"last\":true");
            }
        }
        match self.key_change {
            Some(KeyChange::To(key)) => {
                out.extend_from_slice(b",\"key_change_to\":");
                write_json_str(out, key);
            }
            Some(KeyChange::From(key)) => {
                out.extend_from_slice(b",\"key_change_from\":");
                write_json_str(out, key);
            }
            None => {}
        }
        if !self.extra_headers.is_empty() {
            out.push(b',');
            out.extend_from_slice(self.extra_headers);
        }
        out.extend_from_slice(b"}}");
    }
}

/// `{"headers":{"control":"up-to-date","global_last_seen_lsn":"<lsn>"}}`
pub fn up_to_date(lsn: u64) -> String {
    format!(
        r#"{{"headers":{{"control":"{}","global_last_seen_lsn":"{lsn}"}}}}"#,
        control::UP_TO_DATE
    )
}

/// The snapshot-end control message, carrying the snapshot's visibility bounds.
pub fn snapshot_end(xmin: u64, xmax: u64, xip: &[u64]) -> Vec<u8> {
    let xip: Vec<String> = xip.iter().map(|x| x.to_string()).collect();
    serde_json::to_vec(&serde_json::json!({
        "headers": {
            "control": control::SNAPSHOT_END,
            "xmin": xmin.to_string(),
            "xmax": xmax.to_string(),
            "xip_list": xip,
        }
    }))
    .expect("serialising JSON cannot fail")
}

/// The body of a 409.
pub const MUST_REFETCH: &str = r#"[{"headers":{"control":"must-refetch"}}]"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut every_byte: String = (0_u8..0x80).map(char::from).collect();
        every_byte.push_str("é\u{2028}😀 \\\" end");
        let long = "a fairly long plain value, then one \" quote and a \n newline".repeat(3);
        for text in [every_byte.as_str(), "", "plain", "\"", "a\u{1}b", &long] {
            let mut ours = Vec::new();
            write_json_str(&mut ours, text);
            assert_eq!(ours, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn keys_follow_electrics_format() {
        let rel = Relation {
            schema: "public".into(),
            table: "items".into(),
        };
        let mut key = String::new();
        write_key(&mut key, &rel.key_prefix(), [Some("42")].into_iter());
        assert_eq!(key, r#""public"."items"/"42""#);
        let odd = Relation {
            schema: "a.b".into(),
            table: "c/d".into(),
        };
        let mut key = String::new();
        write_key(
            &mut key,
            &odd.key_prefix(),
            [Some("1/2"), None, Some("3")].into_iter(),
        );
        assert_eq!(key, r#""a..b"."c//d"/"1//2"/_/"3""#);
    }

    #[test]
    fn change_messages_have_electrics_shape() {
        let rel = Relation {
            schema: "public".into(),
            table: "items".into(),
        };
        let mut value = Vec::new();
        write_values(
            &mut value,
            [
                ("id", Some("42")),
                ("title", Some("say \"hi\"")),
                ("n", None),
            ]
            .into_iter(),
        );
        let mut out = Vec::new();
        Change {
            key: r#""public"."items"/"42""#,
            value: &value,
            old_value: None,
            operation: Operation::Insert,
            relation: &rel,
            position: Some(TxPosition {
                lsn: 27344208,
                op_position: 0,
                xid: 7561,
                last: true,
            }),
            key_change: None,
            extra_headers: b"",
        }
        .write(&mut out);
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "key": "\"public\".\"items\"/\"42\"",
                "value": {"id": "42", "title": "say \"hi\"", "n": null},
                "headers": {"operation": "insert", "relation": ["public", "items"],
                            "lsn": "27344208", "op_position": 0, "txids": [7561], "last": true}
            })
        );
    }
}
