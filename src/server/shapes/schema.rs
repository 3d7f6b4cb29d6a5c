//! What the sync service knows about a table's columns: names, Postgres types, primary key,
//! nullability. It feeds the `electric-schema` header, where-clause type checking, row keys
//! and the snapshot query.

/// One column of a synced table, in attribute order (dropped columns excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    /// Postgres type name as in `pg_type.typname` (`int4`, `uuid`, `timestamptz`, `text`…);
    /// for arrays, the element type's name (and `dims > 0`).
    pub type_name: String,
    /// Array dimensions; 0 for scalars.
    pub dims: i32,
    pub not_null: bool,
    /// Position in the primary key, if part of it.
    pub pk_index: Option<usize>,
}

/// A table a shape can be defined on, as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    /// Column type oids, parallel to `columns` (pgoutput's Relation messages carry oids).
    pub type_oids: Vec<u32>,
    /// Whether the table is in the publication the service replicates.
    pub published: bool,
}

impl TableInfo {
    /// The columns that make a row's key: the primary key in key order, or, for a table
    /// without one, every column sorted by name (as Electric does).
    pub fn key_columns(&self) -> Vec<usize> {
        let mut pk: Vec<(usize, usize)> = self
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.pk_index.map(|k| (k, i)))
            .collect();
        if pk.is_empty() {
            let mut all: Vec<usize> = (0..self.columns.len()).collect();
            all.sort_by(|a, b| self.columns[*a].name.cmp(&self.columns[*b].name));
            return all;
        }
        pk.sort_unstable();
        pk.into_iter().map(|(_, i)| i).collect()
    }

    /// Index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// Splits a `table` parameter into schema and name: `name`, `schema.name`, with double-quoted
/// parts kept verbatim (`""` for a quote) and unquoted parts folded to lower case.
pub fn parse_table_name(text: &str) -> Result<(String, String), String> {
    let parts = parse_identifier_list(text, '.')?;
    match parts.as_slice() {
        [name] => Ok(("public".to_owned(), name.clone())),
        [schema, name] => Ok((schema.clone(), name.clone())),
        _ => Err(format!("Invalid table name: {text}")),
    }
}

/// Parses identifiers separated by `separator`, Postgres-style: unquoted ones are folded to
/// lower case, quoted ones kept as written with `""` meaning `"`.
pub fn parse_identifier_list(text: &str, separator: char) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut ident = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        ident.push('"');
                    }
                    Some('"') => break,
                    Some(c) => ident.push(c),
                    None => return Err(format!("Unterminated quoted identifier in {text}")),
                }
            }
            if ident.is_empty() {
                return Err("Invalid zero-length delimited identifier".to_owned());
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == separator || c.is_whitespace() {
                    break;
                }
                if !(c.is_alphanumeric() || c == '_' || c == '$') {
                    return Err(format!("Invalid identifier character {c:?} in {text}"));
                }
                ident.push(c.to_ascii_lowercase());
                chars.next();
            }
            if ident.is_empty() {
                return Err(format!("Invalid identifier list: {text}"));
            }
        }
        out.push(ident);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Ok(out),
            Some(c) if c == separator => continue,
            Some(c) => return Err(format!("Unexpected {c:?} in {text}")),
        }
    }
}

/// Reads a table's description from the catalog; `None` when no such table exists.
pub async fn load_table(
    client: &tokio_postgres::Client,
    schema: &str,
    name: &str,
    publication: &str,
) -> Result<Option<TableInfo>, tokio_postgres::Error> {
    let Some(table) = client
        .query_opt(
            "SELECT c.oid, EXISTS (SELECT 1 FROM pg_publication_tables p \
                 WHERE p.pubname = $3 AND p.schemaname = n.nspname AND p.tablename = c.relname) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
            &[&schema, &name, &publication],
        )
        .await?
    else {
        return Ok(None);
    };
    let oid: u32 = table.get(0);
    let rows = client
        .query(
            "SELECT a.attname::text, \
                    (CASE WHEN t.typcategory = 'A' THEN et.typname ELSE t.typname END)::text, \
                    CASE WHEN t.typcategory = 'A' THEN greatest(a.attndims, 1) ELSE 0 END, \
                    a.attnotnull, \
                    (SELECT (k.ord - 1)::int4 \
                       FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY k(att, ord) \
                       WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.att = a.attnum), \
                    a.atttypid \
             FROM pg_attribute a \
             JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_type et ON et.oid = t.typelem \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            &[&oid],
        )
        .await?;
    let columns = rows
        .iter()
        .map(|r| ColumnInfo {
            name: r.get(0),
            type_name: r.get(1),
            dims: r.get(2),
            not_null: r.get(3),
            pk_index: r.get::<_, Option<i32>>(4).map(|p| p as usize),
        })
        .collect();
    Ok(Some(TableInfo {
        oid,
        schema: schema.to_owned(),
        name: name.to_owned(),
        columns,
        type_oids: rows.iter().map(|r| r.get(5)).collect(),
        published: table.get(1),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_parse_like_postgres() {
        assert_eq!(
            parse_table_name("tasks").unwrap(),
            ("public".into(), "tasks".into())
        );
        assert_eq!(
            parse_table_name("Tasks").unwrap(),
            ("public".into(), "tasks".into())
        );
        assert_eq!(
            parse_table_name("app.tasks").unwrap(),
            ("app".into(), "tasks".into())
        );
        assert_eq!(
            parse_table_name(r#""My"."Ta""ble""#).unwrap(),
            ("My".into(), "Ta\"ble".into())
        );
        for bad in ["", "a.b.c", "\"\"", "a;b", "\"open"] {
            assert!(parse_table_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn column_lists_parse_like_the_ts_client_sends_them() {
        assert_eq!(
            parse_identifier_list(r#""id","title",Due_Date,"Col,1""#, ',').unwrap(),
            ["id", "title", "due_date", "Col,1"]
        );
    }
}
