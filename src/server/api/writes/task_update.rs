//! `PATCH /api/tasks/{id}`: changes some fields of a task, only while the values it was based on
//! still hold.
//!
//! A body may name, in `expected`, the value each changed field had when the person began the
//! change. Under the row's lock each is compared with the row as it is: when all hold (or
//! nothing is expected) the fields are written and the others stay as they are (concurrent
//! changes of different fields merge); when one does not, nothing is written and the answer is
//! 409 with the row as it is now and, per field, who changed it (`task_field_writes`) — a
//! queued offline edit never silently overwrites a teammate's. Fields a tracker owns (Linear)
//! are changed in the tracker, never here.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::Date;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::checks::{Assignments, require_in_org};
use super::tasks::{TaskFields, check_task_fields, key_of, locked_task, owner_of};
use super::transaction::{IdempotencyKey, WriteResult, idempotent};
use crate::server::api::state::ApiState;
use crate::server::http::auth::{AuthUser, require_member};
use crate::server::http::error::{AppError, AppResult, StaleWrite};
use crate::server::http::extract::{JsonBody, PathParams, present};

/// The fields an update may change, with how messages name them.
const FIELDS: [(&str, &str); 9] = [
    ("title", "the title"),
    ("description", "the description"),
    ("status", "the status"),
    ("status_color", "the status colour"),
    ("priority", "the priority"),
    ("assignee_id", "the assignee"),
    ("labels", "the labels"),
    ("due_date", "the due date"),
    ("repository_id", "the suggested repository"),
];

/// The one field a tracker's task lets Superset set.
const OURS_ON_TRACKED_TASKS: &str = "repository_id";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskChanges {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub status_color: Option<Option<String>>,
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub assignee_id: Option<Option<Uuid>>,
    pub labels: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    pub due_date: Option<Option<Date>>,
    #[serde(default, deserialize_with = "present")]
    pub repository_id: Option<Option<Uuid>>,
    /// The value each changed field was based on.
    pub expected: Option<Value>,
}

impl TaskChanges {
    /// The names of the fields this update writes.
    fn named(&self) -> Vec<&'static str> {
        let present = [
            self.title.is_some(),
            self.description.is_some(),
            self.status.is_some(),
            self.status_color.is_some(),
            self.priority.is_some(),
            self.assignee_id.is_some(),
            self.labels.is_some(),
            self.due_date.is_some(),
            self.repository_id.is_some(),
        ];
        FIELDS
            .iter()
            .zip(present)
            .filter(|(_, here)| *here)
            .map(|((name, _), _)| *name)
            .collect()
    }

    /// `expected` as a map of known fields; 400 in words otherwise.
    fn expected(&self) -> AppResult<Map<String, Value>> {
        let expected = match &self.expected {
            None | Some(Value::Null) => return Ok(Map::new()),
            Some(Value::Object(map)) => map.clone(),
            Some(_) => {
                return Err(AppError::BadRequest(
                    "expected must be an object of field names and the values they were based on"
                        .to_owned(),
                ));
            }
        };
        if let Some(unknown) = expected.keys().find(|k| words(k).is_none()) {
            return Err(AppError::BadRequest(format!(
                "expected names {unknown:?}, which is not a task field an update can change"
            )));
        }
        Ok(expected)
    }
}

/// How messages name `field`.
fn words(field: &str) -> Option<&'static str> {
    FIELDS.iter().find(|(f, _)| *f == field).map(|(_, w)| *w)
}

