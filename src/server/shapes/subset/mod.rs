//! Subset snapshots (Electric 1.x): on any shape, the rows matching a further where clause,
//! ordered and limited, read in one repeatable-read transaction whose Postgres snapshot
//! (xmin, xmax, xip list) goes back with them, so a client can drop the later changes the
//! subset already contains.
//!
//! A subset is asked for with `subset__*` query parameters on `GET /v1/shape`, or with a JSON
//! body on `POST /v1/shape`. Its where clause goes through the same checked grammar as a
//! shape's (bound parameters, the same refusals), and with `queryable_columns` it may name only
//! those columns. The structured forms (`where_expr`, `order_by_expr`) are compiled by
//! [`expr`] into the same text first.

mod expr;
mod plan;
mod read;

use std::collections::BTreeMap;

use serde_json::Value;

use super::definition::ShapeDefinition;
use super::field_errors::{FieldErrors, errors};
use super::where_clause::WhereClause;
pub use plan::{OrderItem, Subset};
pub use read::{SubsetReply, read};

/// A subset as the client asked for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubsetRequest {
    pub where_text: Option<String>,
    pub params: BTreeMap<usize, String>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub order_by: Option<String>,
    pub where_expr: Option<Value>,
    pub order_by_expr: Option<Value>,
}

const PREFIX: &str = "subset__";

impl SubsetRequest {
    /// The subset named by `subset__*` query pairs; `None` when there are none.
    pub fn from_query(pairs: &[(String, String)]) -> Option<Result<Self, FieldErrors>> {
        let mut fields = serde_json::Map::new();
        for (key, value) in pairs {
            let Some(name) = key.strip_prefix(PREFIX) else {
                continue;
            };
            let value = match name {
                "params" | "where_expr" | "order_by_expr" => {
                    match serde_json::from_str::<Value>(value) {
                        Ok(parsed) => parsed,
                        Err(e) => {
                            return Some(Err(errors("subset", format!("{key} is not JSON: {e}"))));
                        }
                    }
                }
                _ => Value::String(value.clone()),
            };
            fields.insert(name.to_owned(), value);
        }
        (!fields.is_empty()).then(|| Self::from_fields(&fields))
    }

    /// The subset in a POST body: the fields themselves, or under `"subset"`.
    pub fn from_body(body: &[u8]) -> Result<Self, FieldErrors> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| errors("subset", format!("The request body is not valid JSON: {e}")))?;
        let Value::Object(mut fields) = value else {
            return Err(errors("subset", "Request body must be a JSON object"));
        };
        if let Some(Value::Object(inner)) = fields.remove("subset") {
            fields = inner;
        }
        Self::from_fields(&fields)
    }

    fn from_fields(fields: &serde_json::Map<String, Value>) -> Result<Self, FieldErrors> {
        let text = |name: &str| match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(errors("subset", format!("{name} must be a string"))),
        };
        let count = |name: &str, least: u64| match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_u64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n| *n >= least)
                .map(Some)
                .ok_or_else(|| {
                    let bound = if least == 0 { "≥ 0" } else { "> 0" };
                    errors("subset", format!("{name} must be an integer {bound}"))
                }),
        };
        let structured = |name: &str| fields.get(name).filter(|v| !v.is_null()).cloned();
        let request = Self {
            where_text: text("where")?,
            params: params(fields.get("params"))?,
            limit: count("limit", 1)?,
            offset: count("offset", 0)?,
            order_by: text("order_by")?,
            where_expr: structured("where_expr"),
            order_by_expr: structured("order_by_expr"),
        };
        let ordered = request.order_by.is_some() || request.order_by_expr.is_some();
        if (request.limit.is_some() || request.offset.is_some()) && !ordered {
            return Err(errors(
                "subset",
                "order_by is required when limit or offset is given",
            ));
        }
        Ok(request)
    }

    /// Checks the subset against `definition` (its table, and its `queryable_columns`).
    pub fn compile(&self, definition: &ShapeDefinition) -> Result<Subset, FieldErrors> {
        let columns = &definition.table.columns;
        let where_text = match &self.where_expr {
            Some(structured) => Some(expr::where_sql(structured).map_err(subset_error)?),
            None => self.where_text.clone(),
        };
        let where_clause = match where_text {
            Some(text) => Some(
                WhereClause::compile(&text, &self.params, columns)
                    .map_err(|e| errors("subset", e.to_string()))?,
            ),
            None => None,
        };
        let order = match (&self.order_by_expr, &self.order_by) {
            (Some(structured), _) => expr::order_items(structured, columns),
            (None, Some(text)) => expr::parse_order_by(text, columns),
            (None, None) => Ok(Vec::new()),
        }
        .map_err(subset_error)?;
        if let Some(queryable) = &definition.queryable {
            let named = where_clause
                .iter()
                .flat_map(WhereClause::columns)
                .chain(order.iter().map(|o| o.column));
            for column in named {
                if !queryable.contains(&column) {
                    return Err(subset_error(format!(
                        "Column {} is not in queryable_columns",
                        columns[column].name
                    )));
                }
            }
        }
        Ok(Subset {
            where_clause,
            order,
            limit: self.limit,
            offset: self.offset,
        })
    }
}

