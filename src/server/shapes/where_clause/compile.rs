//! From where text to a type-checked [`Node`] tree.
//!
//! The text is parsed as one Postgres expression (see [`super::parse`]), then walked into our
//! tree. Supported:
//!
//! - `<column> <op> <constant>` (either way round) and `<column> <op> <column>` of comparable
//!   types, with `op` one of `= <> != < <= > >=`;
//! - `<column> [NOT] IN (<constant>, …)`, `<column> = ANY(<array constant>)` and `<column> [NOT] BETWEEN <constant> AND <constant>`;
//! - `<column> IS [NOT] NULL` (on a column of any type) and `<condition> IS [NOT]
//!   TRUE/FALSE/UNKNOWN`;
//! - a bare `bool` column, `TRUE`, `FALSE`, `AND`, `OR`, `NOT`, parentheses.
//!
//! Constants are `$n` params, string literals (`'…'`, `E'…'`, `$$…$$`), integer literals
//! (optionally signed), `TRUE`/`FALSE`, and casts of those (`'…'::timestamptz`, `CAST($1 AS
//! uuid)`, `DATE '…'`) to a type comparable with the column. Like in Postgres, a string or param
//! takes the type of the column it is compared with and must parse as that type; an integer
//! literal only compares with an integer column, a boolean one with a bool column. Columns
//! compared with something must be int2/int4/int8, text/varchar, uuid, bool, timestamptz,
//! timestamp or date. Identifiers are folded to lower case unless double-quoted.

use std::collections::BTreeMap;

use sqlparser::ast::{
    BinaryOperator, CastKind, DataType, Expr, Ident, InTarget, Spanned, TimezoneInfo,
    UnaryOperator, Value,
};

use super::parse::{offset, parse_expression};
use super::tree::{CmpOp, Column, InnerTables, Node, Operand, Problem, TruthTest, WhereError};
use super::unsupported::construct;
use super::value::{Const, SqlType};
use crate::server::shapes::schema::ColumnInfo;

pub(super) fn compile(
    sql: &str,
    params: &BTreeMap<usize, String>,
    columns: &[ColumnInfo],
    inner_tables: &InnerTables,
) -> Result<Node, WhereError> {
    if params.keys().enumerate().any(|(i, k)| *k != i + 1) {
        return Err(WhereError::ParamsNotSequential);
    }
    let expr = parse_expression(sql)?;
    Compiler {
        sql,
        params,
        columns,
        inner_tables: Some(inner_tables),
        depth: 0,
    }
    .condition(&expr)
}

/// An operand of a comparison, before it is given a type.
pub(super) enum Term {
    Column(ColumnRef),
    /// A string literal or a param, typed by what it is compared with.
    Untyped {
        text: String,
        param: Option<usize>,
    },
    /// An integer literal, kept as written (with its sign) until its type is known.
    Number(String),
    Bool(bool),
    Null,
    /// A cast constant: `'…'::date`, `CAST($1 AS uuid)`, `DATE '…'`.
    Cast {
        inner: Box<Term>,
        ty: SqlType,
    },
}

/// A resolved column reference.
pub(super) struct ColumnRef {
    column: Column,
    /// `None` for a column of a type where clauses cannot compare.
    ty: Option<SqlType>,
    type_name: String,
}

impl Term {
    fn describe(&self) -> String {
        match self {
            Term::Column(c) => format!(
                "column {} of type {}",
                quote_ident(&c.column.name),
                c.type_name
            ),
            Term::Untyped { param: Some(n), .. } => format!("parameter ${n}"),
            Term::Untyped { text, .. } => format!("string {}", quote_literal(text)),
            Term::Number(n) => format!("number {n}"),
            Term::Bool(b) => format!("boolean {b}"),
            Term::Null => "NULL".to_string(),
            Term::Cast { inner, ty } => format!("{}::{}", inner.describe(), ty.name()),
        }
    }
}

