//! What a shape is: a table, an optional where clause with its params, the selected columns and
//! the replica mode — and how one replicated row change becomes that shape's messages.
//!
//! Identity follows Electric: two requests name the same shape when the table, the where clause
//! after parameter substitution, the columns and the replica mode agree. A row whose update
//! moves it into the shape arrives as an insert, out of it as a delete; updates that change
//! none of the selected columns are dropped.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::message::{self, Change, KeyChange, MemberNames, Relation, TxPosition};
use super::schema::{TableInfo, parse_identifier_list};
use super::where_clause::{InnerTables, WhereClause};
use crate::protocol::Operation;

/// `replica=default` sends changed columns only; `full` sends whole rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replica {
    Default,
    Full,
}

impl Replica {
    pub fn as_str(self) -> &'static str {
        match self {
            Replica::Default => "default",
            Replica::Full => "full",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "default" => Some(Replica::Default),
            "full" => Some(Replica::Full),
            _ => None,
        }
    }
}

/// A request parameter that makes no valid shape, with Electric's field name for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DefinitionError {
    pub field: &'static str,
    pub message: String,
}

impl DefinitionError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// The parameters a shape is made from, as given (kept to persist and re-create it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShapeParams {
    pub table: String,
    pub where_text: Option<String>,
    pub params: BTreeMap<usize, String>,
    pub columns: Option<String>,
    pub replica: String,
    /// `full` (the default: a snapshot, then changes) or `changes_only` (changes only).
    #[serde(default = "full_log")]
    pub log: String,
    /// The columns subset queries may name (and the default selection), as given.
    #[serde(default)]
    pub queryable_columns: Option<String>,
}

fn full_log() -> String {
    LogMode::Full.as_str().to_owned()
}

/// `log=full` starts with the matching rows; `changes_only` starts at the current point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    Full,
    ChangesOnly,
}

impl LogMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LogMode::Full => "full",
            LogMode::ChangesOnly => "changes_only",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "full" => Some(LogMode::Full),
            "changes_only" => Some(LogMode::ChangesOnly),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ShapeDefinition {
    pub params: ShapeParams,
    pub table: Arc<TableInfo>,
    pub relation: Relation,
    pub where_clause: Option<WhereClause>,
    /// Selected column indexes, in table order.
    pub selected: Vec<usize>,
    /// The columns a subset may filter and order by (`queryable_columns`); all when `None`.
    pub queryable: Option<Vec<usize>>,
    /// Key column indexes (primary key order).
    pub key_columns: Vec<usize>,
    pub replica: Replica,
    pub log: LogMode,
    /// Subquery shapes: the outer columns whose values make a row's tag, one per subquery.
    pub tag_columns: Vec<usize>,
    key_prefix: String,
    /// Every table column's name as a JSON member opening, in table order.
    member_names: MemberNames,
    /// The identity string: equal for requests that name the same shape.
    pub identity: String,
}

impl ShapeDefinition {
    /// Validates `params` against `table` (and the tables its subqueries select from).
    pub fn new(
        params: ShapeParams,
        table: Arc<TableInfo>,
        inner_tables: &InnerTables,
    ) -> Result<Self, DefinitionError> {
        let replica = Replica::parse(&params.replica)
            .ok_or_else(|| DefinitionError::new("replica", "is invalid"))?;
        let log =
            LogMode::parse(&params.log).ok_or_else(|| DefinitionError::new("log", "is invalid"))?;
        let key_columns = table.key_columns();
        let queryable = match &params.queryable_columns {
            Some(list) => Some(select_columns(list, &table, "queryable_columns")?),
            None => None,
        };
        let selected = match (&params.columns, &queryable) {
            (Some(list), _) => select_columns(list, &table, "columns")?,
            (None, Some(queryable)) => queryable.clone(),
            (None, None) => (0..table.columns.len()).collect(),
        };
        if let Some(queryable) = &queryable
            && let Some(&outside) = selected.iter().find(|i| !queryable.contains(i))
        {
            return Err(DefinitionError::new(
                "columns",
                format!(
                    "Column {} is not in queryable_columns",
                    table.columns[outside].name
                ),
            ));
        }
        let where_clause = match &params.where_text {
            Some(text) if !text.trim().is_empty() => Some(
                WhereClause::compile_with(text, &params.params, &table.columns, inner_tables)
                    .map_err(|e| DefinitionError::new("where", e.to_string()))?,
            ),
            _ => None,
        };
        let selected_names: Vec<&str> = selected
            .iter()
            .map(|&i| table.columns[i].name.as_str())
            .collect();
        let mut identity = format!(
            "{}|{}|{}|{}",
            relation_of(&table).key_prefix(),
            where_clause
                .as_ref()
                .map(|w| w.canonical())
                .unwrap_or_default(),
            selected_names.join(","),
            replica.as_str()
        );
        // Full logs keep the identity they always had, so shapes on disk are found again.
        if log == LogMode::ChangesOnly {
            identity.push_str("|changes_only");
        }
        let relation = relation_of(&table);
        let tag_columns = where_clause
            .as_ref()
            .map(|w| {
                w.subqueries()
                    .into_iter()
                    .map(|(column, _)| column)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            params,
            key_prefix: relation.key_prefix(),
            member_names: MemberNames::new(table.columns.iter().map(|c| c.name.as_str())),
            relation,
            table,
            where_clause,
            selected,
            queryable,
            key_columns,
            replica,
            log,
            tag_columns,
            identity,
        })
    }

