//! A shape response's body decoded in one pass, without building a JSON tree: each message
//! becomes what the shape client needs of it, a row's values are typed as they are read (the
//! schema's integers and booleans become numbers and bools, the rest stays text), and column
//! names are shared between rows (one `Arc<str>` per column of the shape, not one `String` per
//! value). Headers are read leniently, as before: a header of an unexpected type is as if it
//! were absent; only a body that is not JSON, or not a list, is refused.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Index;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::protocol::control;

/// Column types from `electric-schema`, reduced to what the local database distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Integer,
    Boolean,
    Text,
}

/// The shape's columns as the server described them.
pub type Schema = BTreeMap<String, ColumnKind>;

/// A `move-out` pattern: rows whose tag has `value` at part `pos` lose that tag, and rows left
/// with no tag leave the shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovePattern {
    pub pos: usize,
    pub value: String,
}

/// Why a body could not be read: it is not JSON, or not a list of messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BodyError(String);

/// A visitor's answer to JSON that is not what it reads: a number, a bool or null (and text,
/// unless the visitor reads text).
macro_rules! other_json_says {
    (scalars: $answer:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($answer)
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($answer)
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($answer)
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($answer)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($answer)
        }
    };
    ($answer:expr) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($answer)
        }

        other_json_says!(scalars: $answer);
    };
}

/// A row's values, typed per the schema, in the order the server sent them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    fields: Vec<(Arc<str>, Value)>,
}

impl Row {
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(name, _)| &**name == column)
            .map(|(_, value)| value)
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The columns and their values, in the order the server sent them.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Value)> {
        self.fields.iter().map(|(name, value)| (name, value))
    }
}

impl Index<&str> for Row {
    type Output = Value;

    /// The value of `column`; null when the row has no such column.
    fn index(&self, column: &str) -> &Value {
        const NULL: &Value = &Value::Null;
        self.get(column).unwrap_or(NULL)
    }
}

/// The shape's column names, each allocated once, with their kinds (none for a column the
/// schema does not list, or before the schema is known).
#[derive(Debug, Clone, Default)]
pub struct Columns {
    names: Vec<(Arc<str>, Option<ColumnKind>)>,
}

impl Columns {
    pub fn of(schema: &Schema) -> Self {
        Self {
            names: schema
                .iter()
                .map(|(name, kind)| (Arc::from(name.as_str()), Some(*kind)))
                .collect(),
        }
    }

    /// The shared name of `column` and its kind; `hint` is where the previous column was found
    /// (rows list their columns in the same order, so the next one is usually just after).
    fn intern(&mut self, column: &str, hint: &mut usize) -> (Arc<str>, Option<ColumnKind>) {
        let count = self.names.len();
        let found = (0..count)
            .map(|step| (*hint + step) % count)
            .find(|&i| &*self.names[i].0 == column);
        let index = found.unwrap_or_else(|| {
            self.names.push((Arc::from(column), None));
            count
        });
        *hint = index + 1;
        let (name, kind) = &self.names[index];
        (name.clone(), *kind)
    }
}

/// What one message of a body says.
#[derive(Debug, Default)]
pub struct Message {
    /// `headers.control` is `up-to-date`.
    pub up_to_date: bool,
    /// `headers.event` is `move-out`.
    pub move_out: bool,
    /// `headers.operation`, as sent.
    pub operation: Option<String>,
    /// (`headers.lsn`, `headers.op_position`) of a replicated message.
    pub replicated_at: Option<(u64, u64)>,
    pub txids: Vec<u64>,
    pub tags: Vec<String>,
    pub removed_tags: Vec<String>,
    pub patterns: Vec<MovePattern>,
    pub key: Option<String>,
    /// `value`, when it is an object.
    pub value: Option<Row>,
}

/// The messages of a response body: a JSON array (an empty body is no messages).
pub fn decode(body: &[u8], columns: &mut Columns) -> Result<Vec<Message>, BodyError> {
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    let messages = reader
        .deserialize_any(BodyVisitor { columns })
        .and_then(|messages| reader.end().map(|()| messages))
        .map_err(|e| BodyError(e.to_string()))?;
    messages.ok_or_else(|| BodyError("expected a JSON array".into()))
}