pub(super) struct Compiler<'a> {
    pub(super) sql: &'a str,
    pub(super) params: &'a BTreeMap<usize, String>,
    pub(super) columns: &'a [ColumnInfo],
    /// The tables subqueries may name; `None` where no subquery may appear.
    pub(super) inner_tables: Option<&'a InnerTables>,
    /// How many subqueries this expression is inside.
    pub(super) depth: usize,
}

impl Compiler<'_> {
    pub(super) fn invalid(&self, expr: &Expr, problem: Problem) -> WhereError {
        WhereError::Invalid {
            location: offset(self.sql, expr.span().start),
            problem,
        }
    }

    fn unsupported(&self, expr: &Expr) -> WhereError {
        self.invalid(expr, Problem::Unsupported(construct(expr)))
    }

    /// A boolean-valued expression.
    pub(super) fn condition(&self, expr: &Expr) -> Result<Node, WhereError> {
        match expr {
            Expr::Nested(inner) => self.condition(inner),
            Expr::BinaryOp {
                op: op @ (BinaryOperator::And | BinaryOperator::Or),
                ..
            } => self.junction(expr, op),
            Expr::BinaryOp { left, op, right } => match comparison(op) {
                Some(op) => self.compare(left, op, right),
                None => Err(self.unsupported(expr)),
            },
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: inner,
            } => Ok(Node::Not(Box::new(self.condition(inner)?))),
            Expr::In {
                expr: left,
                target: InTarget::List(items),
                negated,
                global: false,
            } => self.in_list(left, items, *negated),
            Expr::In {
                expr: left,
                target: InTarget::Subquery(query),
                negated,
                global: false,
            } => self.in_subquery(expr, left, query, *negated),
            Expr::AnyOp {
                left,
                compare_op,
                right,
                is_some: _,
            } => self.equals_any(expr, left, compare_op, right),
            Expr::Between {
                expr: left,
                negated,
                low,
                high,
            } => {
                let range = Node::And(vec![
                    self.compare(left, CmpOp::Ge, low)?,
                    self.compare(left, CmpOp::Le, high)?,
                ]);
                Ok(if *negated {
                    Node::Not(Box::new(range))
                } else {
                    range
                })
            }
            Expr::IsNull(inner) => self.is_null(inner, false),
            Expr::IsNotNull(inner) => self.is_null(inner, true),
            Expr::IsTrue(inner) => self.truth(inner, TruthTest::True),
            Expr::IsNotTrue(inner) => self.truth(inner, TruthTest::NotTrue),
            Expr::IsFalse(inner) => self.truth(inner, TruthTest::False),
            Expr::IsNotFalse(inner) => self.truth(inner, TruthTest::NotFalse),
            Expr::IsUnknown(inner) => self.truth(inner, TruthTest::Unknown),
            Expr::IsNotUnknown(inner) => self.truth(inner, TruthTest::NotUnknown),
            Expr::Value(v) if matches!(v.value, Value::Boolean(_)) => {
                Ok(Node::Literal(v.value == Value::Boolean(true)))
            }
            Expr::Identifier(_) | Expr::Value(_) | Expr::Cast { .. } | Expr::TypedString(_) => {
                match self.term(expr)? {
                    Term::Column(ColumnRef {
                        column,
                        ty: Some(SqlType::Bool),
                        ..
                    }) => Ok(Node::BoolColumn(column)),
                    term => Err(self.invalid(expr, Problem::NotBoolean(term.describe()))),
                }
            }
            _ => Err(self.unsupported(expr)),
        }
    }

    /// A chain of `AND` (or of `OR`), flattened across parentheses. Walked with a stack rather
    /// than recursion: sqlparser builds `a AND b AND …` as a left-deep tree as deep as the chain
    /// is long, with no recursion limit of its own.
    fn junction(&self, expr: &Expr, op: &BinaryOperator) -> Result<Node, WhereError> {
        let mut operands = Vec::new();
        let mut stack = vec![expr];
        while let Some(mut e) = stack.pop() {
            while let Expr::Nested(inner) = e {
                e = inner;
            }
            match e {
                Expr::BinaryOp {
                    left,
                    op: this,
                    right,
                } if this == op => {
                    stack.push(right);
                    stack.push(left);
                }
                _ => operands.push(self.condition(e)?),
            }
        }
        Ok(if *op == BinaryOperator::And {
            Node::And(operands)
        } else {
            Node::Or(operands)
        })
    }

    fn truth(&self, inner: &Expr, test: TruthTest) -> Result<Node, WhereError> {
        Ok(Node::Truth {
            node: Box::new(self.condition(inner)?),
            test,
        })
    }

    fn is_null(&self, inner: &Expr, negated: bool) -> Result<Node, WhereError> {
        let mut bare = inner;
        while let Expr::Nested(e) = bare {
            bare = e;
        }
        match bare {
            Expr::Identifier(ident) => Ok(Node::IsNull {
                column: self.resolve(bare, ident)?.column,
                negated,
            }),
            _ => Err(self.invalid(
                inner,
                Problem::Unsupported("IS NULL on something other than a column".into()),
            )),
        }
    }

    fn compare(&self, left: &Expr, op: CmpOp, right: &Expr) -> Result<Node, WhereError> {
        // Put the column on the left.
        let (column, op, other, other_expr) = match (self.term(left)?, self.term(right)?) {
            (Term::Column(c), other) => (self.typed(left, c)?, op, other, right),
            (other, Term::Column(c)) => (self.typed(right, c)?, op.flipped(), other, left),
            (a, b) => {
                return Err(self.invalid(
                    left,
                    Problem::Unsupported(format!(
                        "comparison of two constants ({} and {})",
                        a.describe(),
                        b.describe()
                    )),
                ));
            }
        };
        let (column, ty) = column;
        let rhs = match other {
            Term::Column(c) => {
                let (other, other_ty) = self.typed(other_expr, c)?;
                if !ty.comparable(other_ty) {
                    return Err(self.invalid(
                        other_expr,
                        Problem::TypeMismatch(format!(
                            "cannot compare column {} of type {} with column {} of type {}",
                            quote_ident(&column.name),
                            ty.name(),
                            quote_ident(&other.name),
                            other_ty.name()
                        )),
                    ));
                }
                Operand::Column(other, other_ty)
            }
            constant => Operand::Const(self.constant(other_expr, constant, ty, &column)?),
        };
        Ok(Node::Compare {
            column,
            ty,
            op,
            rhs,
        })
    }

    fn in_list(&self, left: &Expr, items: &[Expr], negated: bool) -> Result<Node, WhereError> {
        let (column, ty) = self.column_on_left(left, "IN")?;
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            match self.term(item)? {
                Term::Column(_) => {
                    return Err(
                        self.invalid(item, Problem::Unsupported("column in an IN list".into()))
                    );
                }
                term => values.push(self.constant(item, term, ty, &column)?),
            }
        }
        Ok(Node::one_of(column, ty, values, negated))
    }

    /// The column on the left of `keyword` (IN, ANY), typed.
    pub(super) fn column_on_left(
        &self,
        left: &Expr,
        keyword: &str,
    ) -> Result<(Column, SqlType), WhereError> {
        let Term::Column(c) = self.term(left)? else {
            return Err(self.invalid(
                left,
                Problem::Unsupported(format!(
                    "{keyword} with something other than a column on the left"
                )),
            ));
        };
        self.typed(left, c)
    }

    /// A column compared with something, with its type if where clauses can compare it.
    pub(super) fn typed(&self, expr: &Expr, c: ColumnRef) -> Result<(Column, SqlType), WhereError> {
        match c.ty {
            Some(ty) => Ok((c.column, ty)),
            None => Err(self.invalid(
                expr,
                Problem::UncomparableColumn {
                    column: quote_ident(&c.column.name),
                    type_name: c.type_name,
                },
            )),
        }
    }

    /// An operand: a column reference or a constant of not yet known type.
    pub(super) fn term(&self, expr: &Expr) -> Result<Term, WhereError> {
        match expr {
            Expr::Nested(inner) => self.term(inner),
            Expr::Identifier(ident) => Ok(Term::Column(self.resolve(expr, ident)?)),
            Expr::Value(v) => match &v.value {
                Value::Placeholder(p) => {
                    let n = p
                        .strip_prefix('$')
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| self.invalid(expr, Problem::BadParam(p.clone())))?;
                    let text = self
                        .params
                        .get(&n)
                        .ok_or_else(|| self.invalid(expr, Problem::MissingParam(n)))?;
                    Ok(Term::Untyped {
                        text: text.clone(),
                        param: Some(n),
                    })
                }
                Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => {
                    Ok(Term::Untyped {
                        text: s.clone(),
                        param: None,
                    })
                }
                Value::DollarQuotedString(s) => Ok(Term::Untyped {
                    text: s.value.clone(),
                    param: None,
                }),
                Value::Number(n, _) => Ok(Term::Number(n.clone())),
                Value::Boolean(b) => Ok(Term::Bool(*b)),
                Value::Null => Ok(Term::Null),
                _ => Err(self.unsupported(expr)),
            },
            Expr::UnaryOp {
                op: op @ (UnaryOperator::Minus | UnaryOperator::Plus),
                expr: inner,
            } => match inner.as_ref() {
                Expr::Value(v) => match &v.value {
                    Value::Number(n, _) if *op == UnaryOperator::Minus => {
                        Ok(Term::Number(format!("-{n}")))
                    }
                    Value::Number(n, _) => Ok(Term::Number(n.clone())),
                    _ => Err(self.unsupported(expr)),
                },
                _ => Err(self.unsupported(expr)),
            },
            Expr::Cast {
                kind: CastKind::Cast | CastKind::DoubleColon,
                expr: inner,
                data_type,
                format: None,
            } => {
                let ty = self.cast_type(expr, data_type)?;
                match self.term(inner)? {
                    inner @ (Term::Untyped { .. } | Term::Number(_) | Term::Bool(_)) => {
                        Ok(Term::Cast {
                            inner: Box::new(inner),
                            ty,
                        })
                    }
                    Term::Column(c) => Err(self.invalid(
                        expr,
                        Problem::Unsupported(format!(
                            "cast of column {}",
                            quote_ident(&c.column.name)
                        )),
                    )),
                    Term::Null => Err(self.invalid(expr, Problem::NullComparison)),
                    Term::Cast { .. } => {
                        Err(self.invalid(expr, Problem::Unsupported("cast of a cast".into())))
                    }
                }
            }
            Expr::TypedString(typed) => match &typed.value.value {
                Value::SingleQuotedString(s) => Ok(Term::Cast {
                    inner: Box::new(Term::Untyped {
                        text: s.clone(),
                        param: None,
                    }),
                    ty: self.cast_type(expr, &typed.data_type)?,
                }),
                _ => Err(self.unsupported(expr)),
            },
            _ => Err(self.unsupported(expr)),
        }
    }

    /// A column by name.
    fn resolve(&self, expr: &Expr, ident: &Ident) -> Result<ColumnRef, WhereError> {
        let name = self.column_name(ident);
        let (index, info) = self
            .columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
            .ok_or_else(|| self.invalid(expr, Problem::UnknownColumn(quote_ident(&name))))?;
        let type_name = if info.dims > 0 {
            format!("{}[]", info.type_name)
        } else {
            info.type_name.clone()
        };
        Ok(ColumnRef {
            column: Column { index, name },
            ty: SqlType::of_column(info),
            type_name,
        })
    }

    fn column_name(&self, ident: &Ident) -> String {
        // Postgres folds unquoted identifiers to lower case (ASCII only, in UTF-8 databases).
        match ident.quote_style {
            Some(_) => ident.value.clone(),
            None => ident.value.to_ascii_lowercase(),
        }
    }

    fn cast_type(&self, expr: &Expr, data_type: &DataType) -> Result<SqlType, WhereError> {
        Ok(match data_type {
            DataType::Int2(None) | DataType::SmallInt(None) => SqlType::Int2,
            DataType::Int4(None) | DataType::Int(None) | DataType::Integer(None) => SqlType::Int4,
            DataType::Int8(None) | DataType::BigInt(None) => SqlType::Int8,
            DataType::Text | DataType::Varchar(None) | DataType::CharacterVarying(None) => {
                SqlType::Text
            }
            DataType::Uuid => SqlType::Uuid,
            DataType::Bool | DataType::Boolean => SqlType::Bool,
            DataType::Date => SqlType::Date,
            DataType::Timestamp(None, TimezoneInfo::Tz | TimezoneInfo::WithTimeZone) => {
                SqlType::Timestamptz
            }
            DataType::Timestamp(None, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => {
                SqlType::Timestamp
            }
            _ => {
                return Err(
                    self.invalid(expr, Problem::Unsupported(format!("cast to {data_type}")))
                );
            }
        })
    }

    /// A constant compared with `column` of type `ty`, parsed into that type.
    pub(super) fn constant(
        &self,
        expr: &Expr,
        term: Term,
        ty: SqlType,
        column: &Column,
    ) -> Result<Const, WhereError> {
        match term {
            Term::Untyped { text, param } => {
                let value = ty.parse(&text).filter(|_| !text.contains('\0'));
                value.map(Const::from_datum).ok_or_else(|| {
                    let value = match param {
                        Some(n) => format!("{} (parameter ${n})", quote_literal(&text)),
                        None => quote_literal(&text),
                    };
                    self.invalid(
                        expr,
                        Problem::InvalidValue {
                            type_name: ty.name(),
                            value,
                        },
                    )
                })
            }
            Term::Number(n) if ty.is_integer() => n.parse().map(Const::Int).map_err(|_| {
                let problem = if n.contains(['.', 'e', 'E']) {
                    Problem::Unsupported(format!("non-integer number {n}"))
                } else {
                    Problem::InvalidValue {
                        type_name: "int8",
                        value: n,
                    }
                };
                self.invalid(expr, problem)
            }),
            Term::Bool(b) if ty == SqlType::Bool => Ok(Const::Bool(b)),
            Term::Null => Err(self.invalid(expr, Problem::NullComparison)),
            Term::Cast { inner, ty: cast } if ty.comparable(cast) => {
                // Parsed as the cast says (a `'70000'::int2` is out of range even if the column
                // is int8), then compared as the column's type.
                self.constant(expr, *inner, cast, column)
            }
            term => Err(self.invalid(
                expr,
                Problem::TypeMismatch(format!(
                    "column {} is {}, cannot compare it with {}",
                    quote_ident(&column.name),
                    ty.name(),
                    term.describe()
                )),
            )),
        }
    }
}

fn comparison(op: &BinaryOperator) -> Option<CmpOp> {
    Some(match op {
        BinaryOperator::Eq => CmpOp::Eq,
        BinaryOperator::NotEq => CmpOp::Ne,
        BinaryOperator::Lt => CmpOp::Lt,
        BinaryOperator::LtEq => CmpOp::Le,
        BinaryOperator::Gt => CmpOp::Gt,
        BinaryOperator::GtEq => CmpOp::Ge,
        _ => return None,
    })
}

impl CmpOp {
    /// The operator with its operands swapped: `5 < n` is `n > 5`.
    fn flipped(self) -> Self {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            op => op,
        }
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