fn subset_error(message: String) -> FieldErrors {
    errors("subset", message)
}

/// `{"1":"a","2":5}` → positional params, numbered 1..n without gaps.
fn params(value: Option<&Value>) -> Result<BTreeMap<usize, String>, FieldErrors> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(BTreeMap::new());
    };
    let Value::Object(map) = value else {
        return Err(errors(
            "subset",
            "params must be an object of numbered values",
        ));
    };
    let mut params = BTreeMap::new();
    for (key, value) in map {
        let n = key
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| errors("subset", "Parameters can only use numbers as keys"))?;
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(errors("subset", format!("parameter ${n} must be a string"))),
        };
        params.insert(n, text);
    }
    if params.keys().copied().ne(1..=params.len()) {
        return Err(errors(
            "subset",
            "Parameters must be numbered sequentially, starting from 1",
        ));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(query).unwrap()
    }

    #[test]
    fn reads_subset_query_parameters() {
        let request = SubsetRequest::from_query(&pairs(
            "table=t&offset=-1&subset__where=a%3D%241&subset__params=%7B%221%22%3A%22x%22%7D&subset__limit=5&subset__order_by=a",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(request.where_text.as_deref(), Some("a=$1"));
        assert_eq!(request.params, BTreeMap::from([(1, "x".to_owned())]));
        assert_eq!(request.limit, Some(5));
        assert_eq!(request.order_by.as_deref(), Some("a"));
        assert!(SubsetRequest::from_query(&pairs("table=t&offset=-1")).is_none());
    }

    #[test]
    fn refuses_what_electric_refuses() {
        let refused = |body: &str| SubsetRequest::from_body(body.as_bytes()).unwrap_err();
        assert!(refused("[1]")["subset"][0].contains("JSON object"));
        assert!(refused("{").contains_key("subset"));
        assert!(refused(r#"{"limit":0,"order_by":"a"}"#)["subset"][0].contains("> 0"));
        assert!(refused(r#"{"offset":-1,"order_by":"a"}"#)["subset"][0].contains("≥ 0"));
        assert!(refused(r#"{"limit":3}"#)["subset"][0].contains("order_by is required"));
        assert!(refused(r#"{"params":{"2":"x"}}"#)["subset"][0].contains("sequentially"));
        assert!(refused(r#"{"params":{"a":"x"}}"#)["subset"][0].contains("numbers"));
        let nested = SubsetRequest::from_body(br#"{"subset":{"where":"a = 1"}}"#).unwrap();
        assert_eq!(nested.where_text.as_deref(), Some("a = 1"));
    }
}