/// The body: a list of messages (`None` for any other JSON).
struct BodyVisitor<'c> {
    columns: &'c mut Columns,
}

impl<'de> Visitor<'de> for BodyVisitor<'_> {
    type Value = Option<Vec<Message>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut messages = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(message) = seq.next_element_seed(MessageSeed {
            columns: &mut *self.columns,
        })? {
            messages.push(message);
        }
        Ok(Some(messages))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        ignore_map(map).map(|()| None)
    }

    other_json_says!(None);
}

fn ignore_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn ignore_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// One message; anything but an object is a message that says nothing.
struct MessageSeed<'c> {
    columns: &'c mut Columns,
}

impl<'de> DeserializeSeed<'de> for MessageSeed<'_> {
    type Value = Message;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Message, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MessageSeed<'_> {
    type Value = Message;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Message, A::Error> {
        let mut message = Message::default();
        while let Some(field) = map.next_key::<Cow<'de, str>>()? {
            match &*field {
                "headers" => {
                    if let Some(headers) = map.next_value::<Object<Headers<'de>>>()?.0 {
                        headers.into(&mut message);
                    }
                }
                "key" => message.key = map.next_value::<Text<'de>>()?.0.map(Cow::into_owned),
                "value" => {
                    message.value = map.next_value_seed(RowSeed {
                        columns: &mut *self.columns,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(message)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Message, A::Error> {
        ignore_seq(seq).map(|()| Message::default())
    }

    other_json_says!(Message::default());
}

/// A message's headers as sent; each is absent when it has an unexpected type.
#[derive(Default, Deserialize)]
struct Headers<'a> {
    #[serde(default, borrow)]
    operation: Text<'a>,
    #[serde(default, borrow)]
    control: Text<'a>,
    #[serde(default, borrow)]
    event: Text<'a>,
    #[serde(default, borrow)]
    lsn: Text<'a>,
    #[serde(default)]
    op_position: Lenient<u64>,
    #[serde(default)]
    txids: Option<Value>,
    #[serde(default)]
    tags: Option<Value>,
    #[serde(default)]
    removed_tags: Option<Value>,
    #[serde(default)]
    patterns: Option<Value>,
}

impl Headers<'_> {
    fn into(self, message: &mut Message) {
        let strings = |list: Option<Value>| -> Vec<String> {
            match list {
                Some(Value::Array(items)) => items
                    .into_iter()
                    .filter_map(|item| match item {
                        Value::String(text) => Some(text),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        message.up_to_date = self.control.0.as_deref() == Some(control::UP_TO_DATE);
        message.move_out = self.event.0.as_deref() == Some("move-out");
        message.operation = self.operation.0.map(Cow::into_owned);
        message.replicated_at = self
            .lsn
            .0
            .and_then(|lsn| lsn.parse::<u64>().ok())
            .zip(self.op_position.0);
        message.txids = match self.txids {
            Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_u64).collect(),
            _ => Vec::new(),
        };
        message.tags = strings(self.tags);
        message.removed_tags = strings(self.removed_tags);
        message.patterns = match self.patterns {
            Some(Value::Array(patterns)) => patterns.iter().filter_map(pattern).collect(),
            _ => Vec::new(),
        };
    }
}

fn pattern(value: &Value) -> Option<MovePattern> {
    Some(MovePattern {
        pos: usize::try_from(value["pos"].as_u64()?).ok()?,
        value: value["value"].as_str()?.to_owned(),
    })
}

/// Text, borrowed from the body when it has no escapes; nothing when the JSON holds something
/// else.
#[derive(Default)]
struct Text<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("text")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Borrowed(text))))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(text))))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text<'de>, A::Error> {
        ignore_map(map).map(|()| Text(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text<'de>, A::Error> {
        ignore_seq(seq).map(|()| Text(None))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
        Ok(Text(Some(Cow::Owned(text.to_owned()))))
    }

    other_json_says!(scalars: Text(None));
}

/// An object read as `T`; nothing when the JSON holds something else.
struct Object<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ObjectVisitor(std::marker::PhantomData))
    }
}