    /// True for a shape with subqueries: its rows carry tags and move in and out.
    pub fn has_subqueries(&self) -> bool {
        !self.tag_columns.is_empty()
    }

    /// A row's tag: its value in each subquery's column, with `\\`, `|` and a lone `*`
    /// escaped, joined by `|` (Electric's composite tag).
    pub fn tag_of(&self, row: &[Option<&str>]) -> String {
        let parts: Vec<String> = self
            .tag_columns
            .iter()
            .map(|&i| tag_part(row.get(i).copied().flatten().unwrap_or("")))
            .collect();
        parts.join("|")
    }

    /// `"tags":[…]` for `new` (and `"removed_tags":[…]` when `old`'s tag differs), or nothing
    /// for shapes without subqueries.
    fn tag_headers(&self, new: &[Option<&str>], old: Option<&[Option<&str>]>) -> Vec<u8> {
        if !self.has_subqueries() {
            return Vec::new();
        }
        let tag = self.tag_of(new);
        let mut out = format!("\"tags\":{}", serde_json::json!([tag]));
        if let Some(old) = old.map(|old| self.tag_of(old)).filter(|old| *old != tag) {
            out.push_str(&format!(",\"removed_tags\":{}", serde_json::json!([old])));
        }
        out.into_bytes()
    }

    pub fn matches(&self, row: &[Option<&str>]) -> bool {
        self.where_clause.as_ref().is_none_or(|w| w.matches(row))
    }

    /// The row key of `row` (a full row in table column order).
    pub fn key_of(&self, row: &[Option<&str>]) -> String {
        let mut key = String::with_capacity(self.key_prefix.len() + 40);
        self.write_key(row, &mut key);
        key
    }

    fn write_key(&self, row: &[Option<&str>], key: &mut String) {
        message::write_key(
            key,
            &self.key_prefix,
            self.key_columns.iter().map(|&i| row[i]),
        );
    }

    fn write_values(
        &self,
        row: &[Option<&str>],
        columns: impl Iterator<Item = usize>,
        out: &mut Vec<u8>,
    ) {
        message::write_row_values(out, &self.member_names, row, columns);
    }

    /// Encodes a snapshot row (an insert without transaction headers).
    pub fn snapshot_message(&self, row: &[Option<&str>], scratch: &mut Scratch, out: &mut Vec<u8>) {
        self.snapshot_message_with(row, b"", scratch, out);
    }

    /// Encodes a snapshot row with more headers (pre-encoded JSON members).
    pub fn snapshot_message_with(
        &self,
        row: &[Option<&str>],
        extra: &[u8],
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
    ) {
        let mut headers = self.tag_headers(row, None);
        if !headers.is_empty() && !extra.is_empty() {
            headers.push(b',');
        }
        headers.extend_from_slice(extra);
        scratch.key.clear();
        self.write_key(row, &mut scratch.key);
        Change {
            key: &scratch.key,
            value: b"",
            old_value: None,
            operation: Operation::Insert,
            relation: &self.relation,
            position: None,
            key_change: None,
            extra_headers: &headers,
        }
        .write_value_with(out, |out| {
            self.write_values(row, self.selected.iter().copied(), out)
        });
    }

