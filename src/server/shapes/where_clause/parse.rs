//! Where text to one `sqlparser` expression: anything after the expression is rejected, and
//! sqlparser's errors are reworded the way Postgres (and so Electric) reports syntax errors,
//! with a 0-based character location.

use std::ops::Deref;

use sqlparser::ast::{Expr, Ident, InTarget, SetExpr};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token};

use super::tree::WhereError;

/// A parsed expression, taken apart without recursion when dropped. sqlparser builds `a AND b
/// AND …` as a left-deep tree as deep as the chain is long, and the ordinary drop of such a
/// tree takes a stack frame per operand: a 20,000-operand clause overflowed Windows' stacks.
pub(super) struct ParsedExpr(Expr);

impl Deref for ParsedExpr {
    type Target = Expr;

    fn deref(&self) -> &Expr {
        &self.0
    }
}

impl Drop for ParsedExpr {
    fn drop(&mut self) {
        let placeholder = Expr::Identifier(Ident::new(""));
        let mut stack = vec![std::mem::replace(&mut self.0, placeholder)];
        while let Some(expr) = stack.pop() {
            // Each expression's children are moved out before it is dropped, so every drop
            // here is shallow. Other nestings are bounded by sqlparser's recursion limit.
            match expr {
                Expr::BinaryOp { left, right, .. } => stack.extend([*left, *right]),
                Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } => stack.push(*inner),
                Expr::In {
                    target: InTarget::Subquery(mut query),
                    ..
                } => {
                    if let SetExpr::Select(select) = query.body.as_mut() {
                        stack.extend(select.selection.take());
                    }
                }
                _ => {}
            }
        }
    }
}

pub(super) fn parse_expression(sql: &str) -> Result<ParsedExpr, WhereError> {
    let dialect = PostgreSqlDialect {};
    let syntax = |e: ParserError| syntax_error(sql, e);
    let mut parser = Parser::new(&dialect).try_with_sql(sql).map_err(syntax)?;
    let expr = ParsedExpr(parser.parse_expr().map_err(syntax)?);
    // Only the expression may appear: a trailing `;` is harmless (Postgres sees one
    // statement), anything after it is a second statement, anything else (`ORDER BY`…) is not
    // part of a WHERE clause.
    let mut semicolon = false;
    loop {
        let next = parser.next_token();
        match next.token {
            Token::EOF => return Ok(expr),
            Token::SemiColon => semicolon = true,
            _ if semicolon => return Err(WhereError::StatementSplit),
            token => {
                return Err(WhereError::Syntax {
                    location: offset(sql, next.span.start).unwrap_or(0),
                    message: format!("syntax error at or near \"{token}\""),
                });
            }
        }
    }
}

/// sqlparser's messages end in ` at Line: L, Column: C` when it knows where; without that the
/// problem is the end of the text.
fn syntax_error(sql: &str, error: ParserError) -> WhereError {
    let text = match error {
        ParserError::TokenizerError(text) | ParserError::ParserError(text) => text,
        ParserError::RecursionLimitExceeded => "expression is nested too deeply".to_string(),
    };
    let (message, location) = match text.rsplit_once(" at Line: ").and_then(|(message, at)| {
        let (line, column) = at.split_once(", Column: ")?;
        let location = Location::new(line.parse().ok()?, column.parse().ok()?);
        Some((message, offset(sql, location)?))
    }) {
        Some(found) => found,
        None => (text.as_str(), sql.chars().count()),
    };
    let message = match message
        .strip_prefix("Expected: ")
        .and_then(|m| m.split_once(", found: "))
    {
        Some((expected, "EOF")) => format!("syntax error at end of input, expected {expected}"),
        Some((expected, found)) => {
            format!("syntax error at or near \"{found}\", expected {expected}")
        }
        None => format!("syntax error: {}", lowercase_first(message)),
    };
    WhereError::Syntax { location, message }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

/// A sqlparser location (1-based line and character column) as a 0-based character offset;
/// `None` for the empty location sqlparser gives tokens it did not place.
pub(super) fn offset(sql: &str, location: Location) -> Option<usize> {
    if location.line == 0 {
        return None;
    }
    let line = usize::try_from(location.line).ok()? - 1;
    let column = usize::try_from(location.column).ok()?.saturating_sub(1);
    let before: usize = sql
        .split('\n')
        .take(line)
        .map(|l| l.chars().count() + 1)
        .sum();
    Some(before + column)
}