struct ObjectVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = Object<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Object(Some(t)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Object<T>, A::Error> {
        ignore_seq(seq).map(|()| Object(None))
    }

    other_json_says!(Object(None));
}

/// A value of type `T`, or nothing when the JSON holds something else.
struct Lenient<T>(Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Self(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(Self(T::deserialize(value).ok()))
    }
}

/// A row's values (`None` when `value` is not an object).
struct RowSeed<'c> {
    columns: &'c mut Columns,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = Option<Row>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Row>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = Option<Row>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row's values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Row>, A::Error> {
        let mut fields = Vec::with_capacity(self.columns.names.len());
        let mut hint = 0;
        while let Some(column) = map.next_key::<Cow<'de, str>>()? {
            let (name, kind) = self.columns.intern(&column, &mut hint);
            let value = typed(map.next_value::<Value>()?, kind);
            fields.push((name, value));
        }
        Ok(Some(Row { fields }))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Row>, A::Error> {
        ignore_seq(seq).map(|()| None)
    }

    other_json_says!(None);
}

/// Electric sends every value as text; integers and booleans become JSON numbers and bools.
fn typed(value: Value, kind: Option<ColumnKind>) -> Value {
    let Value::String(text) = &value else {
        return value;
    };
    match kind {
        Some(ColumnKind::Integer) => text.parse::<i64>().map_or(value, Value::from),
        Some(ColumnKind::Boolean) => Value::Bool(matches!(text.as_str(), "t" | "true")),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Columns {
        Columns::of(&Schema::from([
            ("id".to_owned(), ColumnKind::Text),
            ("n".to_owned(), ColumnKind::Integer),
        ]))
    }

    #[test]
    fn rows_share_column_names_and_are_typed_as_read() {
        let mut columns = columns();
        let body = br#"[{"key":"a","value":{"id":"a\nb","n":"7","extra":"x"},"headers":{"operation":"insert"}},
                        {"key":"b","value":{"id":"b","n":"8","extra":"y"},"headers":{"operation":"insert"}}]"#;
        let messages = decode(body, &mut columns).unwrap();
        let (first, second) = (
            messages[0].value.as_ref().unwrap(),
            messages[1].value.as_ref().unwrap(),
        );
        assert_eq!(first["id"], "a\nb", "escapes are decoded");
        assert_eq!(first["n"], 7);
        assert_eq!(first["extra"], "x", "a column the schema lacks stays text");
        assert_eq!(first["missing"], Value::Null);
        for ((a, _), (b, _)) in first.iter().zip(second.iter()) {
            assert!(Arc::ptr_eq(a, b), "{a} is allocated once");
        }
    }

    #[test]
    fn headers_of_unexpected_types_are_absent_and_other_json_says_nothing() {
        let mut columns = columns();
        let body = br#"[5, "x", null, [1], {"headers": 3, "key": 4, "value": [1]},
                        {"headers":{"operation":7,"control":["up-to-date"],"lsn":{},"txids":"1"}},
                        {"headers":{"control":"up-to-date","event":"move-out","lsn":"12","op_position":3,
                                    "patterns":[{"pos":0,"value":"v"},{"pos":"x"}],"txids":[5,"6"]}}]"#;
        let messages = decode(body, &mut columns).unwrap();
        assert_eq!(messages.len(), 7);
        for message in &messages[..6] {
            assert!(message.operation.is_none() && message.key.is_none());
            assert!(message.value.is_none() && !message.up_to_date);
            assert!(message.replicated_at.is_none() && message.txids.is_empty());
        }
        let last = &messages[6];
        assert!(last.up_to_date && last.move_out);
        assert_eq!(last.replicated_at, Some((12, 3)));
        assert_eq!(last.txids, [5]);
        assert_eq!(
            last.patterns,
            [MovePattern {
                pos: 0,
                value: "v".into()
            }]
        );
    }

    #[test]
    fn a_body_that_is_not_a_list_is_refused() {
        for body in [&b"{}"[..], b"7", b"[1,", b"[] []"] {
            assert!(decode(body, &mut columns()).is_err(), "{body:?}");
        }
        assert!(decode(b"", &mut columns()).unwrap().is_empty());
    }
}
