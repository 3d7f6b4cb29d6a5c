//! `<column> = ANY(<array>)`, the form clients write an IN list with a single array param in
//! (`"status" = ANY($1)` with `$1 = '{todo,doing}'`). It compiles to the same `IN` node as a
//! written-out list; the array is a Postgres array literal, given as a param, a string or an
//! `ARRAY[…]` constructor. Only `=` is supported, as that is all an IN list means.

use sqlparser::ast::{BinaryOperator, Expr};

use super::compile::{Compiler, Term};
use super::tree::{Node, Problem, WhereError};

impl Compiler<'_> {
    pub(super) fn equals_any(
        &self,
        expr: &Expr,
        left: &Expr,
        op: &BinaryOperator,
        right: &Expr,
    ) -> Result<Node, WhereError> {
        if *op != BinaryOperator::Eq {
            return Err(self.invalid(
                expr,
                Problem::Unsupported(format!("{op} ANY (only = ANY is supported)")),
            ));
        }
        let (column, ty) = self.column_on_left(left, "ANY")?;
        let mut values = Vec::new();
        for (text, param) in self.array_elements(right)? {
            let term = Term::Untyped { text, param };
            values.push(self.constant(right, term, ty, &column)?);
        }
        Ok(Node::one_of(column, ty, values, false))
    }

    /// The non-NULL elements of the array (a NULL element can never equal anything), each
    /// with the param it came from.
    fn array_elements(&self, right: &Expr) -> Result<Vec<(String, Option<usize>)>, WhereError> {
        let not_an_array = || {
            self.invalid(
                right,
                Problem::Unsupported("ANY of something other than an array constant".into()),
            )
        };
        match right {
            Expr::Nested(inner) => self.array_elements(inner),
            Expr::Array(array) => array
                .elem
                .iter()
                .map(|e| match self.term(e)? {
                    Term::Untyped { text, param } => Ok((text, param)),
                    Term::Number(n) => Ok((n, None)),
                    _ => Err(not_an_array()),
                })
                .collect(),
            _ => match self.term(right)? {
                Term::Untyped { text, param } => {
                    let elements = parse_array_literal(&text).ok_or_else(|| {
                        self.invalid(
                            right,
                            Problem::InvalidValue {
                                type_name: "array",
                                value: text.clone(),
                            },
                        )
                    })?;
                    Ok(elements
                        .into_iter()
                        .flatten()
                        .map(|element| (element, param))
                        .collect())
                }
                _ => Err(not_an_array()),
            },
        }
    }
}

/// A one-dimensional Postgres array literal (`{a,"b c",NULL}`) as its elements, `None` for
/// NULL; `None` overall when the text is not such a literal.
pub(super) fn parse_array_literal(text: &str) -> Option<Vec<Option<String>>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut elements = Vec::new();
    if inner.trim().is_empty() {
        return Some(elements);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut element = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => element.push(chars.next()?),
                    '"' => break,
                    c => element.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                match c {
                    ',' => break,
                    '{' | '}' | '"' => return None,
                    '\\' => {
                        chars.next();
                        element.push(chars.next()?);
                    }
                    c => {
                        chars.next();
                        element.push(c);
                    }
                }
            }
            element = element.trim_end().to_owned();
        }
        let is_null = !quoted && element.eq_ignore_ascii_case("NULL");
        elements.push((!is_null).then_some(element));
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Some(elements),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_array_literal;

    #[test]
    fn array_literals_parse_as_postgres_prints_them() {
        let some = |v: &[&str]| Some(v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>());
        assert_eq!(parse_array_literal("{}"), Some(vec![]));
        assert_eq!(parse_array_literal("{a,b}"), some(&["a", "b"]));
        assert_eq!(
            parse_array_literal(r#"{"a b","c,d","e\"f"}"#),
            some(&["a b", "c,d", "e\"f"])
        );
        assert_eq!(
            parse_array_literal("{x,NULL,\"NULL\"}"),
            Some(vec![Some("x".into()), None, Some("NULL".into())])
        );
        assert_eq!(parse_array_literal("a,b"), None);
        assert_eq!(parse_array_literal("{{a}}"), None);
        assert_eq!(parse_array_literal("{\"a}"), None);
    }
}
