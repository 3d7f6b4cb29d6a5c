//! Naming what the where grammar refuses, in the words a person who wrote the SQL would use
//! (`function call now(...)`, `NOT LIKE`, `subquery`), for the error message.

use sqlparser::ast::{Expr, InTarget};

/// Names an unsupported expression for the error message.
pub(super) fn construct(expr: &Expr) -> String {
    match expr {
        Expr::Function(f) => format!("function call {}(...)", f.name),
        Expr::Like { negated, .. } => not(*negated, "LIKE"),
        Expr::ILike { negated, .. } => not(*negated, "ILIKE"),
        Expr::SimilarTo { negated, .. } => not(*negated, "SIMILAR TO"),
        Expr::RLike { .. } => "regular expression match".into(),
        Expr::Subquery(_)
        | Expr::Exists { .. }
        | Expr::In {
            target: InTarget::Subquery(_),
            ..
        } => "subquery".into(),
        Expr::In { .. } => "IN with something other than a list".into(),
        Expr::Case { .. } => "CASE expression".into(),
        Expr::AnyOp { .. } | Expr::AllOp { .. } => "ANY/ALL".into(),
        Expr::IsDistinctFrom(..) | Expr::IsNotDistinctFrom(..) => "IS [NOT] DISTINCT FROM".into(),
        Expr::BinaryOp { op, .. } => format!("operator {op}"),
        Expr::UnaryOp { op, .. } => format!("operator {op}"),
        Expr::CompoundIdentifier(parts) => format!(
            "qualified name {}",
            parts
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(".")
        ),
        Expr::Cast { .. } => "this form of cast".into(),
        Expr::Tuple(_) => "row constructor".into(),
        Expr::Array(_) => "array".into(),
        Expr::Collate { .. } => "COLLATE".into(),
        Expr::AtTimeZone { .. } => "AT TIME ZONE".into(),
        Expr::Interval(_) => "interval".into(),
        Expr::Value(v) => format!("literal {v}"),
        other => {
            let text = other.to_string();
            match text.char_indices().nth(60) {
                Some((cut, _)) => format!("expression {}…", &text[..cut]),
                None => format!("expression {text}"),
            }
        }
    }
}

fn not(negated: bool, keyword: &str) -> String {
    if negated {
        format!("NOT {keyword}")
    } else {
        keyword.to_string()
    }
}
