//! What every write checks, and how an update names the columns it sets.

use tokio_postgres::Transaction;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::server::http::error::{AppError, AppResult};

pub(super) fn one_of(field: &str, value: &str, allowed: &[&str]) -> AppResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "{field} must be one of {}, not {value:?}",
            allowed.join(", ")
        )))
    }
}

pub(super) fn non_empty(field: &str, value: &str) -> AppResult<()> {
    if value.trim().is_empty() {
        return Err(AppError::BadRequest(format!("{field} must not be empty")));
    }
    Ok(())
}

/// 400 unless `id` is a row of `table` in `org` (tables are fixed names, never input).
pub(super) async fn require_in_org(
    tx: &Transaction<'_>,
    table: &str,
    what: &str,
    id: Uuid,
    org: Uuid,
) -> AppResult<()> {
    let sql = if table == "users" {
        "SELECT 1 FROM organization_members WHERE user_id = $1 AND organization_id = $2".to_owned()
    } else {
        format!("SELECT 1 FROM {table} WHERE id = $1 AND organization_id = $2")
    };
    if tx.query_opt(&sql, &[&id, &org]).await?.is_none() {
        return Err(AppError::BadRequest(format!(
            "{what} {id} is not in this organization"
        )));
    }
    Ok(())
}

/// Builds `SET a = $2, b = $3 …` from the fields present (`$1` is the row id).
pub(super) struct Assignments {
    columns: Vec<&'static str>,
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Assignments {
    pub(super) fn new() -> Self {
        Self {
            columns: Vec::new(),
            values: Vec::new(),
        }
    }

    pub(super) fn set<T: ToSql + Sync + Send + 'static>(
        &mut self,
        column: &'static str,
        value: Option<T>,
    ) {
        if let Some(value) = value {
            self.columns.push(column);
            self.values.push(Box::new(value));
        }
    }

    pub(super) async fn apply(self, tx: &Transaction<'_>, table: &str, id: Uuid) -> AppResult<()> {
        if self.columns.is_empty() {
            return Err(AppError::BadRequest(
                "nothing to change: the body names no field".to_owned(),
            ));
        }
        let sets: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 2))
            .collect();
        let sql = format!("UPDATE {table} SET {} WHERE id = $1", sets.join(", "));
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&id];
        params.extend(
            self.values
                .iter()
                .map(|v| v.as_ref() as &(dyn ToSql + Sync)),
        );
        tx.execute(&sql, &params).await?;
        Ok(())
    }
}
