//! The structured subset forms clients send beside the text (`where_expr`, `order_by_expr`),
//! and `ORDER BY` text. A structured where becomes where text (identifiers quoted, values as
//! `$n` params), which then meets the same grammar as any where clause; an order becomes
//! [`OrderItem`]s naming the table's columns. Functions outside the where grammar are refused
//! by name.

use serde_json::Value;
use sqlparser::ast::{Expr, OrderBySort};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::plan::OrderItem;
use crate::server::shapes::schema::ColumnInfo;

/// Deeper structured expressions are refused rather than recursed into.
const MAX_DEPTH: usize = 64;

/// `{"type":"func","name":"eq","args":[{"type":"ref","column":"a"},{"type":"val","paramIndex":1}]}`
/// → `"a" = $1`.
pub fn where_sql(expr: &Value) -> Result<String, String> {
    sql(expr, 0)
}

fn sql(expr: &Value, depth: usize) -> Result<String, String> {
    if depth > MAX_DEPTH {
        return Err("where_expr is nested too deeply".to_owned());
    }
    match expr.get("type").and_then(Value::as_str) {
        Some("ref") => expr
            .get("column")
            .and_then(Value::as_str)
            .map(quote_ident)
            .ok_or_else(|| "a where_expr ref needs a column".to_owned()),
        Some("val") => expr
            .get("paramIndex")
            .and_then(Value::as_u64)
            .map(|n| format!("${n}"))
            .ok_or_else(|| "a where_expr val needs a paramIndex".to_owned()),
        Some("func") => function(expr, depth),
        _ => Err(format!("unknown where_expr node {expr}")),
    }
}

fn function(expr: &Value, depth: usize) -> Result<String, String> {
    let name = expr.get("name").and_then(Value::as_str).unwrap_or("");
    let args = expr
        .get("args")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let args: Vec<String> = args
        .iter()
        .map(|a| sql(a, depth + 1))
        .collect::<Result<_, _>>()?;
    let binary = |op: &str| match args.as_slice() {
        [left, right] => Ok(format!("{left} {op} {right}")),
        _ => Err(format!("{name} takes two arguments")),
    };
    let joined = |op: &str| {
        if args.is_empty() {
            return Err(format!("{name} takes at least one argument"));
        }
        Ok(args
            .iter()
            .map(|a| format!("({a})"))
            .collect::<Vec<_>>()
            .join(op))
    };
    match name {
        "eq" => binary("="),
        "gt" => binary(">"),
        "gte" => binary(">="),
        "lt" => binary("<"),
        "lte" => binary("<="),
        "and" => joined(" AND "),
        "or" => joined(" OR "),
        "in" => match args.as_slice() {
            [left, right] => Ok(format!("{left} = ANY({right})")),
            _ => Err("in takes two arguments".to_owned()),
        },
        "not" | "isNull" | "isUndefined" => match args.as_slice() {
            [arg] if name == "not" => Ok(format!("NOT ({arg})")),
            [arg] => Ok(format!("{arg} IS NULL")),
            _ => Err(format!("{name} takes one argument")),
        },
        other => Err(format!(
            "unsupported function in where_expr: {other} (supported: eq, gt, gte, lt, lte, and, \
             or, not, in, isNull)"
        )),
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `[{"column":"a","direction":"desc","nulls":"first"}]` → order items.
pub fn order_items(expr: &Value, columns: &[ColumnInfo]) -> Result<Vec<OrderItem>, String> {
    let clauses = expr
        .as_array()
        .ok_or_else(|| "order_by_expr must be an array".to_owned())?;
    clauses
        .iter()
        .map(|clause| {
            let name = clause
                .get("column")
                .and_then(Value::as_str)
                .ok_or_else(|| "each order_by_expr clause needs a column".to_owned())?;
            let descending = match clause.get("direction").and_then(Value::as_str) {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => return Err(format!("unknown order direction {other}")),
            };
            let nulls_first = match clause.get("nulls").and_then(Value::as_str) {
                None => None,
                Some("first") => Some(true),
                Some("last") => Some(false),
                Some(other) => return Err(format!("unknown nulls order {other}")),
            };
            Ok(OrderItem {
                column: column_index(name, columns)?,
                descending,
                nulls_first,
            })
        })
        .collect()
}

/// `ORDER BY` text: comma-separated columns, each optionally `ASC`/`DESC` and `NULLS
/// FIRST`/`NULLS LAST`. Identifiers fold to lower case unless double-quoted.
pub fn parse_order_by(text: &str, columns: &[ColumnInfo]) -> Result<Vec<OrderItem>, String> {
    let dialect = PostgreSqlDialect {};
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| format!("order_by: {e}"))?;
    let items = parser
        .parse_comma_separated(Parser::parse_order_by_expr)
        .map_err(|e| format!("order_by: {e}"))?;
    if parser.peek_token().token != sqlparser::tokenizer::Token::EOF {
        return Err(format!("order_by: unexpected {}", parser.peek_token()));
    }
    items
        .into_iter()
        .map(|item| {
            let Expr::Identifier(ident) = &item.expr else {
                return Err(format!("order_by may only name columns, not {}", item.expr));
            };
            let name = match ident.quote_style {
                Some(_) => ident.value.clone(),
                None => ident.value.to_lowercase(),
            };
            let descending = match item.options.sort {
                None | Some(OrderBySort::Asc) => false,
                Some(OrderBySort::Desc) => true,
                Some(OrderBySort::Using(_)) => {
                    return Err("order_by: USING is not supported".to_owned());
                }
            };
            Ok(OrderItem {
                column: column_index(&name, columns)?,
                descending,
                nulls_first: item.options.nulls_first,
            })
        })
        .collect()
}

fn column_index(name: &str, columns: &[ColumnInfo]) -> Result<usize, String> {
    columns
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| format!("unknown column {}", quote_ident(name)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn structured_where_becomes_quoted_text_with_params() {
        let expr = json!({"type":"func","name":"and","args":[
            {"type":"func","name":"eq","args":[{"type":"ref","column":"status"},{"type":"val","paramIndex":1}]},
            {"type":"func","name":"not","args":[
                {"type":"func","name":"isNull","args":[{"type":"ref","column":"a\"b"}]}]},
            {"type":"func","name":"in","args":[{"type":"ref","column":"id"},{"type":"val","paramIndex":2}]}
        ]});
        assert_eq!(
            where_sql(&expr).unwrap(),
            r#"("status" = $1) AND (NOT ("a""b" IS NULL)) AND ("id" = ANY($2))"#
        );
        let like = json!({"type":"func","name":"like","args":[]});
        assert!(where_sql(&like).unwrap_err().contains("like"));
        let mut deep = json!({"type":"ref","column":"a"});
        for _ in 0..100 {
            deep = json!({"type":"func","name":"not","args":[deep]});
        }
        assert!(where_sql(&deep).unwrap_err().contains("deeply"));
    }
}