pub async fn update_task(
    State(state): State<ApiState>,
    user: AuthUser,
    key: IdempotencyKey,
    PathParams(id): PathParams<Uuid>,
    JsonBody(changes): JsonBody<TaskChanges>,
) -> AppResult<Json<WriteResult>> {
    check_task_fields(&TaskFields {
        title: changes.title.as_deref(),
        description: changes.description.as_ref().and_then(Option::as_deref),
        status: changes.status.as_deref(),
        status_color: changes.status_color.as_ref().and_then(Option::as_deref),
        priority: changes.priority.as_deref(),
        branch: None,
        labels: changes.labels.as_deref(),
    })?;
    let expected = changes.expected()?;
    let named = changes.named();
    idempotent(&state, user.id, &key, async |tx| {
        let (org, current) = locked_task(tx, id).await?;
        require_member(tx, org, user.id).await?;
        refuse_owned_fields(&current, &named)?;
        if let Some(Some(assignee)) = changes.assignee_id {
            require_in_org(tx, "users", "assignee", assignee, org).await?;
        }
        if let Some(Some(repository)) = changes.repository_id {
            require_in_org(tx, "repositories", "repository", repository, org).await?;
        }
        let stale = stale_fields(&current, &expected);
        if !stale.is_empty() {
            return Err(refusal(tx, id, current, &expected, &stale).await?);
        }
        write(tx, id, changes).await?;
        record_writer(tx, id, &named, user.id).await?;
        Ok(id)
    })
    .await
}

/// Writes the fields the update names.
async fn write(tx: &Transaction<'_>, id: Uuid, changes: TaskChanges) -> AppResult<()> {
    let mut set = Assignments::new();
    set.set("title", changes.title.map(|t| t.trim().to_owned()));
    set.set("description", changes.description);
    set.set("status", changes.status);
    set.set("status_color", changes.status_color);
    set.set("priority", changes.priority);
    set.set("assignee_id", changes.assignee_id);
    set.set("labels", changes.labels.map(|l| json!(l)));
    set.set("due_date", changes.due_date);
    set.set("repository_id", changes.repository_id);
    set.apply(tx, "tasks", id).await
}

/// 400 when the update touches a field of a tracker's task other than the suggested repository.
fn refuse_owned_fields(task: &Value, named: &[&str]) -> AppResult<()> {
    let Some(owner) = owner_of(task) else {
        return Ok(());
    };
    let owned: Vec<&str> = named
        .iter()
        .filter(|f| **f != OURS_ON_TRACKED_TASKS)
        .filter_map(|f| words(f))
        .collect();
    if owned.is_empty() {
        return Ok(());
    }
    Err(AppError::BadRequest(format!(
        "{} comes from {owner}: change {} in {owner}",
        key_of(task),
        listed(&owned).replace("the ", "its ")
    )))
}

/// The expected fields whose value is no longer the row's.
fn stale_fields(current: &Value, expected: &Map<String, Value>) -> Vec<String> {
    expected
        .iter()
        .filter(|(field, value)| !same(&current[field.as_str()], value))
        .map(|(field, _)| field.clone())
        .collect()
}

/// Whether a stored value and a client's are the same (ids compare without case).
fn same(stored: &Value, sent: &Value) -> bool {
    match (stored, sent) {
        (Value::String(a), Value::String(b)) => a == b || a.eq_ignore_ascii_case(b),
        (a, b) => a == b,
    }
}

/// Records `user` as the last writer of `fields` of task `id`.
async fn record_writer(
    tx: &Transaction<'_>,
    id: Uuid,
    fields: &[&str],
    user: Uuid,
) -> AppResult<()> {
    let fields: Vec<&str> = fields.to_vec();
    tx.execute(
        "INSERT INTO task_field_writes (task_id, field, user_id) \
         SELECT $1, field, $3 FROM unnest($2::text[]) AS field \
         ON CONFLICT (task_id, field) DO UPDATE SET user_id = EXCLUDED.user_id, written_at = now()",
        &[&id, &fields, &user],
    )
    .await?;
    Ok(())
}