    /// What one replicated change means for this shape: zero, one or two messages (a key
    /// change is a delete and an insert), each with its op position relative to `op_position`.
    pub fn convert(&self, change: &RowChange<'_>) -> Vec<ShapeOp> {
        let old_in = change.old.as_deref().is_some_and(|row| self.matches(row));
        let new_in = change.new.as_deref().is_some_and(|row| self.matches(row));
        match (change.old.as_deref(), change.new.as_deref()) {
            (None, Some(_)) if new_in => vec![ShapeOp::Insert {
                key_change_from: None,
            }],
            (Some(_), None) if old_in => vec![ShapeOp::Delete {
                key_change_to: None,
            }],
            (Some(old), Some(new)) => match (old_in, new_in) {
                (true, true) => {
                    let old_key = self.key_of(old);
                    let new_key = self.key_of(new);
                    if old_key != new_key {
                        vec![
                            ShapeOp::Delete {
                                key_change_to: Some(new_key),
                            },
                            ShapeOp::Insert {
                                key_change_from: Some(old_key),
                            },
                        ]
                    } else if self.selected.iter().any(|&i| old[i] != new[i]) {
                        vec![ShapeOp::Update]
                    } else {
                        Vec::new()
                    }
                }
                (true, false) => vec![ShapeOp::Delete {
                    key_change_to: None,
                }],
                (false, true) => vec![ShapeOp::Insert {
                    key_change_from: None,
                }],
                (false, false) => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// Encodes one op of `change` as it goes into this shape's log.
    pub fn encode(
        &self,
        change: &RowChange<'_>,
        op: &ShapeOp,
        position: TxPosition,
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
    ) {
        let tags = match op {
            ShapeOp::Insert { .. } => change.new.as_deref().map(|n| self.tag_headers(n, None)),
            ShapeOp::Update => change
                .new
                .as_deref()
                .map(|n| self.tag_headers(n, change.old.as_deref())),
            ShapeOp::Delete { .. } => change.old.as_deref().map(|o| self.tag_headers(o, None)),
        }
        .unwrap_or_default();
        scratch.key.clear();
        scratch.value.clear();
        scratch.old_value.clear();
        let (operation, has_old_value, key_change) = match op {
            ShapeOp::Insert { key_change_from } => {
                let row = change.new.as_deref().expect("an insert has a new row");
                self.write_key(row, &mut scratch.key);
                self.write_values(row, self.selected.iter().copied(), &mut scratch.value);
                let key_change = key_change_from.as_deref().map(KeyChange::From);
                (Operation::Insert, false, key_change)
            }
            ShapeOp::Delete { key_change_to } => {
                let row = change.old.as_deref().expect("a delete has an old row");
                self.write_key(row, &mut scratch.key);
                let columns = match self.replica {
                    Replica::Default => &self.key_columns,
                    Replica::Full => &self.selected,
                };
                self.write_values(row, columns.iter().copied(), &mut scratch.value);
                let key_change = key_change_to.as_deref().map(KeyChange::To);
                (Operation::Delete, false, key_change)
            }
            ShapeOp::Update => {
                let old = change.old.as_deref().expect("an update has an old row");
                let new = change.new.as_deref().expect("an update has a new row");
                self.write_key(new, &mut scratch.key);
                let full = self.replica == Replica::Full;
                self.encode_update(old, new, scratch);
                (Operation::Update, full, None)
            }
        };
        Change {
            key: &scratch.key,
            value: &scratch.value,
            old_value: has_old_value.then_some(scratch.old_value.as_slice()),
            operation,
            relation: &self.relation,
            position: Some(position),
            key_change,
            extra_headers: &tags,
        }
        .write(out);
    }

    /// An update's `value` (and, with `replica=full`, its `old_value`) into `scratch`.
    fn encode_update(&self, old: &[Option<&str>], new: &[Option<&str>], scratch: &mut Scratch) {
        let changed = || self.selected.iter().copied().filter(|&i| old[i] != new[i]);
        match self.replica {
            Replica::Default => {
                let mut columns: Vec<usize> = self.key_columns.clone();
                columns.extend(changed().filter(|i| !self.key_columns.contains(i)));
                columns.sort_unstable();
                self.write_values(new, columns.into_iter(), &mut scratch.value);
            }
            Replica::Full => {
                self.write_values(new, self.selected.iter().copied(), &mut scratch.value);
                self.write_values(old, changed(), &mut scratch.old_value);
            }
        }
    }
}

fn relation_of(table: &TableInfo) -> Relation {
    Relation {
        schema: table.schema.clone(),
        table: table.name.clone(),
    }
}

fn select_columns(
    list: &str,
    table: &TableInfo,
    field: &'static str,
) -> Result<Vec<usize>, DefinitionError> {
    let names = parse_identifier_list(list, ',').map_err(|m| DefinitionError::new(field, m))?;
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| table.column_index(n).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(DefinitionError::new(
            field,
            format!(
                "The following columns are not found on the table: {}",
                unknown.join(", ")
            ),
        ));
    }
    let mut selected: Vec<usize> = names.iter().filter_map(|n| table.column_index(n)).collect();
    selected.sort_unstable();
    selected.dedup();
    let missing: Vec<&str> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(i, c)| c.pk_index.is_some() && !selected.contains(i))
        .map(|(_, c)| c.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(DefinitionError::new(
            field,
            format!(
                "The list of columns must include all primary key columns, missing: {}",
                missing.join(", ")
            ),
        ));
    }
    Ok(selected)
}

/// A row's key and values, kept from one encoded message to the next so that encoding many
/// rows allocates once.
#[derive(Debug, Default)]
pub struct Scratch {
    key: String,
    value: Vec<u8>,
    old_value: Vec<u8>,
}

/// One replicated row change, with whole rows as Postgres text values in table column order.
#[derive(Debug, Clone)]
pub struct RowChange<'a> {
    pub old: Option<Vec<Option<&'a str>>>,
    pub new: Option<Vec<Option<&'a str>>>,
}

/// What a change does to one shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeOp {
    Insert { key_change_from: Option<String> },
    Update,
    Delete { key_change_to: Option<String> },
}

/// One part of a composite tag: `\\` and `|` escaped, and a value that is exactly `*` (the
/// client's wildcard) written `\\*`.
pub fn tag_part(value: &str) -> String {
    if value == "*" {
        return "\\*".to_owned();
    }
    value.replace('\\', "\\\\").replace('|', "\\|")
}
