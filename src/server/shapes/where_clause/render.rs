//! Writing a compiled clause back as SQL: with bind parameters for the snapshot query, or with
//! inline literals as the canonical text of a shape's identity. One writer serves both, so the
//! two never disagree on structure.

use super::tree::{CmpOp, Node, Operand, Subquery, TruthTest};
use super::value::{Const, SqlType};

/// How a constant turned parameter is written into the SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `$k`: a bind parameter.
    Bind,
    /// `current_setting('superset.pk')`: a setting made earlier in the same transaction (see
    /// [`param_setting`]), for statements that take no bind parameters, such as `COPY`.
    Setting,
}

/// The name of the setting that holds parameter `k` for `Placeholder::Setting`.
pub fn param_setting(k: usize) -> String {
    format!("superset.p{k}")
}

pub(super) fn to_sql(
    root: &Node,
    first_param: usize,
    placeholder: Placeholder,
) -> (String, Vec<String>) {
    let mut writer = Writer {
        sql: String::new(),
        params: Some(Vec::new()),
        first_param,
        placeholder,
    };
    writer.node(root, Context::Top);
    (writer.sql, writer.params.unwrap_or_default())
}

pub(super) fn canonical(root: &Node) -> String {
    let mut writer = Writer {
        sql: String::new(),
        params: None,
        first_param: 1,
        placeholder: Placeholder::Bind,
    };
    writer.node(root, Context::Top);
    writer.sql
}

/// Where a node is written, which decides whether it needs parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Top,
    /// An operand of `AND` / `OR`: comparisons bind tighter and need none.
    Junction,
    /// The operand of `NOT` or `IS TRUE`…: anything but an atom gets parentheses.
    Tight,
}

struct Writer {
    sql: String,
    /// `Some` when constants become bind parameters, `None` when they are written inline.
    params: Option<Vec<String>>,
    first_param: usize,
    placeholder: Placeholder,
}

impl Writer {
    fn node(&mut self, node: &Node, context: Context) {
        let wrap = match node {
            Node::Literal(_) | Node::BoolColumn(_) => false,
            Node::And(_) | Node::Or(_) => context != Context::Top,
            _ => context == Context::Tight,
        };
        if wrap {
            self.sql.push('(');
        }
        match node {
            Node::Literal(b) => self.constant(&Const::Bool(*b), SqlType::Bool),
            Node::BoolColumn(column) => self.ident(&column.name),
            Node::IsNull { column, negated } => {
                self.ident(&column.name);
                self.sql
                    .push_str(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Node::Compare {
                column,
                ty,
                op,
                rhs,
            } => {
                self.ident(&column.name);
                // Ordering text the way `matches` does (bytewise), whatever the database's
                // collation; equality is bytewise under every deterministic collation anyway,
                // and leaving it alone keeps indexes usable.
                if *ty == SqlType::Text && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    self.sql.push_str(" COLLATE \"C\"");
                }
                self.sql.push(' ');
                self.sql.push_str(op.sql());
                self.sql.push(' ');
                match rhs {
                    Operand::Const(c) => self.constant(c, *ty),
                    Operand::Column(other, _) => self.ident(&other.name),
                }
            }
            Node::In {
                column,
                ty,
                values,
                negated,
            } => {
                self.ident(&column.name);
                self.sql
                    .push_str(if *negated { " NOT IN (" } else { " IN (" });
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        self.sql.push_str(", ");
                    }
                    self.constant(value, *ty);
                }
                self.sql.push(')');
            }
            Node::InSubquery { column, subquery } => {
                self.ident(&column.name);
                self.sql.push_str(" IN (SELECT ");
                self.ident(&subquery.table.columns[subquery.column].name);
                self.sql.push_str(" FROM ");
                self.ident(&subquery.table.schema);
                self.sql.push('.');
                self.ident(&subquery.table.name);
                if let Some(inner) = &subquery.where_clause {
                    self.sql.push_str(" WHERE ");
                    self.node(inner, Context::Top);
                }
                self.sql.push(')');
            }
            Node::Not(inner) => {
                self.sql.push_str("NOT ");
                self.node(inner, Context::Tight);
            }
            Node::And(nodes) => self.junction(nodes, " AND "),
            Node::Or(nodes) => self.junction(nodes, " OR "),
            Node::Truth { node, test } => {
                self.node(node, Context::Tight);
                self.sql.push_str(test.sql());
            }
        }
        if wrap {
            self.sql.push(')');
        }
    }

    fn junction(&mut self, nodes: &[Node], keyword: &str) {
        for (i, node) in nodes.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(keyword);
            }
            self.node(node, Context::Junction);
        }
    }

    fn ident(&mut self, name: &str) {
        self.sql.push('"');
        self.sql.push_str(&name.replace('"', "\"\""));
        self.sql.push('"');
    }

    fn constant(&mut self, value: &Const, ty: SqlType) {
        match &mut self.params {
            Some(params) => {
                let k = self.first_param + params.len();
                params.push(value.to_pg_text());
                // Typed text first, so every value binds as a string (see `WhereClause::to_sql`).
                match self.placeholder {
                    Placeholder::Bind => self.sql.push_str(&format!("${k}::text")),
                    Placeholder::Setting => self
                        .sql
                        .push_str(&format!("current_setting('{}')", param_setting(k))),
                }
                if ty != SqlType::Text {
                    self.sql.push_str("::");
                    self.sql.push_str(ty.bind_name());
                }
            }
            None => match value {
                Const::Int(v) => self.sql.push_str(&v.to_string()),
                Const::Bool(v) => self.sql.push_str(if *v { "true" } else { "false" }),
                _ => {
                    self.sql.push('\'');
                    self.sql.push_str(&value.to_pg_text().replace('\'', "''"));
                    self.sql.push('\'');
                }
            },
        }
    }
}

impl CmpOp {
    fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

impl TruthTest {
    fn sql(self) -> &'static str {
        match self {
            TruthTest::True => " IS TRUE",
            TruthTest::NotTrue => " IS NOT TRUE",
            TruthTest::False => " IS FALSE",
            TruthTest::NotFalse => " IS NOT FALSE",
            TruthTest::Unknown => " IS UNKNOWN",
            TruthTest::NotUnknown => " IS NOT UNKNOWN",
        }
    }
}

impl Subquery {
    /// SQL for the inner where clause (see [`super::WhereClause::to_sql`]); `true` when none.
    pub fn where_sql(&self, first_param: usize) -> (String, Vec<String>) {
        match &self.where_clause {
            Some(node) => to_sql(node, first_param, Placeholder::Bind),
            None => ("true".to_owned(), Vec::new()),
        }
    }
}