/// The 409 for a write based on `stale` values: who changed what, and the row as it is.
async fn refusal(
    tx: &Transaction<'_>,
    id: Uuid,
    current: Value,
    expected: &Map<String, Value>,
    stale: &[String],
) -> AppResult<AppError> {
    let rows = tx
        .query(
            "SELECT w.field, u.id, u.name FROM task_field_writes w \
             LEFT JOIN users u ON u.id = w.user_id \
             WHERE w.task_id = $1 AND w.field = ANY($2)",
            &[&id, &stale],
        )
        .await?;
    let writer = |field: &str| {
        rows.iter()
            .find(|r| r.get::<_, String>(0) == field)
            .and_then(|r| Some((r.get::<_, Option<Uuid>>(1)?, r.get::<_, Option<String>>(2)?)))
    };
    let conflicts: Vec<Value> = stale
        .iter()
        .map(|field| {
            json!({
                "field": field,
                "expected": expected[field],
                "current": current[field.as_str()],
                "changed_by": writer(field).map(|(id, name)| json!({"id": id, "name": name})),
            })
        })
        .collect();
    let names: Vec<Option<String>> = stale.iter().map(|f| writer(f).map(|w| w.1)).collect();
    let message = message(tx, &current, stale, &names).await?;
    Ok(AppError::Stale(Box::new(StaleWrite {
        message,
        current,
        conflicts,
    })))
}

/// "Mike changed the status to Done while you were editing", in words for any fields.
async fn message(
    tx: &Transaction<'_>,
    current: &Value,
    stale: &[String],
    names: &[Option<String>],
) -> AppResult<String> {
    let who = match names.first() {
        Some(Some(first)) if names.iter().all(|n| n.as_ref() == Some(first)) => first.clone(),
        _ if names.iter().all(Option::is_none) => "Someone".to_owned(),
        _ => "Teammates".to_owned(),
    };
    // The colour follows the status; it is not news of its own.
    let shown: Vec<&str> = stale
        .iter()
        .map(String::as_str)
        .filter(|f| *f != "status_color" || stale.len() == 1)
        .collect();
    let what = match shown.as_slice() {
        [field] => one_change(tx, current, field).await?,
        fields => {
            let words: Vec<&str> = fields.iter().filter_map(|f| words(f)).collect();
            format!("changed {}", listed(&words))
        }
    };
    Ok(format!("{who} {what} while you were editing"))
}

/// "changed the status to Done", "cleared the due date", or "changed the description".
async fn one_change(tx: &Transaction<'_>, current: &Value, field: &str) -> AppResult<String> {
    let named = words(field).unwrap_or("a field");
    let value = &current[field];
    let shown = match (field, value) {
        (_, Value::Null) => return Ok(format!("cleared {named}")),
        ("assignee_id", Value::String(id)) => {
            let id: Uuid = id.parse().map_err(AppError::internal)?;
            tx.query_opt("SELECT name FROM users WHERE id = $1", &[&id])
                .await?
                .map(|r| r.get::<_, String>(0))
        }
        ("repository_id", Value::String(id)) => {
            let id: Uuid = id.parse().map_err(AppError::internal)?;
            tx.query_opt("SELECT name FROM repositories WHERE id = $1", &[&id])
                .await?
                .map(|r| r.get::<_, String>(0))
        }
        (_, Value::String(text)) => Some(text.clone()),
        (_, Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    };
    Ok(
        match shown.filter(|s| !s.is_empty() && s.chars().count() <= 40) {
            Some(shown) => format!("changed {named} to {shown}"),
            None => format!("changed {named}"),
        },
    )
}

/// "a", "a and b", "a, b and c".
fn listed(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_english() {
        assert_eq!(listed(&["the status"]), "the status");
        assert_eq!(
            listed(&["the status", "the priority"]),
            "the status and the priority"
        );
        assert_eq!(listed(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn stale_fields_compare_ids_without_case() {
        let current = json!({"status": "Done", "assignee_id": "ab-cd", "due_date": null});
        let mut expected = Map::new();
        expected.insert("assignee_id".into(), json!("AB-CD"));
        expected.insert("due_date".into(), Value::Null);
        assert!(stale_fields(&current, &expected).is_empty());
        expected.insert("status".into(), json!("Todo"));
        assert_eq!(stale_fields(&current, &expected), vec!["status".to_owned()]);
    }
}
